"""The API's resources, each a thin layer over the generated endpoint functions.

Path parameters are positional, everything else keyword-only; a path parameter takes the
id (or slug) as text or the identifier object the SDK returned (``hook.id``, ``entry.id``).
Every method returns the typed object (with ``request_id`` set) or, through ``with_raw_response``, a
``RawResponse`` whose ``parse()`` gives that object. List methods return a paginator.
"""

from ..._paging import CURSOR_PAGE, QUERY_LIMIT, RECORDS_PAGE, Filter
from .activity import AsyncNotes, AsyncTasks
from .events import AsyncEvents, EventBatch
from .lists import AsyncEntries, AsyncLists
from .records import AsyncRecords
from .schema import AsyncAttributes, AsyncObjects
from .webhooks import AsyncWebhooks

__all__ = [
    "CURSOR_PAGE",
    "QUERY_LIMIT",
    "RECORDS_PAGE",
    "AsyncAttributes",
    "AsyncEntries",
    "AsyncEvents",
    "AsyncLists",
    "AsyncNotes",
    "AsyncObjects",
    "AsyncRecords",
    "AsyncTasks",
    "AsyncWebhooks",
    "EventBatch",
    "Filter",
]

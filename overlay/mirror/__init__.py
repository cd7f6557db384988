"""``overlay.mirror``: the workspace in your own database (SQLite, PostgreSQL, DuckDB), kept
fresh from the change feed, deletes included. Needs the ``mirror`` extra (SQLAlchemy), and
``postgres`` or ``duckdb`` for those destinations.

    with overlay.Client() as crm, Mirror(crm, "sqlite:///crm.db") as mirror:
        mirror.run()  # snapshot the first time, then apply every event to the feed's head
"""

from ._mirror import Mirror
from ._report import MirrorReport
from ._verify import TableCheck, VerifyReport

__all__ = ["Mirror", "MirrorReport", "TableCheck", "VerifyReport"]

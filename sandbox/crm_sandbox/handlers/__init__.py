"""The handler of every operation: one table, ``HANDLERS``, from operation id to handler.

A handler takes the request's ``Ctx`` (its parts and the services it may touch) and gives
``(status, body)``. The app refuses to start if an operation of any served version has no
entry here.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..context import Handler
from . import activity, events, lists, records, webhooks, workspace

HANDLERS: Mapping[str, Handler] = {
    # self, objects, attributes and select options
    "get_self": workspace.get_self,
    "list_objects": workspace.list_objects,
    "create_object": workspace.create_object,
    "get_object": workspace.get_object,
    "update_object": workspace.update_object,
    "list_attributes": workspace.list_attributes,
    "list_list_attributes": workspace.list_attributes,
    "create_attribute": workspace.create_attribute,
    "create_list_attribute": workspace.create_attribute,
    "get_attribute": workspace.get_attribute,
    "update_attribute": workspace.update_attribute,
    "list_select_options": workspace.list_select_options,
    "create_select_option": workspace.create_select_option,
    "update_select_option": workspace.update_select_option,
    # records and search
    "query_records": records.query_records,
    "count_records": records.count_records,
    "create_record": records.create_record,
    "upsert_record": records.upsert_record,
    "get_record": records.get_record,
    "update_record": records.update_record,
    "replace_record": records.replace_record,
    "delete_record": records.delete_record,
    "list_record_attribute_values": records.list_record_attribute_values,
    "batch_records": records.batch_records,
    "search_records": records.search_records,
    # lists and entries
    "list_lists": lists.list_lists,
    "create_list": lists.create_list,
    "get_list": lists.get_list,
    "update_list": lists.update_list,
    "query_entries": lists.query_entries,
    "count_entries": lists.count_entries,
    "create_entry": lists.create_entry,
    "upsert_entry": lists.upsert_entry,
    "get_entry": lists.get_entry,
    "update_entry": lists.update_entry,
    "delete_entry": lists.delete_entry,
    # the change feed
    "list_events": events.list_events,
    # notes and tasks
    "list_notes": activity.list_notes,
    "create_note": activity.create_note,
    "get_note": activity.get_note,
    "delete_note": activity.delete_note,
    "list_tasks": activity.list_tasks,
    "create_task": activity.create_task,
    "get_task": activity.get_task,
    "update_task": activity.update_task,
    "delete_task": activity.delete_task,
    # webhooks
    "list_webhooks": webhooks.list_webhooks,
    "create_webhook": webhooks.create_webhook,
    "get_webhook": webhooks.get_webhook,
    "update_webhook": webhooks.update_webhook,
    "delete_webhook": webhooks.delete_webhook,
    "test_webhook": webhooks.test_webhook,
    "rotate_webhook_secret": webhooks.rotate_webhook_secret,
    "list_webhook_deliveries": webhooks.list_webhook_deliveries,
}

__all__ = ["HANDLERS"]

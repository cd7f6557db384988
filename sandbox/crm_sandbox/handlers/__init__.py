"""The handler of every operation, registered by operation id on import."""

from . import activity, lists, records, webhooks, workspace

__all__ = ["activity", "lists", "records", "webhooks", "workspace"]

"""The async client, written by hand; ``scripts/sync_from_async.py`` writes ``overlay/_sync`` from it."""

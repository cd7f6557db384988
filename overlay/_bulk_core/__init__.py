"""The I/O-free core of ``client.bulk`` (the shells that send are ``overlay/_async/bulk.py``
and ``bulk_send.py``): item keys, the journal, the report, the run and its batches.

A run has a random id. Each item has a stable key (given by the caller, or a hash of its
content); its idempotency key is derived from the run id and that key, so within a run an
item is applied at most once (a batch resent after a lost response replays the stored
answers), while a new run applies its items again. The journal file keeps the run id and
each item the API has applied: a run started again with it resumes the same run, reusing
its id, and skips what was done.
"""

"""The query DSL: filter expressions (``expr``), the text language (``text``), checks against
the workspace's schema (``check``) and client-side aggregation (``aggregate``)."""

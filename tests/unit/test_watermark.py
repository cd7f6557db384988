"""The watermark of incremental reads: what it covers, how it advances, how it is kept."""

from __future__ import annotations

from overlay._watermark import Advance, Watermark


def test_a_first_read_has_no_filter_and_covers_nothing() -> None:
    start = Watermark()
    assert start.filter() is None and not start.covers("r1", "2026-01-01T00:00:00Z")


def test_the_mark_moves_to_the_newest_instant_and_keeps_every_id_read_at_it() -> None:
    advance = Advance(Watermark("2026-01-01T00:00:00Z", frozenset({"r1"})))
    read = [
        ("r1", "2026-01-01T00:00:00Z"),
        ("r2", "2026-01-02T00:00:00Z"),
        ("r3", "2026-01-02T00:00:00Z"),
        ("r4", None),
        ("r5", "2025-12-31T00:00:00Z"),
    ]
    for record_id, at in read:
        advance.read(record_id, at)
    newest = advance.watermark
    assert newest == Watermark("2026-01-02T00:00:00Z", frozenset({"r2", "r3"}))
    assert newest.filter() == {"updated_at": {"$gte": "2026-01-02T00:00:00Z"}}
    assert newest.covers("r2", "2026-01-02T00:00:00Z")
    assert not newest.covers("r2", "2026-01-03T00:00:00Z"), "changed since: read again"
    assert not newest.covers("r9", "2026-01-02T00:00:00Z"), "a record new at the same instant"


def test_the_state_round_trips_and_a_damaged_one_starts_over() -> None:
    mark = Watermark("2026-01-02T00:00:00Z", frozenset({"b", "a"}))
    assert mark.state() == {"watermark": "2026-01-02T00:00:00Z", "ids_at_watermark": ["a", "b"]}
    assert Watermark.of_state(mark.state()) == mark
    assert Watermark.of_state({"watermark": 5, "ids_at_watermark": None}) == Watermark()

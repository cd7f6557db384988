"""The retry schedule, every Retry-After form, and which requests may be sent again."""

from __future__ import annotations

import email.utils

import pytest

from overlay._retry import RetryPolicy, retry_after_seconds

POLICY = RetryPolicy()


def test_backoff_doubles_from_half_a_second_and_caps_at_eight() -> None:
    policy = RetryPolicy(max_retries=10)
    assert [policy.backoff(n, rand=0.0) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_jitter_takes_off_at_most_a_quarter() -> None:
    assert POLICY.backoff(1, rand=0.999999) == pytest.approx(0.75, abs=1e-5)
    assert POLICY.backoff(1, rand=0.5) == pytest.approx(0.875)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 599])
def test_these_statuses_are_retried(status: int) -> None:
    assert POLICY.delay_after_status(0, status, {}, rand=lambda: 0.0) == 0.5


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    assert POLICY.delay_after_status(0, status, {}) is None


def test_a_conflict_no_retry_can_fix_is_not_retried() -> None:
    assert POLICY.delay_after_status(0, 409, {}, error_code="uniqueness_conflict") is None
    assert POLICY.delay_after_status(0, 409, {}, error_code="lock_timeout", rand=lambda: 0.0) == 0.5


def test_retries_stop_after_max_retries() -> None:
    assert POLICY.delay_after_status(1, 503, {}) is not None
    assert POLICY.delay_after_status(2, 503, {}) is None
    assert POLICY.delay_after_error(2) is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after-ms": "not a number", "retry-after": "2"}, 2.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_forms(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers) == expected


def test_retry_after_as_an_http_date() -> None:
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds({"retry-after": date}, now=lambda: now) == pytest.approx(30.0)


def test_retry_after_is_honoured_up_to_two_minutes() -> None:
    assert POLICY.delay_after_status(0, 429, {"retry-after": "120"}) == 120.0
    assert POLICY.delay_after_status(0, 429, {"retry-after": "121"}) is None


@pytest.mark.parametrize(
    ("method", "headers", "allowed"),
    [
        ("GET", {}, True),
        ("POST", {}, False),
        ("POST", {"Idempotency-Key": "k"}, True),
        ("delete", {"idempotency-key": "k"}, True),
        ("PATCH", {}, False),
    ],
)
def test_writes_are_retried_only_with_an_idempotency_key(
    method: str, headers: dict[str, str], allowed: bool
) -> None:
    assert POLICY.may_retry(method, headers) is allowed

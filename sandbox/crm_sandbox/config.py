"""How a sandbox is set up: tokens, storage, rate limits, chaos, webhook retries."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TypeVar

from crm_client.api_versions import VERSIONS as VERSIONS  # one per spec in openapi/, oldest first

LATEST = VERSIONS[-1]
DEFAULT_TOKEN = "sk_sandbox_local"
T = TypeVar("T", int, float)


@dataclass(frozen=True)
class Chaos:
    """Fault injection, reproducible from ``seed``. Rates are probabilities per request."""

    error_rate: float = 0.0  # answer 500 or 503 without doing anything
    rate_limit_rate: float = 0.0  # answer 429 without doing anything
    drop_rate: float = 0.0  # close the connection without doing anything
    commit_drop_rate: float = 0.0  # do the request, then lose the response
    latency_ms: tuple[int, int] = (0, 0)  # added latency, uniform in [low, high]
    seed: int = 0

    @property
    def active(self) -> bool:
        return (
            any((self.error_rate, self.rate_limit_rate, self.drop_rate, self.commit_drop_rate))
            or self.latency_ms[1] > 0
        )

    @classmethod
    def parse(cls, spec: str) -> Chaos:
        """Read ``"error=0.1,429=0.05,drop=0.02,commit_drop=0.01,latency=0-20,seed=7"``."""
        names = {
            "error": "error_rate",
            "429": "rate_limit_rate",
            "drop": "drop_rate",
            "commit_drop": "commit_drop_rate",
        }
        default = cls()
        rates: dict[str, float] = {}
        latency, seed = default.latency_ms, default.seed
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, _, raw = part.partition("=")
            if key in names:
                rate = _number(key, raw, float, "a probability from 0 to 1")
                if not 0.0 <= rate <= 1.0:
                    raise ValueError(f"chaos setting {key!r} is a probability from 0 to 1, got {raw!r}")
                rates[names[key]] = rate
            elif key == "latency":
                low, _, high = raw.partition("-")
                what = "milliseconds, LOW-HIGH with 0 <= LOW <= HIGH"
                latency = (_number(key, low, int, what), _number(key, high or low, int, what))
                if not 0 <= latency[0] <= latency[1]:
                    raise ValueError(f"chaos setting 'latency' is {what}, got {raw!r}")
            elif key == "seed":
                seed = _number(key, raw, int, "a whole number")
            else:
                raise ValueError(
                    f"unknown chaos setting {key!r} (known: {', '.join([*names, 'latency', 'seed'])})"
                )
        return cls(**rates, latency_ms=latency, seed=seed)


def _number(key: str, raw: str, kind: type[T], what: str) -> T:
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"chaos setting {key!r} is {what}, got {raw!r}") from None


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class SandboxConfig:
    tokens: tuple[str, ...] = (DEFAULT_TOKEN,)
    db_path: str = ":memory:"
    read_rate: float | None = 100.0  # requests per second per token; None turns the limit off
    write_rate: float | None = 25.0
    chaos: Chaos = field(default_factory=Chaos)
    seed_data: bool = False
    max_body_bytes: int = 2_000_000
    header_timeout: float = 10.0  # seconds a client has to send a request's head (and each body chunk)
    webhook_retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)  # then give up
    workspace_name: str = "Sandbox"
    # The version of a request without CRM-Version (and of an answer to a bad one).
    api_version: str = LATEST
    event_retention: float = 30 * 86400.0  # seconds the change feed keeps an event

    def __post_init__(self) -> None:
        """Refuse a setting the server could not run with (ValueError names it)."""
        if (
            isinstance(self.tokens, str)
            or not self.tokens
            or not all(isinstance(t, str) and t for t in self.tokens)
        ):
            shown = type(self.tokens).__name__ if self.tokens else "none"  # never the tokens themselves
            raise ValueError(f"tokens is a non-empty list of token strings, got {shown}")
        object.__setattr__(self, "tokens", tuple(self.tokens))
        for name in ("read_rate", "write_rate"):
            rate = getattr(self, name)
            if rate is not None and not (_finite(rate) and rate > 0):
                raise ValueError(f"{name} is requests per second above 0, or None for no limit; got {rate!r}")
        if not (_finite(self.header_timeout) and self.header_timeout > 0):
            raise ValueError(f"header_timeout is seconds above 0, got {self.header_timeout!r}")
        if (
            isinstance(self.max_body_bytes, bool)
            or not isinstance(self.max_body_bytes, int)
            or self.max_body_bytes < 1
        ):
            raise ValueError(f"max_body_bytes is a whole number above 0, got {self.max_body_bytes!r}")
        if not all(_finite(d) and d >= 0 for d in self.webhook_retry_delays):
            raise ValueError(
                f"webhook_retry_delays are seconds, 0 or more, got {self.webhook_retry_delays!r}"
            )
        if not (_finite(self.event_retention) and self.event_retention > 0):
            raise ValueError(f"event_retention is seconds above 0, got {self.event_retention!r}")
        if self.api_version not in VERSIONS:
            raise ValueError(f"api_version is one of {', '.join(VERSIONS)}, got {self.api_version!r}")

"""Timing helpers: candidates and baselines run interleaved in one process, compared by median."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """One benchmark: ``ratio`` is the candidate's time (or rate) over the baseline's."""

    name: str
    ratio: float
    target: float | None
    baseline: str
    better: str = "lower"  # "lower": ratio must be <= target; "higher": >= target
    detail: str = ""

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.ratio <= self.target if self.better == "lower" else self.ratio >= self.target

    def as_json(self) -> dict[str, object]:
        return {
            "ratio": round(self.ratio, 3),
            "target": self.target,
            "baseline": self.baseline,
            "better": self.better,
            "detail": self.detail,
        }


def median_times(fns: dict[str, Callable[[], object]], rounds: int = 25) -> dict[str, float]:
    """Median seconds per call of each function, alternating between them every round."""
    for fn in fns.values():  # warm up: imports, caches, branch predictors
        fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in samples.items()}

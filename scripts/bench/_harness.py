"""Timing helpers: candidates and baselines run interleaved, round by round, in one process.

CPU-bound rows (``cpu_times``) are timed by the calling thread's CPU time, so another process
on the machine stealing the core does not count, and compared by their minimums (the run
least disturbed), with the spread of the per-round ratios beside them. Rows that wait on a
sandbox in another thread keep the wall clock and the median (``median_times``).
"""

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
    spread: float | None = None  # the per-round ratios' interquartile range over their median

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
            "spread": None if self.spread is None else round(self.spread, 3),
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


@dataclass(frozen=True)
class Timings:
    """Each function's fastest round (thread CPU seconds) and every round, in order."""

    best: dict[str, float]
    rounds: dict[str, list[float]]

    def ratio(self, candidate: str, baseline: str) -> tuple[float, float]:
        """The ratio of the minimums, and the spread of the per-round ratios (IQR / median)."""
        per_round = [
            c / b for c, b in zip(self.rounds[candidate], self.rounds[baseline], strict=True) if b > 0
        ]
        q1, median, q3 = statistics.quantiles(per_round, n=4)
        return self.best[candidate] / self.best[baseline], (q3 - q1) / median


def cpu_times(fns: dict[str, Callable[[], object]], rounds: int = 25) -> Timings:
    """Time each function by this thread's CPU time, alternating between them every round."""
    for fn in fns.values():  # warm up: imports, caches, branch predictors
        fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.thread_time()
            fn()
            samples[name].append(time.thread_time() - start)
    return Timings({name: min(times) for name, times in samples.items()}, samples)

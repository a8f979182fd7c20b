"""How the plain benchmark scripts time their cases (each returns every call's seconds, by
case): the same cases, two ways that a shared machine and the heap each call inherits make
give different figures, both printed."""

from __future__ import annotations

import time
from typing import Callable


def interleaved(cases: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """One call of each case per round, each round starting one case later, so that every case
    follows every other equally often: a call's cost depends on the caches and heap the
    previous call left (whether its output lands on pages already mapped or on fresh ones)."""
    names = list(cases)
    times: dict[str, list[float]] = {k: [] for k in names}
    for r in range(repeat):
        for j in range(len(names)):
            name = names[(r + j) % len(names)]
            t = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - t)
    return times


def back_to_back(cases: dict[str, Callable[[], object]], repeat: int, run: int = 3
                 ) -> dict[str, list[float]]:
    """Each round calls each case ``run`` times in a row and keeps the timings after the first
    (warm caches, memory the same case just freed: a process doing only that, batch after
    batch); the rounds interleave the cases so that a slow phase of a shared machine falls on
    all of them alike."""
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(max(1, repeat // (run - 1))):
        for name, fn in cases.items():
            for i in range(run):
                t = time.perf_counter()
                fn()
                if i:
                    times[name].append(time.perf_counter() - t)
    return times

"""Progress of long loops that a person can follow.

At an interactive terminal (the ``darkscan`` command line, a notebook run by hand) a loop shows a
tqdm bar. Inside a workflow job (:func:`darkscan.snakemake_support.setup_logging` calls
:func:`use_log_lines`) several jobs share one terminal and the rule's log is a file: bars would
interleave there and fill the log with carriage returns, so the loop writes whole log lines
instead, at most one per :data:`LOG_EVERY_SECONDS` (and a last one when a loop that logged
finishes), so short loops stay silent.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

log = logging.getLogger(__name__)

T = TypeVar("T")

#: seconds between two progress lines of one loop in a workflow job
LOG_EVERY_SECONDS = 60.0

_log_lines = False


def use_log_lines(enabled: bool = True) -> None:
    """Report progress as log lines (workflow jobs) instead of tqdm bars."""
    global _log_lines
    _log_lines = enabled


def _interactive() -> bool:
    return not _log_lines and sys.stderr.isatty()


def progress(
    items: Iterable[T],
    *,
    desc: str,
    unit: str,
    total: int | None = None,
    every: float | None = None,
    clock=time.monotonic,
) -> Iterator[T]:
    """Iterate over ``items`` reporting progress (a bar at a terminal, else throttled log lines).

    Args:
        items: what to iterate over.
        desc: what is being done, e.g. ``"zprime_invisible/eemumu"``.
        unit: what one item is, e.g. ``"chunk"``.
        total: the number of items (default: ``len(items)`` where it has one).
        every: seconds between log lines (default :data:`LOG_EVERY_SECONDS`).
        clock: the time source (tests).
    """
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    if _interactive():
        yield from tqdm(items, desc=desc, unit=unit, total=total, disable=total is not None and total < 2)
        return
    every = LOG_EVERY_SECONDS if every is None else every
    start = last = clock()
    done = 0
    logged = False
    for item in items:
        yield item
        done += 1
        now = clock()
        if now - last >= every:
            log.info("%s: %s", desc, _status(done, total, unit, now - start))
            last, logged = now, True
    if logged:
        log.info("%s: %d %s, finished in %.0f s", desc, done, unit, clock() - start)


def _status(done: int, total: int | None, unit: str, elapsed: float) -> str:
    """``"30/76 chunk (39%), 41 s, about 64 s left"``."""
    if not total:
        return f"{done} {unit}, {elapsed:.0f} s"
    left = elapsed / done * (total - done) if done else float("nan")
    return f"{done}/{total} {unit} ({100 * done / total:.0f}%), {elapsed:.0f} s, about {left:.0f} s left"

"""Progress and wall-clock timing of an evaluation's phases.

:class:`Phases` shows one progress bar over the phases of an evaluation (reading, features, histograms,
bootstrap, every classifier run, the reference baseline, FPD/KPD, figures), logs each phase's time at
INFO level and adds it to :attr:`Phases.timing`, which becomes ``timing_s`` in ``metrics.json``. A phase
that runs several times (once per generated sample) adds up under one name per sample.

Example:
    >>> phases = Phases(progress=False, total=2)
    >>> with phases.phase("histograms"):
    ...     pass
    >>> phases.tick("classifier run 1")
    >>> sorted(phases.timing), phases.done
    (['histograms'], 2)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = ["Phases", "report_epoch"]

logger = logging.getLogger(__name__)

#: Where a long loop inside a phase (the classifier's epochs) reports how far it is.
_LISTENER: ContextVar[Callable[[str], None] | None] = ContextVar("caloforge_phase_listener", default=None)


def report_epoch(epoch: int, total: int, score: float) -> None:
    """Shows ``epoch i/n`` and the loop's score on the bar of the phase that is running (if any)."""
    listener = _LISTENER.get()
    if listener is not None:
        listener(f"epoch {epoch}/{total}, accuracy {score:.3f}")


class Phases:
    """One progress bar over the phases and the seconds spent in each.

    Arguments:
        progress: Show the bar (tqdm, on stderr).
        total: Number of steps expected (phases plus :meth:`tick` calls); the bar is approximate when it
            differs.
    """

    def __init__(self, progress: bool, total: int | None = None) -> None:
        self.timing: dict[str, float] = {}
        self.done = 0
        self._bar: Any = None
        if progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc="evaluate", unit="step", leave=False)

    def add_total(self, n: int) -> None:
        """Expects ``n`` more steps."""
        if self._bar is not None and self._bar.total is not None:
            self._bar.total += n
            self._bar.refresh()

    def _step(self, text: str) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.update(1)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Times the block as ``name`` (added to an earlier time of that name) and advances the bar.

        Within the block, :func:`report_epoch` calls (the classifier's epochs) show on the bar as
        ``name: epoch i/n, ...``.
        """
        if self._bar is not None:
            self._bar.set_postfix_str(name)
        token = _LISTENER.set(None if self._bar is None else lambda text: self._bar.set_postfix_str(f"{name}: {text}"))
        t0 = time.perf_counter()
        try:
            yield
        finally:
            _LISTENER.reset(token)
            seconds = time.perf_counter() - t0
            self.timing[name] = self.timing.get(name, 0.0) + seconds
            logger.debug("evaluate: %s took %.2f s", name, seconds)  # the command prints all timings in one line
            self._step(name)

    def tick(self, text: str) -> None:
        """Advances the bar by one step inside a phase (e.g. one classifier run)."""
        self._step(text)

    def close(self) -> None:
        """Closes the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

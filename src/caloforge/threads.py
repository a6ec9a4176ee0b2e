"""How many CPU threads torch uses: the free cores, unless the user chose.

On a machine that other jobs keep busy, torch's default (one intra-op thread per core) oversubscribes
the cores and training slows down far more than the load explains (threads wait for each other at
every parallel region). :func:`choose_threads` therefore picks ``max(1, cores - round(load))`` from
the cores this process may run on and the load: the threads of other work runnable right now (sampled
from ``/proc/loadavg`` on Linux), or the one-minute load average where the OS reports no such count.
The one-minute average alone would count this process's own previous stage (a pipeline's simulation
just before its training) as other work and halve the threads of an idle machine. An explicit request (``--threads``,
``train.threads``) or ``OMP_NUM_THREADS`` in the environment wins. :func:`apply_threads` sets the choice
in torch and logs it in one line; training, generation and the evaluation's classifier call it once.

Example:
    >>> choose_threads(3).threads, choose_threads(3).source
    (3, 'requested')
    >>> choose_threads(None, cores=2, load=1.4, environ={}).threads
    1
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ThreadChoice", "apply_threads", "available_cores", "choose_threads", "load_average", "other_runnable"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThreadChoice:
    """The number of threads picked and why.

    Attributes:
        threads: Intra-op threads to use (at least 1).
        source: ``"requested"``, ``"OMP_NUM_THREADS"`` or ``"free cores"``.
        cores: CPU cores this process may run on.
        load: Other work's runnable threads (:func:`other_runnable`, else the one-minute load average;
            ``None`` where the OS reports neither).
    """

    threads: int
    source: str
    cores: int
    load: float | None

    def describe(self) -> str:
        """One line for the log, e.g. ``1 torch thread (free cores: 2 cores, load 1.3)``."""
        noun = "thread" if self.threads == 1 else "threads"
        load = "n/a" if self.load is None else f"{self.load:.1f}"
        return f"{self.threads} torch {noun} ({self.source}: {self.cores} cores, load {load})"


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def load_average() -> float | None:
    """The one-minute load average (``None`` where the OS has none, e.g. Windows)."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):
        return None


_PROC_LOADAVG = "/proc/loadavg"


def other_runnable(samples: int = 9, interval_s: float = 0.01, path: str = _PROC_LOADAVG) -> float | None:
    """Threads of other work runnable now: the median over ``samples`` reads of ``/proc/loadavg``'s
    running count, less the reading thread itself (``None`` where the file is not there).
    """
    counts = []
    for i in range(samples):
        try:
            with open(path) as f:
                running = int(f.read().split()[3].split("/")[0])
        except (OSError, IndexError, ValueError):
            return None
        counts.append(max(0, running - 1))
        if i + 1 < samples:
            time.sleep(interval_s)
    return float(sorted(counts)[len(counts) // 2])


def current_load() -> float | None:
    """:func:`other_runnable`, else :func:`load_average`."""
    now = other_runnable()
    return load_average() if now is None else now


def choose_threads(
    requested: int | None = None,
    *,
    cores: int | None = None,
    load: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> ThreadChoice:
    """Picks the number of torch threads.

    Arguments:
        requested: Explicit thread count (``--threads``, ``train.threads``); wins over everything.
        cores: Cores available (``None``: :func:`available_cores`).
        load: Other work's load (``None``: :func:`current_load`).
        environ: Environment to read ``OMP_NUM_THREADS`` from (``None``: ``os.environ``).

    Returns:
        The :class:`ThreadChoice`: the request, else a valid ``OMP_NUM_THREADS``, else
        ``max(1, cores - round(load))``.

    Raises:
        ValueError: ``requested`` is below 1.
    """
    n_cores = available_cores() if cores is None else max(1, int(cores))
    avg = current_load() if load is None else float(load)
    if requested is not None:
        if int(requested) < 1:
            msg = f"threads must be at least 1 (or null: choose from the free cores), got {requested}"
            raise ValueError(msg)
        return ThreadChoice(int(requested), "requested", n_cores, avg)
    env = os.environ if environ is None else environ
    omp = env.get("OMP_NUM_THREADS", "").strip()
    if omp.isdigit() and int(omp) >= 1:
        return ThreadChoice(int(omp), "OMP_NUM_THREADS", n_cores, avg)
    busy = 0 if avg is None else round(avg)
    return ThreadChoice(max(1, n_cores - busy), "free cores", n_cores, avg)


def apply_threads(requested: int | None = None, *, what: str = "torch", level: int = logging.INFO) -> ThreadChoice:
    """Chooses the thread count (:func:`choose_threads`), sets it in torch and logs it in one line.

    Arguments:
        requested: Explicit thread count (``None``: from the free cores).
        what: What the threads are for, in the log line (``training``, ``generation``, ...).
        level: Logging level of that line (steps inside a command that prints its own result use DEBUG,
            so that a one-line error stays one line).

    Returns:
        The :class:`ThreadChoice` applied.
    """
    import torch

    choice = choose_threads(requested)
    if torch.get_num_threads() != choice.threads:
        torch.set_num_threads(choice.threads)
    logger.log(level, "%s: %s", what, choice.describe())
    return choice

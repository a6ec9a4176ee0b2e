"""Generation speed and memory: ms/shower against batch size for each inference backend.

Backends (``BACKENDS``): ``pytorch`` (eager, ``torch.inference_mode``), ``torchscript`` (the traced
export graph), ``torch-compile`` (``torch.compile`` of the graph; slow to build, so not in the
defaults), and ``onnxruntime-fp32`` / ``-int8`` / ``-fp16`` (the exported files, see
:mod:`caloforge.export`). Each runs on the CPU for every requested thread count (``None``: all
cores) and, when a GPU is present, on ``cuda``. One cell times the generation graph alone (inputs
drawn beforehand) over at least ``min_seconds`` after a warm-up call and reports the median call
time divided by the batch size. Peak memory is the resident-set high-water mark above the level
before the cell (sampled every 2 ms; CPU) or ``torch.cuda.max_memory_allocated`` (GPU). The Geant4
time per shower, when given, is a reference row — an input measured elsewhere, never a constant here.

Example:
    >>> table = BenchTable("toy", "tiny", [BenchRow("pytorch", "cpu", 1, 10, 0.5, 12.0)], geant4_ms=130.0)
    >>> print(table.to_markdown().splitlines()[2])
    | pytorch | cpu | 1 | 10 | 0.5 | 12 | 260 |
"""

from __future__ import annotations

import logging
import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Self

import numpy as np

__all__ = ["BACKENDS", "BenchConfig", "BenchRow", "BenchTable", "PeakMemory", "time_calls"]

logger = logging.getLogger(__name__)

BACKENDS = ("pytorch", "torchscript", "torch-compile", "onnxruntime-fp32", "onnxruntime-int8", "onnxruntime-fp16")
DEFAULT_BACKENDS = ("pytorch", "torchscript", "onnxruntime-fp32", "onnxruntime-int8")


@dataclass(frozen=True)
class BenchConfig:
    """What to measure.

    Attributes:
        batch_sizes: Showers per call.
        threads: CPU thread counts (``None``: all cores).
        backends: Names from ``BACKENDS``.
        devices: ``"cpu"`` and/or ``"cuda"`` (``cuda`` is skipped when no GPU is present).
        min_seconds: Minimum measured time per cell, s.
        max_calls: Maximum measured calls per cell.
        geant4_ms: Reference Geant4 time per shower, ms (``None``: no reference row).
        seed: Seed of the benchmark inputs.
    """

    batch_sizes: tuple[int, ...] = (1, 10, 100, 1000, 10_000)
    threads: tuple[int | None, ...] = (1, None)
    backends: tuple[str, ...] = DEFAULT_BACKENDS
    devices: tuple[str, ...] = ("cpu", "cuda")
    min_seconds: float = 0.5
    max_calls: int = 50
    geant4_ms: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.backends) - set(BACKENDS))
        if unknown:
            msg = f"unknown backends {unknown}; choices are {list(BACKENDS)}"
            raise ValueError(msg)
        if not self.batch_sizes or min(self.batch_sizes) < 1:
            msg = f"batch sizes must be positive, got {self.batch_sizes}"
            raise ValueError(msg)


@dataclass(frozen=True)
class BenchRow:
    """One measured cell.

    Attributes:
        backend: Backend name.
        device: ``"cpu"`` or ``"cuda"``.
        threads: CPU threads used.
        batch_size: Showers per call.
        ms_per_shower: Median call time divided by the batch size, ms.
        peak_mb: Peak memory above the level before the cell, MB (``None`` if unavailable).
        calls: Measured calls.
    """

    backend: str
    device: str
    threads: int
    batch_size: int
    ms_per_shower: float
    peak_mb: float | None
    calls: int = 1


@dataclass
class BenchTable:
    """All measured cells plus the Geant4 reference.

    Attributes:
        model: Model name.
        geometry: Geometry name.
        rows: Measured cells.
        geant4_ms: Reference Geant4 time per shower, ms.
        files: Model file sizes, bytes, by backend.
    """

    model: str
    geometry: str
    rows: list[BenchRow]
    geant4_ms: float | None = None
    files: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"model": self.model, "geometry": self.geometry, "geant4_ms": self.geant4_ms,
                "files": self.files, "rows": [asdict(r) for r in self.rows]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchTable:
        """Inverse of :meth:`to_dict`."""
        rows = [BenchRow(**r) for r in data["rows"]]
        return cls(data["model"], data["geometry"], rows, data.get("geant4_ms"), dict(data.get("files", {})))

    def series(self) -> dict[tuple[str, str, int], list[BenchRow]]:
        """Rows grouped by (backend, device, threads), each sorted by batch size."""
        out: dict[tuple[str, str, int], list[BenchRow]] = {}
        for row in self.rows:
            out.setdefault((row.backend, row.device, row.threads), []).append(row)
        return {k: sorted(v, key=lambda r: r.batch_size) for k, v in out.items()}

    def to_markdown(self) -> str:
        """Markdown table: one line per cell, with the speed-up over Geant4 when known."""
        head = "| backend | device | threads | batch | ms/shower | peak MB | × Geant4 |"
        lines = [head, "|" + "---|" * 7]
        for (backend, device, threads), rows in self.series().items():
            for r in rows:
                peak = "–" if r.peak_mb is None else f"{r.peak_mb:.0f}"
                speedup = "–" if not self.geant4_ms else f"{self.geant4_ms / r.ms_per_shower:.3g}"
                lines.append(f"| {backend} | {device} | {threads} | {r.batch_size} | {r.ms_per_shower:.3g} | "
                             f"{peak} | {speedup} |")
        if self.geant4_ms:
            lines.append(f"| Geant4 (reference) | cpu | 1 | 1 | {self.geant4_ms:.3g} | – | 1 |")
        return "\n".join(lines)


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class PeakMemory:
    """Context manager sampling the resident set size every 2 ms (Linux); ``peak_mb`` above the start.

    Example:
        >>> with PeakMemory() as mem:  # 128 MB of fresh pages: freed memory the allocator reuses is not counted
        ...     block = np.random.default_rng(0).random(16_000_000)
        >>> mem.peak_mb is None or mem.peak_mb > 30
        True
    """

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.peak_mb: float | None = None
        self._stop = threading.Event()
        self._start = _rss_bytes()
        self._peak = self._start

    def _sample(self) -> None:
        while not self._stop.is_set():
            rss = _rss_bytes()
            if rss is not None and self._peak is not None:
                self._peak = max(self._peak, rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> Self:
        self._start = self._peak = _rss_bytes()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        end = _rss_bytes()
        if self._start is not None and self._peak is not None and end is not None:
            self.peak_mb = (max(self._peak, end) - self._start) / 1e6


def time_calls(call: Callable[[], Any], *, min_seconds: float, max_calls: int) -> tuple[float, int]:
    """Median wall time of ``call()`` in s after one warm-up call, and the number of measured calls.

    Calls repeat until ``min_seconds`` and three calls are reached, ``max_calls`` are made, or the
    calls already took ten times ``min_seconds``.
    """
    call()
    times: list[float] = []
    total = 0.0
    while len(times) < max(max_calls, 1):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
        total += times[-1]
        if total >= min_seconds and len(times) >= 3:
            break
        if min_seconds > 0 and total >= 10 * min_seconds:  # slow cells: one or two calls suffice
            break
    return statistics.median(times), len(times)


def thread_counts(threads: Sequence[int | None]) -> list[int]:
    """Resolves ``None`` to the number of cores; drops duplicates, keeping order."""
    out: list[int] = []
    for t in threads:
        n = os.cpu_count() or 1 if t is None else int(t)
        if n not in out:
            out.append(n)
    return out


def _measure(backend: Any, batch: int, threads: int, config: BenchConfig) -> BenchRow:
    rng = np.random.default_rng(config.seed)
    inputs = backend.inputs(batch, rng)
    cuda = backend.device == "cuda"
    if cuda:
        import torch

        torch.cuda.reset_peak_memory_stats()
    with PeakMemory() as mem:
        seconds, calls = time_calls(lambda: backend(inputs), min_seconds=config.min_seconds, max_calls=config.max_calls)
    peak = mem.peak_mb
    if cuda:
        import torch

        peak = torch.cuda.max_memory_allocated() / 1e6
    row = BenchRow(backend.name, backend.device, threads, batch, 1e3 * seconds / batch, peak, calls)
    logger.info("%s %s threads=%d batch=%d: %.4g ms/shower", row.backend, row.device, threads, batch, row.ms_per_shower)
    return row


def run_backends(backends: Sequence[Any], config: BenchConfig, *, progress: bool = False) -> list[BenchRow]:
    """Times every backend at every batch size and thread count (GPU backends: one thread count)."""
    from tqdm.auto import tqdm

    cells = []
    for backend in backends:
        counts = [1] if backend.device == "cuda" else thread_counts(config.threads)
        cells += [(backend, t, b) for t in counts for b in config.batch_sizes]
    rows = []
    current: dict[int, int] = {}
    for backend, threads, batch in tqdm(cells, disable=not progress, desc="bench", unit="cell"):
        if current.get(id(backend)) != threads:
            backend.set_threads(threads)
            current[id(backend)] = threads
        rows.append(_measure(backend, batch, threads, config))
    return rows

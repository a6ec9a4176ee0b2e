"""Figure of a benchmark table: ms/shower against batch size, one line per backend, Geant4 as a reference.

matplotlib is imported inside the functions (extra ``plot``); the figure is built on a
``matplotlib.figure.Figure`` without pyplot's global state.

Example:
    >>> from caloforge.bench.speed import BenchRow, BenchTable
    >>> rows = [BenchRow("pytorch", "cpu", 1, b, 1.0 / b, None) for b in (1, 10, 100)]
    >>> fig = bench_figure(BenchTable("toy", "tiny", rows, geant4_ms=130.0))
    >>> len(fig.axes[0].lines)
    2
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from caloforge.bench.speed import BenchTable

__all__ = ["bench_figure", "save_bench_plot"]


def bench_figure(table: BenchTable) -> Any:
    """A log–log figure of ms/shower against batch size.

    Arguments:
        table: The measured table.

    Returns:
        A ``matplotlib.figure.Figure``.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        msg = "plotting needs matplotlib: install the extra with `pip install caloforge[plot]`"
        raise ImportError(msg) from None
    fig = Figure(figsize=(6.4, 4.4), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    for (backend, device, threads), rows in table.series().items():
        style = "--" if device == "cuda" else "-"
        ax.plot([r.batch_size for r in rows], [r.ms_per_shower for r in rows], style, marker="o", ms=3,
                label=f"{backend} ({device}, {threads} thr.)" if device == "cpu" else f"{backend} ({device})")
    if table.geant4_ms:
        ax.axhline(table.geant4_ms, color="black", ls=":", label=f"Geant4 ({table.geant4_ms:.3g} ms)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("batch size (showers per call)")
    ax.set_ylabel("time per shower [ms]")
    ax.set_title(f"{table.model} on {table.geometry}", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    return fig


def save_bench_plot(table: BenchTable, path: str | Path) -> Path:
    """Writes :func:`bench_figure` to ``path`` (PNG, PDF or SVG by suffix); returns the path."""
    from caloforge.atomic import atomic_open

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    with atomic_open(path, overwrite=True) as f:
        bench_figure(table).savefig(f, format=fmt)
    return path

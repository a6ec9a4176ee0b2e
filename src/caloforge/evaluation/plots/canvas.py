"""The drawing basis every figure uses: the matplotlib check, Agg figures without pyplot, saving, colours.

matplotlib is the ``plot`` extra. It is imported inside the functions, never at module import, so the
statistics of :mod:`caloforge.evaluation` work without it; :func:`require_matplotlib` turns its absence
into one line that names the extra to install.

Example:
    >>> fig = figure(2.0, 1.5)
    >>> len(figure_png(fig)) > 0
    True
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from caloforge.atomic import atomic_open

logger = logging.getLogger(__name__)

__all__ = [
    "COLOURS",
    "PLOT_EXTRA",
    "REFERENCE_COLOUR",
    "figure",
    "figure_png",
    "hep",
    "require_matplotlib",
    "save_figure",
    "two_panels",
]

#: The install command that provides matplotlib.
PLOT_EXTRA = "pip install 'caloforge[plot]'"
#: Line colours of the generated samples (colour-blind friendly).
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
#: Resolution of every saved figure.
DPI = 120
#: Fill colour of the reference.
REFERENCE_COLOUR = "#999999"


def require_matplotlib() -> None:
    """Checks that matplotlib can be imported.

    Raises:
        ImportError: Without matplotlib, with a one-line message naming the ``plot`` extra.
    """
    try:
        import matplotlib as mpl  # noqa: F401
    except ImportError as err:
        msg = f"drawing figures needs matplotlib, which is not installed: {PLOT_EXTRA}"
        raise ImportError(msg) from err


_HEP: list[Any] = []


def hep() -> Any:
    """mplhep, imported on first use; ``None`` (with one warning) where it is not installed."""
    if not _HEP:
        try:
            import mplhep
        except ImportError:
            logger.warning("mplhep is not installed: figures use plain matplotlib (%s)", PLOT_EXTRA)
            mplhep = None
        _HEP.append(mplhep)
    return _HEP[0]


def figure(width: float, height: float, *, constrained: bool = False) -> Any:
    """A new Agg-backed figure (no pyplot); ``constrained`` layout is costly for many panels.

    Raises:
        ImportError: Without matplotlib (:func:`require_matplotlib`).
    """
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained" if constrained else None)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Any, stem: Path, formats: Sequence[str] = ("png", "pdf"), dpi: int | None = None) -> list[Path]:
    """Writes ``stem.png``, ``stem.pdf``, ...; returns the paths (minor ticks are dropped: they dominate drawing time)."""
    for ax in fig.axes:
        ax.minorticks_off()
    paths = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        with atomic_open(path, overwrite=True) as f:  # never a 0-byte or half-written figure
            fig.savefig(f, dpi=dpi or DPI, format=fmt)
        paths.append(path)
    return paths


def figure_png(fig: Any, dpi: int | None = None) -> bytes:
    """The figure as PNG bytes (for embedding in HTML)."""
    for ax in fig.axes:
        ax.minorticks_off()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or DPI)
    return buf.getvalue()


def two_panels(fig: Any, ncols: int = 1) -> Any:
    """A main panel over a ratio panel (``ncols`` such columns); returns the axes ((2,) or (2, ncols))."""
    axes = fig.subplots(2, ncols, sharex="col", gridspec_kw={"height_ratios": [3, 1]})
    fig.subplots_adjust(left=0.14 / ncols ** 0.5, right=0.97, top=0.92, bottom=0.12, hspace=0.06, wspace=0.3)
    return axes

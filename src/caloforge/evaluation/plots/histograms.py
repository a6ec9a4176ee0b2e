"""Feature-histogram figures: reference (filled) vs generated samples (lines), with ratio panels.

Every histogram carries its ± 1σ statistical band (√N, or √Σw² for weighted samples); the ratio panel
shows generated / reference with the band of both samples' errors, and bins outside its y-range
(:data:`RATIO_RANGE`) as arrows at the panel edge. Lines are drawn by mplhep's ``histplot`` where mplhep
is installed (the ``plot`` extra), by matplotlib otherwise.

Every function takes data and returns a :class:`matplotlib.figure.Figure`; nothing touches pyplot state or
global rcParams, so importing or calling this module changes nothing global. Saving is the caller's job
(:func:`~caloforge.evaluation.plots.canvas.save_figure`).

Example:
    >>> import numpy as np
    >>> from caloforge.evaluation.histograms import HistSpec, fill
    >>> spec = HistSpec("response", "response", None, np.linspace(0.5, 1.5, 11))
    >>> ref, gen = fill(np.full(10, 0.97), spec.edges), fill(np.full(10, 1.02), spec.edges)
    >>> fig = histogram_figure(spec, ref, {"model": gen}, {"model": 1.0})
    >>> len(fig.axes)
    2
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.evaluation.histograms import Histogram, HistSpec
from caloforge.evaluation.plots.canvas import COLOURS, REFERENCE_COLOUR, figure, hep, two_panels
from caloforge.evaluation.results import EvaluationReport

__all__ = ["RATIO_RANGE", "histogram_figure", "histogram_grid", "separation_by_layer_figure"]

_LOG_Y = {"e_layer", "ec_x", "ec_y", "width_x", "width_y", "ec_r", "width_r", "voxel_energy"}


def _density(h: Histogram, edges: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Unit-normalised density and its statistical error (√N, or √Σw² when weighted) per bin."""
    width = np.diff(edges)
    return h.normalised() / width, h.errors() / width


def _band(ax: Any, values: NDArray[np.float64], errors: NDArray[np.float64], edges: NDArray[np.float64],
          colour: str, alpha: float = 0.25) -> None:
    """A ± 1σ statistical band around ``values`` (step-wise, like the histogram)."""
    lo, hi = np.nan_to_num(values - errors, nan=0.0), np.nan_to_num(values + errors, nan=0.0)
    ax.stairs(hi, edges, baseline=lo, fill=True, color=colour, alpha=alpha, lw=0)


def _stairs(ax: Any, values: NDArray[np.float64], edges: NDArray[np.float64], **kw: Any) -> None:
    """One histogram line: mplhep's ``histplot`` where installed, matplotlib's ``stairs`` otherwise."""
    mh = hep()
    if mh is not None:
        mh.histplot(np.nan_to_num(values), edges, ax=ax, histtype="fill" if kw.pop("fill", False) else "step",
                    yerr=False, **kw)
    else:
        ax.stairs(values, edges, **kw)


def _draw(ax: Any, spec: HistSpec, ref: Histogram, gens: Mapping[str, Histogram], legend: bool) -> None:
    edges = spec.edges
    r, r_err = _density(ref, edges)
    _stairs(ax, r, edges, fill=True, color=REFERENCE_COLOUR, alpha=0.5, label="reference")
    _band(ax, r, r_err, edges, "#555555", 0.2)
    for i, (label, h) in enumerate(gens.items()):
        g, g_err = _density(h, edges)
        colour = COLOURS[i % len(COLOURS)]
        _stairs(ax, g, edges, color=colour, lw=1.5, label=label)
        _band(ax, g, g_err, edges, colour)
    if spec.log_x:
        ax.set_xscale("log")
    if spec.family in _LOG_Y:
        ax.set_yscale("log")
    if legend:
        ax.legend(fontsize=9, frameon=False)


#: y-range of the ratio panels; points outside it are marked by arrows at the edge.
RATIO_RANGE = (0.5, 1.5)


def _ratio(ax: Any, spec: HistSpec, ref: Histogram, gens: Mapping[str, Histogram]) -> None:
    """generated / reference with its ± 1σ band (both samples' errors) and arrows for off-scale bins."""
    edges = spec.edges
    r, r_err = ref.normalised(), ref.errors()
    centres = np.sqrt(edges[1:] * edges[:-1]) if spec.log_x else 0.5 * (edges[1:] + edges[:-1])
    lo, hi = RATIO_RANGE
    for i, h in enumerate(gens.values()):
        g, g_err = h.normalised(), h.errors()
        colour = COLOURS[i % len(COLOURS)]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(r > 0, g / r, np.nan)
            err = ratio * np.sqrt((g_err / np.where(g > 0, g, np.nan)) ** 2 + (r_err / np.where(r > 0, r, np.nan)) ** 2)
        ax.stairs(ratio, edges, color=colour, lw=1.2)
        _band(ax, ratio, np.where(np.isfinite(err), err, 0.0), edges, colour)
        above, below = ratio > hi, ratio < lo
        ax.plot(centres[above], np.full(above.sum(), hi - 0.04 * (hi - lo)), "^", color=colour, ms=4, ls="none")
        ax.plot(centres[below], np.full(below.sum(), lo + 0.04 * (hi - lo)), "v", color=colour, ms=4, ls="none")
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_ylim(lo, hi)
    ax.set_ylabel("gen / ref", fontsize=9)
    if spec.log_x:
        ax.set_xscale("log")


def histogram_figure(
    spec: HistSpec,
    ref: Histogram,
    gens: Mapping[str, Histogram],
    separation: Mapping[str, float] | None = None,
    title: str | None = None,
) -> Any:
    """One feature: normalised histograms on top, generated/reference ratio below.

    Arguments:
        spec: The binning.
        ref: Reference histogram.
        gens: Generated histograms by label.
        separation: Separation power by label (shown in the legend).
        title: Figure title (default: the histogram name).
    """
    fig = figure(5.0, 4.2)
    top, bottom = two_panels(fig)
    labelled = {
        (f"{k} (S={separation[k]:.3g})" if separation and k in separation else k): v for k, v in gens.items()
    }
    _draw(top, spec, ref, labelled, legend=True)
    top.set_ylabel("normalised entries")
    top.set_title(title or spec.name, fontsize=10)
    _ratio(bottom, spec, ref, gens)
    bottom.set_xlabel(spec.label)
    return fig


def histogram_grid(
    specs: Sequence[HistSpec],
    ref: Mapping[str, Histogram],
    gens: Mapping[str, Mapping[str, Histogram]],
    title: str,
    ncols: int = 9,
) -> Any:
    """Small panels of many histograms (e.g. one per layer) of one feature family.

    Arguments:
        specs: The histograms to draw, one panel each.
        ref: Reference histograms by name.
        gens: For each generated label, its histograms by name.
        title: Figure title.
        ncols: Panels per row.
    """
    ncols = min(ncols, len(specs))
    nrows = math.ceil(len(specs) / ncols)
    height = 1.5 * nrows + 0.6
    fig = figure(1.8 * ncols, height, constrained=False)
    fig.subplots_adjust(left=0.03, right=0.99, bottom=0.4 / height, top=1 - 0.5 / height, wspace=0.25, hspace=0.45)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, spec in zip(axes, specs, strict=False):
        _draw(ax, spec, ref[spec.name], {label: h[spec.name] for label, h in gens.items()}, legend=False)
        ax.set_title(spec.name, fontsize=9, pad=2)
        ax.tick_params(labelsize=7, length=2, pad=1)
        ax.yaxis.set_major_formatter(_null_formatter())
        ax.yaxis.set_minor_formatter(_null_formatter())
    for ax in axes[len(specs) :]:
        ax.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", ncols=len(labels), fontsize=8, frameon=False)
    fig.suptitle(f"{title} — x: {specs[0].label}", fontsize=10, x=0.02, ha="left")
    return fig


def _null_formatter() -> Any:
    from matplotlib.ticker import NullFormatter

    return NullFormatter()


def separation_by_layer_figure(report: EvaluationReport, specs: Sequence[HistSpec]) -> Any:
    """Separation power vs layer for every per-layer feature family, one panel per generated sample.

    Arguments:
        report: The evaluation's numbers.
        specs: The histogram binnings (per-layer families are those with a ``column``).
    """
    families = [f for f in ("e_layer", "ec_x", "ec_y", "width_x", "width_y", "ec_r", "width_r", "sparsity")
                if any(s.family == f for s in specs)]
    labels = list(report.generated)
    fig = figure(5.0 * max(len(labels), 1), 3.6, constrained=True)
    axes = np.atleast_1d(fig.subplots(1, max(len(labels), 1), squeeze=False)).ravel()
    for ax, label in zip(axes, labels, strict=False):
        hists = report.generated[label].histograms
        for i, family in enumerate(families):
            names = [s.name for s in specs if s.family == family]
            layer = [int(n.rsplit("_", 1)[1]) for n in names]
            ax.plot(layer, [hists[n].separation_power for n in names], ".-", lw=1, ms=3,
                    color=(*COLOURS, "#000000", "#777777")[i % (len(COLOURS) + 2)], label=family)
        ax.set_yscale("log")
        ax.set_xlabel("layer id")
        ax.set_ylabel("separation power")
        ax.set_title(label, fontsize=10)
        ax.legend(fontsize=7, frameon=False, ncols=2)
    return fig

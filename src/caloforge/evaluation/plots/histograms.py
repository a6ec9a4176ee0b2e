"""Feature-histogram figures: reference (filled) vs generated samples (lines), with ratio panels.

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
from caloforge.evaluation.plots.canvas import COLOURS, REFERENCE_COLOUR, figure, two_panels
from caloforge.evaluation.results import EvaluationReport

__all__ = ["histogram_figure", "histogram_grid", "separation_by_layer_figure"]

_LOG_Y = {"e_layer", "ec_x", "ec_y", "width_x", "width_y", "ec_r", "width_r", "voxel_energy"}


def _density(h: Histogram, edges: NDArray[np.float64]) -> NDArray[np.float64]:
    return h.normalised() / np.diff(edges)


def _draw(ax: Any, spec: HistSpec, ref: Histogram, gens: Mapping[str, Histogram], legend: bool) -> None:
    edges = spec.edges
    ax.stairs(_density(ref, edges), edges, fill=True, color=REFERENCE_COLOUR, alpha=0.5, label="reference")
    for i, (label, h) in enumerate(gens.items()):
        ax.stairs(_density(h, edges), edges, color=COLOURS[i % len(COLOURS)], lw=1.5, label=label)
    if spec.log_x:
        ax.set_xscale("log")
    if spec.family in _LOG_Y:
        ax.set_yscale("log")
    if legend:
        ax.legend(fontsize=8, frameon=False)


def _ratio(ax: Any, spec: HistSpec, ref: Histogram, gens: Mapping[str, Histogram]) -> None:
    edges = spec.edges
    r = ref.normalised()
    for i, h in enumerate(gens.values()):
        g = h.normalised()
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(r > 0, g / r, np.nan)
        ax.stairs(ratio, edges, color=COLOURS[i % len(COLOURS)], lw=1.2)
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_ylim(0.5, 1.5)
    ax.set_ylabel("gen / ref", fontsize=8)
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
        ax.set_title(spec.name, fontsize=7, pad=2)
        ax.tick_params(labelsize=5, length=2, pad=1)
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

"""Hit-level figures and the "Hit level" section of ``report.html`` (numbers from :mod:`caloforge.evaluation.hits`).

Figures (names start with ``hits_``): the per-shower observables (number of hits, visible energy, centre of
gravity x/y/z, longitudinal and radial rms, shower-start layer) as one grid, the cell-energy spectrum on log
axes with the threshold and MIP marked, the mean numbers of hits per layer and per radial bin, the moments'
correlation matrices (reference, generated, difference) and linearity / resolution from mean90 / rms90.
Like the other drawing modules, every function returns a Figure and touches no global state.

Example:
    >>> import numpy as np
    >>> from caloforge.evaluation.hits import MOMENTS
    >>> c = np.eye(len(MOMENTS))
    >>> fig = correlation_figure(c, {"model": c})
    >>> len(fig.axes) >= 3
    True
"""

from __future__ import annotations

import html as _html
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from caloforge.evaluation.compare import ResponseTable
from caloforge.evaluation.hit_comparison import HIT_LABELS, START_LAYER_DEFINITION, LinearityTable
from caloforge.evaluation.hits import MOMENTS
from caloforge.evaluation.plots.canvas import figure
from caloforge.evaluation.plots.histograms import histogram_figure, histogram_grid
from caloforge.evaluation.plots.markup import fmt, table
from caloforge.evaluation.plots.showers import profile_figure, response_figure
from caloforge.evaluation.results import EvaluationReport

if TYPE_CHECKING:
    from caloforge.evaluation.report import EvaluationArtifacts

__all__ = ["HIT_FIGURE_TITLES", "correlation_figure", "hit_figures", "hits_section", "linearity_figure"]

#: Hit-level figure names in report order, with their captions.
HIT_FIGURE_TITLES = {
    "hits_observables": "Hit-level observables per shower",
    "hits_cell_energy": "Cell-energy spectrum of the hits",
    "hits_longitudinal_profile": "Mean number of hits per layer",
    "hits_radial_profile": "Mean number of hits per radial bin",
    "hits_correlation": "Correlations of the shower moments",
    "hits_linearity": "Linearity and resolution of the visible energy (mean90 / rms90)",
}
_SHOWER_PANELS = ("n_hits", "e_vis", "cog_x", "cog_y", "cog_z", "width_z", "r_rms", "start_layer")


def correlation_figure(reference: NDArray[np.float64], generated: Mapping[str, NDArray[np.float64]]) -> Any:
    """Correlation matrices: one row per generated sample, columns reference, generated, generated − reference
    (the difference annotated; every number is in ``metrics.json``).

    Arguments:
        reference: Reference correlations, (K, K) over :data:`~caloforge.evaluation.hits.MOMENTS`.
        generated: Generated correlations by label, each (K, K).
    """
    rows = max(1, len(generated))
    fig = figure(11.0, 3.6 * rows)
    fig.subplots_adjust(left=0.09, right=0.97, bottom=0.2 / rows, top=1 - 0.25 / rows, wspace=0.25, hspace=0.45)
    axes = np.atleast_2d(fig.subplots(rows, 3, squeeze=False))
    ticks = np.arange(len(MOMENTS))
    for row, (label, gen) in enumerate(generated.items()):
        diff = gen - reference
        lim = max(0.05, float(np.nanmax(np.abs(diff), initial=0.0)))
        panels = (("reference (ρ)", reference, 1.0), (f"{label} (ρ)", gen, 1.0), (f"{label} − reference (Δρ)", diff, lim))
        for col, (title, matrix, scale) in enumerate(panels):
            ax = axes[row, col]
            mesh = ax.imshow(np.nan_to_num(matrix), vmin=-scale, vmax=scale, cmap="RdBu_r")
            for i, j in np.ndindex(matrix.shape) if col == 2 else ():  # numbers on the difference only
                if math.isfinite(matrix[i, j]):
                    ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=5.5)
            ax.set_xticks(ticks, MOMENTS, rotation=90, fontsize=7)
            ax.set_yticks(ticks, MOMENTS if col == 0 else [], fontsize=7)
            ax.set_title(title, fontsize=9)
            if col:
                fig.colorbar(mesh, ax=ax, shrink=0.8)
    return fig


def _as_response(t: LinearityTable) -> ResponseTable:
    """A linearity table in the shape :func:`~caloforge.evaluation.plots.showers.response_figure` draws."""
    n90 = [0.9 * n for n in t.n]
    lin_err = [r / e / math.sqrt(k) if k > 1 and e > 0 else math.nan for r, e, k in zip(t.rms90, t.e_inc_mean, n90, strict=True)]
    res_err = [s / math.sqrt(2 * (k - 1)) if k > 1 else math.nan for s, k in zip(t.resolution, n90, strict=True)]
    return ResponseTable(t.e_low, t.e_high, t.n, t.linearity, lin_err, t.resolution, res_err)


def linearity_figure(reference: LinearityTable, generated: Mapping[str, LinearityTable]) -> Any:
    """mean90(E_vis)/⟨E_inc⟩ and rms90/mean90 vs incident energy, with ratio panels (approximate errors)."""
    fig = response_figure(_as_response(reference), {k: _as_response(v) for k, v in generated.items()})
    top_left, top_right = fig.axes[0], fig.axes[1]
    top_left.set_ylabel(r"mean90($E_\mathrm{vis}$) / $E_\mathrm{inc}$")
    top_right.set_ylabel(r"rms90 / mean90 of $E_\mathrm{vis}$")
    return fig


def _cell_energy_figure(arts: EvaluationArtifacts, report: EvaluationReport) -> Any:
    spec = next(s for s in arts.hit_specs if s.name == "cell_energy")
    gens = {k: v["cell_energy"] for k, v in arts.hit_hists.items() if k != "reference"}
    seps = {k: g.hits.histograms["cell_energy"].separation_power for k, g in report.generated.items() if g.hits}
    fig = histogram_figure(spec, arts.hit_hists["reference"]["cell_energy"], gens, seps, HIT_FIGURE_TITLES["hits_cell_energy"])
    top, bottom = fig.axes[0], fig.axes[1]
    top.set_yscale("log")
    filled = np.flatnonzero(sum(h["cell_energy"].counts for h in arts.hit_hists.values()))
    if filled.size:
        top.set_xlim(spec.edges[filled[0]], spec.edges[filled[-1] + 1])
    threshold = arts.hits["reference"].threshold
    marks = [(threshold.mev, "threshold")] + ([(threshold.mip_mev, "1 MIP")] if threshold.mip_mev else [])
    for value, text in marks:
        if value and value > 0:
            for ax in (top, bottom):
                ax.axvline(value, color="k", lw=0.8, ls=":")
            top.text(value, 0.98, f" {text}", transform=top.get_xaxis_transform(), fontsize=7, va="top")
    bottom.set_xlabel(HIT_LABELS["cell_energy"])
    return fig


def hit_figures(arts: EvaluationArtifacts, report: EvaluationReport) -> dict[str, Any]:
    """Every hit-level figure by name (empty when the evaluation computed no hit-level observables)."""
    if not arts.hits or not arts.hit_specs:
        return {}
    figs: dict[str, Any] = {}
    gens = {k: v for k, v in arts.hit_hists.items() if k != "reference"}
    specs = [s for s in arts.hit_specs if s.name in _SHOWER_PANELS]
    grid = histogram_grid(specs, arts.hit_hists["reference"], gens, HIT_FIGURE_TITLES["hits_observables"], ncols=4)
    for ax, spec in zip(grid.axes, specs, strict=False):
        ax.set_title(HIT_LABELS[spec.name], fontsize=8, pad=2)
    grid.suptitle(HIT_FIGURE_TITLES["hits_observables"], fontsize=10, x=0.02, ha="left")
    figs["hits_observables"] = grid
    figs["hits_cell_energy"] = _cell_energy_figure(arts, report)
    ref = arts.hits["reference"]
    samples = {k: s for k, s in arts.hits.items() if k != "reference"}
    figs["hits_longitudinal_profile"] = profile_figure(
        np.arange(len(ref.hits_per_layer), dtype=np.float64), ref.hits_per_layer / len(ref),
        {k: s.hits_per_layer / len(s) for k, s in samples.items()}, xlabel="layer (0 = front)",
        ylabel="mean hits", title=HIT_FIGURE_TITLES["hits_longitudinal_profile"])
    figs["hits_radial_profile"] = profile_figure(
        ref.radial_centres, ref.hits_per_radial_bin / len(ref),
        {k: s.hits_per_radial_bin / len(s) for k, s in samples.items()}, xlabel="r [mm]", ylabel="mean hits",
        title=HIT_FIGURE_TITLES["hits_radial_profile"])
    with_hits = {k: g.hits for k, g in report.generated.items() if g.hits is not None}
    if with_hits:
        first = next(iter(with_hits.values()))
        figs["hits_correlation"] = correlation_figure(first.correlation.reference,
                                                      {k: h.correlation.generated for k, h in with_hits.items()})
        figs["hits_linearity"] = linearity_figure(first.linearity_reference,
                                                  {k: h.linearity_generated for k, h in with_hits.items()})
    return figs


def hits_section(report: EvaluationReport, images: Mapping[str, bytes], embed: Any) -> list[str]:
    """The "Hit level" section of ``report.html``: threshold, separation powers, correlations, figures.

    Arguments:
        report: The evaluation's numbers.
        images: PNG bytes by figure name (the ``hits_*`` ones are embedded here).
        embed: ``embed(images) -> str``, the HTML of embedded figures.
    """
    with_hits = {k: g.hits for k, g in report.generated.items() if g.hits is not None}
    if not with_hits:
        return []
    first = next(iter(with_hits.values()))
    thr = first.threshold
    source = {"option": "given with --cell-threshold", "geometry": "the geometry's cell threshold",
              "mip": f"½ MIP (MIP = {fmt(thr.mip_mev)} MeV)", "voxel": "the voxel threshold (no MIP known)"}[thr.source]
    names = list(first.histograms)
    rows = [(_html.escape(HIT_LABELS.get(n, n)), [fmt(h.histograms[n].separation_power) for h in with_hits.values()])
            for n in names]
    rows.append(("mean separation power", [fmt(h.separation_power_mean) for h in with_hits.values()]))
    rows.append(("correlations: mean / max |Δρ|", [f"{fmt(h.correlation.mean_abs_difference)} / "
                                                   f"{fmt(h.correlation.max_abs_difference)}" for h in with_hits.values()]))
    for key, text in (("max_abs_linearity_rel_diff", "linearity: max |gen/ref − 1|"),
                      ("max_abs_resolution_rel_diff", "resolution: max |gen/ref − 1|")):
        rows.append((text, [fmt(h.to_dict()["linearity"][key]) for h in with_hits.values()]))
    hit_images = {k: v for k, v in images.items() if k.startswith("hits_")}
    return [
        "<h2>Hit level</h2>",
        (f"<p>A hit is a cell with at least {fmt(thr.mev)} MeV ({_html.escape(source)}). Shower start: "
         f"{_html.escape(START_LAYER_DEFINITION)}. Linearity and resolution use mean90 / rms90, the mean and rms "
         "of the shortest interval holding 90 % of the showers of an incident-energy bin.</p>"),
        table(["separation power", *map(_html.escape, with_hits)], rows),
        embed(hit_images) if hit_images else "",
    ]

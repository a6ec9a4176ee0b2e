"""Draws every figure of an evaluation and writes it as PNG/PDF (used by :func:`~caloforge.evaluation.report.evaluate`).

Per-layer feature families are drawn for every layer, :data:`LAYERS_PER_PAGE` layers per figure
(``e_layer``, ``e_layer_p2``, ...; the report embeds the first page and links the others); the separation
power of every layer is also shown in one summary figure. Every figure is labelled with the dataset
(geometry), particle and incident-energy range.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from caloforge.evaluation.histograms import SPATIAL_FAMILIES
from caloforge.evaluation.plots.angles import ANGLE_FIGURE_TITLES
from caloforge.evaluation.plots.canvas import figure_png, save_figure
from caloforge.evaluation.plots.histograms import histogram_figure, histogram_grid, separation_by_layer_figure
from caloforge.evaluation.plots.showers import layer_images_figure, profile_figure, radial_profile, response_figure
from caloforge.evaluation.results import EvaluationReport

if TYPE_CHECKING:
    from caloforge.evaluation.report import EvaluationArtifacts

__all__ = ["FIGURE_TITLES", "LAYERS_PER_PAGE", "write_figures"]

#: Panels per page of a per-layer figure.
LAYERS_PER_PAGE = 12

logger = logging.getLogger(__name__)

#: Figure names in report order, with their captions.
FIGURE_TITLES = {
    "response": "Response E_tot / E_inc",
    "linearity": "Response and resolution vs incident energy",
    "longitudinal_profile": "Mean longitudinal profile",
    "radial_profile": "Mean radial profile",
    "voxel_energy": "Voxel energy spectrum",
    "shower_images": "Average shower per layer",
    "separation_by_layer": "Separation power of every per-layer feature",
    "e_layer": "Energy per layer",
    "ec_x": "Centre of energy in x per layer",
    "ec_y": "Centre of energy in y per layer",
    "width_x": "Width in x per layer",
    "width_y": "Width in y per layer",
    "ec_r": "Centre of energy in r per layer",
    "width_r": "Width in r per layer",
    "sparsity": "Sparsity (fraction of zero voxels) per layer",
    "response_per_energy": "Response per incident energy (dataset 1)",
    "weights": "Distribution of the per-shower weights (reweighted samples)",
    **ANGLE_FIGURE_TITLES,
}


def _separations(report: EvaluationReport, name: str) -> dict[str, float]:
    return {label: r.histograms[name].separation_power for label, r in report.generated.items()}


def _sample_label(arts: EvaluationArtifacts) -> str:
    """``calochallenge-2 · electron · 1–1000 GeV``: what every figure is of."""
    e = arts.reference.features.e_inc
    particle = getattr(arts.geometry, "particle", None)
    energy = f"{np.min(e) / 1e3:.3g}–{np.max(e) / 1e3:.3g} GeV" if len(e) else ""
    return " · ".join(str(p) for p in (arts.geometry.name, particle, energy) if p)


def _build(arts: EvaluationArtifacts, report: EvaluationReport) -> dict[str, Any]:
    figs: dict[str, Any] = {}
    by_name = {s.name: s for s in arts.specs}
    figs["response"] = histogram_figure(by_name["response"], arts.ref_hists["response"],
                                        {k: v["response"] for k, v in arts.gen_hists.items()},
                                        _separations(report, "response"), FIGURE_TITLES["response"])
    figs["linearity"] = response_figure(arts.responses["reference"],
                                        {k: v for k, v in arts.responses.items() if k != "reference"})
    layer_ids = np.asarray(arts.reference.features.layer_ids, dtype=np.float64)
    figs["longitudinal_profile"] = profile_figure(
        layer_ids, arts.reference.features.e_layer.mean(axis=0),
        {k: s.features.e_layer.mean(axis=0) for k, s in arts.generated.items()},
        xlabel="layer", ylabel="mean energy [MeV]", title=FIGURE_TITLES["longitudinal_profile"])
    r, ref_r = radial_profile(arts.geometry, arts.reference.mean_shower)
    figs["radial_profile"] = profile_figure(
        r, ref_r, {k: radial_profile(arts.geometry, s.mean_shower)[1] for k, s in arts.generated.items()},
        xlabel="r [mm]", ylabel="mean energy [MeV]", title=FIGURE_TITLES["radial_profile"])
    figs["voxel_energy"] = histogram_figure(arts.voxel_spec, arts.ref_hists["voxel_energy"],
                                            {k: v["voxel_energy"] for k, v in arts.gen_hists.items()},
                                            _separations(report, "voxel_energy"), FIGURE_TITLES["voxel_energy"])
    means = {"reference": arts.reference.mean_shower, **{k: s.mean_shower for k, s in arts.generated.items()}}
    figs["shower_images"] = layer_images_figure(arts.geometry, means)
    figs["separation_by_layer"] = separation_by_layer_figure(report, arts.specs)
    for family in ("e_layer", *SPATIAL_FAMILIES, "sparsity"):
        specs = [s for s in arts.specs if s.family == family]
        for page, start in enumerate(range(0, len(specs), LAYERS_PER_PAGE), start=1):
            chunk = specs[start : start + LAYERS_PER_PAGE]
            title = FIGURE_TITLES[family] + (f" (page {page} of {math.ceil(len(specs) / LAYERS_PER_PAGE)})"
                                             if len(specs) > LAYERS_PER_PAGE else "")
            figs[family if page == 1 else f"{family}_p{page}"] = histogram_grid(
                chunk, arts.ref_hists, arts.gen_hists, title, ncols=4)
    discrete = [s for s in arts.specs if s.energy_range is not None]
    if discrete:
        figs["response_per_energy"] = histogram_grid(discrete, arts.ref_hists, arts.gen_hists,
                                                     FIGURE_TITLES["response_per_energy"], ncols=5)
    weights = {k: s.weights for k, s in arts.generated.items() if s.weights is not None}
    if weights:
        from caloforge.evaluation.plots.weights import weights_figure

        figs["weights"] = weights_figure(weights)
    if report.by_angle is not None:
        from caloforge.evaluation.plots.angles import angle_figures

        figs.update(angle_figures(report.by_angle))
    from caloforge.evaluation.plots.hits import hit_figures

    figs.update(hit_figures(arts, report))  # hits_*: shown in the "Hit level" section of report.html
    label = _sample_label(arts)
    for fig in figs.values():
        fig.text(0.99, 0.995, label, ha="right", va="top", fontsize=8, color="#444444")
    return figs


def write_figures(
    arts: EvaluationArtifacts, report: EvaluationReport, out_dir: Path, formats: tuple[str, ...] = ("png", "pdf")
) -> dict[str, bytes]:
    """Draws all figures, saves them as ``out_dir/<name>.<fmt>`` and returns PNG bytes by name for the HTML.

    Arguments:
        arts: :class:`~caloforge.evaluation.report.EvaluationArtifacts`.
        report: The evaluation's numbers (separation powers for legends).
        out_dir: Folder for the figure files (created).
        formats: File formats to write.

    Raises:
        ImportError: Without matplotlib (the ``plot`` extra).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    images = {}
    for name, fig in _build(arts, report).items():
        paths = save_figure(fig, out_dir / name, formats)
        png = next((p for p in paths if p.suffix == ".png"), None)
        images[name] = png.read_bytes() if png is not None else figure_png(fig)
        logger.debug("figure %s written", name)
    return images

"""The evaluation by angle drawn: one figure per quantity and the per-angle table of ``report.html``.

The numbers come from :mod:`caloforge.evaluation.angles` (``report.by_angle``); nothing is computed here.
Figures: response and resolution vs angle, the longitudinal and the radial profile per angle bin
(reference solid, each generated sample dashed, one colour per angle bin), and the classifier AUC vs angle.

Example:
    >>> from caloforge.evaluation.results import EvaluationReport, ReferenceInfo
    >>> angle_section(EvaluationReport({}, ReferenceInfo("ref.h5", 10, "toy"), {}))
    []
"""

from __future__ import annotations

from typing import Any

import numpy as np

from caloforge.evaluation.angles import AngleReport
from caloforge.evaluation.plots.canvas import COLOURS, REFERENCE_COLOUR, figure
from caloforge.evaluation.plots.markup import auc_span, fmt, table
from caloforge.evaluation.results import EvaluationReport

__all__ = ["ANGLE_FIGURE_TITLES", "angle_figures", "angle_section"]

#: Figure names of the evaluation by angle, with their captions.
ANGLE_FIGURE_TITLES = {
    "angle_response": "Response and resolution vs incidence angle",
    "angle_longitudinal_profile": "Mean longitudinal profile per incidence angle",
    "angle_radial_profile": "Mean radial profile per incidence angle",
    "angle_classifier_auc": "Classifier AUC per incidence angle",
}
_STYLES = ("--", ":", "-.")


def _response_figure(by: AngleReport) -> Any:
    fig = figure(9.0, 3.6)
    axes = fig.subplots(1, 2)
    x = np.asarray(by.centres_deg)
    for ax, key, ylabel in ((axes[0], "response_mean", r"$\langle E_\mathrm{tot}/E_\mathrm{inc}\rangle$"),
                            (axes[1], "resolution", r"$\sigma / \mu$")):
        ax.plot(x, getattr(by.reference, key), "s-", color=REFERENCE_COLOUR, lw=2, ms=4, label="reference")
        for i, (label, s) in enumerate(by.generated.items()):
            ax.plot(x, getattr(s, key), "o--", color=COLOURS[i % len(COLOURS)], lw=1.2, ms=3, label=label)
        ax.set_xlabel("θ from the layer normal [deg]")
        ax.set_ylabel(ylabel)
    axes[0].legend(fontsize=8, frameon=False)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.9, wspace=0.3)
    fig.suptitle(ANGLE_FIGURE_TITLES["angle_response"], fontsize=10)
    return fig


def _profile_figure(by: AngleReport, key: str, x: list[float] | list[int], xlabel: str, name: str) -> Any:
    fig = figure(5.5, 4.2)
    ax = fig.subplots()
    for b, label in enumerate(by.labels):
        colour = COLOURS[b % len(COLOURS)]
        ax.plot(x, getattr(by.reference, key)[b], "-", color=colour, lw=1.8, label=f"{label} reference")
        for i, (gen_label, s) in enumerate(by.generated.items()):
            ax.plot(x, getattr(s, key)[b], _STYLES[i % len(_STYLES)], color=colour, lw=1.2,
                    label=f"{label} {gen_label}" if b == 0 or len(by.labels) <= 3 else None)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("mean energy [MeV]")
    ax.set_title(ANGLE_FIGURE_TITLES[name], fontsize=10)
    ax.legend(fontsize=7, frameon=False, ncol=2)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.12, top=0.92)
    return fig


def _auc_figure(by: AngleReport) -> Any:
    fig = figure(5.5, 3.8)
    ax = fig.subplots()
    x = np.asarray(by.centres_deg)
    for i, (label, s) in enumerate(by.generated.items()):
        for j, (kind, aucs) in enumerate(s.classifier_auc.items()):
            ax.plot(x, aucs, "o" + _STYLES[j % len(_STYLES)], color=COLOURS[i % len(COLOURS)], ms=4,
                    label=f"{label} · {kind}")
    ax.axhline(0.5, color="k", lw=0.8, ls="--")
    ax.set_xlabel("θ from the layer normal [deg]")
    ax.set_ylabel("AUC")
    ax.set_ylim(0.45, 1.0)
    ax.set_title(ANGLE_FIGURE_TITLES["angle_classifier_auc"], fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    fig.subplots_adjust(left=0.14, right=0.97, bottom=0.14, top=0.9)
    return fig


def angle_figures(by: AngleReport) -> dict[str, Any]:
    """One figure per quantity of the evaluation by angle, by name (:data:`ANGLE_FIGURE_TITLES`).

    Raises:
        ImportError: Without matplotlib (the ``plot`` extra).
    """
    figs = {
        "angle_response": _response_figure(by),
        "angle_longitudinal_profile": _profile_figure(by, "longitudinal", by.layers, "layer",
                                                      "angle_longitudinal_profile"),
        "angle_radial_profile": _profile_figure(by, "radial", by.radii_mm, "r [mm]", "angle_radial_profile"),
    }
    if any(s.classifier_auc for s in by.generated.values()):
        figs["angle_classifier_auc"] = _auc_figure(by)
    return figs


def angle_section(report: EvaluationReport) -> list[str]:
    """The "By incidence angle" section of ``report.html`` (empty without angles)."""
    by = report.by_angle
    if by is None:
        return []
    kinds = list(dict.fromkeys(k for s in by.generated.values() for k in s.classifier_auc))
    header = ["θ bin", "sample", "showers", "E_tot/E_inc", "σ/μ", "response sep. power",
              *(f"AUC {k}" for k in kinds)]
    rows: list[tuple[str, list[str]]] = []
    for b, label in enumerate(by.labels):
        ref = by.reference
        rows.append((label, ["reference", str(ref.n[b]), fmt(ref.response_mean[b], 4), fmt(ref.resolution[b], 3),
                             "–", *("–" for _ in kinds)]))
        for gen_label, s in by.generated.items():
            aucs = [s.classifier_auc.get(k, [float("nan")] * len(by.labels))[b] for k in kinds]
            rows.append((label, [fmt(gen_label), str(s.n[b]), fmt(s.response_mean[b], 4), fmt(s.resolution[b], 3),
                                 fmt(s.response_separation[b], 3),
                                 *(auc_span(a) if np.isfinite(a) else "–" for a in aucs)]))
    binning = ("one bin per distinct angle" if by.distinct
               else "quantile bins of the reference's angles")
    return ["<h2>By incidence angle</h2>",
            (f"<p>θ from the layer normal (0° = head-on); {binning}. Each bin's classifier is trained on that bin's "
             "showers alone (– where a bin holds too few).</p>"),
            table(header, rows)]

"""Reweighted samples in the report: the weight-distribution figure and the before/after table.

Example:
    >>> from caloforge.evaluation.results import EvaluationReport, ReferenceInfo
    >>> reweighting_section(EvaluationReport({}, ReferenceInfo("ref.h5", 10, "toy"), {}))
    ''
"""

from __future__ import annotations

import html as _html
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.evaluation.plots.canvas import COLOURS, figure
from caloforge.evaluation.plots.markup import auc_span, fmt, table
from caloforge.evaluation.results import EvaluationReport, SampleReport
from caloforge.evaluation.weighted import effective_sample_size

__all__ = ["reweighting_section", "weights_figure"]


def weights_figure(weights: Mapping[str, NDArray[np.floating]]) -> Any:
    """Distribution of log10 w per weighted sample, with the effective sample size in the legend.

    Arguments:
        weights: Per generated label, its per-shower weights (N,).
    """
    fig = figure(5.0, 3.6, constrained=True)
    ax = fig.subplots()
    positive = [np.log10(w[w > 0]) for w in weights.values() if np.any(w > 0)]
    lo = min((float(v.min()) for v in positive), default=-1.0)
    hi = max((float(v.max()) for v in positive), default=1.0)
    edges = np.linspace(min(lo, -1.0), max(hi, 1.0), 61)
    for i, (label, values) in enumerate(weights.items()):
        w = np.asarray(values, dtype=np.float64)
        ess = effective_sample_size(w)
        ax.hist(np.log10(w[w > 0]), edges, histtype="step", lw=1.5, color=COLOURS[i % len(COLOURS)],
                label=f"{label} (ESS {ess:.0f} of {len(w)})")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\log_{10} w$")
    ax.set_ylabel("showers")
    ax.legend(fontsize=8, frameon=False)
    return fig


def _rows(g: SampleReport) -> list[tuple[str, list[str]]]:
    w = g.weighted
    assert w is not None  # only weighted samples are listed
    rows = [
        ("showers / effective sample size", [str(g.n_events - g.n_invalid), f"{w.weights.ess:.0f}"]),
        ("mean separation power", [fmt(g.summary.separation_power_mean), fmt(w.summary.separation_power_mean)]),
        ("median separation power", [fmt(g.summary.separation_power_median), fmt(w.summary.separation_power_median)]),
        ("max separation power", [fmt(g.summary.separation_power_max), fmt(w.summary.separation_power_max)]),
        ("median χ²/NDF", [fmt(g.summary.chi2_ndf_median), fmt(w.summary.chi2_ndf_median)]),
    ]
    for kind in g.classifier:
        before, after = g.classifier_result(kind), w.classifier_result(kind)
        rows.append((f"classifier {kind}: AUC", [auc_span(before.auc if before else None),
                                                  auc_span(after.auc if after else None)]))
    return rows


def reweighting_section(report: EvaluationReport) -> str:
    """The "Reweighting: before / after" HTML section ('' when no generated file has weights)."""
    weighted = {label: g for label, g in report.generated.items() if g.weighted is not None}
    if not weighted:
        return ""
    parts = ["<h2>Reweighting: before / after</h2>",
             ("<p>Generated files with per-shower weights (<code>caloforge reweight</code>) are compared twice: "
             "unweighted (before) and with every shower counted w times (after: weighted histograms with √Σw² "
             "errors, weighted χ², the classifier trained and scored with the weights). The effective sample size "
             "(Σw)²/Σw² is the number of unweighted showers the weighted sample is worth. Weights cannot create "
             "showers where the generator has none.</p>")]
    for label, g in weighted.items():
        w = g.weighted
        assert w is not None
        stats = w.weights
        parts.append(f"<h3>{_html.escape(label)}</h3>")
        parts.append(table(["", "before (unweighted)", "after (weighted)"], _rows(g)))
        parts.append(f"<p>Weights: median {fmt(stats.median, 3)}, 1–99 % range {fmt(stats.quantiles.get('q01'), 3)}"
                     f"–{fmt(stats.quantiles.get('q99'), 3)}, max {fmt(stats.max, 3)}.</p>")
    return "".join(parts)

"""Figures and the small HTML page of the latent diagnostics (:mod:`caloforge.evaluation.latent`).

* :func:`latent_histograms_figure` — the draws of every latent dimension against the N(0, 1) density;
* :func:`kl_figure` — the KL per dimension with the active-unit threshold;
* :func:`correlation_figure` — the correlation matrix;
* :func:`latent_html` — ``latent.html``: the table of the diagnostics and the figures (embedded PNGs).

Example:
    >>> import numpy as np
    >>> from caloforge.evaluation.latent import latent_diagnostics
    >>> z = np.random.default_rng(0).standard_normal((500, 2))
    >>> d = latent_diagnostics(z, np.zeros_like(z), np.zeros_like(z))
    >>> len(kl_figure(d).axes), "<table" in latent_html(d, title="toy")
    (1, True)
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.evaluation.latent import LatentDiagnostics
from caloforge.evaluation.plots.canvas import COLOURS, REFERENCE_COLOUR, figure, figure_png
from caloforge.evaluation.plots.numbers import num

__all__ = ["FIGURES", "correlation_figure", "kl_figure", "latent_histograms_figure", "latent_html"]

#: Figure stems written by ``caloforge latent`` and their captions.
FIGURES = {
    "latent-histograms": "Aggregate posterior per dimension against N(0, 1)",
    "latent-kl": "KL(q(z_j|x) ‖ N(0, 1)) per dimension",
    "latent-correlation": "Correlation matrix of the latent draws",
}


def latent_histograms_figure(z: NDArray[np.floating[Any]], diagnostics: LatentDiagnostics, *, ncols: int = 5) -> Any:
    """One panel per latent dimension: a density histogram of the draws and the N(0, 1) curve.

    Arguments:
        z: (N, d) posterior draws.
        diagnostics: Their diagnostics (for the KS/AD p-values in each title).
        ncols: Panels per row.
    """
    d = z.shape[1]
    ncols = min(ncols, d)
    nrows = math.ceil(d / ncols)
    fig = figure(2.4 * ncols, 2.0 * nrows + 0.3)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    grid = np.linspace(-4.5, 4.5, 181)
    pdf = np.exp(-0.5 * grid**2) / math.sqrt(2 * math.pi)
    for j, ax in enumerate(axes):
        if j >= d:
            ax.set_visible(False)
            continue
        ax.hist(np.clip(z[:, j], -4.5, 4.5), bins=45, range=(-4.5, 4.5), density=True, color=COLOURS[0], alpha=0.7)
        ax.plot(grid, pdf, color=REFERENCE_COLOUR, lw=1.5)
        dim = diagnostics.dimensions[j]
        title = f"z{j}: KS p={num(dim.ks_pvalue, 2)}, AD p={num(dim.ad_pvalue, 2)}"
        ax.set_title(title, fontsize=7)
        ax.tick_params(labelsize=6)
    fig.subplots_adjust(left=0.05, right=0.98, top=0.9, bottom=0.08, hspace=0.5, wspace=0.25)
    return fig


def kl_figure(diagnostics: LatentDiagnostics) -> Any:
    """Bars of the KL per dimension (log scale), coloured active / inactive, with the threshold line."""
    kl = np.array([dim.kl for dim in diagnostics.dimensions])
    fig = figure(max(3.0, 0.4 * kl.size + 1.5), 2.6)
    ax = fig.subplots()
    colours = [COLOURS[0] if dim.active else REFERENCE_COLOUR for dim in diagnostics.dimensions]
    ax.bar(np.arange(kl.size), np.nan_to_num(np.maximum(kl, 1e-6), nan=1e-6), color=colours)
    ax.axhline(diagnostics.kl_threshold, color=COLOURS[1], ls="--", lw=1, label=f"active: > {diagnostics.kl_threshold} nats")
    ax.set_yscale("log")
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("KL to N(0, 1) [nats]")
    ax.set_xticks(np.arange(kl.size))
    ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.18, right=0.97, top=0.95, bottom=0.18)
    return fig


def correlation_figure(diagnostics: LatentDiagnostics) -> Any:
    """The correlation matrix of the draws, colour scale −1 … 1."""
    c = diagnostics.correlation
    fig = figure(3.6, 3.0)
    ax = fig.subplots()
    image = ax.imshow(c, vmin=-1, vmax=1, cmap="RdBu_r")
    fig.colorbar(image, ax=ax, label="correlation")
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("latent dimension")
    fig.subplots_adjust(left=0.15, right=0.92, top=0.95, bottom=0.15)
    return fig


def _table(diagnostics: LatentDiagnostics) -> str:
    head = "<tr><th>dim</th><th>KL [nats]</th><th>active</th><th>mean</th><th>std</th>"
    head += "<th>KS D</th><th>KS p</th><th>AD A²</th><th>AD p</th><th>N(0,1)?</th></tr>"
    rows = []
    for dim in diagnostics.dimensions:
        cells = [
            str(dim.index), num(dim.kl, 3), "yes" if dim.active else "no", num(dim.mean, 3),
            num(dim.std, 3), num(dim.ks_statistic, 3), num(dim.ks_pvalue, 2),
            num(dim.ad_statistic, 3), num(dim.ad_pvalue, 2), "yes" if dim.normal else "rejected",
        ]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    return "<table>" + head + "".join(rows) + "</table>"


def latent_html(
    diagnostics: LatentDiagnostics, *, title: str, figures: Mapping[str, Any] | None = None, notes: str = ""
) -> str:
    """The standalone ``latent.html``.

    Arguments:
        diagnostics: The statistics.
        title: Page heading (the checkpoint and data file).
        figures: Figure stem (a key of :data:`FIGURES`) → matplotlib figure, embedded as PNG.
        notes: Extra sentence(s) under the heading (plain text).
    """
    d = diagnostics
    summary = (
        f"{d.n} showers, {len(d.dimensions)} latent dimensions: {d.n_active} active "
        f"(mean KL to N(0,1) above {d.kl_threshold} nats), {sum(x.normal for x in d.dimensions)} not rejected "
        f"as N(0,1) by KS and Anderson–Darling at α = {d.alpha}; total KL {num(d.kl_total, 3)} nats"
    )
    if d.kl_monte_carlo is not None:
        summary += f", Monte-Carlo KL log q − log p {num(d.kl_monte_carlo, 3)} nats"
    summary += f"; largest |off-diagonal correlation| {num(d.max_abs_correlation, 2)}."
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        (f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;max-width:70em}}"
        "td,th{padding:2px 8px;text-align:right}</style></head><body>"),
        f"<h1>Latent space: {html.escape(title)}</h1><p>{html.escape(summary)}</p>",
    ]
    if notes:
        parts.append(f"<p>{html.escape(notes)}</p>")
    parts.append(_table(d))
    for stem, fig in (figures or {}).items():
        data = base64.b64encode(figure_png(fig)).decode()
        caption = html.escape(FIGURES.get(stem, stem))
        parts.append(f"<h2>{caption}</h2><img alt='{caption}' src='data:image/png;base64,{data}'>")
    parts.append("</body></html>")
    return "\n".join(parts)

"""The amplification figure: MSE against the reference vs sample size, one panel per observable.

Each panel shows the Geant4 draws (points, 16–84 % band) with the expected curve a/m + c (line; the floor c dotted),
each generated sample's MSE vs generated sample size (points, band), the crossing — the Geant4 size m*
with the generated sample's MSE (marker on the fit) — and the training size n (grey line).

Example:
    >>> import numpy as np
    >>> from caloforge.evaluation.amplification import AmplificationConfig, amplification
    >>> rng = np.random.default_rng(0)
    >>> r = amplification({"x": rng.normal(size=4000)}, {"x": rng.normal(size=2000)},
    ...                   {"gen": {"x": rng.normal(size=3000)}}, 300, AmplificationConfig(bootstrap=5, repeats=3))
    >>> len(amplification_figure(r).axes)
    1
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from caloforge.evaluation.amplification import AmplificationResult
from caloforge.evaluation.plots.canvas import COLOURS, REFERENCE_COLOUR, figure

__all__ = ["amplification_figure"]


def _panel(ax: Any, result: AmplificationResult, name: str) -> None:
    g4 = result.geant4[name]
    sizes = np.asarray(g4.sizes, dtype=np.float64)
    ax.fill_between(sizes, g4.low, g4.high, color=REFERENCE_COLOUR, alpha=0.35, lw=0)
    ax.plot(sizes, g4.mse, "o", ms=3, color="k", label="Geant4 draws")
    finite = [o.equivalent_size for s in result.samples.values() if math.isfinite((o := s.observables[name]).equivalent_size)]
    x_max = max([sizes[-1], *(s.n_events for s in result.samples.values()), *finite]) * 1.5
    grid = np.geomspace(min([sizes[0], *finite]) / 1.5, x_max, 100)
    ax.plot(grid, g4.expected(grid), "-", color="k", lw=1, label=f"expected a/m + c (a={g4.slope:.3g})")
    ax.axhline(g4.floor, color="k", ls=":", lw=0.8)
    ax.axvline(result.train_size, color=REFERENCE_COLOUR, lw=1.2, label=f"n = {result.train_size}")
    for i, (label, sample) in enumerate(result.samples.items()):
        obs, colour = sample.observables[name], COLOURS[i % len(COLOURS)]
        c = obs.curve
        ax.fill_between(c.sizes, c.low, c.high, color=colour, alpha=0.2, lw=0)
        text = f"A = {obs.amplification:.3g}" if obs.resolved else f"A > {obs.interval[0]:.3g}"
        ax.plot(c.sizes, c.mse, "s-", ms=3, lw=1, color=colour, label=f"{label}: {text}")
        if math.isfinite(obs.equivalent_size):
            ax.plot([obs.equivalent_size], [obs.mse], "*", ms=9, color=colour, mec="k", mew=0.5)
            ax.axvline(obs.equivalent_size, color=colour, ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(name, fontsize=9)
    ax.set_xlabel("sample size", fontsize=8)
    ax.set_ylabel("MSE of bin fractions", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, loc="upper right")


def amplification_figure(result: AmplificationResult, *, ncols: int = 4) -> Any:
    """The figure of ``result`` (a grid of panels, one per observable).

    Raises:
        ImportError: Without matplotlib (the ``plot`` extra).
    """
    names = list(result.geant4)
    ncols = min(ncols, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig = figure(3.6 * ncols, 3.0 * nrows, constrained=True)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, name in zip(axes, names, strict=False):
        _panel(ax, result, name)
    for ax in axes[len(names):]:
        ax.set_visible(False)
    fig.suptitle(f"statistical amplification (n = {result.train_size} training showers, "
                 f"{result.n_reference} reference showers)", fontsize=10)
    return fig

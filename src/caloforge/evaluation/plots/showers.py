"""Physics figures: response and resolution vs incident energy, shower profiles, average shower images.

Like :mod:`.histograms`, each function takes arrays and returns a Figure without touching pyplot state.

Example:
    >>> import numpy as np
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=2, r_edges=[0, 1, 2])
    >>> r, e = radial_profile(g, np.arange(8.0))
    >>> r.tolist(), e.tolist()
    ([0.5, 1.5], [12.0, 16.0])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.evaluation.compare import ResponseTable
from caloforge.evaluation.plots.canvas import COLOURS, REFERENCE_COLOUR, figure, require_matplotlib, two_panels
from caloforge.geometry import Geometry

__all__ = ["layer_images_figure", "profile_figure", "radial_profile", "response_figure"]


def radial_profile(geometry: Geometry, mean_shower: NDArray[np.floating]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Energy per radial voxel centre, summed over layers and angles.

    Arguments:
        geometry: Readout geometry.
        mean_shower: Average shower, (n_voxels,), MeV.

    Returns:
        Radii in mm (sorted, unique voxel-centre radii) and the summed energies, MeV.
    """
    radii, inverse = np.unique(np.round(geometry.r_centres, 6), return_inverse=True)
    summed = np.bincount(inverse, weights=np.asarray(mean_shower, dtype=np.float64), minlength=len(radii))
    return radii, summed.astype(np.float64)


def _ratio_panel(ax: Any, x: NDArray[np.float64], ref: NDArray[np.float64], gens: Mapping[str, NDArray[np.float64]]) -> None:
    for i, g in enumerate(gens.values()):
        with np.errstate(divide="ignore", invalid="ignore"):
            ax.plot(x, np.where(ref != 0, g / ref, np.nan), "o-", ms=2.5, lw=1, color=COLOURS[i % len(COLOURS)])
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_ylim(0.5, 1.5)
    ax.set_ylabel("gen / ref", fontsize=8)


def profile_figure(
    x: NDArray[np.float64],
    ref: NDArray[np.float64],
    gens: Mapping[str, NDArray[np.float64]],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    log_y: bool = True,
) -> Any:
    """A mean profile (longitudinal or radial) of the reference and generated samples with a ratio panel."""
    fig = figure(5.0, 4.2)
    top, bottom = two_panels(fig)
    top.plot(x, ref, "s-", color=REFERENCE_COLOUR, lw=2, ms=3, label="reference")
    for i, (label, g) in enumerate(gens.items()):
        top.plot(x, g, "o-", color=COLOURS[i % len(COLOURS)], lw=1.2, ms=2.5, label=label)
    if log_y:
        top.set_yscale("log")
    top.set_ylabel(ylabel)
    top.set_title(title, fontsize=10)
    top.legend(fontsize=8, frameon=False)
    _ratio_panel(bottom, x, ref, gens)
    bottom.set_xlabel(xlabel)
    return fig


def response_figure(ref: ResponseTable, gens: Mapping[str, ResponseTable]) -> Any:
    """Linearity (mean E_tot/E_inc) and resolution (σ/μ) vs incident energy, each with a ratio panel.

    Arguments:
        ref: Reference :func:`~caloforge.evaluation.compare.response_table`.
        gens: Generated response tables by label.
    """
    require_matplotlib()
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    fig = figure(9.0, 4.2)
    axes = two_panels(fig, 2)
    e = np.sqrt(np.asarray(ref.e_low) * np.asarray(ref.e_high)) / 1e3
    for col, (key, label) in enumerate((("mean", r"$\langle E_\mathrm{tot}/E_\mathrm{inc}\rangle$"),
                                        ("resolution", r"$\sigma/\mu$ of $E_\mathrm{tot}/E_\mathrm{inc}$"))):
        top, bottom = axes[0, col], axes[1, col]
        top.errorbar(e, getattr(ref, key), yerr=getattr(ref, f"{key}_error"), fmt="s", color=REFERENCE_COLOUR, ms=4,
                     label="reference")
        for i, (name, t) in enumerate(gens.items()):
            top.errorbar(e, getattr(t, key), yerr=getattr(t, f"{key}_error"), fmt="o", color=COLOURS[i % len(COLOURS)],
                         ms=3, label=name)
        top.set_xscale("log")
        top.set_ylabel(label)
        top.legend(fontsize=8, frameon=False)
        _ratio_panel(bottom, e, np.asarray(getattr(ref, key), dtype=np.float64),
                     {k: np.asarray(getattr(t, key), dtype=np.float64) for k, t in gens.items()})
        bottom.set_xlabel(r"$E_\mathrm{inc}$ [GeV]")
        bottom.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))  # 1, 2, 5, 10, 20, ... GeV
        bottom.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        bottom.xaxis.set_minor_formatter(NullFormatter())
    return fig


def _choose_layers(n_layers: int, max_layers: int) -> list[int]:
    if n_layers <= max_layers:
        return list(range(n_layers))
    return sorted({round(v) for v in np.linspace(0, n_layers - 1, max_layers)})


def layer_images_figure(
    geometry: Geometry, showers: Mapping[str, NDArray[np.floating]], *, max_layers: int = 6, layers: Sequence[int] | None = None
) -> Any:
    """Average shower per layer: one row per sample (reference first), one column per layer, shared log scale.

    Arguments:
        geometry: Readout geometry.
        showers: Average showers by label, each (n_voxels,), MeV.
        max_layers: At most this many evenly spaced layers are drawn.
        layers: Explicit layer indices (overrides ``max_layers``).
    """
    require_matplotlib()
    from matplotlib.colors import LogNorm

    chosen = list(layers) if layers is not None else _choose_layers(geometry.n_layers, max_layers)
    vmax = max(float(np.max(s)) for s in showers.values())
    norm = LogNorm(vmin=max(vmax * 1e-4, 1e-12), vmax=max(vmax, 1e-11))
    fig = figure(2.0 * len(chosen) + 0.8, 2.0 * len(showers) + 0.4, constrained=True)
    mesh = None
    for row, (label, shower) in enumerate(showers.items()):
        for col, layer in enumerate(chosen):
            lay = geometry.layers[layer]
            data = np.asarray(shower)[geometry.layer_slice(layer)].reshape(lay.shape) + 1e-30
            index = row * len(chosen) + col + 1
            if lay.kind == "cartesian":
                ax = fig.add_subplot(len(showers), len(chosen), index)
                mesh = ax.pcolormesh(lay.x_edges, lay.y_edges, data.T, norm=norm, cmap="viridis")
                ax.set_aspect("equal")
            else:
                ax = fig.add_subplot(len(showers), len(chosen), index, projection="polar")
                theta = np.linspace(-np.pi, np.pi, lay.n_alpha + 1)
                mesh = ax.pcolormesh(theta, np.asarray(lay.r_edges), data.T, norm=norm, cmap="viridis")
                ax.grid(False)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{label}\nlayer {lay.layer_id}" if col == 0 else f"layer {lay.layer_id}", fontsize=7)
    if mesh is not None:
        fig.colorbar(mesh, ax=fig.axes, shrink=0.8, label="mean energy [MeV]")
    return fig

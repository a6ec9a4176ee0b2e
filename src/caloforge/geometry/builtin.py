"""Built-in named geometries, written into the package (no file is read at run time).

The CaloChallenge geometries reproduce the official binning XML files exactly (a test parses the
official files and compares); ``par04`` is the Geant4 Par04 example readout (18 r × 50 φ × 45 z
cells, 2.325 mm × 2π/50 × 3.4 mm); the Cartesian grids mimic the ILD calorimeter images used by
BIB-AE / CaloClouds. The dataset-1 geometries and ``ild-48x25x25`` also carry each layer's physical depth
and sampling structure (``Layer.depth_mm`` / ``Layer.material``) for the simulator; ``ild-48x25x25`` holds
scintillator energies (``energy_scale="visible"``, one MIP = 0.49 MeV, ½-MIP threshold 0.25 MeV).

Example:
    >>> get_geometry("calochallenge-2").shape
    (45, 16, 9)
    >>> sorted(GEOMETRIES)[:2]
    ['calochallenge-1-photons', 'calochallenge-1-pions']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from caloforge.geometry.geometry import Geometry, Layer
from caloforge.registry import Registry

__all__ = ["GEOMETRIES", "get_geometry", "guess_geometry"]

GEOMETRIES: Registry[Callable[[], Geometry]] = Registry("geometry")

#: Si-W pitch of the CaloChallenge datasets 2/3 and Par04 readout layers (2 × (1.4 mm W + 0.3 mm Si)).
SIW_LAYER_MM = 3.4


#: ATLAS barrel calorimeter layers of CaloChallenge dataset 1 (FastCaloGAN, 0.20 < |η| < 0.25), by layer id:
#: (sampling structure, depth mm). Depths from the ATLAS detector paper (JINST 3 S08003, at η = 0):
#: presampler 11 mm LAr; EM barrel strips / middle / back 4.3 / 16 / 2 X0 of the Pb-LAr accordion
#: (X0 = 18.84 mm from its 1.53 mm Pb + 0.4 mm steel + 4.2 mm LAr period); Tile barrel A / BC / D
#: 1.5 / 4.1 / 1.8 λ_I of the 14 mm steel + 3 mm scintillator period (λ_I = 194.6 mm). Dead material
#: (cryostats, solenoid) and the 2–3 % longer path at |η| ≈ 0.22 are not included.
ATLAS_LAYERS: dict[int, tuple[str, float]] = {
    0: ("atlas-presampler-lar", 11.0),
    1: ("atlas-emb-pb-lar", 81.0),
    2: ("atlas-emb-pb-lar", 301.4),
    3: ("atlas-emb-pb-lar", 37.7),
    12: ("atlas-tile-fe-sci", 291.9),
    13: ("atlas-tile-fe-sci", 797.9),
    14: ("atlas-tile-fe-sci", 350.3),
}

#: ILD AHCAL layer: 20 mm steel + 3 mm scintillator + readout and gaps, 26.5 mm; one MIP's most probable
#: signal in a 3 mm scintillator cell, and the half-MIP cell threshold (MeV, scintillator energy).
AHCAL_LAYER_MM = 26.5
AHCAL_MIP_MEV = 0.49
AHCAL_THRESHOLD_MEV = 0.25


def _cyl(name: str, spec: list[tuple[int, str, int]], particle: str) -> Geometry:
    layers = tuple(
        Layer(
            r_edges=tuple(float(v) for v in edges.split(",")), n_alpha=n_alpha, layer_id=lid,
            material=ATLAS_LAYERS[lid][0], depth_mm=ATLAS_LAYERS[lid][1],
        )
        for lid, edges, n_alpha in spec
    )
    return Geometry(name, layers, particle=particle, energy_scale="em")


def _uniform_edges(n: int, width: float) -> tuple[float, ...]:
    return tuple(round(float(v), 6) for v in np.arange(n + 1) * width)


@GEOMETRIES.register("calochallenge-1-photons")
def _ds1_photons() -> Geometry:
    return _cyl(
        "calochallenge-1-photons",
        [
            (0, "0,5,10,30,50,100,200,400,600", 1),
            (1, "0,2,4,6,8,10,12,15,20,30,40,50,70,90,120,150,200", 10),
            (2, "0,2,5,10,15,20,25,30,40,50,60,80,100,130,160,200,250,300,350,400", 10),
            (3, "0,50,100,200,400,600", 1),
            (12, "0,100,200,400,1000,2000", 1),
        ],
        "photon",
    )


@GEOMETRIES.register("calochallenge-1-pions")
def _ds1_pions() -> Geometry:
    return _cyl(
        "calochallenge-1-pions",
        [
            (0, "0,5,10,30,50,100,200,400,600", 1),
            (1, "0,1,4,7,10,15,30,50,90,150,200", 10),
            (2, "0,5,10,20,30,50,80,130,200,300,400", 10),
            (3, "0,50,100,200,400,600", 1),
            (12, "0,10,20,30,50,80,100,130,160,200,250,300,350,400,1000,2000", 10),
            (13, "0,10,20,30,50,80,100,130,160,200,250,300,350,400,600,1000,2000", 10),
            (14, "0,50,100,150,200,250,300,400,600,1000,2000", 1),
        ],
        "pion",
    )


@GEOMETRIES.register("calochallenge-2")
def _ds2() -> Geometry:
    return Geometry.regular(
        "calochallenge-2",
        n_layers=45,
        n_alpha=16,
        r_edges=_uniform_edges(9, 4.65),
        layer_thickness_mm=SIW_LAYER_MM,
        particle="electron",
    )


@GEOMETRIES.register("calochallenge-3")
def _ds3() -> Geometry:
    return Geometry.regular(
        "calochallenge-3",
        n_layers=45,
        n_alpha=50,
        r_edges=_uniform_edges(18, 2.325),
        layer_thickness_mm=SIW_LAYER_MM,
        particle="electron",
    )


@GEOMETRIES.register("par04")
def _par04() -> Geometry:
    # The Par04 readout is the dataset-3 binning (dataset 3 was simulated with Par04): derived, not copied.
    return _ds3().renamed("par04")


@GEOMETRIES.register("ild-30x30x30")
def _ild_photon() -> Geometry:
    return Geometry.cartesian(
        "ild-30x30x30", n_layers=30, nx=30, ny=30, cell_mm=5.088, layer_thickness_mm=5.25, particle="photon"
    )


@GEOMETRIES.register("ild-48x25x25")
def _ild_pion() -> Geometry:
    grid = Geometry.cartesian(
        "ild-48x25x25", n_layers=48, nx=25, ny=25, cell_mm=30.0, layer_thickness_mm=AHCAL_LAYER_MM, particle="pion"
    )
    layers = tuple(dataclasses.replace(lay, depth_mm=AHCAL_LAYER_MM, material="ahcal-fe-sci") for lay in grid.layers)
    return dataclasses.replace(
        grid, layers=layers, energy_scale="visible", mip_mev=AHCAL_MIP_MEV, cell_threshold_mev=AHCAL_THRESHOLD_MEV
    )


_CACHE: dict[str, Geometry] = {}


def get_geometry(name: str | Geometry) -> Geometry:
    """Returns the built-in geometry ``name`` (a :class:`Geometry` passes through).

    Raises:
        KeyError: If the name is unknown; the message lists the built-in names.
    """
    if isinstance(name, Geometry):
        return name
    if name not in _CACHE:
        _CACHE[name] = GEOMETRIES.get(name)()
    return _CACHE[name]


def guess_geometry(n_voxels: int) -> Geometry | None:
    """The built-in geometry with ``n_voxels`` voxels, preferring CaloChallenge ones; ``None`` if none.

    ``calochallenge-3`` and ``par04`` share their binning; the CaloChallenge name is returned.
    """
    for name in GEOMETRIES:
        geometry = get_geometry(name)
        if geometry.n_voxels == n_voxels:
            return geometry
    return None

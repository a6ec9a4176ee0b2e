"""Named materials and sampling structures, and the per-layer material constants of a geometry.

A :class:`SamplingStructure` is one repeating period of a sampling calorimeter (absorber, active medium,
gaps) built from :data:`MATERIALS`. Its effective constants follow the PDG rules for mixtures (Review of
Particle Physics, "Passage of particles through matter" and "Atomic and nuclear properties"): volume-
weighted inverse radiation and interaction lengths, ``1/R_M = (1/E_s) Σ w_j E_c,j / X_j`` with
E_s = 21.2 MeV, ``E_c = E_s X0 / R_M``; the MIP energy loss is the sum of the components' minimum
dE/dx, the visible part is the active medium's. :func:`layer_stack` turns a :class:`Geometry` into a
:class:`LayerStack` of per-layer arrays: each layer's ``material`` and ``depth_mm`` where set, otherwise
the Si-W stack of CaloChallenge datasets 2/3 and the geometry's ``layer_thickness_mm``.

Element constants: PDG "Atomic and nuclear properties of materials" (pdg.lbl.gov/AtomicNuclearProperties):
density, X0, R_M, λ_I (nuclear interaction length), E_c (electrons) and the minimum ionisation
``dE/dx|min``. Structure-level numbers that are not material constants (EM sampling term, e/mip, e/h,
MIP most-probable / mean ratio) are effective parameters quoted with each structure.

Example:
    >>> s = STRUCTURES["ahcal-fe-sci"]
    >>> round(s.x0_mm, 1), round(s.lambda_mm), round(s.mip_mpv_mev, 2)
    (23.1, 215, 0.49)
    >>> from caloforge.geometry import get_geometry
    >>> stack = layer_stack(get_geometry("ild-48x25x25"))
    >>> round(float(stack.depth_lambda.sum()), 2)
    5.91
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from caloforge.geometry import Geometry

__all__ = ["MATERIALS", "STRUCTURES", "LayerStack", "Material", "SamplingStructure", "layer_stack"]

Array = NDArray[np.float64]
#: Scale energy of the Molière radius, MeV.
E_S_MEV = 21.2


@dataclass(frozen=True)
class Material:
    """One material (PDG constants; lengths in cm as in the PDG tables).

    Attributes:
        density: g/cm³.
        x0_cm: Radiation length, cm.
        moliere_cm: Molière radius, cm.
        lambda_cm: Nuclear interaction length, cm.
        critical_mev: Critical energy for electrons, MeV.
        dedx_min: Minimum ionisation, MeV cm²/g.
    """

    density: float
    x0_cm: float
    moliere_cm: float
    lambda_cm: float
    critical_mev: float
    dedx_min: float

    @property
    def dedx_mev_per_mm(self) -> float:
        """Minimum ionisation energy loss, MeV/mm."""
        return self.dedx_min * self.density / 10.0


#: PDG constants of the materials the structures use.
MATERIALS: dict[str, Material] = {
    "Fe": Material(7.874, 1.757, 1.719, 16.77, 21.68, 1.451),
    "Pb": Material(11.35, 0.5612, 1.602, 17.59, 7.43, 1.122),
    "W": Material(19.30, 0.3504, 0.9327, 9.946, 7.97, 1.145),
    "Si": Material(2.329, 9.370, 4.944, 46.52, 40.19, 1.664),
    "LAr": Material(1.396, 14.00, 9.043, 85.77, 32.84, 1.508),
    "polystyrene": Material(1.060, 41.31, 9.41, 77.07, 93.11, 1.936),
    "air": Material(0.001205, 30390.0, 7330.0, 74770.0, 87.92, 1.815),
}


@dataclass(frozen=True)
class SamplingStructure:
    """One period of a sampling calorimeter and its effective constants.

    Attributes:
        name: Key in :data:`STRUCTURES`.
        components: ``(material, thickness_mm)`` of one period, front to back.
        active: The active (read-out) material among the components.
        em_stochastic: EM sampling term a of σ/E = a/√E (E in GeV) for electrons.
        e_over_mip: EM sampling fraction / MIP sampling fraction.
        e_over_h: Ratio of the responses to EM and to deposited non-EM (hadronic) energy.
        mip_mpv_ratio: Most probable / mean MIP energy loss in the active layer (Landau-like asymmetry).
        source: Where the numbers come from.
    """

    name: str
    components: tuple[tuple[str, float], ...]
    active: str
    em_stochastic: float
    e_over_mip: float
    e_over_h: float
    mip_mpv_ratio: float
    source: str

    @property
    def period_mm(self) -> float:
        """Thickness of one period, mm."""
        return sum(t for _, t in self.components)

    def _weighted(self, attr: str) -> float:
        return float(sum(t / 10.0 / getattr(MATERIALS[m], attr) for m, t in self.components))

    @cached_property
    def x0_mm(self) -> float:
        """Effective radiation length, mm."""
        return self.period_mm / self._weighted("x0_cm")

    @cached_property
    def lambda_mm(self) -> float:
        """Effective nuclear interaction length, mm."""
        return self.period_mm / self._weighted("lambda_cm")

    @cached_property
    def moliere_mm(self) -> float:
        """Effective Molière radius, mm (PDG mixture rule)."""
        inv = sum(t * MATERIALS[m].critical_mev / (10.0 * MATERIALS[m].x0_cm) for m, t in self.components)
        return E_S_MEV * self.period_mm / inv

    @cached_property
    def critical_mev(self) -> float:
        """Effective critical energy, MeV (``E_s X0 / R_M``)."""
        return E_S_MEV * self.x0_mm / self.moliere_mm

    @cached_property
    def mip_loss_mev(self) -> float:
        """Mean MIP energy loss in one period (all components), MeV."""
        return sum(t * MATERIALS[m].dedx_mev_per_mm for m, t in self.components)

    @cached_property
    def mip_visible_mev(self) -> float:
        """Mean MIP energy loss in the active medium of one period, MeV."""
        return sum(t * MATERIALS[m].dedx_mev_per_mm for m, t in self.components if m == self.active)

    @property
    def mip_mpv_mev(self) -> float:
        """Most probable MIP energy in the active medium of one period, MeV."""
        return self.mip_mpv_ratio * self.mip_visible_mev

    @property
    def em_sampling_fraction(self) -> float:
        """Visible / deposited energy of EM showers."""
        return self.e_over_mip * self.mip_visible_mev / self.mip_loss_mev


def _structure(*args: object) -> tuple[str, SamplingStructure]:
    s = SamplingStructure(*args)  # type: ignore[arg-type]
    return s.name, s


#: Named sampling structures.
STRUCTURES: dict[str, SamplingStructure] = dict(
    [
        _structure(
            "siw", (("W", 1.4), ("Si", 0.3)), "Si", 0.16, 0.91, 1.4, 0.80,
            "CaloChallenge datasets 2/3 (Par04): 1.4 mm W + 0.3 mm Si; e/mip set so the EM sampling fraction is "
            "0.033, the scale of those datasets",
        ),
        _structure(
            "ahcal-fe-sci", (("Fe", 20.0), ("polystyrene", 3.0), ("air", 3.5)), "polystyrene", 0.219, 0.90, 1.25,
            0.795,
            "ILD AHCAL: 20 mm steel + 3 mm scintillator per 26.5 mm layer (PCB and gaps as air); EM term 21.9 %/sqrt(E) "
            "(CALICE, JINST 6 P04003); MIP most probable value 0.49 MeV per 3 mm",
        ),
        _structure(
            "atlas-presampler-lar", (("LAr", 11.0),), "LAr", 0.10, 1.0, 1.3, 0.85,
            "ATLAS barrel presampler: 11 mm of active LAr (JINST 3 S08003)",
        ),
        _structure(
            "atlas-emb-pb-lar", (("Pb", 1.53), ("Fe", 0.4), ("LAr", 4.2)), "LAr", 0.10, 0.75, 1.3, 0.85,
            "ATLAS EM barrel accordion (|eta| < 0.8): 1.53 mm Pb, 2 x 0.2 mm steel, 2 x 2.1 mm LAr gaps; EM term "
            "10 %/sqrt(E) (JINST 3 S08003)",
        ),
        _structure(
            "atlas-tile-fe-sci", (("Fe", 14.0), ("polystyrene", 3.0)), "polystyrene", 0.28, 0.90, 1.36, 0.81,
            "ATLAS Tile calorimeter: steel / scintillator 4.7 : 1 by volume (14 mm + 3 mm); e/h 1.36 "
            "(Tile test beam, JINST 3 S08003)",
        ),
    ]
)


@dataclass(frozen=True)
class LayerStack:
    """Per-layer physical constants of a geometry, front to back (arrays of length ``n_layers``).

    Attributes:
        structures: The sampling structure of each layer.
        depth_mm: Physical depth of each layer, mm.
        visible: True when the voxel unit is the active-medium deposit (``energy_scale="visible"``).
    """

    structures: tuple[SamplingStructure, ...]
    depth_mm: Array
    visible: bool

    def _per_layer(self, attr: str) -> Array:
        return np.array([getattr(s, attr) for s in self.structures], dtype=np.float64)

    @cached_property
    def x0_mm(self) -> Array:
        """Radiation length per layer, mm."""
        return self._per_layer("x0_mm")

    @cached_property
    def moliere_mm(self) -> Array:
        """Molière radius per layer, mm."""
        return self._per_layer("moliere_mm")

    @cached_property
    def lambda_mm(self) -> Array:
        """Interaction length per layer, mm."""
        return self._per_layer("lambda_mm")

    @cached_property
    def depth_x0(self) -> Array:
        """Depth of each layer in radiation lengths."""
        return self.depth_mm / self.x0_mm

    @cached_property
    def depth_lambda(self) -> Array:
        """Depth of each layer in interaction lengths."""
        return self.depth_mm / self.lambda_mm

    @cached_property
    def mip_loss_mev(self) -> Array:
        """Mean energy a MIP loses crossing each layer (all materials), MeV."""
        return self._per_layer("mip_loss_mev") * self.depth_mm / self._per_layer("period_mm")

    @cached_property
    def em_scale(self) -> Array:
        """Voxel energy per MeV of EM energy deposited in each layer (sampling fraction, or 1 at the EM scale)."""
        return self._per_layer("em_sampling_fraction") if self.visible else np.ones(len(self.structures))

    @cached_property
    def mip_mean(self) -> Array:
        """Mean MIP signal per layer in the voxel unit (active-medium loss, divided by the EM sampling
        fraction at the EM scale)."""
        active = self._per_layer("mip_visible_mev") * self.depth_mm / self._per_layer("period_mm")
        return active if self.visible else active / self._per_layer("em_sampling_fraction")

    @cached_property
    def mip_mpv(self) -> Array:
        """Most probable MIP signal per layer in the voxel unit."""
        return self.mip_mean * self._per_layer("mip_mpv_ratio")

    @cached_property
    def e_over_h(self) -> Array:
        """e/h per layer."""
        return self._per_layer("e_over_h")

    @cached_property
    def em_stochastic(self) -> Array:
        """EM sampling term per layer (σ/E · √E_GeV)."""
        return self._per_layer("em_stochastic")


def layer_stack(geometry: Geometry) -> LayerStack:
    """The :class:`LayerStack` of ``geometry``.

    Raises:
        ValueError: If a layer has no depth (neither ``depth_mm`` nor ``layer_thickness_mm``) or names an
            unknown material.
    """
    depths = geometry.layer_depths_mm
    if depths is None:
        msg = f"geometry {geometry.name!r} has no layer depth; the simulator needs each layer's depth_mm or layer_thickness_mm"
        raise ValueError(msg)
    structures = []
    for i, lay in enumerate(geometry.layers):
        name = lay.material or "siw"
        if name not in STRUCTURES:
            msg = f"geometry {geometry.name!r}, layer {i}: unknown material {name!r}; known: {', '.join(STRUCTURES)}"
            raise ValueError(msg)
        structures.append(STRUCTURES[name])
    return LayerStack(tuple(structures), np.asarray(depths, np.float64), geometry.energy_scale == "visible")

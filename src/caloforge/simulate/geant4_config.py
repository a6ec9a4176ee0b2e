"""The Geant4 detector and physics settings (:class:`Geant4Config`) and the slab layout, without Geant4.

Shared by the producer (:mod:`caloforge.simulate.geant4`) and the application that runs in its worker
processes (:mod:`caloforge.simulate.geant4_app`), which therefore do not import each other's modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from caloforge.geometry import Geometry

__all__ = ["DATASETS", "Geant4Config", "PhysicsList", "layer_layout"]

PhysicsList = Literal["em-standard", "em-option4", "FTFP_BERT"]

#: Data sets (environment variable → directory-name prefix) needed by each physics choice.
DATASETS: dict[str, dict[str, str]] = {
    "em-standard": {"G4ENSDFSTATEDATA": "G4ENSDFSTATE", "G4LEDATA": "G4EMLOW"},
    "em-option4": {"G4ENSDFSTATEDATA": "G4ENSDFSTATE", "G4LEDATA": "G4EMLOW"},
    "FTFP_BERT": {
        "G4ENSDFSTATEDATA": "G4ENSDFSTATE",
        "G4LEDATA": "G4EMLOW",
        "G4PARTICLEXSDATA": "G4PARTICLEXS",
        "G4LEVELGAMMADATA": "PhotonEvaporation",
        "G4RADIOACTIVEDATA": "RadioactiveDecay",
        "G4SAIDXSDATA": "G4SAIDDATA",
        "G4INCLDATA": "G4INCL",
        "G4ABLADATA": "G4ABLA",
    },
}


@dataclass(frozen=True)
class Geant4Config:
    """The simulated calorimeter and physics.

    Attributes:
        absorber: NIST name of the absorber material.
        active: NIST name of the active (scoring) material.
        absorber_mm: Absorber slab thickness, mm.
        active_mm: Active slab thickness, mm.
        n_layers: Number of physical (absorber + active) layers.
        pairs_per_readout: Physical layers summed into one readout layer (2 for the 3.4 mm
            CaloChallenge layers); the readout geometry sets how many readout layers are kept.
        radius_mm: Transverse half-size of the slabs, mm.
        particle: Geant4 particle name of the gun (``"e-"``, ``"gamma"``, ``"pi+"``, ...).
        physics: ``"em-standard"`` (G4EmStandardPhysics), ``"em-option4"`` or ``"FTFP_BERT"``.
        production_cut_mm: Production cut, mm.
        sampling_fraction: Deposits are divided by this (0.033 for the CaloChallenge Si-W files).
        threshold_mev: Voxels below this energy after scaling are zeroed, MeV.
    """

    absorber: str = "G4_W"
    active: str = "G4_Si"
    absorber_mm: float = 1.4
    active_mm: float = 0.3
    n_layers: int = 90
    pairs_per_readout: int = 2
    radius_mm: float = 300.0
    particle: str = "e-"
    physics: PhysicsList = "em-standard"
    production_cut_mm: float = 0.7
    sampling_fraction: float = 0.033
    threshold_mev: float = 0.01515

    def __post_init__(self) -> None:
        if min(self.absorber_mm, self.active_mm, self.radius_mm, self.sampling_fraction) <= 0:
            msg = "thicknesses, radius and sampling fraction must be positive"
            raise ValueError(msg)
        if self.n_layers < 1 or self.pairs_per_readout < 1:
            msg = f"n_layers and pairs_per_readout must be at least 1, got {self.n_layers}, {self.pairs_per_readout}"
            raise ValueError(msg)
        if self.physics not in DATASETS:
            msg = f"unknown physics {self.physics!r}; choices are {sorted(DATASETS)}"
            raise ValueError(msg)

    @property
    def pitch_mm(self) -> float:
        """Thickness of one physical layer, mm."""
        return self.absorber_mm + self.active_mm

    def check_readout(self, geometry: Geometry) -> None:
        """Raises ``ValueError`` when ``geometry`` has more readout layers than the stack provides."""
        available = self.n_layers // self.pairs_per_readout
        if geometry.n_layers > available:
            msg = (
                f"geometry {geometry.name!r} has {geometry.n_layers} layers but {self.n_layers} physical "
                f"layers / {self.pairs_per_readout} per readout give only {available}"
            )
            raise ValueError(msg)


def layer_layout(config: Geant4Config) -> dict[str, NDArray[np.float64]]:
    """Positions of the slabs along z, with the front face at z = 0.

    Returns:
        ``absorber_z`` and ``active_z``: slab centres, (n_layers,), mm; ``active_depth``: depth of
        each active slab's centre behind the front face, (n_layers,), mm.

    Example:
        >>> lay = layer_layout(Geant4Config(n_layers=2))
        >>> lay["absorber_z"].round(2).tolist(), lay["active_z"].round(2).tolist()
        ([0.7, 2.4], [1.55, 3.25])
    """
    front = np.arange(config.n_layers) * config.pitch_mm
    absorber = front + 0.5 * config.absorber_mm
    active = front + config.absorber_mm + 0.5 * config.active_mm
    return {
        "absorber_z": np.asarray(absorber, np.float64),
        "active_z": np.asarray(active, np.float64),
        "active_depth": np.array(active, np.float64),
    }

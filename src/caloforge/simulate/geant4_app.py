"""The Geant4 application behind :class:`caloforge.simulate.geant4.Geant4Producer`: detector, gun, scoring, run loop.

Everything here runs inside worker processes (one Geant4 run manager per process, built on the
first chunk and reused). geant4-pybind is imported only by :func:`import_geant4`, after the data-set
variables are set, so it can neither prompt for nor start a download.

Example:
    >>> g4 = import_geant4(find_geant4_data())  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from caloforge.data import ShowerData
from caloforge.geometry import Geometry
from caloforge.simulate.geant4_config import Geant4Config, layer_layout
from caloforge.simulate.readout import Deposits, deposits_to_showers

__all__ = ["build_classes", "import_geant4", "simulate_chunk"]

#: The gun starts this far in front of the calorimeter face, mm.
GUN_OFFSET_MM = 1.0

_APP: dict[str, Any] = {}


def import_geant4(datasets: Mapping[str, str]) -> Any:
    """Sets the data-set variables, then imports and returns ``geant4_pybind``.

    ``GEANT4_DATA_DIR`` is always set (to the directory of the first data set, else the temporary
    directory) so that geant4-pybind's own data-set check neither prompts nor downloads.

    Raises:
        ImportError: If geant4-pybind is not installed (names the extra to install).
    """
    for var, path in datasets.items():
        os.environ[var] = path
    if "GEANT4_DATA_DIR" not in os.environ:
        # geant4-pybind skips its interactive download check when this variable exists
        first = next(iter(datasets.values()), None)
        os.environ["GEANT4_DATA_DIR"] = os.path.dirname(first) if first else tempfile.gettempdir()
    try:
        return importlib.import_module("geant4_pybind")
    except ImportError:
        msg = "Geant4 simulation needs geant4-pybind: install the extra with `pip install caloforge[geant4]`"
        raise ImportError(msg) from None


@dataclass
class _State:
    """What the user actions share within one chunk."""

    energies: NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    angles: NDArray[np.float32] | None = None
    event: int = 0
    rows: list[tuple[int, int, float, float, float]] = field(default_factory=list)


def build_classes(g4: Any) -> dict[str, type]:
    """The Geant4 user classes (they subclass geant4-pybind types, so they are built after import)."""
    return {**_detector_classes(g4), **_action_classes(g4)}


def _detector_classes(g4: Any) -> dict[str, type]:
    """The calorimeter construction and the sensitive detector of its active slabs."""

    class Calorimeter(g4.G4VUserDetectorConstruction):  # type: ignore[misc]
        def __init__(self, config: Geant4Config, state: _State) -> None:
            super().__init__()
            self.config, self.state = config, state
            self.keep: list[Any] = []

        def Construct(self) -> Any:
            c, nist = self.config, g4.G4NistManager.Instance()
            materials = [nist.FindOrBuildMaterial(m) for m in ("G4_Galactic", c.absorber, c.active)]
            if any(m is None for m in materials):
                msg = f"unknown NIST material in {c.absorber!r}, {c.active!r}"
                raise ValueError(msg)
            depth = c.n_layers * c.pitch_mm
            world = g4.G4Box("World", 1.1 * c.radius_mm, 1.1 * c.radius_mm, depth + 100.0)
            world_lv = g4.G4LogicalVolume(world, materials[0], "World")
            world_pv = g4.G4PVPlacement(None, g4.G4ThreeVector(), world_lv, "World", None, False, 0, False)
            lay = layer_layout(c)
            self.keep = [world, world_lv, world_pv]
            for name, material, half, zs in (
                ("Absorber", materials[1], 0.5 * c.absorber_mm, lay["absorber_z"]),
                ("Active", materials[2], 0.5 * c.active_mm, lay["active_z"]),
            ):
                solid = g4.G4Tubs(name, 0.0, c.radius_mm, half, 0.0, 2.0 * math.pi)
                lv = g4.G4LogicalVolume(solid, material, name)
                self.keep += [solid, lv]
                for i, z in enumerate(zs):
                    self.keep.append(g4.G4PVPlacement(None, g4.G4ThreeVector(0, 0, float(z)), lv, name, world_lv, False, i, False))
                if name == "Active":
                    self.active_lv = lv
            return world_pv

        def ConstructSDandField(self) -> None:
            sd = ActiveLayers("ActiveLayers", self.state)
            g4.G4SDManager.GetSDMpointer().AddNewDetector(sd)
            self.SetSensitiveDetector(self.active_lv, sd)
            self.keep.append(sd)

    class ActiveLayers(g4.G4VSensitiveDetector):  # type: ignore[misc]
        def __init__(self, name: str, state: _State) -> None:
            super().__init__(name)
            self.state = state

        def ProcessHits(self, step: Any, history: Any) -> bool:  # noqa: ARG002
            edep = step.GetTotalEnergyDeposit()
            if edep <= 0:
                return True
            pre, post = step.GetPreStepPoint(), step.GetPostStepPoint()
            a, b = pre.GetPosition(), post.GetPosition()
            layer = pre.GetTouchable().GetCopyNumber()
            self.state.rows.append((self.state.event, layer, 0.5 * (a.x + b.x), 0.5 * (a.y + b.y), edep))
            return True

    return {"Calorimeter": Calorimeter, "ActiveLayers": ActiveLayers}


def _action_classes(g4: Any) -> dict[str, type]:
    """The particle gun and the action initialisation."""

    class Gun(g4.G4VUserPrimaryGeneratorAction):  # type: ignore[misc]
        def __init__(self, config: Geant4Config, state: _State) -> None:
            super().__init__()
            self.state, self.gun = state, g4.G4ParticleGun(1)
            self.gun.SetParticleDefinition(g4.G4ParticleTable.GetParticleTable().FindParticle(config.particle))

        def GeneratePrimaries(self, event: Any) -> None:
            i = self.state.event = event.GetEventID()
            theta = 0.0 if self.state.angles is None else float(self.state.angles[i])
            self.gun.SetParticleEnergy(float(self.state.energies[i]) * g4.MeV)
            self.gun.SetParticleMomentumDirection(g4.G4ThreeVector(math.sin(theta), 0.0, math.cos(theta)))
            x0 = -math.tan(theta) * GUN_OFFSET_MM
            self.gun.SetParticlePosition(g4.G4ThreeVector(x0, 0.0, -GUN_OFFSET_MM))
            self.gun.GeneratePrimaryVertex(event)

    class Actions(g4.G4VUserActionInitialization):  # type: ignore[misc]
        def __init__(self, config: Geant4Config, state: _State) -> None:
            super().__init__()
            self.config, self.state = config, state

        def Build(self) -> None:
            self.gun = Gun(self.config, self.state)
            self.SetUserAction(self.gun)

    return {"Gun": Gun, "Actions": Actions}


def _physics(g4: Any, config: Geant4Config) -> Any:
    if config.physics == "FTFP_BERT":
        physics = g4.FTFP_BERT(0)
    else:
        physics = g4.G4VModularPhysicsList()
        em = g4.G4EmStandardPhysics_option4 if config.physics == "em-option4" else g4.G4EmStandardPhysics
        physics.RegisterPhysics(em(0))
    physics.SetDefaultCutValue(config.production_cut_mm * g4.mm)
    return physics


def _application(datasets: Mapping[str, str], config: Geant4Config) -> dict[str, Any]:
    if _APP.get("config") == config:
        return _APP
    if _APP:
        msg = "one worker process runs one detector configuration"
        raise RuntimeError(msg)
    g4 = import_geant4(datasets)
    ui = g4.G4UImanager.GetUIpointer()
    for command in ("/control/verbose 0", "/run/verbose 0", "/event/verbose 0", "/tracking/verbose 0"):
        ui.ApplyCommand(command)
    classes, state = build_classes(g4), _State()
    rm = g4.G4RunManagerFactory.CreateRunManager(g4.G4RunManagerType.Serial)
    parts = [classes["Calorimeter"](config, state), _physics(g4, config), classes["Actions"](config, state)]
    for part in parts:
        rm.SetUserInitialization(part)
    rm.Initialize()
    _APP.update(g4=g4, rm=rm, state=state, config=config, parts=parts)
    return _APP


def simulate_chunk(
    task: tuple[Mapping[str, str], Geant4Config, dict[str, Any], NDArray[np.float32], NDArray[np.float32] | None, int],
) -> ShowerData:
    """Simulates one chunk of events in this (worker) process.

    Arguments:
        task: (data sets, detector config, geometry as dict, energies (n,) MeV, angles (n,) rad or
            ``None``, seed).

    Returns:
        The chunk's showers on the readout geometry.
    """
    datasets, config, geometry_dict, energies, angles, seed = task
    geometry = Geometry.from_dict(geometry_dict)
    app = _application(datasets, config)
    g4, state = app["g4"], app["state"]
    g4.G4Random.setTheSeed(int(seed))
    state.energies, state.angles, state.rows = energies, angles, []
    app["rm"].BeamOn(len(energies))
    rows = np.asarray(state.rows, np.float64).reshape(-1, 5)
    deposits = Deposits(rows[:, 0].astype(np.int64), rows[:, 1].astype(np.int64), rows[:, 2], rows[:, 3], rows[:, 4])
    slope = None
    if angles is not None:
        slope = np.stack([np.tan(angles), np.zeros_like(angles)], axis=1)
    showers = deposits_to_showers(
        deposits, geometry, n_events=len(energies), pairs_per_readout=config.pairs_per_readout,
        scale=1.0 / config.sampling_fraction, threshold_mev=config.threshold_mev,
        axis_slope=slope, layer_depth_mm=layer_layout(config)["active_depth"],
    )
    return ShowerData(energies, showers, geometry, angles)

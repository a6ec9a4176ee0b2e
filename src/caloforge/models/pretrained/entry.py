"""What the zoo manifest says about one pretrained model: typed, frozen, validated on read.

The manifest (``manifest.json`` beside the weights) holds ``{"format": "caloforge-zoo-1",
"models": [...]}``, one object per model; :meth:`PretrainedModel.from_dict` checks every key and
type, so a hand-edited manifest with a typo fails with a message naming the key instead of
surfacing later as a wrong number.

Example:
    >>> training = TrainingInfo("gflash electrons", 100_000, 20_000, 1.5, "caloforge train ...")
    >>> metrics = ZooMetrics(0.61, 0.58, 0.02, "caloforge evaluate ...")
    >>> entry = PretrainedModel(
    ...     name="vae-toy", model="vae", family="vae", geometry="toy", particle="electron",
    ...     energy_range_gev=(1.0, 100.0), n_conditions=1, single_pass=True, steps=1,
    ...     training=training, metrics=metrics, ms_per_shower=0.01, card="docs/models/vae-toy.md",
    ...     file="vae-toy.pt", sha256="0" * 64, size_bytes=1000)
    >>> PretrainedModel.from_dict(entry.to_dict()) == entry
    True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from caloforge.config import ConfigError, from_dict, to_dict

__all__ = ["MANIFEST_FORMAT", "NAME_PATTERN", "PretrainedModel", "SamplerInfo", "TrainingInfo", "ZooError", "ZooMetrics"]

#: Format tag of ``manifest.json``.
MANIFEST_FORMAT = "caloforge-zoo-1"
#: Allowed model names: lower-case letters, digits, ``.``, ``_`` and ``-`` (they name the weights file too).
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ZooError(ValueError):
    """The zoo manifest is unreadable or one of its entries is malformed; the message names the file or key."""


@dataclass(frozen=True)
class TrainingInfo:
    """How a pretrained model was trained.

    Attributes:
        data: The training data (simulator or file, particle, geometry, energy spectrum).
        showers: Number of training showers.
        steps: Optimizer steps.
        cpu_hours: Training cost in CPU core hours (GPU hours go in ``data``/the card).
        command: The command that reproduces the training.
    """

    data: str
    showers: int
    steps: int
    cpu_hours: float
    command: str


@dataclass(frozen=True)
class ZooMetrics:
    """Fidelity measured on a held-out split (never on the training showers).

    Attributes:
        voxel_auc: Classifier AUC on the voxels (CaloChallenge ``cls-low``); 0.5 is indistinguishable.
        high_level_auc: Classifier AUC on the high-level features (``cls-high``).
        separation_power_mean: Mean histogram separation power over the high-level features.
        command: The ``caloforge evaluate`` command that measured them.
        reference: The held-out reference (file and number of showers).
    """

    voxel_auc: float
    high_level_auc: float
    separation_power_mean: float
    command: str
    reference: str = ""


@dataclass(frozen=True)
class SamplerInfo:
    """Default ODE sampler of a flow-matching entry (used unless ``--sampler`` is given).

    Attributes:
        solver: Solver name in ``caloforge.solvers.SOLVERS`` (``"euler"``, ``"midpoint"``, ...).
        steps: Solver steps.
    """

    solver: str
    steps: int

    @property
    def spec(self) -> str:
        """``"SOLVER:STEPS"``, as ``caloforge generate --sampler`` takes it."""
        return f"{self.solver}:{self.steps}"


@dataclass(frozen=True)
class PretrainedModel:
    """One shipped model: what it is, where its weights are, how it was trained and how good it is.

    Attributes:
        name: Zoo name (:data:`NAME_PATTERN`), e.g. ``"vae-siw-electrons"``.
        model: Registry name of the architecture (``"vae"``, ``"flow-matching"``, ...).
        family: Model family (``"vae"``, ``"gan"``, ``"normalizing-flow"``, ``"flow-matching"``).
        geometry: Name of the readout geometry it generates.
        particle: Incident particle (``"electron"``, ``"photon"``, ``"pion"``, ...).
        energy_range_gev: (low, high) incident energies it was trained on, GeV.
        n_conditions: 1 (energy) or 2 (energy and angle).
        single_pass: True when a shower takes one network evaluation (no iterative solve).
        steps: Network evaluations per shower.
        training: How it was trained.
        metrics: Fidelity on a held-out split.
        ms_per_shower: Generation time per shower at batch size 1,000, ms.
        ms_per_shower_setup: Where that time was measured (backend, device, threads).
        card: Repository path of its Markdown model card (``docs/models/NAME.md``).
        file: Weights file name inside the zoo directory (a plain name, no folders).
        sha256: SHA-256 of the weights file (hex); loading refuses a file that does not match.
        size_bytes: Size of the weights file.
        sampler: Default sampler (flow-matching models), else ``None``.
        description: One line for the table.
        caloforge_version: Version that wrote the weights.
    """

    name: str
    model: str
    family: str
    geometry: str
    particle: str
    energy_range_gev: tuple[float, float]
    n_conditions: int
    single_pass: bool
    steps: int
    training: TrainingInfo
    metrics: ZooMetrics
    ms_per_shower: float
    card: str
    file: str
    sha256: str
    size_bytes: int
    ms_per_shower_setup: str = ""
    sampler: SamplerInfo | None = None
    description: str = ""
    caloforge_version: str = ""

    def __post_init__(self) -> None:
        problems = []
        if not NAME_PATTERN.match(self.name):
            problems.append(f"name {self.name!r} must match {NAME_PATTERN.pattern}")
        if self.file != self.file.strip() or "/" in self.file or "\\" in self.file or self.file in {"", ".", ".."}:
            problems.append(f"file {self.file!r} must be a plain file name inside the zoo directory")
        if not _SHA256.match(self.sha256):
            problems.append(f"sha256 {self.sha256!r} is not 64 lower-case hex digits")
        lo, hi = self.energy_range_gev if len(self.energy_range_gev) == 2 else (0.0, 0.0)
        if len(self.energy_range_gev) != 2 or not 0 < lo < hi:
            problems.append(f"energy_range_gev {list(self.energy_range_gev)} must be [low, high] with 0 < low < high")
        if self.steps < 1:
            problems.append(f"steps must be at least 1, got {self.steps}")
        if self.n_conditions not in (1, 2):
            problems.append(f"n_conditions must be 1 or 2, got {self.n_conditions}")
        if problems:
            msg = f"pretrained model {self.name!r}: " + "; ".join(problems)
            raise ZooError(msg)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "manifest") -> PretrainedModel:
        """Builds an entry from its manifest object.

        Raises:
            ZooError: Unknown or missing keys, wrong types, or invalid values (the message names them).
        """
        try:
            return from_dict(cls, data, where=where)
        except ConfigError as err:
            raise ZooError(str(err)) from None

    def to_dict(self) -> dict[str, Any]:
        """The manifest object (JSON-ready; the ``caloforge zoo --json`` schema)."""
        return to_dict(self)

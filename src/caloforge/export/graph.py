"""The exported generation graphs: a model's ``decode`` wrapped with named inputs and outputs.

Two signatures are exported:

* ``"caloforge"`` (:class:`GenerationGraph`): inputs ``incident_energy`` (B, 1) in MeV, ``angle``
  (B, 1) in rad — present only for angle-conditioned models (``n_conditions == 2``); an energy-only
  model has no ``angle`` input, so a caller cannot pass a value that would be silently ignored — and
  ``noise`` (B, noise_dim), standard normal; output ``showers`` (B, n_voxels) in MeV, CaloChallenge order.
* ``"par04"`` (:class:`Par04Graph`): the signature the Geant4 Par04 example feeds to ONNX Runtime
  (``Par04InferenceSetup::GetEnergies``): one input ``input`` (B, noise_dim + 4) holding the latent
  vector, then ``E / E_max``, ``angle_deg / angle_max_deg`` and a two-entry geometry one-hot; one
  output ``output`` (B, r × φ × z) of cell energies divided by the incident energy, flattened with r
  outermost and z fastest (Par04 multiplies by the energy itself). Both use φ bins starting at −π.
  Par04's angle is the particle's global polar angle (90° = entering perpendicularly), caloforge's is
  θ from the layer normal (0 = head-on): the graph translates, θ = radians(90° − angle_deg), so Par04's
  input for a head-on shower (90 / 90 = 1) reaches the model as θ = 0.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> from caloforge.models import build_model, MODELS
    >>> g = Geometry.regular("toy", n_layers=3, n_alpha=4, r_edges=[0, 1, 2, 4, 8, 16])
    >>> model = build_model("wgan", g, MODELS.get("wgan").smoke_config())
    >>> graph = GenerationGraph(model).eval()
    >>> graph.input_names, graph.output_names
    (('incident_energy', 'noise'), ('showers',))
    >>> graph(*graph.example_inputs(5)).shape
    torch.Size([5, 60])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from caloforge.models.base import GenerativeModel

__all__ = ["GenerationGraph", "Par04Graph", "Par04Settings", "Signature", "build_graph"]

Signature = Literal["caloforge", "par04"]


def _example_energies(n: int, generator: torch.Generator | None) -> Tensor:
    """Log-uniform incident energies over 1–100 GeV, (n, 1), MeV."""
    u = torch.rand(n, 1, generator=generator)
    return torch.exp(math.log(1e3) + u * math.log(100.0))


class GenerationGraph(nn.Module):
    """``decode`` of a model with named inputs, as exported to ONNX or TorchScript.

    Arguments:
        model: A fitted :class:`~caloforge.models.GenerativeModel` (put in eval mode).
    """

    signature: Signature = "caloforge"

    def __init__(self, model: GenerativeModel) -> None:
        super().__init__()
        self.model = model.eval()
        self.with_angle = model.n_conditions == 2
        self.noise_dim = model.noise_dim

    @property
    def input_names(self) -> tuple[str, ...]:
        """``("incident_energy", ["angle",] "noise")``."""
        return ("incident_energy", "angle", "noise") if self.with_angle else ("incident_energy", "noise")

    @property
    def output_names(self) -> tuple[str, ...]:
        """``("showers",)``."""
        return ("showers",)

    def forward(self, incident_energy: Tensor, *rest: Tensor) -> Tensor:
        """Showers (B, n_voxels) in MeV from energy (B, 1) MeV, [angle (B, 1) rad,] noise (B, noise_dim)."""
        if self.with_angle:
            angle, noise = rest
            conditions = torch.cat([incident_energy, angle], dim=1)
        else:
            (noise,) = rest
            conditions = incident_energy
        return self.model.decode(conditions, noise)

    def output_mev(self, inputs: tuple[Tensor, ...]) -> Tensor:
        """Per-row factor turning outputs into MeV, (B, 1): ones (outputs are already MeV)."""
        return torch.ones_like(inputs[0])

    def example_inputs(self, n: int, *, generator: torch.Generator | None = None) -> tuple[Tensor, ...]:
        """A reproducible input batch of ``n`` rows: energies 1–100 GeV, angles 0–0.3 rad, normal noise."""
        energy = _example_energies(n, generator)
        noise = torch.randn(n, self.noise_dim, generator=generator)
        if self.with_angle:
            return energy, 0.3 * torch.rand(n, 1, generator=generator), noise
        return energy, noise


@dataclass(frozen=True)
class Par04Settings:
    """How the Par04 example encodes its conditions (``Par04InferenceSetup``).

    Attributes:
        max_energy_mev: ``fMaxEnergy``: the energy input is ``E / max_energy_mev``.
        max_angle_deg: ``fMaxAngle``: the angle input is ``angle_deg / max_angle_deg``.
        geometry_onehot: The two geometry flags Par04 appends (``(0, 1)`` for its Si-W detector).
        angle_convention: ``"polar"``: the angle input is Par04's global polar angle (90° = head-on),
            translated to caloforge's θ from the normal. (Exports that predate it fed θ itself; their
            model card has no such entry and ONNX Runtime generation reads it as ``"normal"``.)
    """

    max_energy_mev: float = 1024e3
    max_angle_deg: float = 90.0
    geometry_onehot: tuple[float, float] = (0.0, 1.0)
    angle_convention: Literal["polar"] = "polar"


class Par04Graph(nn.Module):
    """``decode`` behind the Geant4 Par04 model signature (see the module docstring).

    Arguments:
        model: A fitted model on a regular cylindrical geometry.
        settings: The Par04 condition encoding.

    Raises:
        ValueError: If the geometry is not a regular cylindrical one.

    References:
        Geant4 ``examples/extended/parameterisations/Par04`` (``Par04InferenceSetup.cc``,
        ``Par04OnnxInference.cc``).
    """

    signature: Signature = "par04"

    def __init__(self, model: GenerativeModel, settings: Par04Settings | None = None) -> None:
        super().__init__()
        geometry = model.geometry
        if not geometry.is_regular or geometry.is_cartesian:
            msg = f"the Par04 signature needs a regular cylindrical geometry, {geometry.name!r} is not"
            raise ValueError(msg)
        self.model = model.eval()
        self.settings = settings or Par04Settings()
        self.noise_dim = model.noise_dim
        self.with_angle = model.n_conditions == 2
        self.shape = geometry.shape

    @property
    def input_names(self) -> tuple[str, ...]:
        """``("input",)``."""
        return ("input",)

    @property
    def output_names(self) -> tuple[str, ...]:
        """``("output",)``."""
        return ("output",)

    def forward(self, x: Tensor) -> Tensor:
        """(B, noise_dim + 4) Par04 input → (B, r·φ·z) cell energies divided by the incident energy."""
        noise = x[:, : self.noise_dim]
        energy = x[:, self.noise_dim : self.noise_dim + 1] * self.settings.max_energy_mev
        conditions = energy
        if self.with_angle:
            polar_deg = x[:, self.noise_dim + 1 : self.noise_dim + 2] * self.settings.max_angle_deg
            conditions = torch.cat([energy, (90.0 - polar_deg) * (math.pi / 180.0)], dim=1)  # θ from the normal
        showers = self.model.decode(conditions, noise) / energy
        n_z, n_phi, n_r = self.shape
        return showers.reshape(-1, n_z, n_phi, n_r).permute(0, 3, 2, 1).reshape(-1, n_r * n_phi * n_z)

    def output_mev(self, inputs: tuple[Tensor, ...]) -> Tensor:
        """Per-row factor turning the normalised outputs into MeV, (B, 1): the incident energy."""
        return inputs[0][:, self.noise_dim : self.noise_dim + 1] * self.settings.max_energy_mev

    def example_inputs(self, n: int, *, generator: torch.Generator | None = None) -> tuple[Tensor]:
        """A reproducible Par04 input batch: energies 1–100 GeV, polar angles 73–90° (θ 0–17°), SiW one-hot."""
        s = self.settings
        energy = _example_energies(n, generator) / s.max_energy_mev
        angle = (90.0 - 17.0 * torch.rand(n, 1, generator=generator)) / s.max_angle_deg
        onehot = torch.tensor([s.geometry_onehot], dtype=torch.float32).expand(n, 2)
        noise = torch.randn(n, self.noise_dim, generator=generator)
        return (torch.cat([noise, energy, angle, onehot], dim=1),)


def build_graph(
    model: GenerativeModel, signature: Signature = "caloforge", par04: Par04Settings | None = None
) -> GenerationGraph | Par04Graph:
    """The exportable graph of ``model`` for ``signature``.

    Raises:
        ValueError: On an unknown signature or an unfitted model.
    """
    if not model.is_fitted:
        msg = "the model's preprocessing is not fitted: train it (or load a checkpoint) before exporting"
        raise ValueError(msg)
    if signature not in ("caloforge", "par04"):
        msg = f"unknown export signature {signature!r}; choices are 'caloforge', 'par04'"
        raise ValueError(msg)
    if signature == "caloforge":
        return GenerationGraph(model)
    return Par04Graph(model, par04)

"""Invertible, fitted, saveable preprocessing of showers and conditions.

Every transform is a :class:`torch.nn.Module` whose fitted statistics are *buffers*, so they travel
in the model's ``state_dict`` (hence in checkpoints and exported graphs) and are inverted exactly at
generation time. A transform maps showers ``x`` (B, D) to model space and back, given the raw
conditions (B, C) (column 0: incident energy in MeV), which energy normalisation needs.

Example:
    >>> import torch
    >>> t = Compose(EnergyScale(), Log(eps=1e-6), Standardize(4))
    >>> x = torch.rand(8, 4) * 100
    >>> c = torch.full((8, 1), 1000.0)
    >>> t.fit(x, c)
    >>> y = t(x, c)
    >>> bool(torch.allclose(t.inverse(y, c), x, rtol=1e-4, atol=1e-3))
    True
"""

from __future__ import annotations

import math
from typing import TypeVar, cast

import torch
from torch import Tensor, nn

from caloforge.geometry import Geometry

_T = TypeVar("_T", bound="Transform")

__all__ = [
    "Compose",
    "ConditionEncoder",
    "EnergyScale",
    "LayerFractions",
    "LayerSum",
    "Log",
    "Log1pScaled",
    "Logit",
    "Standardize",
    "Transform",
]


class Transform(nn.Module):
    """Base class: ``forward(x, conditions)`` to model space, ``inverse(y, conditions)`` back."""

    def fit(self, x: Tensor, conditions: Tensor) -> None:  # noqa: ARG002
        """Fits statistics on training showers ``x`` (N, D) and conditions (N, C). Default: nothing."""
        return

    def forward(self, x: Tensor, conditions: Tensor) -> Tensor:
        """Physical space → model space."""
        raise NotImplementedError

    def inverse(self, y: Tensor, conditions: Tensor) -> Tensor:
        """Model space → physical space."""
        raise NotImplementedError


class Compose(Transform):
    """Applies transforms in order; fits each on the output of the previous ones."""

    def __init__(self, *transforms: Transform) -> None:
        super().__init__()
        self.transforms = nn.ModuleList(transforms)

    def steps(self) -> list[Transform]:
        """The transforms in order, typed (an ``nn.ModuleList`` only knows them as modules)."""
        return [cast(Transform, t) for t in self.transforms]

    def step(self, index: int, kind: type[_T]) -> _T:
        """Transform ``index``, checked to be a ``kind``.

        Raises:
            TypeError: If it is another transform.
        """
        t = self.transforms[index]
        if not isinstance(t, kind):
            msg = f"step {index} of this chain is a {type(t).__name__}, not a {kind.__name__}"
            raise TypeError(msg)
        return t

    def fit(self, x: Tensor, conditions: Tensor) -> None:
        """Fits the chain stage by stage."""
        for t in self.steps():
            t.fit(x, conditions)
            x = t(x, conditions)

    def forward(self, x: Tensor, conditions: Tensor) -> Tensor:
        """Applies all transforms."""
        for t in self.steps():
            x = t(x, conditions)
        return x

    def inverse(self, y: Tensor, conditions: Tensor) -> Tensor:
        """Undoes all transforms in reverse order."""
        for t in reversed(self.steps()):
            y = t.inverse(y, conditions)
        return y


class EnergyScale(Transform):
    """Divides voxel energies by the incident energy times ``scale`` (x / (scale·E_inc)).

    Arguments:
        scale: Extra factor, e.g. a sampling fraction so that the sum is ≈ 1.
    """

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: Tensor, conditions: Tensor) -> Tensor:
        """x / (scale·E_inc)."""
        return x / (self.scale * conditions[:, :1])

    def inverse(self, y: Tensor, conditions: Tensor) -> Tensor:
        """y·scale·E_inc."""
        return y * (self.scale * conditions[:, :1])


class Log(Transform):
    """``log(x + eps)``; the inverse clamps at 0 so generated energies are never negative."""

    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: Tensor, conditions: Tensor) -> Tensor:  # noqa: ARG002
        """log(x + eps)."""
        return torch.log(x + self.eps)

    def inverse(self, y: Tensor, conditions: Tensor) -> Tensor:  # noqa: ARG002
        """max(exp(y) − eps, 0)."""
        return torch.clamp(torch.exp(y) - self.eps, min=0.0)


class Log1pScaled(Transform):
    """``log(1 + x / scale)``: linear below ``scale``, logarithmic above; the inverse clamps at 0.

    With ``scale`` near the energy a minimum-ionising particle leaves in a voxel, an empty voxel
    and a voxel with one such hit are a fraction of a unit apart instead of the ten units that
    ``log(x + eps)`` puts between them, so a model's error around zero costs little energy.

    Arguments:
        scale: Scale of the input (e.g. MeV) where the map turns from linear to logarithmic.
    """

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: Tensor, conditions: Tensor) -> Tensor:  # noqa: ARG002
        """log1p(x / scale)."""
        return torch.log1p(x / self.scale)

    def inverse(self, y: Tensor, conditions: Tensor) -> Tensor:  # noqa: ARG002
        """max(scale · expm1(y), 0)."""
        return torch.clamp(torch.expm1(y) * self.scale, min=0.0)


class Logit(Transform):
    """CaloFlow's logit: u = α + (1 − 2α)·x/x_max, y = log(u / (1 − u)).

    Arguments:
        alpha: Small offset keeping the logit finite at 0 and x_max.
        x_max: Upper end of the input range (x is expected in [0, x_max]).
    """

    def __init__(self, alpha: float = 1e-6, x_max: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha
        self.x_max = x_max

    def forward(self, x: Tensor, conditions: Tensor) -> Tensor:  # noqa: ARG002
        """Logit of the squeezed input."""
        u = self.alpha + (1 - 2 * self.alpha) * torch.clamp(x / self.x_max, 0.0, 1.0)
        return torch.log(u) - torch.log1p(-u)

    def inverse(self, y: Tensor, conditions: Tensor) -> Tensor:  # noqa: ARG002
        """Sigmoid, unsqueezed and clamped to [0, x_max]."""
        u = torch.sigmoid(y)
        return torch.clamp((u - self.alpha) / (1 - 2 * self.alpha), 0.0, 1.0) * self.x_max


class Standardize(Transform):
    """Standardisation (x − mean) / std with fitted buffers, per feature or shared by all features.

    Arguments:
        n_features: Width D of the input.
        min_std: Floor on the fitted std (constant features).
        shared: Fit one mean and one std over all features (broadcast to D). Per-feature
            statistics of sparse data (voxels that are empty in almost every shower) have tiny
            stds, which blow their rare non-zero values up to tens or hundreds of standard
            deviations; shared statistics keep every voxel on one scale.
    """

    def __init__(self, n_features: int, min_std: float = 1e-6, *, shared: bool = False) -> None:
        super().__init__()
        self.min_std = min_std
        self.shared = shared
        self.mean: Tensor
        self.register_buffer("mean", torch.zeros(n_features))
        self.std: Tensor
        self.register_buffer("std", torch.ones(n_features))

    def fit(self, x: Tensor, conditions: Tensor) -> None:  # noqa: ARG002
        """Stores the mean and std of ``x`` (N, D), per feature or over all of it."""
        x64 = x.double()
        if self.shared:
            self.mean.fill_(float(x64.mean()))
            self.std.fill_(max(float(x64.std()), self.min_std))
            return
        self.mean.copy_(x64.mean(dim=0).to(self.mean.dtype))
        self.std.copy_(x64.std(dim=0).clamp_min(self.min_std).to(self.std.dtype))

    def forward(self, x: Tensor, conditions: Tensor) -> Tensor:  # noqa: ARG002
        """(x − mean) / std."""
        return (x - self.mean) / self.std

    def inverse(self, y: Tensor, conditions: Tensor) -> Tensor:  # noqa: ARG002
        """y·std + mean."""
        return y * self.std + self.mean


class LayerSum(nn.Module):
    """Sums voxels into their layers and spreads per-layer values back over the voxels.

    The sum is a product with a fixed (V, L) one-hot matrix, the spread a gather: both export to
    ONNX as plain ``MatMul`` / ``Gather`` and run as fast as dense code on CPU and GPU (a scatter-add
    with repeated indices is slower and needs a custom ONNX conversion). Buffers are derived from
    the geometry and not saved in checkpoints.

    Arguments:
        geometry: Readout geometry (gives the layer of each voxel).

    Example:
        >>> from caloforge.geometry import Geometry
        >>> g = Geometry.regular("toy", n_layers=2, n_alpha=1, r_edges=[0, 1, 2])
        >>> s = LayerSum(g)
        >>> s(torch.tensor([[1.0, 2.0, 3.0, 4.0]])).tolist(), s.spread(torch.tensor([[5.0, 6.0]])).tolist()
        ([[3.0, 7.0]], [[5.0, 5.0, 6.0, 6.0]])
    """

    def __init__(self, geometry: Geometry) -> None:
        super().__init__()
        self.n_layers = geometry.n_layers
        voxel_layer = torch.as_tensor(geometry.voxel_layer, dtype=torch.long)
        self.voxel_layer: Tensor
        self.register_buffer("voxel_layer", voxel_layer, persistent=False)
        self.membership: Tensor
        self.register_buffer(
            "membership", nn.functional.one_hot(voxel_layer, self.n_layers).float(), persistent=False
        )

    def forward(self, x: Tensor) -> Tensor:
        """Per-layer sums, (B, V) → (B, L)."""
        return x @ self.membership.to(x.dtype)

    def spread(self, layers: Tensor) -> Tensor:
        """Each voxel gets its layer's value, (B, L) → (B, V)."""
        return layers[:, self.voxel_layer]


class LayerFractions(Transform):
    """Splits showers into layer energies and within-layer voxel fractions (CaloFlow's first step).

    Output (B, n_layers + n_voxels): first the layer energies divided by E_inc, then each voxel
    divided by its layer's energy (0 for empty layers). The inverse multiplies back.
    :meth:`split` separates the two blocks.

    Arguments:
        geometry: Readout geometry (gives the layer of each voxel).
        eps: Guard against division by zero for empty layers, MeV.
    """

    def __init__(self, geometry: Geometry, eps: float = 1e-8) -> None:
        super().__init__()
        self.n_layers = geometry.n_layers
        self.eps = eps
        self.layer_sum = LayerSum(geometry)

    def layer_energies(self, x: Tensor) -> Tensor:
        """Energy per layer, (B, n_voxels) → (B, n_layers)."""
        return self.layer_sum(x)  # type: ignore[no-any-return]

    def normalise(self, fractions: Tensor) -> Tensor:
        """Rescales non-negative voxel fractions (B, V) so that each non-empty layer sums to 1."""
        sums = self.layer_sum.spread(self.layer_sum(fractions))
        return torch.where(sums > 0, fractions / sums.clamp_min(1e-30), torch.zeros_like(fractions))

    def forward(self, x: Tensor, conditions: Tensor) -> Tensor:
        """(B, V) MeV → (B, L + V)."""
        layers = self.layer_sum(x)
        per_voxel = self.layer_sum.spread(layers)
        fractions = torch.where(per_voxel > self.eps, x / per_voxel.clamp_min(self.eps), torch.zeros_like(x))
        return torch.cat([layers / conditions[:, :1], fractions], dim=1)

    def inverse(self, y: Tensor, conditions: Tensor) -> Tensor:
        """(B, L + V) → (B, V) MeV."""
        layers, fractions = self.split(y)
        return fractions * self.layer_sum.spread(layers * conditions[:, :1])

    def split(self, y: Tensor) -> tuple[Tensor, Tensor]:
        """(B, L + V) → layer energies / E_inc (B, L), voxel fractions (B, V)."""
        return y[:, : self.n_layers], y[:, self.n_layers :]


class ConditionEncoder(nn.Module):
    """Maps raw conditions to network inputs in [0, 1]: log-scaled energy [, scaled angle].

    The fitted energy range is kept so generation can warn about extrapolation.

    Arguments:
        n_conditions: 1 (energy) or 2 (energy, angle in rad).
    """

    def __init__(self, n_conditions: int = 1) -> None:
        super().__init__()
        self.n_conditions = n_conditions
        self.log_e_min: Tensor
        self.register_buffer("log_e_min", torch.tensor(0.0))
        self.log_e_max: Tensor
        self.register_buffer("log_e_max", torch.tensor(math.log(1e6)))
        self.angle_min: Tensor
        self.register_buffer("angle_min", torch.tensor(0.0))
        self.angle_max: Tensor
        self.register_buffer("angle_max", torch.tensor(math.pi / 2))

    def fit(self, conditions: Tensor) -> None:
        """Stores the energy (and angle) range of the training conditions."""
        log_e = torch.log(conditions[:, 0].double())
        lo, hi = float(log_e.min()), float(log_e.max())
        if hi - lo < 1e-6:
            lo, hi = lo - 0.5, hi + 0.5
        self.log_e_min.fill_(lo)
        self.log_e_max.fill_(hi)
        if self.n_conditions > 1:
            a = conditions[:, 1].double()
            a_lo, a_hi = float(a.min()), float(a.max())
            if a_hi - a_lo < 1e-6:
                a_lo, a_hi = a_lo - 0.5, a_hi + 0.5
            self.angle_min.fill_(a_lo)
            self.angle_max.fill_(a_hi)

    def forward(self, conditions: Tensor) -> Tensor:
        """(B, C) raw → (B, C) scaled."""
        e = (torch.log(conditions[:, :1]) - self.log_e_min) / (self.log_e_max - self.log_e_min)
        if self.n_conditions == 1:
            return e
        a = (conditions[:, 1:2] - self.angle_min) / (self.angle_max - self.angle_min)
        return torch.cat([e, a], dim=1)

    @property
    def energy_range_mev(self) -> tuple[float, float]:
        """Training energy range, MeV."""
        return (math.exp(float(self.log_e_min)), math.exp(float(self.log_e_max)))

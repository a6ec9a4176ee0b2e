"""Exact data augmentation by the symmetries of a cylindrical readout.

A particle entering a cylindrically symmetric calorimeter along its axis produces showers whose
distribution does not change when every layer is rotated by one angular bin, or mirrored
(α → −α). Each training shower then stands for ``2 · n_alpha`` equally likely ones (32 for
CaloChallenge dataset 2), which multiplies the effective training set of the shape models at no
cost. The symmetry does not hold for showers entering at an angle (the shower leans towards the
tilt) or for Cartesian grids; :class:`AngularSymmetry` refuses geometries where it cannot act.

Example:
    >>> import torch
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=1, n_alpha=4, r_edges=[0, 1])
    >>> sym = AngularSymmetry(g)
    >>> sym.n_images
    8
    >>> x = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    >>> sym.image(x, torch.tensor([1])).tolist(), sym.image(x, torch.tensor([4])).tolist()
    ([[4.0, 1.0, 2.0, 3.0]], [[4.0, 3.0, 2.0, 1.0]])
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn

from caloforge.geometry import Geometry

__all__ = ["AngularSymmetry"]


class AngularSymmetry(nn.Module):
    """Random rotations by whole angular bins and mirror images of cylindrical showers.

    Every layer with angular bins must have the same number ``n_alpha`` of them (layers with one
    angular bin are invariant and may be mixed in). Image ``k`` < n_alpha rotates by ``k`` bins;
    image ``n_alpha + k`` mirrors first (bin i → n_alpha − 1 − i, exact for bins centred
    symmetrically on −π..π) and then rotates by ``k``.

    Arguments:
        geometry: Readout geometry, voxels in CaloChallenge order (angular, then radial, per layer).

    Raises:
        ValueError: Cartesian layers, or angular layers with different numbers of bins.
    """

    def __init__(self, geometry: Geometry) -> None:
        super().__init__()
        n_alphas = {lay.n_alpha for lay in geometry.layers if lay.kind == "cartesian" or lay.n_alpha > 1}
        if any(lay.kind == "cartesian" for lay in geometry.layers) or len(n_alphas) > 1:
            msg = (
                f"geometry {geometry.name!r}: angular augmentation needs cylindrical layers that share one "
                f"number of angular bins (found {sorted(n_alphas)})"
            )
            raise ValueError(msg)
        n_alpha = n_alphas.pop() if n_alphas else 1
        self.n_images = 2 * n_alpha
        self.images: Tensor
        self.register_buffer("images", torch.as_tensor(_images(geometry, n_alpha)), persistent=False)

    def image(self, x: Tensor, which: Tensor) -> Tensor:
        """Image ``which[b]`` of shower ``x[b]``: (B, V), (B,) integers in [0, n_images) → (B, V)."""
        return x.gather(1, self.images[which])

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """A uniformly random image of every shower of ``x`` (B, V)."""
        which = torch.randint(self.n_images, (x.shape[0],), generator=generator, device=x.device)
        return self.image(x, which)


def _images(geometry: Geometry, n_alpha: int) -> np.ndarray:
    """(2·n_alpha, V) source indices: output voxel v of image k reads input voxel images[k, v]."""
    blocks: list[np.ndarray] = []
    offset = 0
    for layer in geometry.layers:
        a, r = layer.shape
        base = np.arange(a * r).reshape(a, r) + offset
        per_image: list[NDArray[np.int64]] = []
        for mirror in (False, True):
            grid = base[::-1] if mirror else base  # a layer with one angular bin is its own image
            per_image.extend(np.roll(grid, k, axis=0).reshape(-1) for k in range(n_alpha))
        blocks.append(np.stack(per_image))
        offset += a * r
    return np.concatenate(blocks, axis=1).astype(np.int64)

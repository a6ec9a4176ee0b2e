"""Shared network building blocks (no model logic): MLPs, embeddings and the conditional latent KDE."""

from __future__ import annotations

from caloforge.nn.kde import LatentKDE
from caloforge.nn.mlp import MLP

__all__ = ["MLP", "LatentKDE"]

"""Shared network building blocks (no model logic): MLPs and embeddings."""

from __future__ import annotations

from caloforge.nn.mlp import MLP

__all__ = ["MLP"]

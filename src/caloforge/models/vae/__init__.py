"""Conditional variational autoencoder in the spirit of Geant4 Par04 (registered as ``"vae"``)."""

from __future__ import annotations

from caloforge.models.vae.config import VAEConfig
from caloforge.models.vae.model import VAE

__all__ = ["VAE", "VAEConfig"]

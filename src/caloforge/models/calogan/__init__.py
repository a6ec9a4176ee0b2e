"""CaloGAN: per-layer locally-connected GAN with energy losses (``MODELS["calogan"]``).

Importing this subpackage registers the model.
"""

from __future__ import annotations

from caloforge.models.calogan.config import MAX_LAYER_VOXELS, CaloGANConfig
from caloforge.models.calogan.discriminator import Discriminator, MinibatchDiscrimination
from caloforge.models.calogan.generator import Generator, LayerStream
from caloforge.models.calogan.locally_connected import LocallyConnected2d
from caloforge.models.calogan.model import CaloGAN

__all__ = [
    "MAX_LAYER_VOXELS",
    "CaloGAN",
    "CaloGANConfig",
    "Discriminator",
    "Generator",
    "LayerStream",
    "LocallyConnected2d",
    "MinibatchDiscrimination",
]

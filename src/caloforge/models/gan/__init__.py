"""WGAN-GP with an energy constrainer (``MODELS["wgan"]``).

Importing this subpackage registers the model.
"""

from __future__ import annotations

from caloforge.models.gan.config import WGANConfig
from caloforge.models.gan.constrainer import Constrainer
from caloforge.models.gan.critic import Critic
from caloforge.models.gan.generator import Generator
from caloforge.models.gan.losses import critic_loss, generator_adversarial_loss, gradient_penalty
from caloforge.models.gan.model import WGAN

__all__ = [
    "WGAN",
    "Constrainer",
    "Critic",
    "Generator",
    "WGANConfig",
    "critic_loss",
    "generator_adversarial_loss",
    "gradient_penalty",
]

"""BIB-AE with post-processor and KDE latent sampling, DESY's high-granularity shower model (``"bibae"``)."""

from __future__ import annotations

from caloforge.models.bibae.config import BIBAEConfig
from caloforge.models.bibae.model import BIBAE

__all__ = ["BIBAE", "BIBAEConfig"]

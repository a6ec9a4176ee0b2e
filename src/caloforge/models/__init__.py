"""Generative models behind one interface (:class:`GenerativeModel`), registered by name in ``MODELS``.

Each family lives in its own subpackage and registers itself when imported here. Without PyTorch
(a light install: ``pip install caloforge[onnx]``) only the torch-free part of the zoo,
:mod:`caloforge.models.pretrained` (its manifest), imports; every other name raises
``ModuleNotFoundError`` for ``torch``, which the command line turns into one line naming the
``torch`` extra.
"""

from __future__ import annotations

__all__ = [
    "MODELS",
    "CheckpointError",
    "GenerativeModel",
    "LossOutput",
    "PretrainedModel",
    "ShowerBatch",
    "build_model",
    "list_pretrained",
    "load_model",
    "load_pretrained",
    "model_state",
    "save_model",
]

from caloforge.models.availability import TORCH_AVAILABLE, lazy_torch_names

if TORCH_AVAILABLE:
    from caloforge.models import bibae as _bibae  # noqa: F401  (registers "bibae")
    from caloforge.models import calogan as _calogan  # noqa: F401  (registers "calogan")
    from caloforge.models import diffusion as _diffusion  # noqa: F401  (registers "flow-matching")
    from caloforge.models import flows as _flows  # noqa: F401  (registers "caloflow", "icaloflow")
    from caloforge.models import gan as _gan  # noqa: F401  (registers "wgan")
    from caloforge.models import vae as _vae  # noqa: F401  (registers "vae")
    from caloforge.models.base import GenerativeModel, LossOutput, ShowerBatch
    from caloforge.models.pretrained import PretrainedModel, list_pretrained, load_pretrained
    from caloforge.models.registry import MODELS, build_model
    from caloforge.models.serialization import CheckpointError, load_model, model_state, save_model
else:  # a light install: the names below exist, the torch-bound ones fail on first use
    from caloforge.models.pretrained import PretrainedModel, list_pretrained

    __getattr__ = lazy_torch_names("caloforge.models", __all__)

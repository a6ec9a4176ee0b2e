"""Fixtures for the export tests: fitted tiny models of every registered family."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from caloforge.geometry import Geometry
from caloforge.models import MODELS, GenerativeModel, build_model
from tests.conftest import make_showers


def fitted(name: str, geometry: Geometry, *, n_conditions: int = 1) -> GenerativeModel:
    """The registered model ``name`` at its smoke size, preprocessing fitted on synthetic showers."""
    model = build_model(name, geometry, MODELS.get(name).smoke_config(), n_conditions=n_conditions)
    data = make_showers(geometry, 64, angles=n_conditions == 2)
    model.fit_preprocessing(torch.from_numpy(data.showers), torch.from_numpy(data.conditions()))
    student_steps = getattr(model, "_student_steps", None)
    if isinstance(student_steps, torch.Tensor):
        # teacher-student flows deploy their single-pass student (as after distillation): the
        # autoregressive teacher inverse unrolls into one network call per voxel
        student_steps.fill_(1)
    return model.eval()


@pytest.fixture
def fitted_model(tiny_geometry: Geometry) -> Callable[..., GenerativeModel]:
    """Factory: ``fitted_model(name="wgan", n_conditions=1)`` on the tiny geometry."""

    def factory(name: str = "wgan", *, n_conditions: int = 1) -> GenerativeModel:
        return fitted(name, tiny_geometry, n_conditions=n_conditions)

    return factory

"""Tests of TorchScript export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

import caloforge.export.torchscript as ts
from caloforge.export.check import ParityError
from caloforge.export.graph import GenerationGraph
from caloforge.export.metadata import ModelCard
from caloforge.models import GenerativeModel


def test_export_reload_and_card(fitted_model: Callable[..., GenerativeModel], tmp_path: Path) -> None:
    model = fitted_model(n_conditions=2)
    result = ts.export_torchscript(model, tmp_path / "m.pt")
    assert result.parity.passed
    assert result.format == "torchscript"
    module, props = ts.load_torchscript(tmp_path / "m.pt")
    card = ModelCard.from_props(props)
    assert card.n_conditions == 2
    assert card.noise_dim == model.noise_dim
    graph = GenerationGraph(model)
    inputs = graph.example_inputs(11, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        torch.testing.assert_close(module(*inputs), graph(*inputs), rtol=1e-4, atol=1e-3)


def test_failing_parity_refuses(
    fitted_model: Callable[..., GenerativeModel], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = GenerationGraph(fitted_model())
    with torch.no_grad():
        for p in other.parameters():
            p.mul_(1.5)
    real_trace = ts.trace_graph
    monkeypatch.setattr(ts, "trace_graph", lambda graph: real_trace(other))
    with pytest.raises(ParityError):
        ts.export_torchscript(fitted_model(), tmp_path / "m.pt")
    assert list(tmp_path.iterdir()) == []

"""Tests of ONNX export: parity for every registered model, refusal of a broken graph, the model card."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

import caloforge.export.onnx as onnx_export
from caloforge.export.check import ParityError
from caloforge.export.graph import GenerationGraph
from caloforge.export.metadata import ModelCard
from caloforge.export.onnx import export_onnx
from caloforge.export.runtime import onnx_session
from caloforge.models import MODELS, GenerativeModel


@pytest.mark.parametrize("name", MODELS.names())
def test_every_model_exports_with_parity(
    name: str, fitted_model: Callable[..., GenerativeModel], tmp_path: Path
) -> None:
    model = fitted_model(name, n_conditions=1)
    result = export_onnx(model, tmp_path / "m.onnx", n_check=32)
    assert result.parity.passed, str(result.parity)
    assert result.parity.n_showers == 32
    assert result.size_bytes == (tmp_path / "m.onnx").stat().st_size > 0


def test_dynamic_batch_axis_and_names(fitted_model: Callable[..., GenerativeModel], tmp_path: Path) -> None:
    model = fitted_model(n_conditions=2)
    export_onnx(model, tmp_path / "m.onnx")
    session = onnx_session(tmp_path / "m.onnx", threads=1)
    assert [i.name for i in session.get_inputs()] == ["incident_energy", "angle", "noise"]
    assert [o.name for o in session.get_outputs()] == ["showers"]
    graph = GenerationGraph(model)
    for n in (1, 3, 257):
        inputs = graph.example_inputs(n, generator=torch.Generator().manual_seed(n))
        out = session.run(None, {k: v.numpy() for k, v in zip(graph.input_names, inputs, strict=True)})[0]
        with torch.no_grad():
            ref = graph(*inputs).numpy()
        assert out.shape == (n, model.geometry.n_voxels)
        np.testing.assert_allclose(out, ref, rtol=1e-3, atol=1e-2)


def test_model_card_in_metadata(fitted_model: Callable[..., GenerativeModel], tmp_path: Path) -> None:
    model = fitted_model()
    export_onnx(model, tmp_path / "m.onnx")
    proto = onnx.load(str(tmp_path / "m.onnx"))
    card = ModelCard.from_props({p.key: p.value for p in proto.metadata_props})
    assert (card.model, card.signature, card.noise_dim, card.n_conditions) == ("wgan", "caloforge", model.noise_dim, 1)
    assert card.geometry.same_binning(model.geometry)
    assert "parity" in card.extra


def test_broken_export_is_refused_and_nothing_written(
    fitted_model: Callable[..., GenerativeModel], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = onnx_export._write_graph

    def write_perturbed(graph: GenerationGraph, path: Path, opset: int) -> None:
        broken = fitted_model()
        with torch.no_grad():
            for p in broken.parameters():
                p.add_(0.05 * torch.randn_like(p))
        real_write(GenerationGraph(broken), path, opset)

    monkeypatch.setattr(onnx_export, "_write_graph", write_perturbed)
    target = tmp_path / "m.onnx"
    with pytest.raises(ParityError, match="refused"):
        export_onnx(fitted_model(), target)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_kept(fitted_model: Callable[..., GenerativeModel], tmp_path: Path) -> None:
    target = tmp_path / "m.onnx"
    target.write_text("keep")
    with pytest.raises(FileExistsError):
        export_onnx(fitted_model(), target)
    assert target.read_text() == "keep"

"""The Geant4 Par04 macro written beside a Par04 export: known commands only, a mesh that fits the model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from caloforge.export.graph import Par04Settings
from caloforge.export.onnx import export_onnx
from caloforge.export.par04 import PAR04_COMMANDS, PAR04_OPSET, Par04MacroError, check_macro_mesh, par04_macro
from caloforge.models import GenerativeModel

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _commands(text: str) -> dict[str, list[str]]:
    """Command → arguments of every non-comment line (a repeated command keeps its last arguments)."""
    out: dict[str, list[str]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        command, *args = line.split()
        assert command in PAR04_COMMANDS, line
        out.setdefault(command, []).append(" ".join(args))
    return out


def test_par04_export_writes_a_macro_that_fits_the_model(
    fitted_model: Callable[..., GenerativeModel], tmp_path: Path
) -> None:
    model = fitted_model(n_conditions=2)
    result = export_onnx(model, tmp_path / "gen.onnx", signature="par04", par04=Par04Settings(max_energy_mev=2e5))
    assert result.macro == tmp_path / "gen.mac"
    text = result.macro.read_text()
    commands = _commands(text)
    graph = onnx.load(str(result.path)).graph
    (inp,) = graph.input
    n_in = inp.type.tensor_type.shape.dim[1].dim_value
    x = np.zeros((2, n_in), np.float32)
    x[:, model.noise_dim] = 0.1  # E / fMaxEnergy
    (y,) = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"]).run(None, {inp.name: x})
    n_out = y.shape[1]
    latent = int(commands["/Par04/inference/setSizeLatentVector"][0])
    conditions = int(commands["/Par04/inference/setSizeConditionVector"][0])
    assert (latent, latent + conditions) == (model.noise_dim, n_in)
    mesh = [int(commands[f"/Par04/inference/setNbOf{k}Cells"][0]) for k in ("Rho", "Phi", "Z")]
    n_z, n_phi, n_rho = model.geometry.shape
    assert mesh == [n_rho, n_phi, n_z]
    assert mesh[0] * mesh[1] * mesh[2] == n_out
    assert commands["/Par04/inference/setModelPathName"] == ["./gen.onnx"]
    assert commands["/Par04/inference/setInferenceLibrary"] == ["ONNX"]
    assert commands["/param/ActivateModel"] == ["defineMesh", "inferenceModel"]
    assert "E / 200 GeV" in text
    assert "accepted and ignored" in text
    assert "Trained on incident energies" in text
    # the default opset of a Par04 export is one ONNX Runtime 1.11.1 loads
    opsets = {o.domain: o.version for o in onnx.load(str(result.path)).opset_import}
    assert opsets[""] == PAR04_OPSET <= 15
    (tmp_path / "gen.onnx").unlink()
    with pytest.raises(FileExistsError):  # the macro is not silently replaced either
        export_onnx(model, tmp_path / "gen.onnx", signature="par04")


def test_caloforge_signature_writes_no_macro(fitted_model: Callable[..., GenerativeModel], tmp_path: Path) -> None:
    result = export_onnx(fitted_model(), tmp_path / "m.onnx")
    assert result.macro is None
    assert not (tmp_path / "m.mac").exists()


def test_a_mesh_that_does_not_fit_the_output_is_refused() -> None:
    check_macro_mesh((9, 16, 45), 6480)
    with pytest.raises(Par04MacroError, match="18 x 50 x 45 = 40500 cells, but the model outputs 6480"):
        check_macro_mesh((18, 50, 45), 6480)
    with pytest.raises(Par04MacroError):
        par04_macro("m.onnx", latent_size=10, mesh=(18, 50, 45), output_size=6480)


def test_cell_sizes_are_written_when_known_and_left_as_comments_otherwise() -> None:
    known = _commands(par04_macro("m.onnx", latent_size=4, mesh=(2, 3, 4), output_size=24, rho_cell_mm=2.325,
                                  z_cell_mm=3.4))
    assert known["/Par04/inference/setSizeOfRhoCells"] == ["2.325 mm"]
    assert known["/Par04/inference/setSizeOfZCells"] == ["3.4 mm"]
    unknown = _commands(par04_macro("m.onnx", latent_size=4, mesh=(2, 3, 4), output_size=24))
    assert "/Par04/inference/setSizeOfZCells" not in unknown

"""Checkpoint integrity: damaged files are refused on load (exit 2), naming the newest intact step-*.pt."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import torch

from caloforge.cli.main import main
from caloforge.geometry import Geometry
from caloforge.models import CheckpointError, build_model, load_model, save_model
from caloforge.models.integrity import INTEGRITY_KEY, state_digest
from caloforge.models.serialization import load_state, save_state
from tests.conftest import make_showers


def _fitted(geometry: Geometry) -> torch.nn.Module:
    data = make_showers(geometry, 32)
    m = build_model("wgan", geometry, {"latent_dim": 4, "generator_hidden": [16], "critic_hidden": [8]})
    m.fit_preprocessing(torch.as_tensor(data.showers), torch.as_tensor(data.conditions()))
    return m


def flip_tensor_byte(path: Path, member_index: int = 0, offset: int = 7) -> None:
    """Flips one byte inside the stored bytes of a tensor (as a bad disk or an interrupted copy would)."""
    with zipfile.ZipFile(path) as archive:
        members = [i for i in archive.infolist() if "/data/" in i.filename and i.file_size > offset]
        info = members[member_index]
    raw = bytearray(path.read_bytes())
    name_len = int.from_bytes(raw[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28 : info.header_offset + 30], "little")
    raw[info.header_offset + 30 + name_len + extra_len + offset] ^= 0x40
    path.write_bytes(bytes(raw))


def test_hash_stored_and_stripped(tiny_geometry: Geometry, tmp_path: Path) -> None:
    save_model(_fitted(tiny_geometry), tmp_path / "m.pt")
    raw = torch.load(tmp_path / "m.pt", weights_only=True)
    assert raw[INTEGRITY_KEY]["algorithm"] == "sha256"
    assert raw[INTEGRITY_KEY]["digest"] == state_digest(raw)
    assert INTEGRITY_KEY not in load_state(tmp_path / "m.pt")


def test_flipped_byte_is_refused_and_the_newest_intact_step_named(tiny_geometry: Geometry, tmp_path: Path) -> None:
    model = _fitted(tiny_geometry)
    ckpt = tmp_path / "checkpoints"
    for step in (100, 200, 300):
        save_model(model, ckpt / f"step-{step:07d}.pt")
    save_model(model, ckpt / "last.pt")
    flip_tensor_byte(ckpt / "last.pt")
    flip_tensor_byte(ckpt / "step-0000300.pt")
    with pytest.raises(CheckpointError, match=r"last\.pt: checkpoint is corrupted \(CRC-32 mismatch") as info:
        load_model(ckpt / "last.pt")
    assert str(info.value).endswith(f"The newest intact checkpoint beside it is {ckpt / 'step-0000200.pt'}")
    assert "\n" not in str(info.value)
    for step in (100, 200):
        (ckpt / f"step-{step:07d}.pt").unlink()
    with pytest.raises(CheckpointError, match="There is no intact step-"):
        load_model(ckpt / "last.pt")


def test_hash_catches_what_the_crc_misses(tmp_path: Path) -> None:
    """A tool that rewrote the archive (fresh CRC-32s) around changed weights is caught by the content hash."""
    path = tmp_path / "m.pt"
    save_state({"w": torch.arange(8.0)}, path)
    state = torch.load(path, weights_only=True)
    state["w"][3] = 99.0
    torch.save(state, path)  # the stored digest is now stale; every CRC-32 is valid
    with pytest.raises(CheckpointError, match="content hash does not match"):
        load_state(path)


def test_files_without_a_hash_still_load(tiny_geometry: Geometry, tmp_path: Path) -> None:
    model = _fitted(tiny_geometry)
    save_model(model, tmp_path / "m.pt")
    state = torch.load(tmp_path / "m.pt", weights_only=True)
    del state[INTEGRITY_KEY]
    torch.save(state, tmp_path / "old.pt")
    assert load_model(tmp_path / "old.pt").config == model.config


@pytest.fixture
def trained_run(tmp_path: Path, shower_file: object) -> Path:
    data = shower_file(n=64)  # type: ignore[operator]
    out = tmp_path / "run"
    assert main(["-q", "train", "--model", "wgan", "--data", str(data), "--dry-run", "--out", str(out),
                 "--no-progress", "--device", "cpu"]) == 0
    return out / "dry-run"  # a dry run writes beside the real run folder, never into it


def test_commands_refuse_a_corrupted_checkpoint(trained_run: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    last = trained_run / "checkpoints" / "last.pt"
    flip_tensor_byte(last)
    capsys.readouterr()
    out = tmp_path / "gen.h5"
    assert main(["generate", "--checkpoint", str(last), "--energies", "fixed:10", "--n", "4", "-o", str(out),
                 "--device", "cpu", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"caloforge generate: error: {last}: checkpoint is corrupted")
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()
    onnx = tmp_path / "m.onnx"
    assert main(["export", "--checkpoint", str(last), "-o", str(onnx)]) == 2
    assert "checkpoint is corrupted" in capsys.readouterr().err
    assert not onnx.exists()
    config = (trained_run / "config.yaml").read_bytes()
    assert main(["-q", "train", "--model", "wgan", "--data", str(tmp_path / "showers.h5"), "--resume", str(last),
                 "--no-progress", "--device", "cpu"]) == 2
    assert "checkpoint is corrupted" in capsys.readouterr().err
    assert (trained_run / "config.yaml").read_bytes() == config

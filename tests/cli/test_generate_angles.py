"""``generate`` with angles: ``--like`` keeps the reference's angles, ``--angle SPEC`` (degrees) draws them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from caloforge.cli.main import main
from caloforge.data import read_showers


@pytest.fixture(scope="module")
def angled_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An angle-conditioned dry-run checkpoint and its (angled) training file."""
    from caloforge.data import write_showers
    from caloforge.geometry import Geometry
    from tests.conftest import make_showers

    tmp = tmp_path_factory.mktemp("angled")
    geometry = Geometry.regular("tiny", n_layers=3, n_alpha=4, r_edges=[0, 2, 4, 8, 16, 32], layer_thickness_mm=3.4)
    data = tmp / "ref.h5"
    write_showers(data, make_showers(geometry, 64, 0, angles=True))
    config = Path(__file__).resolve().parents[2] / "configs" / "vae-smoke.yaml"
    argv = ["-q", "train", str(config), "--data", str(data), "--set", "data.geometry=null", "--set", "data.stop=null",
            "--out", str(tmp / "run"), "--dry-run", "--device", "cpu", "--no-progress"]
    assert main(argv) == 0
    return tmp / "run" / "dry-run" / "checkpoints" / "last.pt", data


def _generate(checkpoint: Path, out: Path, *args: str) -> int:
    return main(["-q", "generate", "--checkpoint", str(checkpoint), "-o", str(out), "--no-progress", *args])


def test_like_takes_the_reference_angles(angled_checkpoint: tuple[Path, Path], tmp_path: Path) -> None:
    checkpoint, ref = angled_checkpoint
    assert _generate(checkpoint, tmp_path / "gen.h5", "--like", str(ref)) == 0
    gen, reference = read_showers(tmp_path / "gen.h5"), read_showers(ref)
    assert gen.angles is not None
    assert reference.angles is not None
    np.testing.assert_array_equal(gen.angles, reference.angles)
    np.testing.assert_array_equal(gen.energies, reference.energies)


def test_angle_spec_in_degrees(angled_checkpoint: tuple[Path, Path], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint, ref = angled_checkpoint
    assert _generate(checkpoint, tmp_path / "u.h5", "--energies", "log-uniform:1:100", "--n", "40", "--angle", "10:30") == 0
    u = read_showers(tmp_path / "u.h5").angles
    assert u is not None
    assert np.radians(10) <= u.min() < u.max() <= np.radians(30)
    assert _generate(checkpoint, tmp_path / "l.h5", "--like", str(ref), "--angle", "0,20") == 0
    listed = read_showers(tmp_path / "l.h5").angles
    assert listed is not None
    assert set(np.round(np.degrees(listed), 3).tolist()) == {0.0, 20.0}
    assert _generate(checkpoint, tmp_path / "bad.h5", "--energies", "fixed:10", "--n", "4", "--angle", "95") == 2
    assert "--angle '95'" in capsys.readouterr().err


def test_angle_conditioned_model_without_angles_says_how(
    angled_checkpoint: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint, _ = angled_checkpoint
    assert _generate(checkpoint, tmp_path / "g.h5", "--energies", "fixed:10", "--n", "4") == 2
    assert "pass --angle DEG" in capsys.readouterr().err

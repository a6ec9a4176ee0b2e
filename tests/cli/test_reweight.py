"""``caloforge reweight``: weighted copies of tiny files, fit rows, --apply, and clear errors."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from caloforge.cli.main import main
from caloforge.data import read_showers, write_showers
from caloforge.geometry import Geometry

from ..conftest import make_showers


@pytest.fixture
def pair(tmp_path: Path, tiny_geometry: Geometry) -> tuple[Path, Path]:
    """A reference and a 'generated' file of the same energies whose showers are 8 % too energetic."""
    ref = make_showers(tiny_geometry, 400, seed=0)
    gen = make_showers(tiny_geometry, 400, seed=1)
    gen.energies = ref.energies
    gen.showers = gen.showers / make_showers(tiny_geometry, 400, seed=1).energies[:, None] * ref.energies[:, None] * 1.08
    write_showers(tmp_path / "ref.h5", ref)
    write_showers(tmp_path / "gen.h5", gen)
    return tmp_path / "ref.h5", tmp_path / "gen.h5"


def _run(*args: str) -> int:
    return main(["-q", "reweight", "--epochs", "15", "--batch-size", "32", "--no-progress", *args])


def test_writes_a_weighted_copy(pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref, gen = pair
    out = tmp_path / "gen_weighted.h5"
    assert _run("--reference", str(ref), "--generated", str(gen), "-o", str(out), "--start", "0", "--stop", "300") == 0
    text = capsys.readouterr().out
    assert "ESS" in text
    assert "fitted on" in text  # the copy holds its own training rows: flagged
    back, original = read_showers(out), read_showers(gen)
    np.testing.assert_array_equal(back.showers, original.showers)
    np.testing.assert_array_equal(back.energies, original.energies)
    assert back.weights is not None
    assert back.weights.shape == (400,)
    assert back.weights.mean() == pytest.approx(1.0, rel=1e-4)
    assert back.weights.max() <= 10.0 * np.median(back.weights) * (1 + 1e-5)
    assert np.std(back.weights) > 0.05  # the classifier sees the 8 % excess
    with h5py.File(out) as f:
        assert list(f.attrs["reweight_rows"]) == [0, 300]
        assert list(f.attrs["reweight_training_rows"]) == [0, 300]


def test_apply_weights_another_file(pair: tuple[Path, Path], tmp_path: Path, tiny_geometry: Geometry,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    ref, gen = pair
    other = tmp_path / "held_out.h5"
    write_showers(other, make_showers(tiny_geometry, 50, seed=7))
    out = tmp_path / "w.h5"
    assert _run("--reference", str(ref), "--generated", str(gen), "--apply", str(other), "-o", str(out)) == 0
    assert "fitted on" not in capsys.readouterr().out
    back = read_showers(out)
    assert back.weights is not None
    assert len(back.weights) == 50
    with h5py.File(out) as f:
        assert list(f.attrs["reweight_training_rows"]) == [0, 0]


def test_same_seed_same_weights(pair: tuple[Path, Path], tmp_path: Path) -> None:
    ref, gen = pair
    for name in ("a.h5", "b.h5"):
        assert _run("--reference", str(ref), "--generated", str(gen), "-o", str(tmp_path / name), "--seed", "3") == 0
    np.testing.assert_array_equal(read_showers(tmp_path / "a.h5").weights, read_showers(tmp_path / "b.h5").weights)


def test_errors_name_the_problem(pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref, gen = pair
    out = tmp_path / "out.h5"
    out.write_bytes(b"old")
    assert _run("--reference", str(ref), "--generated", str(gen), "-o", str(out)) == 2
    assert "already exists" in capsys.readouterr().err
    assert out.read_bytes() == b"old"
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5")
    assert _run("--reference", str(ref), "--generated", str(bad), "-o", str(tmp_path / "x.h5")) == 2
    assert str(bad) in capsys.readouterr().err
    assert _run("--reference", str(ref), "--generated", str(gen), "-o", str(tmp_path / "x.h5"), "--start", "500") == 2
    assert "no showers in rows" in capsys.readouterr().err
    assert _run("--reference", str(ref), "--generated", str(gen), "-o", str(gen), "--force") == 2
    assert "new file" in capsys.readouterr().err
    assert _run("--reference", str(ref), "--generated", str(gen), "-o", str(tmp_path / "x.h5"), "--clip", "1") == 2
    assert "clip" in capsys.readouterr().err
    assert not (tmp_path / "x.h5").exists()


def test_geometry_mismatch(pair: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref, _ = pair
    other = Geometry.regular("other", n_layers=2, n_alpha=2, r_edges=[0, 1, 2])
    write_showers(tmp_path / "o.h5", make_showers(other, 100))
    assert _run("--reference", str(ref), "--generated", str(tmp_path / "o.h5"), "-o", str(tmp_path / "x.h5")) == 2
    assert "o.h5" in capsys.readouterr().err

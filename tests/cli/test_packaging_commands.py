"""caloforge config / datasets, and the one line a missing optional extra ends in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml

from caloforge.cli.main import main
from caloforge.data.datasets import DATASETS, file_md5, find_file, verify_dataset_file

ROOT = Path(__file__).resolve().parents[2]


def test_config_list_names_every_shipped_yaml(capsys):
    assert main(["config", "list"]) == 0
    out = capsys.readouterr().out
    for path in (ROOT / "configs").glob("*.yaml"):
        assert path.stem in out
    assert "pipeline-demo" in out
    assert "pipeline" in out


def test_config_show_prints_the_file_byte_for_byte(capsys):
    assert main(["config", "show", "vae-smoke"]) == 0
    out = capsys.readouterr().out
    assert out == (ROOT / "configs" / "vae-smoke.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(out)["model"]


def test_config_show_unknown_name_suggests(capsys):
    assert main(["config", "show", "vae-smok"]) == 2
    err = capsys.readouterr().err
    assert "did you mean vae-smoke" in err
    assert len(err.strip().splitlines()) == 1


def test_datasets_lists_dois_files_and_fetch_lines(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for doi in ("10.5281/zenodo.8099322", "10.5281/zenodo.6366271", "10.5281/zenodo.6366324", "10.5281/zenodo.6082201"):
        assert doi in out
    assert "dataset_3_4.hdf5" in out
    assert "curl -L -o dataset_2_1.hdf5" in out
    assert main(["datasets", "list", "no-such"]) == 2


def test_catalogue_is_consistent():
    names = [f.name for d in DATASETS for f in d.files]
    assert len(names) == len(set(names))
    assert all(len(f.md5) == 32 for d in DATASETS for f in d.files if f.md5)
    assert find_file("dataset_1_pions_2.hdf5")[0].geometry == "calochallenge-1-pions"


def _write_ds2(path: Path, n: int) -> None:
    with h5py.File(path, "w") as f:
        f["incident_energies"] = np.full((n, 1), 1e4, np.float32)
        f["showers"] = np.random.default_rng(0).random((n, 6480), dtype=np.float32)


def test_verify_flags_a_truncated_download(tmp_path, capsys):
    path = tmp_path / "dataset_2_1.hdf5"  # a catalogue name with the wrong content
    _write_ds2(path, 7)
    v = verify_dataset_file(path)
    assert v.geometry == "calochallenge-2"
    assert v.n_showers == 7
    assert v.md5 == file_md5(path)
    assert not v.ok
    assert any("has 100000" in p for p in v.problems)
    assert any("MD5" in p for p in v.problems)
    assert main(["datasets", "verify", str(path)]) == 1
    assert "problem" in capsys.readouterr().out


def test_verify_accepts_an_unknown_readable_file(tmp_path, capsys):
    path = tmp_path / "mine.h5"
    _write_ds2(path, 3)
    assert main(["datasets", "verify", str(path)]) == 0
    assert "not in the catalogue" in capsys.readouterr().out
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not hdf5")
    assert main(["datasets", "verify", str(bad)]) == 2


def test_convert_par04_files_to_one_calochallenge_file(tmp_path, capsys):
    from caloforge.data import ShowerData, read_showers, write_par04
    from caloforge.geometry import get_geometry

    geometry = get_geometry("par04")
    rng = np.random.default_rng(1)
    for angle, energy in ((90, 1e4), (70, 2e4)):
        showers = rng.random((4, geometry.n_voxels), dtype=np.float32)
        write_par04(tmp_path / f"SiW_angle_{angle}.h5", ShowerData(np.full(4, energy, np.float32), showers, geometry))
    out = tmp_path / "converted.h5"
    assert main(["datasets", "convert", str(tmp_path), str(out)]) == 0
    assert "8 showers on par04" in capsys.readouterr().out
    data = read_showers(out)
    assert data.angles is not None
    assert sorted(set(np.round(np.degrees(data.angles), 3))) == [0.0, 20.0]  # 90° (head-on) → 0, 70° → 20°
    assert main(["datasets", "convert", str(tmp_path / "SiW_angle_90.h5"), str(out)]) == 2  # no overwrite
    assert main(["datasets", "convert", str(tmp_path / "SiW_angle_90.h5"), str(out), "--force"]) == 0
    assert len(read_showers(out)) == 4
    write_par04(tmp_path / "plain.h5", read_showers(out))
    assert main(["datasets", "convert", str(tmp_path / "plain.h5"), str(tmp_path / "plain-cc.h5")]) == 0
    assert read_showers(tmp_path / "plain-cc.h5").showers.shape == (4, geometry.n_voxels)


def test_missing_extra_is_one_line(monkeypatch, capsys):
    from caloforge.cli import train

    def no_torch(args):
        msg = "No module named 'torch'"
        raise ModuleNotFoundError(msg, name="torch")

    monkeypatch.setattr(train, "run", no_torch)
    assert main(["train", str(ROOT / "configs" / "vae-smoke.yaml")]) == 2
    assert capsys.readouterr().err == "caloforge train needs PyTorch: pip install 'caloforge[torch]'\n"


def test_unrelated_missing_module_still_raises(monkeypatch):
    from caloforge.cli import train

    def broken(args):
        msg = "No module named 'caloforge.nothing'"
        raise ModuleNotFoundError(msg, name="caloforge.nothing")

    monkeypatch.setattr(train, "run", broken)
    with pytest.raises(ModuleNotFoundError):
        main(["train", str(ROOT / "configs" / "vae-smoke.yaml")])


_BLOCKED = "import sys; sys.modules.update(torch=None, scipy=None, matplotlib=None); from caloforge.cli.main import main; "


@pytest.mark.parametrize(("argv", "line"), [
    (["train", "configs/vae-smoke.yaml"], "caloforge train needs PyTorch: pip install 'caloforge[torch]'"),
    (["generate", "--pretrained", "vae-siw-electrons", "--energies", "fixed:10", "--n", "2", "-o", "x.h5"],
     "caloforge generate needs PyTorch: pip install 'caloforge[torch]'"),
])
def test_without_torch_a_command_ends_in_one_line(tmp_path, argv, line):
    argv = [str(ROOT / a) if a.startswith("configs/") else a for a in argv]
    code = _BLOCKED + f"sys.exit(main({argv!r}))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == line
    assert "Traceback" not in proc.stderr


def test_without_torch_and_scipy_the_light_commands_run(tmp_path):
    code = _BLOCKED + (
        "assert main(['simulate', '-n', '5', '-o', 's.h5', '--no-progress', '--seed', '1']) == 0; "
        "assert main(['inspect', 's.h5']) == 0; assert main(['zoo']) == 0; assert main(['config', 'list']) == 0; "
        "assert main(['datasets', 'verify', 's.h5']) == 0; "
        "assert not any(m in sys.modules and sys.modules[m] is not None for m in ('torch', 'scipy'))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr

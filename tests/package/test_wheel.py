"""The built wheel in a fresh environment with only the light core and the onnx extra (no torch, SciPy, matplotlib).

Builds the wheel from this checkout (hatchling, no build isolation, so nothing is fetched to build), installs it
with ``--no-deps`` into a new virtual environment without the system site-packages, adds the core dependencies and
the ``onnx`` extra from the package index, and runs what a new user runs first: ``--help``, ``simulate``,
``inspect``, ``zoo``, ``config show``, ONNX Runtime generation from an exported model, and ``train``, which
must end in the one line naming the ``torch`` extra.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The core dependencies and the onnx extra, as pyproject.toml declares them.
LIGHT = ["numpy>=1.24", "h5py>=3.8", "pyyaml>=6", "tqdm>=4.60", "onnx>=1.15", "onnxruntime>=1.17"]

pytestmark = pytest.mark.slow


def _run(cmd: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["OMP_NUM_THREADS"] = "1"
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False)


@pytest.fixture(scope="module")
def light_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh environment holding the wheel and only the light dependencies."""
    if importlib.util.find_spec("hatchling") is None or importlib.util.find_spec("hatch_vcs") is None:
        pytest.skip("the build backend (hatchling, hatch-vcs) is not installed: pip install '.[test]'")
    tmp = tmp_path_factory.mktemp("wheel")
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                  str(tmp / "dist"), str(ROOT)], tmp)
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp / "dist").glob("caloforge-*.whl")
    assert "+" not in wheel.name, f"{wheel.name}: a local version, which a package index refuses"
    venv.create(tmp / "env", with_pip=True, system_site_packages=False)
    bin_dir = tmp / "env" / "bin"
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    assert _run([*pip, "--no-deps", str(wheel)], tmp).returncode == 0
    deps = _run([*pip, *LIGHT], tmp)
    if deps.returncode != 0:
        pytest.skip(f"the light dependencies cannot be installed here (no package index?): {deps.stderr[-300:]}")
    return bin_dir


def test_the_light_install_has_no_heavy_libraries(light_env: Path, tmp_path: Path) -> None:
    probe = "import importlib.util as u; print([m for m in ('torch', 'scipy', 'matplotlib') if u.find_spec(m)])"
    assert _run([str(light_env / "python"), "-c", probe], tmp_path).stdout.strip() == "[]"


def test_light_commands_run(light_env: Path, tmp_path: Path) -> None:
    cli = str(light_env / "caloforge")
    for argv in (["--help"], ["simulate", "-n", "20", "-o", "s.h5", "--seed", "1", "--no-progress"],
                 ["inspect", "s.h5"], ["zoo"], ["config", "list"], ["datasets"], ["datasets", "verify", "s.h5"]):
        proc = _run([cli, *argv], tmp_path)
        assert proc.returncode == 0, f"caloforge {' '.join(argv)}: {proc.stderr}"
        assert "Traceback" not in proc.stderr
    shown = _run([cli, "config", "show", "vae-smoke"], tmp_path)
    assert shown.stdout == (ROOT / "configs" / "vae-smoke.yaml").read_text(encoding="utf-8")


def test_train_names_the_torch_extra(light_env: Path, tmp_path: Path) -> None:
    proc = _run([str(light_env / "caloforge"), "train", str(ROOT / "configs" / "vae-smoke.yaml")], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "caloforge train needs PyTorch: pip install 'caloforge[torch]'"


def test_onnx_generation_without_torch(light_env: Path, tmp_path: Path) -> None:
    pytest.importorskip("torch")  # exporting needs it, here in the test's own environment
    pytest.importorskip("onnx")
    export = _run([sys.executable, "-m", "caloforge", "-q", "export", "--pretrained", "vae-siw-electrons",
                   "-o", "model.onnx", "--n-check", "4"], tmp_path)
    assert export.returncode == 0, export.stderr
    proc = _run([str(light_env / "caloforge"), "generate", "--model", "model.onnx", "--energies", "log-uniform:1:100",
                 "--n", "16", "-o", "g.h5", "--no-progress"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 16 showers" in proc.stdout
    inspected = _run([str(light_env / "caloforge"), "inspect", "g.h5"], tmp_path)
    assert "16" in inspected.stdout

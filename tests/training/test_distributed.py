"""Data-parallel training: the single-process context, and a 2-process gloo run through torchrun (slow)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from caloforge.models import load_model
from caloforge.training.distributed import DistributedContext, init_distributed


def test_single_process_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    ctx = init_distributed(torch.device("cpu"))
    assert ctx == DistributedContext()
    assert ctx.is_main
    assert not ctx.enabled


@pytest.mark.slow
def test_torchrun_two_cpu_processes(shower_file: Callable[..., Path], tmp_path: Path) -> None:
    data = shower_file(n=64)
    out = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-port",
        "29531",
        "-m",
        "caloforge",
        "-q",
        "train",
        "--model",
        "vae",
        "--data",
        str(data),
        "--out",
        str(out),
        "--device",
        "cpu",
        "--no-progress",
        "--set",
        "model.config={latent_dim: 3, hidden: [16]}",
        "--set",
        "train.max_steps=4",
        "--set",
        "train.batch_size=8",
        "--set",
        "train.checkpoint_every=2",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((out / "result.json").read_text())
    assert result["world_size"] == 2
    assert result["steps"] == 4
    model = load_model(out / "checkpoints" / "last.pt")
    assert model.is_fitted
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len({json.loads(line)["step"] for line in lines if '"train"' in line}) == len(
        [line for line in lines if '"train"' in line]
    ), "only rank 0 writes the metrics log"

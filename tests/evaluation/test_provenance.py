"""Provenance of an evaluation and the timing of its phases."""

from __future__ import annotations

import hashlib
from pathlib import Path

from caloforge.evaluation.phases import Phases
from caloforge.evaluation.provenance import file_info, make_provenance


def test_file_info_records_size_hash_prefix_and_attributes(tmp_path: Path) -> None:
    path = tmp_path / "gen.h5"
    path.write_bytes(b"x" * 1000)
    info = file_info(path, 12, {"checkpoint": "model.pt", "seed": 4, "long": "y" * 500})
    assert info.sha256 == hashlib.sha256(b"x" * 1000).hexdigest()[:16]
    assert (info.size_bytes, info.n_events, info.attrs["seed"]) == (1000, 12, 4)
    assert len(info.attrs["long"]) < 250
    prov = make_provenance({"gen": info}, seed=3, command=["caloforge", "evaluate", "--seed", "3"])
    assert prov.to_dict()["files"]["gen"]["attrs"]["checkpoint"] == "model.pt"
    assert prov.command[:2] == ["caloforge", "evaluate"]
    assert prov.created_utc.endswith("Z")


def test_phases_add_up_per_name_and_count_ticks() -> None:
    phases = Phases(progress=True, total=3)
    for _ in range(2):
        with phases.phase("bootstrap"):
            pass
    phases.tick("classifier run 1")
    phases.close()
    assert list(phases.timing) == ["bootstrap"]
    assert phases.done == 3

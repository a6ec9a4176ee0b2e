"""Score files: the three formats, the key names from ``data/io.py``, and refusing bad targets."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from caloforge.data.io import ENERGIES_KEY, LOG_LIKELIHOOD_KEY
from caloforge.data.scores import check_score_target, write_scores


def test_each_format_holds_one_value_per_shower(tmp_path: Path) -> None:
    scores, energies = np.array([-1.25, -3.5, 0.75]), np.array([1e3, 2e3, 5e4], dtype=np.float32)
    with h5py.File(write_scores(tmp_path / "s.h5", scores, energies)) as f:
        np.testing.assert_array_equal(f[LOG_LIKELIHOOD_KEY][:], scores)
        np.testing.assert_array_equal(f[ENERGIES_KEY][:], energies[:, None])
        assert f.attrs["units"] == "nats"
    np.testing.assert_array_equal(np.load(write_scores(tmp_path / "s.npy", scores, energies)), scores)
    table = np.loadtxt(write_scores(tmp_path / "s.csv", scores, energies), delimiter=",", skiprows=1)
    np.testing.assert_allclose(table, np.column_stack([np.arange(3), energies, scores]))


def test_unknown_suffix_and_existing_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown output format"):
        check_score_target(tmp_path / "s.txt")
    (tmp_path / "s.npy").write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        write_scores(tmp_path / "s.npy", np.zeros(2), np.ones(2))
    assert (tmp_path / "s.npy").read_bytes() == b"keep"
    write_scores(tmp_path / "s.npy", np.zeros(2), np.ones(2), overwrite=True)
    assert np.load(tmp_path / "s.npy").shape == (2,)

"""Tests of the parity comparison."""

from __future__ import annotations

import numpy as np
import pytest

from caloforge.export.check import compare_outputs


def test_identical_outputs_pass() -> None:
    ref = np.random.default_rng(0).gamma(1.0, 10.0, (8, 20)).astype(np.float32)
    report = compare_outputs(ref, ref.copy())
    assert report.passed
    assert report.max_abs == 0.0
    assert report.n_showers == 8


def test_one_bad_voxel_fails_and_is_located_in_the_numbers() -> None:
    ref = np.full((4, 10), 100.0, np.float32)
    out = ref.copy()
    out[2, 3] += 5.0
    report = compare_outputs(ref, out)
    assert not report.passed
    assert report.max_abs == pytest.approx(5.0)
    assert report.max_rel == pytest.approx(0.05)
    assert "FAILED" in str(report)


def test_nan_output_fails() -> None:
    ref = np.ones((2, 3), np.float32)
    out = ref.copy()
    out[0, 0] = np.nan
    assert not compare_outputs(ref, out).passed


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="shape"):
        compare_outputs(np.ones((2, 3)), np.ones((2, 4)))


def test_only_rare_flips_at_the_readout_threshold_are_accepted() -> None:
    ref = np.full((2, 20_000), 40.0, np.float32)
    ref[:, :5] = 0.0152  # voxels just above a 15.15 keV readout threshold
    one = ref.copy()
    one[0, 0] = 0.0  # zeroed by the export only: a threshold flip
    assert compare_outputs(ref, one).passed
    assert "1 voxel(s) at the readout threshold" in str(compare_outputs(ref, one))
    many = ref.copy()
    many[:, :5] = 0.0  # 10 flips in 40,000 voxels: more than one in 10^4
    assert not compare_outputs(ref, many).passed
    large = ref.copy()
    large[0, 10] = 0.0  # a 40 MeV voxel lost is a real difference
    assert not compare_outputs(ref, large).passed

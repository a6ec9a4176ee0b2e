"""Hit-level figures compared pixel by pixel with committed baselines (pytest-mpl), as in ``test_plots.py``.

Regenerate after an intended change with
``pytest tests/evaluation/test_hits_plots.py --mpl-generate-path=tests/evaluation/baseline``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from caloforge.evaluation.hit_comparison import LinearityTable
from caloforge.evaluation.hits import MOMENTS

pytest.importorskip("matplotlib")

IMAGE = pytest.mark.mpl_image_compare(baseline_dir="baseline", style="default", tolerance=5, remove_text=True,
                                      savefig_kwargs={"dpi": 50})


def _correlations() -> tuple[np.ndarray, np.ndarray]:
    k = len(MOMENTS)
    i, j = np.indices((k, k))
    ref = np.exp(-np.abs(i - j) / 2.0)
    gen = ref.copy()
    gen[0, 1] = gen[1, 0] = 0.2
    gen[-1] = gen[:, -1] = np.nan  # a constant moment
    return ref, gen


@IMAGE
def test_correlation_figure() -> Any:
    from caloforge.evaluation.plots.hits import correlation_figure

    ref, gen = _correlations()
    return correlation_figure(ref, {"model": gen})


def _linearity(scale: float) -> LinearityTable:
    n = 4
    e = [2e3 * 2**i for i in range(n)]
    return LinearityTable(e_low=[1e3 * 2**i for i in range(n)], e_high=[1e3 * 2 ** (i + 1) for i in range(n)],
                          n=[100.0] * n, e_inc_mean=e, mean90=[scale * 0.02 * x for x in e],
                          rms90=[0.2 / (i + 1) ** 0.5 * scale * 0.02 * x for i, x in enumerate(e)],
                          linearity=[scale * 0.02] * n, resolution=[0.2 / (i + 1) ** 0.5 for i in range(n)])


@IMAGE
def test_linearity_figure() -> Any:
    from caloforge.evaluation.plots.hits import linearity_figure

    fig = linearity_figure(_linearity(1.0), {"model": _linearity(1.1)})
    assert "mean90" in fig.axes[0].get_ylabel()
    return fig

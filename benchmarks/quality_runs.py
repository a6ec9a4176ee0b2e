"""What the quality benchmarks share: generating a model's showers for a reference's conditions, and
reading the two classifier tests of a sample back from the evaluation.

Imported by ``bench_flow_matching_quality.py`` and ``bench_quality_compute.py`` (run from the repository
root; the scripts' folder is on ``sys.path``).
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from caloforge.data import produce_to_file
from caloforge.evaluation.classifier import ClassifierResult
from caloforge.evaluation.results import SampleReport
from caloforge.models import GenerativeModel
from caloforge.sampling import ModelProducer, as_conditions

__all__ = ["classifier_pair", "generate_for"]


def generate_for(model: GenerativeModel, conditions: torch.Tensor, path: Path, seed: int) -> float:
    """Generates one shower per row of ``conditions`` into ``path`` (batch 1,000, CPU); returns wall
    ms/shower of generation and writing."""
    t0 = time.perf_counter()
    producer = ModelProducer(model=model, batch_size=1000, device="cpu")
    produce_to_file(producer, as_conditions(model, conditions[:, : model.n_conditions]), path, seed=seed,
                    overwrite=True)
    return (time.perf_counter() - t0) * 1e3 / len(conditions)


def classifier_pair(label: str, sample: SampleReport) -> tuple[ClassifierResult, ClassifierResult]:
    """The voxel (``low``) and high-level classifier results of ``sample``.

    Raises:
        SystemExit: A classifier test was skipped (too few showers?).
    """
    low, high = sample.classifier_result("low"), sample.classifier_result("high")
    if low is None or high is None:
        msg = f"{label}: a classifier test was skipped (too few showers?)"
        raise SystemExit(msg)
    return low, high

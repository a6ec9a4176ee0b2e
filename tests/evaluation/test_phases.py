"""The evaluation's progress bar: phases, ticks, and the classifier's epochs shown inside their phase."""

from __future__ import annotations

import numpy as np
import pytest

from caloforge.evaluation import ClassifierConfig, classifier_test
from caloforge.evaluation.phases import Phases, report_epoch


def test_epochs_show_on_the_bar_of_the_running_phase() -> None:
    phases = Phases(progress=True, total=2)
    seen: list[str] = []
    bar = phases._bar
    original = bar.set_postfix_str
    bar.set_postfix_str = lambda text, refresh=True: (seen.append(text), original(text, refresh=refresh))
    report_epoch(1, 5, 0.5)  # outside any phase: nowhere to show, no error
    with phases.phase("gen/classifier_low"):
        report_epoch(3, 5, 0.625)
    report_epoch(4, 5, 0.7)  # after the phase: not shown any more
    phases.close()
    assert "gen/classifier_low: epoch 3/5, accuracy 0.625" in seen
    assert not any("epoch 4/5" in text for text in seen)
    assert phases.done == 1


def test_classifier_reports_every_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    epochs: list[tuple[int, int]] = []
    monkeypatch.setattr("caloforge.evaluation.classifier.report_epoch", lambda e, n, acc: epochs.append((e, n)))
    rng = np.random.default_rng(0)
    config = ClassifierConfig(epochs=4, patience=None, hidden=(8,))
    classifier_test(rng.normal(size=(200, 3)), rng.normal(0.5, 1.0, size=(200, 3)), config)
    assert epochs[0] == (1, 4)
    assert [e for e, _ in epochs] == list(range(1, len(epochs) + 1))

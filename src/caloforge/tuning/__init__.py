"""Hyper-parameter optimisation on Optuna, behind ``caloforge tune --config tune.yaml``.

* :mod:`.config` — :class:`TuneConfig`: base run config, search space, objective, budget, pruner, storage.
* :mod:`.space` — the search space over ``--set``-style dotted config keys.
* :mod:`.pruning` — the trainer callback that reports one intermediate value per epoch to the pruner.
* :mod:`.score` — the fidelity objective (E_tot/E_inc separation power + fast classifier AUC).
* :mod:`.study` — the study in its storage (resume, several processes), the trial loop.
* :mod:`.tuner` — :func:`tune`: one training run per trial; :mod:`.report` — ``study.json``, ``best.yaml``,
  ``report.html``.

Optuna is the ``tune`` extra and is imported only when a study runs.
"""

from __future__ import annotations

from caloforge.tuning.config import BudgetConfig, ObjectiveConfig, PrunerConfig, TuneConfig, load_tune_config
from caloforge.tuning.pruning import PruningCallback
from caloforge.tuning.space import Param, parse_space
from caloforge.tuning.tuner import TrialScore, TuneResult, tune

__all__ = [
    "BudgetConfig",
    "ObjectiveConfig",
    "Param",
    "PrunerConfig",
    "PruningCallback",
    "TrialScore",
    "TuneConfig",
    "TuneResult",
    "load_tune_config",
    "parse_space",
    "tune",
]

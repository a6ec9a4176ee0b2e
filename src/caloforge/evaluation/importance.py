"""Permutation importance of a trained classifier: which input families tell generated from reference.

After the classifier test, the columns of one feature family (all of them together, e.g. every layer's
sparsity) are shuffled across the held-out validation showers, which keeps their joint distribution but
breaks their link to the label and to the other inputs. The drop ``AUC(original) − AUC(permuted)`` of
the raw network output says how much the classifier relied on that family: about 0 for a family the
generated sample reproduces, up to ``AUC − 0.5`` for the one that gives it away alone. There is no
retraining: one forward pass per family.

References:
    L. Breiman, "Random Forests", Machine Learning 45 (2001) 5 (permutation importance);
    A. Fisher, C. Rudin, F. Dominici, arXiv:1801.01489 (model reliance).

Example:
    >>> import numpy as np
    >>> class Toy:  # a "network" that only looks at column 0, which is the label
    ...     labels = np.arange(100) % 2.0
    ...     inputs = np.stack([labels, np.arange(100.0)], axis=1).astype(np.float32)
    ...     def scores(self, x=None):
    ...         return (self.inputs if x is None else x)[:, 0].astype(np.float64)
    >>> imp = permutation_importance(Toy(), {"a": slice(0, 1), "b": slice(1, 2)})
    >>> imp.auc, imp.auc_drop["b"], imp.auc_drop["a"] > 0.3, imp.ranking()[0][0]
    (1.0, 0.0, True, 'a')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from caloforge.evaluation.classifier import roc_auc

__all__ = ["ImportanceCollector", "PermutationImportance", "ScoredSplit", "permutation_importance"]


class ScoredSplit(Protocol):
    """What :func:`permutation_importance` needs (a :class:`~caloforge.evaluation.classifier.TrainedClassifier`)."""

    @property
    def inputs(self) -> NDArray[np.float32]:
        """Held-out inputs, (M, D)."""
        ...

    @property
    def labels(self) -> NDArray[np.float64]:
        """Their labels, (M,)."""
        ...

    def scores(self, inputs: NDArray[np.floating] | None = None) -> NDArray[np.float64]:
        """Classifier scores of ``inputs`` (default: the held-out inputs), (M,)."""
        ...


@dataclass(frozen=True)
class PermutationImportance:
    """AUC drop per permuted input family.

    Attributes:
        auc: ROC AUC of the raw classifier output on the held-out showers (mean over runs).
        n_events: Held-out showers (both classes) per run.
        auc_drop: Per family, ``AUC(original) − AUC(family permuted)`` (mean over runs).
        runs: Classifier runs averaged.
    """

    auc: float
    n_events: int
    auc_drop: dict[str, float] = field(default_factory=dict)
    runs: int = 1

    def ranking(self) -> list[tuple[str, float]]:
        """Families by decreasing AUC drop."""
        return sorted(self.auc_drop.items(), key=lambda item: -item[1])

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, with ``ranking`` (family names by decreasing drop)."""
        return {**asdict(self), "ranking": [name for name, _ in self.ranking()]}

    @staticmethod
    def mean(items: Sequence[PermutationImportance]) -> PermutationImportance:
        """The average of several runs (of one test with different seeds).

        Raises:
            ValueError: If ``items`` is empty.
        """
        if not items:
            msg = "no permutation importance to average"
            raise ValueError(msg)
        if len(items) == 1:
            return items[0]
        drops = {name: float(np.mean([it.auc_drop[name] for it in items])) for name in items[0].auc_drop}
        return PermutationImportance(float(np.mean([it.auc for it in items])), items[0].n_events, drops,
                                     sum(it.runs for it in items))


def permutation_importance(
    trained: ScoredSplit, groups: Mapping[str, slice | Sequence[int]], *, seed: int = 0
) -> PermutationImportance:
    """AUC drop of a trained classifier when each family's columns are shuffled together.

    Arguments:
        trained: Trained classifier with its held-out inputs and labels (see
            :func:`~caloforge.evaluation.classifier.classifier_test`'s ``on_trained``).
        groups: Columns of each family (e.g. :func:`~caloforge.evaluation.features.hlf_groups`).
        seed: Seed of the shuffles.

    Returns:
        The importance of every family, one forward pass each.
    """
    x = np.asarray(trained.inputs)
    labels = np.asarray(trained.labels)
    auc = roc_auc(labels, trained.scores())
    rng = np.random.default_rng(seed)
    drops = {}
    for name, columns in groups.items():
        shuffled = x.copy()
        order = rng.permutation(len(x))
        shuffled[:, columns] = x[order][:, columns]
        drops[name] = auc - roc_auc(labels, trained.scores(shuffled))
    return PermutationImportance(auc, len(x), drops)


class ImportanceCollector:
    """A ``classifier_test(..., on_trained=...)`` hook: permutation importance of every run, then their mean.

    Arguments:
        groups: Columns of each family (e.g. :func:`~caloforge.evaluation.features.hlf_groups`).
    """

    def __init__(self, groups: Mapping[str, slice | Sequence[int]]) -> None:
        self.groups = dict(groups)
        self.runs: list[PermutationImportance] = []

    def __call__(self, trained: ScoredSplit) -> None:
        """Scores one trained run (shuffles seeded by the run's seed, if it has one)."""
        self.runs.append(permutation_importance(trained, self.groups, seed=getattr(trained, "seed", 0)))

    def result(self) -> PermutationImportance | None:
        """The mean over the runs seen, ``None`` if the classifier did not run."""
        return PermutationImportance.mean(self.runs) if self.runs else None

"""The spread of the metrics of an ensemble: K generated samples of K independently seeded trainings.

A difference between two models is real when it exceeds the spread of either over training seeds
(:func:`~caloforge.training.train_ensemble`, ``caloforge train --seeds``), not only the statistical error
of one sample (:mod:`.uncertainty`). :func:`summarise_ensemble` reduces the members' :class:`SampleReport`
entries to mean ± standard deviation per metric (``"ensembles"`` in ``metrics.json``).

Example:
    >>> spread = MetricSpread.of([0.10, 0.12, 0.14])
    >>> round(spread.mean, 3), round(spread.std, 3), spread.n
    (0.12, 0.02, 3)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from caloforge.evaluation.results import SampleReport

__all__ = ["EnsembleSummary", "MetricSpread", "check_ensembles", "sample_metrics", "summarise_ensemble"]


@dataclass(frozen=True)
class MetricSpread:
    """One metric over the members of an ensemble.

    Attributes:
        mean: Mean over the members where it is finite (NaN if none).
        std: Their sample standard deviation (ddof = 1; NaN below 2 members).
        values: Per member, in member order (NaN where not computed).
        n: Members where it is finite.
    """

    mean: float
    std: float
    values: list[float]
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> MetricSpread:
        """The spread of ``values`` (non-finite ones are left out of mean and std)."""
        v = np.asarray(values, dtype=np.float64)
        finite = v[np.isfinite(v)]
        mean = float(finite.mean()) if finite.size else math.nan
        std = float(finite.std(ddof=1)) if finite.size >= 2 else math.nan
        return cls(mean, std, [float(x) for x in v], int(finite.size))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"mean": self.mean, "std": self.std, "n": self.n, "values": list(self.values)}


def sample_metrics(sample: SampleReport) -> dict[str, float]:
    """The headline metrics of one sample, by name (those not computed are left out).

    Names: ``separation_power_mean``, ``separation_power_max``, ``chi2_ndf_median``, ``fpd``, ``kpd``,
    ``auc_<kind>`` and ``jsd_<kind>`` per classifier input, ``separation_power/<family>`` per feature family.
    """
    s = sample.summary
    out = {"separation_power_mean": s.separation_power_mean, "separation_power_max": s.separation_power_max,
           "chi2_ndf_median": s.chi2_ndf_median}
    if sample.fpd is not None:
        out["fpd"] = sample.fpd.value
    if sample.kpd is not None:
        out["kpd"] = sample.kpd.value
    for kind in sample.classifier:
        result = sample.classifier_result(kind)
        if result is not None:
            out[f"auc_{kind}"], out[f"jsd_{kind}"] = result.auc, result.jsd
    out.update({f"separation_power/{f}": v for f, v in s.separation_power_by_family.items()})
    return out


@dataclass(frozen=True)
class EnsembleSummary:
    """Mean ± standard deviation of every headline metric over the members of one ensemble.

    Attributes:
        members: The generated-sample labels of the members.
        metrics: Per metric name (:func:`sample_metrics`), its spread.
    """

    members: list[str]
    metrics: dict[str, MetricSpread] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"members": list(self.members), "metrics": {n: m.to_dict() for n, m in self.metrics.items()}}


def summarise_ensemble(members: Mapping[str, SampleReport]) -> EnsembleSummary:
    """The spread of :func:`sample_metrics` over the member samples (by label)."""
    per_member = [sample_metrics(s) for s in members.values()]
    names = list(dict.fromkeys(n for m in per_member for n in m))
    metrics = {n: MetricSpread.of([m.get(n, math.nan) for m in per_member]) for n in names}
    return EnsembleSummary(list(members), metrics)


def check_ensembles(ensembles: Mapping[str, Sequence[str]], labels: Sequence[str]) -> dict[str, list[str]]:
    """Validated ensembles: each names at least 2 distinct generated labels.

    Raises:
        ValueError: An unknown or repeated member, fewer than 2 members, or a name used by a sample.
    """
    out = {}
    for name, members in ensembles.items():
        unknown = [m for m in members if m not in labels]
        if unknown:
            msg = f"ensemble {name!r}: unknown generated label(s) {', '.join(unknown)}; labels are: {', '.join(labels)}"
            raise ValueError(msg)
        if len(set(members)) != len(members) or len(members) < 2:
            msg = f"ensemble {name!r} needs at least 2 different members, got {', '.join(members) or 'none'}"
            raise ValueError(msg)
        if name in labels:
            msg = f"ensemble name {name!r} is also a generated label; name the ensemble otherwise"
            raise ValueError(msg)
        out[name] = list(members)
    return out

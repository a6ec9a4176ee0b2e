"""The one-line verdict per model at the top of ``report.html`` and of the pipeline's ``index.html``.

A model is judged by its most sensitive classifier AUC (the largest of the tests that ran; by the colour
rule of :mod:`.markup`: below 0.6 "hard to tell from the reference", above 0.8 "easily told apart",
"distinguishable" in between), else by its mean separation power. The best model (lowest AUC, else lowest
mean separation power) is highlighted. Each line names what gives the model away (the top feature
families and the most separating observables of the diagnosis) and a visible artefact where the numbers
show one (a deepest-layer or sparsity feature among the worst).

Example:
    >>> v = Verdict("vae", auc=0.93, auc_kind="low", separation=0.05, families=["sparsity"],
    ...             observables=[("sparsity_12", 0.41)])
    >>> "easily told apart" in verdict_html([v])
    True
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from caloforge.evaluation.plots import numbers
from caloforge.evaluation.plots.markup import AUC_BAD, AUC_GOOD, auc_span
from caloforge.evaluation.results import SampleReport

__all__ = ["Verdict", "best_label", "verdict_from_sample", "verdict_html", "verdict_text"]

_KIND = {"low": "voxels", "low-normed": "normalised voxels", "high": "high-level"}


@dataclass(frozen=True)
class Verdict:
    """What one model's line says.

    Attributes:
        label: The model's label.
        auc: Its most sensitive classifier AUC (``None``: no classifier ran).
        auc_kind: The inputs of that test (``"low"``, ``"low-normed"``, ``"high"``).
        separation: Mean separation power over all feature histograms.
        separation_err: Its bootstrap error.
        families: The feature families that give it away, worst first.
        observables: The most separating single observables with their separation powers.
        n_layers: Layers of the geometry (to spot deepest-layer artefacts; 0: unknown).
    """

    label: str
    auc: float | None = None
    auc_kind: str = ""
    separation: float | None = None
    separation_err: float | None = None
    families: list[str] = field(default_factory=list)
    observables: list[tuple[str, float]] = field(default_factory=list)
    n_layers: int = 0

    @property
    def score(self) -> float:
        """What the models are ranked by (lower is better)."""
        if self.auc is not None:
            return self.auc
        return self.separation if self.separation is not None else float("inf")


def verdict_from_sample(label: str, sample: SampleReport) -> Verdict:
    """The verdict inputs of one generated sample of an evaluation."""
    aucs = [(r.auc, k) for k in sample.classifier if (r := sample.classifier_result(k)) is not None]
    auc, kind = max(aucs) if aucs else (None, "")
    d = sample.diagnosis
    layers = [int(n.rsplit("_", 1)[1]) for n in sample.histograms if n.startswith("e_layer_")]
    s = sample.summary
    return Verdict(label, auc, kind, s.separation_power_mean, s.separation_power_mean_err,
                   [] if d is None else [f.family for f in d.top()],
                   [] if d is None else [(o.name, o.separation_power) for o in d.observables[:5]],
                   max(layers) + 1 if layers else 0)


def best_label(verdicts: Sequence[Verdict]) -> str | None:
    """The label of the best model (``None`` without a finite score)."""
    scored = [v for v in verdicts if v.score < float("inf")]
    return min(scored, key=lambda v: v.score).label if scored else None


def _judgement(v: Verdict) -> str:
    if v.auc is None:
        return "no classifier test"
    if v.auc < AUC_GOOD:
        return "hard to tell from the reference"
    return "easily told apart" if v.auc > AUC_BAD else "distinguishable"


def _artefact(v: Verdict) -> str:
    """A visible artefact the worst observables point to (empty if none)."""
    names = [n for n, _ in v.observables[:5]]
    deep = [n for n in names if v.n_layers and n.rsplit("_", 1)[-1].isdigit()
            and int(n.rsplit("_", 1)[-1]) >= 0.8 * v.n_layers]
    if deep:
        return f"a tail in the deepest layers ({deep[0]})"
    if any(n.startswith("sparsity") for n in names):
        return "a wrong number of hit voxels (sparsity)"
    if any(n.startswith(("width_r", "ec_r")) for n in names):
        return "a radial shape off (rings or width in the shower images)"
    return ""


def _parts(v: Verdict, auc: str) -> list[str]:
    parts = [f"AUC {auc} ({_KIND.get(v.auc_kind, v.auc_kind)}) — {_judgement(v)}" if v.auc is not None
             else _judgement(v)]
    if v.separation is not None:
        parts.append(f"mean separation power {numbers.pm(v.separation, v.separation_err)}")
    if v.families:
        parts.append("gives it away: " + ", ".join(v.families[:3]))
    if v.observables:
        parts.append("most separating: " + ", ".join(f"{n} ({numbers.num(s)})" for n, s in v.observables[:3]))
    if art := _artefact(v):
        parts.append(f"look for {art}")
    return parts


def verdict_text(v: Verdict, best: bool = False) -> str:
    """The verdict as one plain-text line (console)."""
    tag = " (best)" if best else ""
    return f"{v.label}{tag}: " + "; ".join(_parts(v, numbers.auc(v.auc)))


def verdict_html(verdicts: Sequence[Verdict]) -> str:
    """An HTML list, one line per model, the best one highlighted (empty string without models)."""
    if not verdicts:
        return ""
    best = best_label(verdicts) if len(verdicts) > 1 else None
    lines = []
    for v in verdicts:
        text = "; ".join(html.escape(p) for p in _parts(v, "\0")).replace("\0", auc_span(v.auc))
        name = f"<b>{html.escape(v.label)}</b>" + (" <mark>best</mark>" if v.label == best else "")
        style = ' class="best"' if v.label == best else ""
        lines.append(f"<li{style}>{name}: {text}</li>")
    return f'<ul class="verdict">{"".join(lines)}</ul>'

"""A model card drafted from a zoo entry: every number filled in from the manifest, prose left to the author.

The sections follow the template in ``docs/model-zoo.md``: data, preprocessing, training, metrics,
speed, limits and how to reproduce. Numbers come only from the entry (which took them from the
checkpoint and the evaluation report); the author completes the preprocessing and limits prose.

Example:
    >>> from caloforge.models.pretrained.entry import PretrainedModel, TrainingInfo, ZooMetrics
    >>> entry = PretrainedModel(
    ...     name="vae-toy", model="vae", family="vae", geometry="toy", particle="electron",
    ...     energy_range_gev=(1.0, 100.0), n_conditions=1, single_pass=True, steps=1,
    ...     training=TrainingInfo("toy showers", 1000, 10, 0.01, "caloforge train ..."),
    ...     metrics=ZooMetrics(0.61, 0.58, 0.02, "caloforge evaluate ..."), ms_per_shower=0.01,
    ...     card="docs/models/vae-toy.md", file="vae-toy.pt", sha256="0" * 64, size_bytes=1000)
    >>> render_card(entry).splitlines()[0]
    '# vae-toy — vae model card'
"""

from __future__ import annotations

from caloforge.models.pretrained.entry import PretrainedModel

__all__ = ["CARD_SECTIONS", "render_card"]

#: Section headings every model card has, in order.
CARD_SECTIONS = ("Data", "Preprocessing", "Training", "Metrics", "Speed", "Limits", "Reproduce")

_TODO = "<!-- author: complete this section -->"


def render_card(entry: PretrainedModel) -> str:
    """The Markdown model card of ``entry``, numbers filled in, prose sections marked for the author."""
    lo, hi = entry.energy_range_gev
    t, m = entry.training, entry.metrics
    sampler = f", default sampler `{entry.sampler.spec}`" if entry.sampler else ""
    angle = " and incidence angle" if entry.n_conditions == 2 else ""
    lines = [
        f"# {entry.name} — {entry.family} model card",
        "",
        entry.description or f"A `{entry.model}` model of {entry.particle} showers in the `{entry.geometry}` geometry.",
        "",
        "| | |",
        "|---|---|",
        f"| architecture | `{entry.model}` ({entry.family}) |",
        f"| geometry | `{entry.geometry}` |",
        f"| particle | {entry.particle}, {lo:g}–{hi:g} GeV |",
        f"| conditions | incident energy{angle} |",
        f"| network evaluations per shower | {entry.steps}{sampler} |",
        f"| weights | `{entry.file}`, {entry.size_bytes / 1e6:.2f} MB, sha256 `{entry.sha256}` |",
        f"| caloforge version | {entry.caloforge_version or 'unknown'} |",
        "",
        "## Data",
        "",
        f"{t.data}; {t.showers:,} training showers. The metrics below use a held-out split: {m.reference or _TODO}.",
        "",
        "## Preprocessing",
        "",
        "The fitted preprocessing is stored in the weights file (see the architecture's docstring). " + _TODO,
        "",
        "## Training",
        "",
        f"{t.steps:,} optimizer steps, {t.cpu_hours:g} CPU core hours:",
        "",
        "```sh",
        t.command,
        "```",
        "",
        "## Metrics",
        "",
        "| voxel classifier AUC | high-level classifier AUC | mean separation power |",
        "|---|---|---|",
        f"| {m.voxel_auc:.3f} | {m.high_level_auc:.3f} | {m.separation_power_mean:.4f} |",
        "",
        "An AUC of 0.5 means the classifier cannot tell generated from reference showers. Measured with:",
        "",
        "```sh",
        m.command,
        "```",
        "",
        "## Speed",
        "",
        f"{entry.ms_per_shower:.4g} ms per shower at batch size 1,000"
        + (f" ({entry.ms_per_shower_setup})." if entry.ms_per_shower_setup else "."),
        "",
        "## Limits",
        "",
        f"Trained for {entry.particle}s of {lo:g}–{hi:g} GeV in `{entry.geometry}` only; other energies "
        "extrapolate (generation warns). " + _TODO,
        "",
        "## Reproduce",
        "",
        "```sh",
        f"caloforge generate --pretrained {entry.name} --energies log-uniform:{lo:g}:{hi:g} --n 10000 -o {entry.name}.h5",
        "```",
        "",
    ]
    return "\n".join(lines)

"""A single self-contained HTML page for an :class:`~caloforge.evaluation.report.EvaluationReport`.

"What gives it away" comes first (per generated sample, the feature families that separate it from the
reference most, and the worst observable per incident-energy bin), then the summary table (one column
per generated sample, plus the reference-vs-reference baseline), warnings, figures (embedded as base64
PNG), per-family tables and the settings. A repeated classifier test (``repeats > 1``) shows its AUC
and JSD as mean ± standard deviation.

AUCs are coloured by the rule of :mod:`.markup`, which the pipeline's ``index.html`` shares.

Example:
    >>> from caloforge.evaluation.results import EvaluationReport, ReferenceInfo
    >>> html = render_html(EvaluationReport({"threshold_mev": 0.015}, ReferenceInfo("ref.h5", 10, "toy"), {}))
    >>> html.startswith("<!DOCTYPE html>") and "ref.h5" in html
    True
"""

from __future__ import annotations

import base64
import html as _html
import json
from collections.abc import Mapping

from caloforge.evaluation.classifier import ClassifierResult
from caloforge.evaluation.diagnosis import Diagnosis
from caloforge.evaluation.metrics import DistanceResult
from caloforge.evaluation.plots import numbers
from caloforge.evaluation.plots.markup import auc_span, fmt, table
from caloforge.evaluation.results import EvaluationReport

__all__ = ["render_html"]

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}.warn{background:#fff3cd;border:1px solid #e0c060;
padding:0.6em 1em;margin:1em 0}.good{color:#1a7f37}.bad{color:#b42318;font-weight:bold}figure{margin:1em 0}
img{max-width:100%}figcaption{font-weight:bold}details{margin:1em 0}code{background:#f4f4f4;padding:0 3px}
.cols{display:flex;flex-wrap:wrap;gap:0 2em}.verdict li{margin:.3em 0}.verdict li.best{background:#e8f5e9}
"""


def _pm(entry: DistanceResult | None) -> str:
    """FPD/KPD × 10³ ± its error (the header says × 10³)."""
    return "–" if entry is None else numbers.distance(entry.value, entry.error)


def _pe(value: float | None, error: float | None = None) -> str:
    """``value ± error`` (the bootstrap error, when computed; PDG rounding), else ``value``."""
    return numbers.pm(value, error)


def _auc_cell(result: ClassifierResult | None) -> str:
    if result is None:
        return "–"
    if result.repeats > 1:  # mean ± sample std over re-drawn splits
        return f"{auc_span(result.auc, result.auc_std)} / {numbers.jsd(result.jsd, result.jsd_std)}"
    return f"{auc_span(result.auc)} / {numbers.jsd(result.jsd)}"


def _summary_rows(report: EvaluationReport) -> list[tuple[str, list[str]]]:
    gens = report.generated
    base = report.baseline
    rows: list[tuple[str, list[str]]] = []

    def add(name: str, cells: list[str], baseline: str = "") -> None:
        rows.append((name, [*cells, baseline]))

    add("showers (invalid)", [f"{g.n_events} ({g.n_invalid})" for g in gens.values()],
        f"2 × {base.n_per_half}" if base else "")
    add("mean separation power", [_pe(g.summary.separation_power_mean, g.summary.separation_power_mean_err)
                                  for g in gens.values()],
        _pe(base.summary.separation_power_mean, base.summary.separation_power_mean_err) if base else "")
    add("max separation power (feature)",
        [f"{fmt(g.summary.separation_power_max)} ({_html.escape(g.summary.worst[0].name)})"
         if g.summary.worst else "–" for g in gens.values()],
        fmt(base.summary.separation_power_max) if base else "")
    add("median χ²/NDF", [_pe(g.summary.chi2_ndf_median, g.summary.chi2_ndf_median_err) for g in gens.values()],
        _pe(base.summary.chi2_ndf_median, base.summary.chi2_ndf_median_err) if base else "")
    add("FPD × 10³", [_pm(g.fpd) for g in gens.values()], _pm(base.fpd if base else None))
    add("KPD × 10³", [_pm(g.kpd) for g in gens.values()], _pm(base.kpd if base else None))
    kinds = sorted({k for g in gens.values() for k in g.classifier}, key=["low", "low-normed", "high"].index)
    for kind in kinds:
        add(f"classifier {kind}: AUC / JSD", [_auc_cell(g.classifier_result(kind)) for g in gens.values()])
    return rows


def _familytable(report: EvaluationReport) -> str:
    gens = report.generated
    families = sorted({f for g in gens.values() for f in g.summary.separation_power_by_family})
    rows = [(f, [_pe(g.summary.separation_power_by_family.get(f), g.summary.separation_power_by_family_err.get(f))
                 for g in gens.values()]) for f in families]
    return table(["feature family", *gens], rows)


def _response_details(report: EvaluationReport) -> str:
    """Per generated sample, response and resolution per incident-energy bin, ± their bootstrap errors."""
    parts = []
    for label, g in report.generated.items():
        r = g.response
        m_err = r.mean_bootstrap_err or r.mean_error
        s_err = r.resolution_bootstrap_err or r.resolution_error
        rows = [(f"{lo / 1e3:.3g}–{hi / 1e3:.3g}", [f"{n:.0f}", _pe(m, me), _pe(s, se)])
                for lo, hi, n, m, me, s, se in zip(r.e_low, r.e_high, r.n, r.mean, m_err, r.resolution, s_err, strict=True)]
        body = table(["E_inc [GeV]", "showers", "E_tot/E_inc", "σ/μ"], rows)
        parts.append(f"<details><summary>Response per energy bin — {_html.escape(label)}</summary>{body}</details>")
    return "".join(parts)


def _ensemble_section(report: EvaluationReport) -> list[str]:
    """Mean ± standard deviation of every metric over the members of each ensemble (seeded trainings)."""
    if not report.ensembles:
        return []
    names = list(dict.fromkeys(n for e in report.ensembles.values() for n in e.metrics))
    rows = [("members", [_html.escape(", ".join(e.members)) for e in report.ensembles.values()])]
    for name in names:
        cells = []
        for e in report.ensembles.values():
            m = e.metrics.get(name)
            cells.append("–" if m is None else _pe(m.mean, m.std))
        rows.append((_html.escape(name), cells))
    return ["<h2>Ensembles</h2>",
            ("<p>Mean ± standard deviation over the members (independently seeded trainings of one model): a "
             "difference between models smaller than this spread is training noise.</p>"),
            table(["metric", *map(_html.escape, report.ensembles)], rows)]


def _histogram_details(report: EvaluationReport) -> str:
    parts = []
    for label, g in report.generated.items():
        rows = [
            (name, [_pe(h.separation_power, h.separation_power_err), _pe(h.chi2_ndf, h.chi2_ndf_err), str(h.ndf),
                    fmt(h.p_value, 3),
                    fmt(h.outside_reference, 3), fmt(h.outside_generated, 3)])
            for name, h in g.histograms.items()
        ]
        body = table(["histogram", "separation power", "χ²/NDF", "NDF", "p-value", "outside (ref)", "outside (gen)"], rows)
        parts.append(f"<details><summary>All histograms — {_html.escape(label)}</summary>{body}</details>")
    return "".join(parts)


def _figures(images: Mapping[str, bytes]) -> str:
    from caloforge.evaluation.plots.figures import FIGURE_TITLES
    from caloforge.evaluation.plots.hits import HIT_FIGURE_TITLES

    titles = {**FIGURE_TITLES, **HIT_FIGURE_TITLES}
    out = []
    pages: dict[str, list[str]] = {}
    for name in images:  # further pages of a per-layer figure: linked, not embedded
        base, _, page = name.rpartition("_p")
        if base and page.isdigit():
            pages.setdefault(base, []).append(name)
    for name, png in images.items():
        if any(name in p for p in pages.values()):
            continue
        more = " ".join(f'<a href="plots/{_html.escape(p)}.png">page {p.rpartition("_p")[2]}</a>'
                        for p in pages.get(name, []))
        if more:
            out.append(f"<p>All layers — {_html.escape(titles.get(name, name))}: page 1 below, {more}</p>")
        data = base64.b64encode(png).decode("ascii")
        caption = _html.escape(titles.get(name, name))
        out.append(f'<figure><figcaption>{caption}</figcaption><img alt="{caption}" src="data:image/png;base64,{data}"></figure>')
    return "".join(out)


def _family_rows(diagnosis: Diagnosis) -> list[tuple[str, list[str]]]:
    rows = []
    for rank, fam in enumerate(diagnosis.families, start=1):
        worst = f"{_html.escape(fam.worst.name)} ({fmt(fam.worst.separation_power, 3)})"
        drop = "–" if fam.auc_drop is None else f"{fam.auc_drop:.3f}"
        rows.append((str(rank), [_html.escape(fam.family), fmt(fam.separation_power, 3), fmt(fam.noise_floor, 3),
                                 worst, drop]))
    return rows


def _giveaway_model(label: str, diagnosis: Diagnosis) -> str:
    top = ", ".join(_html.escape(f.family) for f in diagnosis.top())
    header = ["rank", "family", "separation power (mean)", "statistical floor", "worst member", "AUC drop"]
    singles = ", ".join(f"{_html.escape(o.name)} {fmt(o.separation_power, 3)}" for o in diagnosis.observables[:5])
    parts = [f"<div><h3>{_html.escape(label)}</h3><p>Gives it away: <b>{top or '–'}</b></p>",
             table(header, _family_rows(diagnosis)), f"<p>Most separating single observables: {singles or '–'}.</p>"]
    imp = diagnosis.importance
    if imp is not None:
        relies = ", ".join(f"{_html.escape(n)} {d:.3f}" for n, d in imp.ranking()[:3])
        runs = f", mean of {imp.runs} runs" if imp.runs > 1 else ""
        parts.append(f"<p>The classifier relies most on: <b>{relies}</b> (AUC drop; cls-high AUC {numbers.auc(imp.auc)}, "
                     f"raw output on {imp.n_events} held-out showers{runs}; e_inc is the incident energy).</p>")
    parts.append("</div>")
    return "".join(parts)


def _energy_bintable(diagnoses: Mapping[str, Diagnosis]) -> str:
    first = next(iter(diagnoses.values()))
    rows = []
    for b, row in enumerate(first.energy_bins):
        cells = [str(row.n_reference)]
        for diagnosis in diagnoses.values():
            this = diagnosis.energy_bins[b] if b < len(diagnosis.energy_bins) else None
            if this is None or this.worst is None:
                cells.append("too few showers" if this is not None else "–")
                continue
            cells.append(f"{_html.escape(this.worst.name)} {fmt(this.worst.separation_power, 3)} "
                         f"<small>(worst family: {_html.escape(str(this.worst_family))})</small>")
        rows.append((f"{row.e_low / 1e3:.3g}–{row.e_high / 1e3:.3g}", cells))
    return table(["E_inc [GeV]", "reference showers", *diagnoses], rows)


def _diagnosis_section(report: EvaluationReport) -> list[str]:
    diagnoses = report.diagnosis
    if not diagnoses:
        return []
    models = "".join(_giveaway_model(label, d) for label, d in diagnoses.items())
    least = max(d.min_showers for d in diagnoses.values())
    return [
        "<h2>What gives it away</h2>",
        ("<p>Feature families ranked by their mean separation power above the statistical floor (the value two "
         "samples of one distribution with these sizes and bins stay below in 99 % of cases; histograms with fewer "
         f"than {least} entries are not ranked). AUC drop: how far the high-level classifier's "
         "AUC falls towards 0.5 when all inputs of that family are shuffled across its held-out showers "
         "(permutation importance, no retraining).</p>"),
        f'<div class="cols">{models}</div>',
        "<h3>Worst observable per incident-energy bin</h3>",
        _energy_bintable(diagnoses),
    ]


def _verdict(report: EvaluationReport) -> str:
    from caloforge.evaluation.plots.verdict import verdict_from_sample, verdict_html

    lines = verdict_html([verdict_from_sample(label, g) for label, g in report.generated.items()])
    return f"<h2>Verdict</h2>{lines}" if lines else ""


def _clipped_note(report: EvaluationReport) -> str:
    negative = any(r.jsd < 0 for g in report.generated.values() for k in g.classifier
                   if (r := g.classifier_result(k)) is not None)
    return f" {numbers.CLIPPED_NOTE}" if negative else ""


def _size(n: int) -> str:
    return f"{numbers.num(n / 2**20)} MiB" if n >= 2**20 else f"{numbers.num(n / 2**10)} KiB"


def _provenance(report: EvaluationReport) -> str:
    """caloforge version, date, command line and every input file (size, showers, SHA-256 prefix, attributes)."""
    p = report.provenance
    if p is None:
        return ""
    rows = []
    for label, f in p.files.items():
        attrs = ", ".join(f"{k}={v}" for k, v in f.attrs.items() if k not in {"geometry_name", "source_format"})
        rows.append((label, [f"<code>{_html.escape(f.path)}</code>", _size(f.size_bytes), str(f.n_events),
                             f"<code>{f.sha256}</code>" if f.sha256 else "not hashed (large file)",
                             _html.escape(attrs) or "–"]))
    command = _html.escape(" ".join(p.command)) or "–"
    return "".join([
        "<h2>Provenance</h2>",
        (f"<p>caloforge {_html.escape(p.caloforge_version)} · {_html.escape(p.created_utc)} · "
         f"{_html.escape(p.python)} · evaluation seed {p.seed}<br>command: <code>{command}</code></p>"),
        table(["file", "path", "size", "showers", "SHA-256 (first 16 hex)",
               "stored attributes (generator, seed, checkpoint/pretrained, sampler, ...)"], rows),
    ])


def render_html(report: EvaluationReport, images: Mapping[str, bytes] | None = None) -> str:
    """The report as one HTML string with embedded figures.

    Arguments:
        report: The evaluation's numbers.
        images: PNG bytes by figure name.
    """
    settings = report.settings
    ref = report.reference
    header = ["", *report.generated, "reference vs reference" if report.baseline else ""]
    flags = "".join(f"<li>{_html.escape(f)}</li>" for f in report.flags)
    cls = settings.get("classifier_settings") or {}
    repeats = cls.get("repeats", 1)
    spread = f" Classifier scores are mean ± standard deviation over {repeats} re-drawn splits." if repeats > 1 else ""
    n_boot = settings.get("bootstrap") or 0
    if n_boot:
        spread += (f" Separation powers and χ²/NDF: value ± standard deviation over {n_boot} bootstrap resamplings of "
                   "both samples; FPD/KPD ± the error of their own batches.")
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>caloforge evaluation</title>",
        f"<style>{_STYLE}</style></head><body><h1>caloforge evaluation</h1>",
        (f"<p>Reference <code>{_html.escape(ref.path)}</code> ({ref.n_events} showers, geometry "
         f"{_html.escape(ref.geometry)}), voxel threshold {fmt(settings.get('threshold_mev'))} MeV, "
         f"classifier recipe <b>{_html.escape(str(cls.get('recipe', 'none')))}</b>, FPD/KPD preset "
         f"<b>{_html.escape(str(settings.get('distances')))}</b>.</p>"),
        _verdict(report),
        *_diagnosis_section(report),
        "<h2>Summary</h2>",
        table(header, _summary_rows(report)) if report.generated else "<p>No generated samples.</p>",
        ("<p>Separation power: 0 identical, 1 disjoint (CaloChallenge 'hist-chi' numbers). χ²/NDF: two-histogram "
         "test with statistical errors (≈ 1 for statistically compatible samples). Classifier: ROC AUC / JSD after "
         f"isotonic calibration on held-out data (0.5 / 0 = indistinguishable).{spread}{_clipped_note(report)}</p>"),
    ]
    parts += _ensemble_section(report)
    if flags:
        parts.append(f'<div class="warn"><b>Warnings</b><ul>{flags}</ul></div>')
    from caloforge.evaluation.plots.weights import reweighting_section

    parts.append(reweighting_section(report))  # empty unless a generated file has weights
    if report.generated:
        parts += ["<h2>Separation power by feature family (mean)</h2>", _familytable(report)]
    from caloforge.evaluation.plots.angles import angle_section

    parts += angle_section(report)  # empty unless the reference has angles
    from caloforge.evaluation.plots.hits import hits_section

    hit_level = hits_section(report, images or {}, _figures)  # the hits_* figures are shown there
    images = {k: v for k, v in (images or {}).items() if not k.startswith("hits_")}
    if images:
        parts += ["<h2>Figures</h2>", _figures(images)]
    parts += hit_level
    if report.generated:
        parts += ["<h2>Every histogram</h2>", _histogram_details(report), _response_details(report)]
    parts.append(_provenance(report))
    parts.append("<h2>Settings</h2><pre>" + _html.escape(json.dumps(settings, indent=2, default=str)) + "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)

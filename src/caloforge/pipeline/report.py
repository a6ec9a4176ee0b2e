"""The run's ``index.html``: stage table, model comparison and links to every stage output.

The page is self-contained HTML with relative links, so the run directory can be copied or served as is.
The comparison table reads the stage infos: classifier AUC (low- and high-level inputs; mean ± std when
the evaluation settings repeat the classifier test, ``classifier_repeats``), mean and worst
separation power, FPD/KPD, training time, generation time per shower (PyTorch and ONNX Runtime) and the
speed-up over the reference simulation time. Numbers and AUC colours come from the evaluation's HTML
helper (:mod:`caloforge.evaluation.plots.markup`), so both pages colour an AUC by one rule.

Example:
    >>> speedup(127.3, 0.5)
    254.6
"""

from __future__ import annotations

import functools
import html
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from caloforge import __version__
from caloforge.atomic import atomic_write_text
from caloforge.evaluation.plots import numbers
from caloforge.evaluation.plots.markup import auc_span, fmt
from caloforge.evaluation.plots.verdict import Verdict, verdict_html
from caloforge.pipeline.config import PipelineConfig
from caloforge.pipeline.runner import StageResult

__all__ = ["comparison_rows", "speedup", "summary_line", "verdicts", "write_index"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:72em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.good{color:#070}.bad{color:#b00}
.skipped{color:#888}.verdict li.best{background:#e8f5e9}img{max-width:32%;margin:.2em;border:1px solid #ddd}code{background:#f6f6f6}
"""
_LINKS = (
    '<p>Full evaluation: <a href="evaluate/report.html">evaluate/report.html</a> · numbers: '
    '<a href="evaluate/metrics.json">metrics.json</a>, <a href="summary.json">summary.json</a> · '
    '<a href="config.yaml">config.yaml</a></p>'
)


def speedup(reference_ms: float, ms: float | None) -> float | None:
    """``reference_ms / ms`` rounded to 4 significant digits (``None`` without a time)."""
    if ms is None or not ms > 0:
        return None
    value = reference_ms / ms
    return float(f"{value:.4g}")


_fmt = functools.partial(fmt, digits=3)


def comparison_rows(config: PipelineConfig, results: Mapping[str, StageResult]) -> list[dict[str, Any]]:
    """One dict per model with every number of the comparison table (also written to ``summary.json``)."""
    evaluation = results["evaluate"].info.get("models", {}) if "evaluate" in results else {}
    rows = []
    for spec in config.models:
        label = spec.label
        train = results.get(f"train/{label}")
        gen = results.get(f"generate/{label}")
        bench = results.get(f"bench/{label}")
        ms_torch = bench.info.get("torch_ms_per_shower") if bench else None
        if ms_torch is None and gen is not None:
            ms_torch = gen.info.get("ms_per_shower_with_io")
        ms_onnx = bench.info.get("onnx_ms_per_shower") if bench else None
        best = min((m for m in (ms_torch, ms_onnx) if m is not None), default=None)
        rows.append({
            "label": label,
            "model": spec.name,
            **evaluation.get(label, {}),
            "train_seconds": train.info.get("train_seconds") if train else None,
            "n_parameters": train.info.get("n_parameters") if train else None,
            "torch_ms_per_shower": ms_torch,
            "onnx_ms_per_shower": ms_onnx,
            "speedup": speedup(config.reference_ms_per_shower, best),
            "speedup_reference": {"ms_per_shower": config.reference_ms_per_shower, "name": config.reference_name,
                                  "source": config.reference_source},
        })
    return rows


def verdicts(rows: Sequence[Mapping[str, Any]]) -> list[Verdict]:
    """The verdict inputs of every model row (see :mod:`caloforge.evaluation.plots.verdict`)."""
    return [Verdict(r["label"], r.get("verdict_auc"), r.get("verdict_auc_kind") or "",
                    r.get("separation_power_mean"), r.get("separation_power_mean_err"),
                    list(r.get("gives_away") or []), [(str(n), float(s)) for n, s in r.get("observables") or []],
                    int(r.get("n_layers") or 0)) for r in rows]


def summary_line(row: Mapping[str, Any]) -> str:
    """One model's line of the ``caloforge run`` summary, by the report's number rule."""
    return (f"{row['label']}: classifier AUC {numbers.auc(row.get('auc_low'))} (voxels) / "
            f"{numbers.auc(row.get('auc_high'))} (high-level), mean separation power "
            f"{numbers.pm(row.get('separation_power_mean'), row.get('separation_power_mean_err'))}, "
            f"{_fmt(row.get('torch_ms_per_shower'))} ms/shower, trained in {numbers.duration(row.get('train_seconds'))}")


def _comparison_table(config: PipelineConfig, rows: Sequence[Mapping[str, Any]], baseline: Mapping[str, Any]) -> str:
    head = [
        "model", "AUC (voxels)", "AUC (high-level)", "mean sep. power", "worst feature (sep.)", "FPD × 10³",
        "KPD × 10³", "train time", "ms/shower torch", "ms/shower ONNX", f"speed-up vs {config.reference_name}",
    ]
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>"]
    for r in rows:
        cells = [
            f"{html.escape(r['label'])} ({html.escape(r['model'])})", auc_span(r.get("auc_low"), r.get("auc_low_std")),
            auc_span(r.get("auc_high"), r.get("auc_high_std")),
            _fmt(r.get("separation_power_mean")),
            f"{_fmt(r.get('worst_feature'))} ({_fmt(r.get('separation_power_max'))})",
            numbers.distance(r.get("fpd"), r.get("fpd_err")), numbers.distance(r.get("kpd"), r.get("kpd_err")),
            numbers.duration(r.get("train_seconds")),
            _fmt(r.get("torch_ms_per_shower")), _fmt(r.get("onnx_ms_per_shower")),
            "–" if r.get("speedup") is None else f"×{_fmt(r['speedup'])}",
        ]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    if baseline:
        cells = ["reference vs reference (two halves)", "0.5 ideal", "0.5 ideal",
                 _fmt(baseline.get("separation_power_mean")), "",
                 numbers.distance(baseline.get("fpd"), baseline.get("fpd_err")),
                 numbers.distance(baseline.get("kpd"), baseline.get("kpd_err")), "", "", "", ""]
        out.append('<tr class="skipped">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _stage_table(run_dir: Path, results: Mapping[str, StageResult]) -> str:
    out = ["<table><tr><th>stage</th><th>status</th><th>time (s)</th><th>outputs</th></tr>"]
    for name, r in results.items():
        status = '<span class="skipped">up to date</span>' if r.skipped else "ran"
        if r.info.get("stop_reason") == "wall-clock limit":  # a training stage cut by train.max_wall_s
            status += (f' <span class="bad">(cut by its {r.info.get("max_wall_s") or 0:.0f} s budget after '
                       f'{r.info.get("steps")} of {r.info.get("planned_steps")} steps)</span>')
        if r.error is not None:
            status = f'<span class="bad">failed: {html.escape(r.error[:300])}</span>'
        links = " ".join(
            f'<a href="{html.escape(str((r.directory / o).relative_to(run_dir)))}">{html.escape(o)}</a>'
            for o in r.outputs
        )
        out.append(f"<tr><td>{html.escape(name)}</td><td>{status}</td><td>{r.seconds:.1f}</td><td>{links}</td></tr>")
    out.append("</table>")
    return "\n".join(out)


def _figures(run_dir: Path, results: Mapping[str, StageResult], limit: int = 6) -> str:
    if "evaluate" not in results:
        return ""
    pngs = sorted((results["evaluate"].directory / "plots").rglob("*.png"))
    preferred = [p for p in pngs if any(k in p.name for k in ("response", "energy", "layer", "radial", "average"))]
    chosen = (preferred + [p for p in pngs if p not in preferred])[:limit]
    imgs = "".join(
        f'<a href="{html.escape(str(p.relative_to(run_dir)))}"><img src="{html.escape(str(p.relative_to(run_dir)))}" '
        f'alt="{html.escape(p.stem)}"></a>'
        for p in chosen
    )
    return f"<h2>Selected figures</h2><p>{imgs}</p>" if imgs else ""


def _angle_table(results: Mapping[str, StageResult]) -> str:
    """Per-angle validation (θ bins of the reference): showers, response, response separation and AUC per model."""
    by = results["evaluate"].info.get("by_angle") if "evaluate" in results else None
    if not by:
        return ""
    models: dict[str, Any] = by.get("models", {})
    kinds = list(dict.fromkeys(k for m in models.values() for k in m.get("auc", {})))
    head = ["θ bin", "reference showers", "reference E_tot/E_inc"]
    for label in models:
        head += [f"{label} E_tot/E_inc", f"{label} response sep.", *(f"{label} AUC {k}" for k in kinds)]
    rows = []
    for b, name in enumerate(by.get("labels", [])):
        cells = [html.escape(str(name)), _fmt(by["n_reference"][b]), fmt(by["response_reference"][b], 4)]
        for m in models.values():
            aucs = [m.get("auc", {}).get(k, [None] * (b + 1))[b] for k in kinds]
            cells += [fmt(m["response_mean"][b], 4), fmt(m["response_separation"][b], 3),
                      *(auc_span(a) if a is not None else "–" for a in aucs)]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return ("<h2>Validation by incidence angle</h2><p>θ from the layer normal (0° = head-on; Par04's polar angle "
            "is 90° − θ). Each bin's classifier is trained on that bin's showers alone; the figures are in "
            "the evaluation report.</p>" + f"<table><tr>{header}</tr>{''.join(rows)}</table>")


_HIT_COLUMNS = {"n_hits": "hits", "e_vis": "visible E", "cell_energy": "cell spectrum", "start_layer": "start layer",
                "cog_z": "CoG z", "r_rms": "radial rms"}


def _hits_table(config: PipelineConfig, results: Mapping[str, StageResult]) -> str:
    """Hit-level validation per model: separation powers of the DESY observables, mean hits and visible energy."""
    found = results["evaluate"].info.get("hits") if "evaluate" in results else None
    if not found:
        return ""
    hits = {m.label: found[m.label] for m in config.models if m.label in found}  # in the config's order
    first = next(iter(hits.values()))
    keys = [k for k in _HIT_COLUMNS if k in first.get("separation", {})]
    head = ["model", *(f"sep. {_HIT_COLUMNS[k]}" for k in keys), "mean sep.", "hits (ref / gen)",
            "visible E, MeV (ref / gen)"]
    rows = []
    for label, h in hits.items():
        ref, gen = h.get("means", {}).get("reference", {}), h.get("means", {}).get("generated", {})
        cells = [html.escape(label), *(fmt(h["separation"].get(k), 3) for k in keys), fmt(h.get("separation_mean"), 3),
                 f"{fmt(ref.get('n_hits'), 4)} / {fmt(gen.get('n_hits'), 4)}",
                 f"{fmt(ref.get('e_vis'), 4)} / {fmt(gen.get('e_vis'), 4)}"]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    header = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    mip = first.get("mip_mev")
    where = f"½ MIP = {fmt(first.get('threshold_mev'), 3)} MeV" if mip else f"{fmt(first.get('threshold_mev'), 3)} MeV"
    return (f"<h2>Hit level</h2><p>Cells above the threshold ({where}) are hits. Separation power of each "
            "observable's histogram (0 = identical, 1 = disjoint); the figures (cell spectrum with the MIP peak, "
            "linearity and resolution from mean90 / rms90, moment correlations) are in the evaluation report.</p>"
            f"<table><tr>{header}</tr>{''.join(rows)}</table>")


def write_index(config: PipelineConfig, run_dir: Path, results: Mapping[str, StageResult], seconds: float) -> Path:
    """Writes ``run_dir/index.html`` and returns its path."""
    rows = comparison_rows(config, results)
    data = results["data"].info if "data" in results else {}
    baseline = results["evaluate"].info.get("baseline", {}) if "evaluate" in results else {}
    flags = results["evaluate"].info.get("flags", []) if "evaluate" in results else []
    sim = data.get("simulator_ms_per_shower")
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(config.name)}</title>",
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(config.name)}</h1>",
        (
            f"<p>caloforge {html.escape(__version__)} · finished {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
            f" · pipeline time {seconds:.0f} s (this invocation) · geometry {_fmt(data.get('geometry'))} · "
            f"{_fmt(data.get('n_train'))} training / {_fmt(data.get('n_reference'))} reference showers</p>"
        ),
        "<h2>Verdict</h2>" + verdict_html(verdicts(rows)) if rows else "",
        "<h2>Model comparison</h2>",
        _comparison_table(config, rows, baseline),
        "<p>AUC: classifier separating generated from reference showers (0.5 = indistinguishable, 1 = "
        "perfectly separable). Separation power: CaloChallenge definition, mean over all feature histograms. "
        f"Speed-up: {html.escape(config.reference_name)} at {_fmt(config.reference_ms_per_shower)} ms/shower "
        f"(source: {html.escape(config.reference_source)}; set <code>reference_ms_per_shower</code>, "
        "<code>reference_name</code> and <code>reference_source</code> in the config) divided "
        "by the fastest measured generation time per shower (batched, this machine). Train time: wall clock. "
        "FPD and KPD are shown × 10³ ± their batch errors."
        + (f" The built-in GFlash simulator that produced the data took {_fmt(sim)} ms/shower here." if sim else "")
        + "</p>",
        _angle_table(results),
        _hits_table(config, results),
        _LINKS if "evaluate" in results else "",
        "".join(f"<p class='bad'>⚠ {html.escape(f)}</p>" for f in flags),
        _figures(run_dir, results),
        "<h2>Stages</h2>",
        _stage_table(run_dir, results),
        "</body></html>",
    ]
    path = run_dir / "index.html"
    atomic_write_text(path, "\n".join(p for p in parts if p))
    return path

"""The pipeline stages: data → train → generate → evaluate → export → bench, each into its own directory.

Every stage function takes the :class:`~caloforge.pipeline.runner.PipelineContext`, declares the settings
and upstream stages that determine its outputs, and calls the library function that does the work
(:func:`~caloforge.distributed.produce_sharded` with the simulator or the trained model as the producer,
:class:`~caloforge.training.Trainer`, :func:`~caloforge.evaluation.evaluate`,
:func:`~caloforge.export.export_onnx`, the generation benchmark).
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caloforge.config import from_dict, to_dict
from caloforge.data import ShowerFile
from caloforge.pipeline.config import PipelineModel
from caloforge.pipeline.runner import PipelineContext, StageResult
from caloforge.pipeline.stamp import file_signature

if TYPE_CHECKING:
    from caloforge.data import Conditions
    from caloforge.evaluation import BaselineReport, SampleReport
    from caloforge.evaluation.angles import AngleReport
    from caloforge.evaluation.hit_comparison import HitsReport
    from caloforge.pipeline.config import DataConfig

__all__ = ["data_stage", "evaluate_stage", "export_stage", "generate_stage", "train_stage"]

logger = logging.getLogger(__name__)


def data_stage(ctx: PipelineContext) -> StageResult:
    """Simulates the training and reference files (or records the given ones) in ``data/``."""
    cfg = ctx.config.data
    if cfg.source == "file":
        # PipelineConfig checks that both files are set.
        train, ref = ctx.config.resolve(cfg.train_file or ""), ctx.config.resolve(cfg.reference_file or "")
        settings = {"train": file_signature(train), "reference": file_signature(ref)}

        def record(directory: Path) -> tuple[list[str], dict[str, Any]]:
            del directory
            with ShowerFile(train) as f_train, ShowerFile(ref) as f_ref:
                if not f_train.geometry.same_binning(f_ref.geometry):
                    msg = f"{train} and {ref} have different geometries"
                    raise ValueError(msg)
                info = {"n_train": len(f_train), "n_reference": len(f_ref), "geometry": f_ref.geometry.name}
            return [], {**info, "train": str(train.resolve()), "reference": str(ref.resolve())}

        return ctx.run_stage("data", settings, [], record)

    def simulate(directory: Path) -> tuple[list[str], dict[str, Any]]:
        from caloforge.distributed import cluster, produce_sharded
        from caloforge.simulate import GFlashProducer

        producer = GFlashProducer(cfg.geometry, frame=None if cfg.angle is None else cfg.frame, particle=cfg.particle)
        runs = []
        with cluster(cfg.workers) as client:
            for name, n, seed in (("train.h5", cfg.n_train, cfg.seed), ("reference.h5", cfg.n_reference, cfg.seed + 1)):
                conditions, attrs = _simulation_conditions(cfg, n, seed)
                runs.append(produce_sharded(
                    producer, conditions, directory / name, seed=seed, shard_size=cfg.shard_size, client=client,
                    progress=ctx.progress, attrs=attrs,
                ))
        train, ref = runs
        ms = 1e3 * (train.seconds + ref.seconds) / (train.n + ref.n)
        info = {
            "n_train": train.n, "n_reference": ref.n, "geometry": cfg.geometry,
            "train": str(train.path), "reference": str(ref.path), "simulator_ms_per_shower": ms,
        }
        return ["train.h5", "reference.h5"], info

    result = ctx.run_stage("data", cfg.stage_settings(), [], simulate)
    if result.skipped:  # the run directory may have moved since
        info = {**result.info, "train": str(result.path("train.h5")), "reference": str(result.path("reference.h5"))}
        result = dataclasses.replace(result, info=info)
        ctx.results["data"] = result
    return result


def _simulation_conditions(cfg: DataConfig, n: int, seed: int) -> tuple[Conditions, dict[str, str]]:
    """Energies from the spec (as without angles) and, with ``cfg.angle``, angles from a stream of their own."""
    import numpy as np

    from caloforge.data import Conditions

    conditions = Conditions.from_spec(cfg.energy, n, seed)
    if cfg.angle is None:
        return conditions, {"energy_spec": conditions.source}
    from caloforge.simulate.angle_spec import parse_angle_spec

    spec = parse_angle_spec(cfg.angle, option="data.angle")
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[2])  # as caloforge simulate --angle
    angles = spec.sample(n, rng)
    attrs = {"energy_spec": conditions.source, "angle_spec": spec.text, "frame": cfg.frame}
    return dataclasses.replace(conditions, angles=angles), attrs


def train_stage(ctx: PipelineContext, spec: PipelineModel) -> StageResult:
    """Trains one model on ``data``'s training file into ``train/<label>/`` (via the trainer's ``train_run``)."""
    settings = {"model": to_dict(spec)}

    def train(directory: Path) -> tuple[list[str], dict[str, Any]]:
        from caloforge.models import load_model, save_model
        from caloforge.training import run_config_from_dict, train_run

        run_config = run_config_from_dict({
            "model": {"name": spec.name, "config": to_dict(spec.config)},
            "data": {"path": ctx.results["data"].info["train"]},
            "train": {"seed": spec.seed, "progress": ctx.progress, **spec.train},
            "out": str(directory),
        })
        result = train_run(run_config)
        if result.checkpoint is None:
            msg = f"training {spec.label} wrote no checkpoint"
            raise RuntimeError(msg)
        model = load_model(result.checkpoint)  # the EMA weights when the run kept them
        save_model(model, directory / "model.pt")
        info = {
            "model": spec.name, "steps": result.steps, "epochs": result.epochs, "train_seconds": result.seconds,
            "showers_per_second": result.showers_per_second, "val_metrics": result.val_metrics,
            "n_parameters": sum(p.numel() for p in model.parameters()),
            "planned_steps": result.planned_steps, "stop_reason": result.stop_reason,
            "max_wall_s": spec.train.get("max_wall_s"),
        }
        return ["model.pt"], info

    budget = spec.train.get("max_wall_s")
    return ctx.run_stage(f"train/{spec.label}", settings, ["data"], train, budget_s=budget)


def generate_stage(ctx: PipelineContext, spec: PipelineModel) -> StageResult:
    """Generates one shower per reference energy with the trained model into ``generate/<label>/``."""
    cfg = ctx.config.generate

    def generate(directory: Path) -> tuple[list[str], dict[str, Any]]:
        from caloforge.data import Conditions
        from caloforge.distributed import cluster, produce_sharded
        from caloforge.sampling import ModelProducer

        # the reference's energies (and angles: an energy-only model's producer drops them)
        conditions = Conditions.from_file(ctx.results["data"].info["reference"])
        checkpoint = ctx.results[f"train/{spec.label}"].path("model.pt")
        producer = ModelProducer(
            checkpoint, batch_size=cfg.batch_size, device="cpu", threads=1 if cfg.workers > 1 else None
        )
        with cluster(cfg.workers) as client:
            run = produce_sharded(
                producer, conditions, directory / "showers.h5", seed=cfg.seed, shard_size=cfg.shard_size,
                client=client, progress=ctx.progress, attrs={"checkpoint": checkpoint.name},
            )
        info = {"n": run.n, "seconds": run.seconds, "ms_per_shower_with_io": 1e3 / run.showers_per_second}
        return ["showers.h5"], info

    return ctx.run_stage(f"generate/{spec.label}", to_dict(cfg), ["data", f"train/{spec.label}"], generate)


def _summary(sample: SampleReport) -> dict[str, Any]:
    """The comparison-table numbers of one generated sample (the stage info the index page reads).

    A repeated classifier test (``classifier_repeats > 1``) adds ``auc_low_std``/``auc_high_std``.
    """
    low, high = sample.classifier_result("low"), sample.classifier_result("high")
    out: dict[str, Any] = {
        "auc_low": None if low is None else low.auc,
        "auc_high": None if high is None else high.auc,
        "separation_power_mean": _finite(sample.summary.separation_power_mean),
        "separation_power_max": _finite(sample.summary.separation_power_max),
        "worst_feature": sample.summary.worst_name,
        "fpd": None if sample.fpd is None else _finite(sample.fpd.value),
        "kpd": None if sample.kpd is None else _finite(sample.kpd.value),
        "fpd_err": None if sample.fpd is None else _finite(sample.fpd.error),
        "kpd_err": None if sample.kpd is None else _finite(sample.kpd.error),
    }
    for kind, result in (("low", low), ("high", high)):
        if result is not None and result.repeats > 1:
            out[f"auc_{kind}_std"] = result.auc_std
    from caloforge.evaluation.plots.verdict import verdict_from_sample

    v = verdict_from_sample("", sample)  # what the index page's verdict line names
    out.update({"separation_power_mean_err": _finite(sample.summary.separation_power_mean_err),
                "verdict_auc": v.auc, "verdict_auc_kind": v.auc_kind, "gives_away": v.families,
                "observables": [[n, sp] for n, sp in v.observables], "n_layers": v.n_layers})
    return out


def _finite(value: float) -> float | None:
    """``value``, or ``None`` for NaN and inf (as ``metrics.json`` writes them)."""
    return value if math.isfinite(value) else None


def _baseline_info(baseline: BaselineReport) -> dict[str, Any]:
    return {
        "separation_power_mean": _finite(baseline.summary.separation_power_mean),
        "fpd": None if baseline.fpd is None else _finite(baseline.fpd.value),
        "kpd": None if baseline.kpd is None else _finite(baseline.kpd.value),
        "fpd_err": None if baseline.fpd is None else _finite(baseline.fpd.error),
        "kpd_err": None if baseline.kpd is None else _finite(baseline.kpd.error),
    }


def _by_angle_info(by: AngleReport) -> dict[str, Any]:
    """Per angle bin, the reference's and each model's showers, response, response separation and AUCs."""
    models = {
        label: {"n": s.n, "response_mean": [_finite(v) for v in s.response_mean],
                "response_separation": [_finite(v) for v in s.response_separation],
                "auc": {k: [_finite(v) for v in aucs] for k, aucs in s.classifier_auc.items()}}
        for label, s in by.generated.items()
    }
    return {"labels": by.labels, "n_reference": by.reference.n,
            "response_reference": [_finite(v) for v in by.reference.response_mean], "models": models}


def _hits_info(hits: HitsReport) -> dict[str, Any]:
    """A sample's hit-level separation powers, mean hits and visible energy (reference and generated)."""
    keys = ("n_hits", "e_vis", "cell_energy", "start_layer", "cog_z", "r_rms")
    return {
        "threshold_mev": hits.threshold.mev, "mip_mev": hits.threshold.mip_mev,
        "separation": {k: _finite(hits.histograms[k].separation_power) for k in keys if k in hits.histograms},
        "separation_mean": _finite(hits.separation_power_mean),
        "means": {side: {k: _finite(v) for k, v in values.items() if k in ("n_hits", "e_vis")}
                  for side, values in hits.means.items()},
    }


def evaluate_stage(ctx: PipelineContext) -> StageResult:
    """Evaluates every generated sample against the reference in ``evaluate/`` (one HTML report)."""
    labels = [m.label for m in ctx.config.models]
    settings = dict(ctx.config.evaluate.settings)

    def evaluate(directory: Path) -> tuple[list[str], dict[str, Any]]:
        from caloforge.evaluation import EvaluationConfig, evaluate

        config = from_dict(EvaluationConfig, {**settings, "progress": ctx.progress}, where="evaluate.settings")
        generated = {label: ctx.results[f"generate/{label}"].path("showers.h5") for label in labels}
        report = evaluate(ctx.results["data"].info["reference"], generated, directory, config, force=True)
        info: dict[str, Any] = {"models": {label: _summary(report.generated[label]) for label in labels}}
        if report.baseline is not None:
            info["baseline"] = _baseline_info(report.baseline)
        if report.by_angle is not None:
            info["by_angle"] = _by_angle_info(report.by_angle)
        hits = {label: _hits_info(s.hits) for label, s in report.generated.items() if s.hits is not None}
        if hits:
            info["hits"] = hits
        info["flags"] = list(report.flags)
        return ["report.html", "metrics.json"], info

    upstream = ["data", *(f"generate/{label}" for label in labels)]
    return ctx.run_stage("evaluate", settings, upstream, evaluate)


def export_stage(ctx: PipelineContext, spec: PipelineModel) -> StageResult:
    """Exports the trained model to ONNX (with the ONNX Runtime parity check) in ``export/<label>/``."""
    cfg = ctx.config.export

    def export(directory: Path) -> tuple[list[str], dict[str, Any]]:
        from caloforge.export import export_onnx
        from caloforge.models import load_model

        model = load_model(ctx.results[f"train/{spec.label}"].path("model.pt"))
        result = export_onnx(model, directory / "model.onnx", overwrite=True)
        parity = result.parity
        info = {"size_bytes": result.size_bytes, "parity_passed": bool(parity.passed), "parity": str(parity)}
        return ["model.onnx"], info

    return ctx.run_stage(
        f"export/{spec.label}", to_dict(cfg), [f"train/{spec.label}"], export, optional=not cfg.required
    )

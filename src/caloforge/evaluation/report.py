"""Runs the whole validation suite: reference vs one or more generated files → :class:`EvaluationReport`.

Steps: one streaming pass per file (features, average shower, voxel spectrum, classifier subset), a
second light pass over the reference for its voxel spectrum, then every histogram comparison, FPD/KPD
(with the reference-vs-reference baseline) and the classifier tests, collected in an
:class:`~caloforge.evaluation.results.EvaluationReport`. :func:`evaluate` writes ``metrics.json``, the
figures (:mod:`caloforge.evaluation.plots`) and a self-contained ``report.html`` into an output folder.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> from caloforge.data import ShowerData, write_showers
    >>> from caloforge.geometry import Geometry
    >>> g = Geometry.regular("toy", n_layers=2, n_alpha=2, r_edges=[0, 5, 10])
    >>> rng = np.random.default_rng(0)
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("ref", "gen"):
    ...     e = rng.uniform(1e3, 1e4, 200)
    ...     write_showers(tmp / f"{name}.h5", ShowerData(e, e[:, None] * rng.dirichlet(np.ones(8), 200), g))
    >>> cfg = EvaluationConfig(classifier="none", distances="none", plots=False)
    >>> report = run_evaluation(tmp / "ref.h5", {"gen": tmp / "gen.h5"}, cfg)[0]
    >>> report.generated["gen"].histograms["response"].separation_power < 0.1
    True
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from caloforge.atomic import atomic_write_text
from caloforge.evaluation.angles import angle_report
from caloforge.evaluation.binning import dataset_kind, default_threshold
from caloforge.evaluation.classifier import ClassifierResult, TrainedClassifier, classifier_test
from caloforge.evaluation.compare import (
    HistComparison,
    ResponseTable,
    compare_histogram,
    energy_bins,
    fill_all,
    response_table,
    summarise_comparisons,
)
from caloforge.evaluation.config import EvaluationConfig
from caloforge.evaluation.diagnosis import diagnose
from caloforge.evaluation.ensemble import check_ensembles, summarise_ensemble
from caloforge.evaluation.features import FeatureTable, hlf_groups, hlf_vector
from caloforge.evaluation.histograms import Histogram, HistSpec, histogram_specs
from caloforge.evaluation.hit_comparison import compare_hits, hit_histograms, hit_specs
from caloforge.evaluation.hits import HitAccumulator, HitSample, cell_threshold
from caloforge.evaluation.importance import ImportanceCollector
from caloforge.evaluation.inputs import classifier_inputs
from caloforge.evaluation.metrics import DistanceResult, fpd, kpd
from caloforge.evaluation.phases import Phases
from caloforge.evaluation.provenance import FileInfo, make_provenance
from caloforge.evaluation.reading import input_files, open_files, scan_all
from caloforge.evaluation.results import BaselineReport, EvaluationReport, ReferenceInfo, SampleReport, SkippedTest
from caloforge.evaluation.scan import SampleScan
from caloforge.evaluation.uncertainty import bootstrap_errors, with_errors
from caloforge.evaluation.weighted import weighted_report

__all__ = ["EvaluationArtifacts", "EvaluationReport", "evaluate", "run_evaluation"]

logger = logging.getLogger(__name__)

_BASELINE_MIN_EVENTS = 1000


@dataclass
class EvaluationArtifacts:
    """Intermediate results the figures are drawn from.

    Attributes:
        geometry: The readout geometry.
        specs: Feature-histogram binnings.
        voxel_spec: Voxel-energy binning.
        reference: Reference scan.
        generated: Generated scans by label.
        ref_hists: Reference histograms by name (``"voxel_energy"`` included).
        gen_hists: Generated histograms by label, then name.
        responses: Response tables by label (``"reference"`` first).
        threshold: The voxel threshold, MeV.
        hits: Hit-level observables by label (``"reference"`` first).
        hit_specs: Hit-level histogram binnings.
        hit_hists: Hit-level histograms by label (``"reference"`` first), then name.
    """

    geometry: Any
    specs: list[HistSpec]
    voxel_spec: HistSpec
    reference: SampleScan
    generated: dict[str, SampleScan]
    ref_hists: dict[str, Histogram]
    gen_hists: dict[str, dict[str, Histogram]]
    responses: dict[str, ResponseTable]
    threshold: float = 0.0
    hits: dict[str, HitSample] = field(default_factory=dict)
    hit_specs: list[HistSpec] = field(default_factory=list)
    hit_hists: dict[str, dict[str, Histogram]] = field(default_factory=dict)


def _compare_all(specs: list[HistSpec], ref: dict[str, Histogram], gen: dict[str, Histogram]) -> dict[str, HistComparison]:
    return {s.name: compare_histogram(s.name, s.family, ref[s.name], gen[s.name]) for s in specs}


def _distances(ref: np.ndarray, gen: np.ndarray, config: EvaluationConfig) -> tuple[DistanceResult | None, ...]:
    """FPD and KPD of two high-level feature arrays (``None, None`` with ``distances="none"``)."""
    if config.distances == "none":
        return None, None
    fpd_kw, kpd_kw = config.distance_settings(min(len(ref), len(gen)))
    return fpd(ref, gen, **fpd_kw), kpd(ref, gen, **kpd_kw)


def _baseline(ref: FeatureTable, specs: list[HistSpec], config: EvaluationConfig, phases: Phases) -> BaselineReport | None:
    if not config.baseline or len(ref) < _BASELINE_MIN_EVENTS:
        return None
    perm = np.random.default_rng(config.seed + 1).permutation(len(ref))
    half_a, half_b = ref.subset(perm[: len(ref) // 2]), ref.subset(perm[len(ref) // 2 :])
    with phases.phase("baseline/histograms"):
        comps = _compare_all(specs, fill_all(specs, half_a), fill_all(specs, half_b))
        summary = summarise_comparisons(comps)
    if config.bootstrap:
        with phases.phase("baseline/bootstrap"):
            errors = bootstrap_errors(specs, half_a, half_b, nominal=comps, n_replicates=config.bootstrap,
                                      seed=config.seed)
            summary = with_errors(comps, summary, errors)[1]
    with phases.phase("baseline/fpd_kpd"):
        distances = _distances(hlf_vector(half_a), hlf_vector(half_b), config)
    return BaselineReport(len(half_a), summary, *distances)


def _classifiers(
    ref: SampleScan, gen: SampleScan, geometry: Any, config: EvaluationConfig, phases: Phases, label: str,
    on_high: Callable[[TrainedClassifier], None] | None = None,
) -> dict[str, ClassifierResult | SkippedTest]:
    cls = config.classifier_config()
    if cls is None:
        return {}
    out: dict[str, ClassifierResult | SkippedTest] = {}
    for kind in config.classifier_inputs:
        if kind == "high":
            x_ref = classifier_inputs("high", None, None, geometry, ref.features)
            x_gen = classifier_inputs("high", None, None, geometry, gen.features)
        elif ref.kept_voxels is None or gen.kept_voxels is None:
            out[kind] = SkippedTest("no voxels kept for the classifier")
            continue
        else:
            x_ref = classifier_inputs(kind, ref.kept_voxels, ref.features.e_inc[ref.kept_index], geometry)
            x_gen = classifier_inputs(kind, gen.kept_voxels, gen.features.e_inc[gen.kept_index], geometry)
        hook = on_high if kind == "high" else None

        def trained(net: TrainedClassifier, kind: str = kind, hook: Any = hook) -> None:
            if hook is not None:
                hook(net)
            phases.tick(f"{label}: classifier {kind} run {net.seed - cls.seed + 1} of {cls.repeats}")

        with phases.phase(f"{label}/classifier_{kind}"):
            out[kind] = classifier_test(x_gen, x_ref, cls, on_trained=trained)
    return out


def _scan_flags(label: str, scan: SampleScan) -> list[str]:
    flags = []
    if scan.n_invalid:
        flags.append(f"{label}: {scan.n_invalid} of {scan.n_events} showers contain NaN/inf and were excluded")
    if scan.n_negative_voxels:
        flags.append(f"{label}: {scan.n_negative_voxels} negative voxel values were set to zero by the threshold")
    return flags


def _evaluate_sample(
    label: str, scan: SampleScan, path: Path, arts: EvaluationArtifacts, ref_vec: np.ndarray, config: EvaluationConfig,
    phases: Phases,
) -> SampleReport:
    with phases.phase(f"{label}/histograms"):
        hists = fill_all(arts.specs, scan.features)
        hists["voxel_energy"] = Histogram(scan.voxel_counts if scan.voxel_counts is not None
                                          else np.zeros(0, np.int64), overflow=scan.voxel_outside)
        arts.gen_hists[label] = hists
        comps = _compare_all([*arts.specs, arts.voxel_spec], arts.ref_hists, hists)
        resp = response_table(scan.features.e_inc, scan.features.response, arts.responses["reference"].edges)
        summary = summarise_comparisons(comps)
    with phases.phase(f"{label}/hits"):  # hit-level observables (unweighted)
        arts.hit_hists[label] = hit_histograms(arts.hit_specs, arts.hits[label])
        hits = compare_hits(arts.hit_specs, arts.hits["reference"], arts.hits[label], arts.responses["reference"].edges,
                            ref_hists=arts.hit_hists["reference"], gen_hists=arts.hit_hists[label])
    if config.bootstrap:  # both samples resampled: *_err fields
        with phases.phase(f"{label}/bootstrap"):
            errors = bootstrap_errors(arts.specs, arts.reference.features, scan.features, nominal=comps,
                                      response_edges=resp.edges, n_replicates=config.bootstrap, seed=config.seed)
            comps, summary, boot_resp = with_errors(comps, summary, errors, resp)
            resp = boot_resp or resp
    arts.responses[label] = resp
    sample = SampleReport(
        path=str(path), n_events=scan.n_events, summary=summary, response=resp,
        histograms=comps, n_invalid=scan.n_invalid, n_negative_voxels=scan.n_negative_voxels,
        n_classifier_voxel_subset=0 if scan.kept_voxels is None else len(scan.kept_voxels),
        flags=_scan_flags(label, scan), hits=hits,
    )
    small = config.small_sample(min(len(arts.reference.features), len(scan.features)))  # flagged, not run
    sample.flags.extend(f"{label}: {'FPD/KPD not computed' if k == 'distances' else f'{k} tests skipped'}: {v}"
                        for k, v in small.items())
    if "distances" not in small:
        with phases.phase(f"{label}/fpd_kpd"):
            sample.fpd, sample.kpd = _distances(ref_vec, hlf_vector(scan.features), config)
    importance = ImportanceCollector(hlf_groups(scan.features))  # cls-high: AUC drop per permuted family
    sample.classifier = ({k: SkippedTest(small["classifier"]) for k in config.classifier_inputs} if "classifier" in small
                         else _classifiers(arts.reference, scan, arts.geometry, config, phases, label, importance))
    sample.flags.extend(f"{label}: classifier {kind} {r.verdict}" for kind, r in sample.classifier.items()
                        if isinstance(r, ClassifierResult) and r.verdict is not None)
    with phases.phase(f"{label}/diagnosis"):
        sample.diagnosis = diagnose(arts.specs, arts.ref_hists, hists, arts.reference.features, scan.features,
                                    importance=importance.result())
    if scan.weights is not None:  # a reweighted file: the "after" numbers beside the unweighted ones
        with phases.phase(f"{label}/weighted"):
            sample.weighted, arts.gen_hists[f"{label} (weighted)"] = weighted_report(
                arts.specs, arts.ref_hists, arts.reference, scan, arts.responses["reference"].edges,
                geometry=arts.geometry, classifier=None if "classifier" in small else config.classifier_config(),
                classifier_kinds=config.classifier_inputs, skipped=SkippedTest)
    return sample


def _n_steps(config: EvaluationConfig, n_samples: int) -> int:
    """Progress steps expected: reading, then per sample its phases and classifier runs, the baseline."""
    cls = config.classifier_config()
    per_sample = 4 + bool(config.bootstrap) + (0 if cls is None else len(config.classifier_inputs) * (1 + cls.repeats))
    return 2 + n_samples * per_sample + (3 + bool(config.bootstrap) if config.baseline else 0)


def _read(
    reference: str | Path, generated: Mapping[str, str | Path], config: EvaluationConfig, phases: Phases
) -> tuple[SampleScan, dict[str, SampleScan], EvaluationArtifacts, list[str], dict[str, FileInfo]]:
    """Reads every file once (plus the reference's voxel pass) and fills the reference histograms."""
    with phases.phase("read_and_features"):
        ref_file, gen_files, flags = open_files(reference, generated, config)
        try:
            files = input_files(ref_file, gen_files)
            geometry = ref_file.geometry
            threshold = default_threshold(geometry) if config.threshold is None else config.threshold
            cell = cell_threshold(geometry, ref_file.attrs, override=config.cell_threshold, voxel_threshold=threshold)
            e_max = float(np.max(ref_file.energies)) if len(ref_file) else 1.0
            accumulators = {k: HitAccumulator(geometry, cell, e_max) for k in ("reference", *gen_files)}
            ref_scan, scans, voxel_edges, ref_voxels = scan_all(ref_file, gen_files, config, threshold, accumulators)
        finally:
            for f in (ref_file, *gen_files.values()):
                f.close()
    with phases.phase("reference/histograms"):
        specs = histogram_specs(ref_scan.features, dataset_kind(geometry), threshold, particle=geometry.particle)
        ref_hists = fill_all(specs, ref_scan.features)
        voxel_spec = HistSpec("voxel_energy", "voxel_energy", None, voxel_edges, log_x=True)
        ref_hists["voxel_energy"] = ref_voxels
        resp = response_table(ref_scan.features.e_inc, ref_scan.features.response,
                              energy_bins(ref_scan.features.e_inc))
        hits = {k: acc.result() for k, acc in accumulators.items()}
        hspecs = hit_specs(hits["reference"])
    arts = EvaluationArtifacts(geometry, specs, voxel_spec, ref_scan, scans, ref_hists, {}, {"reference": resp},
                               threshold, hits, hspecs, {"reference": hit_histograms(hspecs, hits["reference"])})
    return ref_scan, scans, arts, flags, files


def run_evaluation(
    reference: str | Path, generated: Mapping[str, str | Path], config: EvaluationConfig | None = None,
    *, ensembles: Mapping[str, Sequence[str]] | None = None,
) -> tuple[EvaluationReport, EvaluationArtifacts]:
    """Evaluates generated files against a reference file; writes nothing.

    Arguments:
        reference: Reference (Geant4) CaloChallenge file.
        generated: Generated files by label (several models side by side).
        config: Settings (defaults: :class:`EvaluationConfig`).
        ensembles: Per ensemble name, the labels of its members (samples of seeded trainings of one
            model): the report gives mean ± standard deviation of every metric over them.

    Raises:
        ShowerFileError: Unreadable, empty or inconsistent files.
        ValueError: Different geometries, NaN/inf in the reference (or in generated showers with
            ``invalid="error"``), a generated file without any valid shower, or an ensemble with an
            unknown label or fewer than 2 members.
    """
    config = config or EvaluationConfig()
    groups = check_ensembles(ensembles or {}, list(generated))
    phases = Phases(config.progress, _n_steps(config, len(generated)))
    try:
        ref_scan, scans, arts, flags, files = _read(reference, generated, config, phases)
        ref_vec = hlf_vector(ref_scan.features) if config.distances != "none" else np.zeros((0, 0))
        results = {}
        for label, scan in scans.items():
            t1 = time.perf_counter()
            results[label] = _evaluate_sample(label, scan, Path(generated[label]), arts, ref_vec, config, phases)
            phases.timing[f"metrics_{label}"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        baseline = _baseline(ref_scan.features, arts.specs, config, phases)
        phases.timing["baseline"] = time.perf_counter() - t1
    finally:
        phases.close()
    timing = phases.timing
    geometry, threshold, kind = arts.geometry, arts.threshold, dataset_kind(arts.geometry)
    settings = {
        **config.to_dict(), "threshold_mev": threshold, "dataset_kind": kind, "geometry_name": geometry.name,
        "n_voxels": geometry.n_voxels, "classifier_settings": (cc.to_dict() if (cc := config.classifier_config()) else None),
        "distance_settings": dict(zip(("fpd", "kpd"), config.distance_settings(len(ref_scan.features)), strict=True)),
        "separation_power": "0.5 * sum((h1 - h2)^2 / (h1 + h2)) on unit-normalised histograms (CaloChallenge 'hist-chi')",
        "chi2": "two-histogram chi2 test with statistical errors (Gagunashvili / ROOT Chi2Test UU)",
    }
    reference_info = ReferenceInfo(str(reference), ref_scan.n_events, geometry.name)
    report = EvaluationReport(settings, reference_info, results, baseline, flags, timing,
                              {name: summarise_ensemble({m: results[m] for m in ms}) for name, ms in groups.items()},
                              make_provenance(files, config.seed))
    for sample in results.values():
        report.flags.extend(sample.flags)
    t1 = time.perf_counter()  # by angle: only when the reference has angles (else nothing changes)
    report.by_angle, angle_flags = angle_report(
        reference, generated, ref_scan, scans, geometry, threshold=threshold, energy_edges=arts.responses["reference"].edges,
        specs=arts.specs, config=config)
    if report.by_angle is not None:
        report.flags.extend(angle_flags)
        timing["by_angle"] = time.perf_counter() - t1
    return report, arts


def evaluate(
    reference: str | Path,
    generated: Mapping[str, str | Path],
    out_dir: str | Path,
    config: EvaluationConfig | None = None,
    *,
    force: bool = False,
    ensembles: Mapping[str, Sequence[str]] | None = None,
) -> EvaluationReport:
    """Runs :func:`run_evaluation` and writes ``metrics.json``, the figures and ``report.html`` to ``out_dir``.

    The figures need matplotlib (the ``plot`` extra); without it they are skipped with a warning, which
    is also listed among the report's flags, and the numbers are written all the same.

    Raises:
        FileExistsError: If ``out_dir`` exists, is not empty and ``force`` is false.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        msg = f"{out} exists and is not a directory; give a folder for the evaluation outputs"
        raise FileExistsError(msg)
    if out.exists() and any(out.iterdir()) and not force:
        msg = f"{out} exists and is not empty; pass force=True (--force) to write into it"
        raise FileExistsError(msg)
    config = config or EvaluationConfig()
    report, arts = run_evaluation(reference, generated, config, ensembles=ensembles)
    out.mkdir(parents=True, exist_ok=True)
    images: dict[str, bytes] = {}
    if config.plots:
        images = _draw(arts, report, out / "plots", config.plot_formats)
    report.write_json(out / "metrics.json")
    from caloforge.evaluation.plots.html import render_html

    atomic_write_text(out / "report.html", render_html(report, images))
    logger.info("evaluation written to %s", out)
    return report


def _draw(arts: EvaluationArtifacts, report: EvaluationReport, out_dir: Path, formats: tuple[str, ...]) -> dict[str, bytes]:
    """Writes the figures; without matplotlib it skips them with a warning (also a flag of the report)."""
    from caloforge.evaluation.plots import require_matplotlib, write_figures

    try:
        require_matplotlib()
    except ImportError as err:
        flag = f"figures not drawn: {err}"
        logger.warning("%s; metrics.json and report.html are still written", flag)
        report.flags.append(flag)
        return {}
    t0 = time.perf_counter()
    images = write_figures(arts, report, out_dir, formats)
    report.timing["plots"] = time.perf_counter() - t0
    return images

"""Adding a model to the zoo: strip a checkpoint to its weights, hash it, write the manifest entry atomically.

:func:`add_to_zoo` loads a training checkpoint or saved model, keeps only the weights that
generate (the EMA weights when the checkpoint has them; no optimizer, scheduler or RNG state),
optionally fixes a flow-matching model's default sampler, writes it as a plain model state
(:func:`caloforge.models.save_model`, float32) as ``NAME.pt``, and records its SHA-256 and the
given provenance in ``manifest.json``. Both files are written to a temporary name and renamed,
so a crash never leaves a half-written entry. The metrics come from an evaluation report
(:func:`metrics_from_report`), never from typed-in numbers. ``tools/add_to_zoo.py`` is the
command-line front end.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from caloforge import __version__
from caloforge.atomic import atomic_write_bytes
from caloforge.data.transforms import ConditionEncoder
from caloforge.models.base import GenerativeModel
from caloforge.models.pretrained.entry import (
    MANIFEST_FORMAT,
    NAME_PATTERN,
    PretrainedModel,
    SamplerInfo,
    TrainingInfo,
    ZooError,
    ZooMetrics,
)
from caloforge.models.pretrained.zoo import MANIFEST, file_sha256, read_manifest, resolve_zoo_dir
from caloforge.models.serialization import load_model, load_state, registered_name, save_model

__all__ = ["MAX_ZOO_BYTES", "add_to_zoo", "metrics_from_report", "network_evaluations", "write_manifest"]

logger = logging.getLogger(__name__)

#: Upper bound on the weights shipped in the package, bytes.
MAX_ZOO_BYTES = 30_000_000
_FAMILIES = {"vae": "vae", "gan": "gan", "flows": "normalizing-flow"}


def network_evaluations(model: GenerativeModel) -> int:
    """Network evaluations per generated shower, where the architecture determines it.

    One for single-pass decoders (VAE, GAN); ``n_steps × solver stages`` for ODE-solved models.

    Raises:
        ValueError: For architectures whose count depends on how they are deployed (normalizing
            flows); pass ``steps`` to :func:`add_to_zoo` explicitly then.
    """
    config = model.config
    if hasattr(config, "solver") and hasattr(config, "n_steps"):
        from caloforge.solvers import SOLVERS

        return int(config.n_steps) * int(SOLVERS.get(config.solver).n_stages)
    name = registered_name(model)
    if name in {"vae", "wgan"}:
        return 1
    msg = f"the network evaluations per shower of a {name!r} model depend on its deployment; give steps explicitly"
    raise ValueError(msg)


def metrics_from_report(
    report: str | Path, *, command: str, label: str | None = None, reference: str | None = None
) -> ZooMetrics:
    """The zoo metrics of one generated sample in a ``caloforge evaluate`` ``metrics.json``.

    Arguments:
        report: The ``metrics.json`` written by ``caloforge evaluate`` against a held-out reference.
        command: The evaluate command that wrote it (recorded for reproduction).
        label: The generated sample's label (default: the only one in the report).
        reference: Description of the held-out reference (default: its file name and size).

    Raises:
        ValueError: The report lacks the classifier tests ``low`` and ``high`` or the label is ambiguous.
    """
    path = Path(report)
    data = json.loads(path.read_text(encoding="utf-8"))
    generated: dict[str, Any] = data.get("generated") or {}
    if label is None:
        if len(generated) != 1:
            msg = f"{path}: holds samples {sorted(generated)}; choose one with label="
            raise ValueError(msg)
        label = next(iter(generated))
    if label not in generated:
        msg = f"{path}: no generated sample {label!r}; it holds {sorted(generated)}"
        raise ValueError(msg)
    sample = generated[label]
    cls = sample.get("classifier", {})
    missing = [k for k in ("low", "high") if not isinstance(cls.get(k), dict) or cls[k].get("auc") is None]
    sep = sample.get("summary", {}).get("separation_power_mean")
    if missing or sep is None:
        what = [f"classifier test {k!r}" for k in missing] + (["separation_power_mean"] if sep is None else [])
        msg = f"{path}: sample {label!r} lacks {', '.join(what)}; rerun evaluate with --classifier-inputs low,high"
        raise ValueError(msg)
    if reference is None:
        ref = data.get("reference", {})
        reference = f"{Path(str(ref.get('path', '?'))).name} ({ref.get('n_events', '?')} showers)"
    return ZooMetrics(float(cls["low"]["auc"]), float(cls["high"]["auc"]), float(sep), command, reference)


def write_manifest(entries: list[PretrainedModel], zoo_dir: str | Path | None = None) -> Path:
    """Writes ``manifest.json`` atomically (temporary file + rename), entries sorted by name."""
    directory = resolve_zoo_dir(zoo_dir)
    directory.mkdir(parents=True, exist_ok=True)
    body = {"format": MANIFEST_FORMAT, "models": [e.to_dict() for e in sorted(entries, key=lambda e: e.name)]}
    path = directory / MANIFEST
    atomic_write_bytes(path, (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


def _energy_range_gev(model: GenerativeModel) -> tuple[float, float]:
    encoders = [m for m in model.modules() if isinstance(m, ConditionEncoder)]
    if not encoders:
        msg = f"{registered_name(model)!r} stores no training energy range; give energy_range_gev explicitly"
        raise ValueError(msg)
    lo, hi = encoders[0].energy_range_mev
    return (float(f"{lo / 1e3:.4g}"), float(f"{hi / 1e3:.4g}"))


def _training(training: TrainingInfo | Mapping[str, Any], state: Mapping[str, Any]) -> TrainingInfo:
    """``training`` as :class:`TrainingInfo`; a missing ``steps`` is read from the checkpoint's counters."""
    if isinstance(training, TrainingInfo):
        return training
    fields = dict(training)
    if fields.get("steps") is None:
        counters = state.get("counters")
        if not isinstance(counters, Mapping) or "step" not in counters:
            msg = "the checkpoint is not a training checkpoint; give the training steps explicitly"
            raise ValueError(msg)
        fields["steps"] = int(counters["step"])
    return TrainingInfo(**fields)


def add_to_zoo(
    checkpoint: str | Path,
    name: str,
    *,
    particle: str,
    training: TrainingInfo | Mapping[str, Any],
    metrics: ZooMetrics,
    ms_per_shower: float,
    card: str,
    ms_per_shower_setup: str = "",
    sampler: str | None = None,
    steps: int | None = None,
    family: str | None = None,
    energy_range_gev: tuple[float, float] | None = None,
    description: str = "",
    zoo_dir: str | Path | None = None,
    replace: bool = False,
    max_total_bytes: int = MAX_ZOO_BYTES,
) -> PretrainedModel:
    """Copies a checkpoint's generating weights into the zoo and records its manifest entry.

    Arguments:
        checkpoint: Training checkpoint (EMA weights are kept when present) or saved model.
        name: Zoo name (lower case, digits, ``.-_``); also the weights file ``NAME.pt``.
        particle: Incident particle of the training data.
        training: Training provenance; ``steps`` may be omitted for training checkpoints.
        metrics: Held-out fidelity, from :func:`metrics_from_report`.
        ms_per_shower: Measured generation time per shower at batch 1,000, ms.
        card: Repository path of the model card (``docs/models/NAME.md``).
        ms_per_shower_setup: Where the time was measured (backend, device, threads).
        sampler: ``"SOLVER:STEPS"`` default sampler of a flow-matching model (stored in its config too).
        steps: Network evaluations per shower (default: :func:`network_evaluations`).
        family: Model family (default: from the architecture).
        energy_range_gev: Training energy range (default: the model's fitted range, rounded).
        description: One line for the table.
        zoo_dir: Target zoo (default: ``$CALOFORGE_ZOO_DIR`` or the package data directory).
        replace: Replace an existing entry of the same name.
        max_total_bytes: Size budget of all weights in the zoo.

    Returns:
        The new entry.

    Raises:
        FileExistsError: ``name`` exists and ``replace`` is false.
        CheckpointError: Unreadable checkpoint.
        ValueError: Invalid name, unfitted model, a sampler for a model that is not ODE-solved,
            or a zoo over ``max_total_bytes``.
    """
    if not NAME_PATTERN.match(name):
        msg = f"zoo name {name!r} must match {NAME_PATTERN.pattern}"
        raise ZooError(msg)
    directory = resolve_zoo_dir(zoo_dir)
    entries = read_manifest(directory)
    others = [e for e in entries if e.name != name]
    if len(others) < len(entries) and not replace:
        msg = f"the zoo in {directory} already has {name!r}; pass replace=True (--replace) to overwrite it"
        raise FileExistsError(msg)
    state = load_state(checkpoint)
    model = load_model(state, use_ema=True)
    if not model.is_fitted:
        msg = f"{checkpoint}: the model's preprocessing is not fitted; it cannot generate"
        raise ValueError(msg)
    sampler_info = None
    if sampler is not None:
        model, sampler_info = _fix_sampler(model, sampler, checkpoint)
    n_steps = steps if steps is not None else network_evaluations(model)
    target = directory / f"{name}.pt"
    save_model(model, target)
    size = target.stat().st_size
    total = size + sum(e.size_bytes for e in others)
    if total > max_total_bytes:
        target.unlink()
        msg = f"the zoo would hold {total / 1e6:.1f} MB of weights, over the {max_total_bytes / 1e6:.0f} MB budget"
        raise ValueError(msg)
    module = type(model).__module__.split(".")
    entry = PretrainedModel(
        name=name,
        model=registered_name(model),
        family=family or _FAMILIES.get(module[2] if len(module) > 2 else "", registered_name(model)),
        geometry=model.geometry.name,
        particle=particle,
        energy_range_gev=tuple(energy_range_gev or _energy_range_gev(model)),  # type: ignore[arg-type]
        n_conditions=int(model.n_conditions),
        single_pass=n_steps == 1,
        steps=int(n_steps),
        training=_training(training, state),
        metrics=metrics,
        ms_per_shower=float(ms_per_shower),
        ms_per_shower_setup=ms_per_shower_setup,
        card=card,
        file=target.name,
        sha256=file_sha256(target),
        size_bytes=size,
        sampler=sampler_info,
        description=description,
        caloforge_version=__version__,
    )
    write_manifest([*others, entry], directory)
    logger.info("added %s to the zoo in %s (%.1f kB, sha256 %s)", name, directory, size / 1e3, entry.sha256[:12])
    return entry


def _fix_sampler(model: GenerativeModel, spec: str, checkpoint: str | Path) -> tuple[GenerativeModel, SamplerInfo]:
    from caloforge.models.diffusion import FlowMatching, with_sampler
    from caloforge.solvers import parse_sampler

    solver, n_steps = parse_sampler(spec)
    if not isinstance(model, FlowMatching):
        msg = f"{checkpoint} holds a {type(model).__name__}; a default sampler applies to flow-matching models only"
        raise ValueError(msg)  # noqa: TRY004  (a bad argument for this checkpoint)
    return with_sampler(model, solver, n_steps).eval(), SamplerInfo(solver, n_steps)

"""The pipeline configuration: one frozen dataclass per stage, read from YAML (``caloforge run --config``).

A pipeline config holds only relative or user-supplied paths. Model and trainer settings are given as
overrides of the model family's defaults (``config:``) and of the trainer's defaults (``train:``), so a
config stays short and keeps working when defaults gain fields. The built-in demo is
:func:`demo_config` (also shipped as ``caloforge/pipeline/demo.yaml``).

Example:
    >>> cfg = pipeline_from_dict({"data": {"n_train": 500}, "models": [{"name": "vae"}]})
    >>> cfg.data.n_train, cfg.models[0].label, cfg.generate.workers
    (500, 'vae', 1)
    >>> pipeline_from_dict({"models": [{"name": "vae"}, {"name": "vae"}]})
    Traceback (most recent call last):
    ...
    caloforge.config.ConfigError: models: labels must be unique, got ['vae', 'vae']; set 'label' to tell them apart
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from caloforge.config import ConfigError, from_dict, load_config_file, to_dict
from caloforge.training.config import ModelSpec

__all__ = [
    "BenchStageConfig",
    "DataConfig",
    "EvaluateStageConfig",
    "ExportStageConfig",
    "GenerateStageConfig",
    "PipelineConfig",
    "PipelineModel",
    "demo_config",
    "load_pipeline_config",
    "pipeline_from_dict",
]


@dataclass(frozen=True)
class DataConfig:
    """Where the training and reference showers come from.

    Attributes:
        source: ``"simulate"`` (built-in GFlash simulator) or ``"file"`` (existing CaloChallenge files).
        geometry: Geometry name (simulation only).
        energy: Incident-energy spec in GeV (simulation only).
        n_train: Training showers to simulate.
        n_reference: Held-out reference showers to simulate (the evaluation compares against them).
        seed: Seed of the simulation (the reference uses ``seed + 1``).
        train_file: Training file (``source: file``), relative to the config file or absolute.
        reference_file: Reference file (``source: file``).
        workers: Dask workers for the simulation (≤ 1: in-process).
        shard_size: Showers per simulation shard.
        angle: Incidence angles of the simulated showers, as ``caloforge simulate --angle``: θ from the
            layer normal in degrees, fixed (``30``), uniform (``0:40``) or a list (``0,20,40``); ``None``:
            head-on showers without angles (simulation only). Par04's polar angle is 90° − θ.
        frame: Readout frame of inclined showers (``"detector"`` or ``"shower"``, as ``simulate --frame``).
        particle: Simulated particle, as ``caloforge simulate --particle``: ``"electron"`` (default),
            ``"photon"`` or ``"pion"`` (the GFLASH hadronic parameterisation in the layers' materials).
    """

    source: Literal["simulate", "file"] = "simulate"
    geometry: str = "calochallenge-2"
    energy: str = "log-uniform:1:100"
    n_train: int = 20_000
    n_reference: int = 10_000
    seed: int = 1
    train_file: str | None = None
    reference_file: str | None = None
    workers: int = 1
    shard_size: int = 10_000
    angle: str | None = None
    frame: Literal["detector", "shower"] = "detector"
    particle: Literal["electron", "photon", "pion"] = "electron"

    def __post_init__(self) -> None:
        if self.angle is not None:
            from caloforge.simulate.angle_spec import parse_angle_spec

            text: object = self.angle
            if not isinstance(text, str):  # YAML 1.1 reads an unquoted 0:40 as the number 40
                msg = f"data.angle must be a quoted spec such as \"0:40\" (degrees), got {text!r}"
                raise ConfigError(msg)
            try:
                parse_angle_spec(self.angle, option="data.angle")
            except ValueError as err:
                raise ConfigError(str(err)) from None

    def stage_settings(self) -> dict[str, Any]:
        """The settings that determine the data stage's files (head-on electrons: exactly those of before)."""
        out = to_dict(self)
        if self.angle is None:
            out.pop("angle")
            out.pop("frame")
        if self.particle == "electron":
            out.pop("particle")
        return out


@dataclass(frozen=True)
class PipelineModel(ModelSpec):
    """One model to train and compare: a :class:`~caloforge.training.ModelSpec` (validated when built)
    plus what the pipeline needs to run it.

    Attributes:
        name: Registry name (``caloforge inspect --models`` lists them).
        config: The model's config dataclass; in YAML, overrides of its default hyper-parameters.
        label: Name in the run directory and the report (default: ``name``).
        train: Overrides of the trainer's defaults (``TrainConfig`` fields, e.g. ``max_steps``).
        seed: Training seed.
    """

    label: str = ""
    train: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.label:
            object.__setattr__(self, "label", self.name)


@dataclass(frozen=True)
class GenerateStageConfig:
    """Generation at the reference energies.

    Attributes:
        batch_size: Showers per forward pass.
        seed: Seed of the generation.
        workers: Dask workers (≤ 1: in-process); the file does not depend on it.
        shard_size: Showers per shard.
    """

    batch_size: int = 1000
    seed: int = 0
    workers: int = 1
    shard_size: int = 10_000


@dataclass(frozen=True)
class EvaluateStageConfig:
    """Evaluation settings: overrides of :class:`caloforge.evaluation.EvaluationConfig` fields.

    For example ``{"classifier": "fast", "classifier_repeats": 5}`` repeats each classifier test on five
    re-drawn splits and reports AUC as mean ± standard deviation (useful to rank close models).
    """

    settings: dict[str, Any] = field(default_factory=lambda: {"classifier": "fast", "plot_formats": ["png"]})


@dataclass(frozen=True)
class ExportStageConfig:
    """ONNX export (refused unless ONNX Runtime reproduces PyTorch on a seeded batch).

    Attributes:
        enabled: Run the stage.
        required: Stop the pipeline when the export fails (otherwise the failure is reported and the
            benchmark times PyTorch only).
    """

    enabled: bool = True
    required: bool = False


@dataclass(frozen=True)
class BenchStageConfig:
    """Generation-speed benchmark.

    Attributes:
        enabled: Run the stage.
        batch_sizes: Batch sizes to time.
        n_showers: Showers generated per timing.
        onnx: Also time ONNX Runtime (needs the export stage).
    """

    enabled: bool = True
    batch_sizes: tuple[int, ...] = (1, 100, 1000)
    n_showers: int = 2000
    onnx: bool = True


@dataclass(frozen=True)
class PipelineConfig:
    """simulate/read → train → generate → evaluate → export → bench.

    Attributes:
        name: Run name (report title).
        data: Data stage.
        models: Models to train and compare.
        generate: Generation stage.
        evaluate: Evaluation stage.
        export: Export stage.
        bench: Benchmark stage.
        reference_ms_per_shower: Time of the full simulation the speed-ups refer to, ms per shower
            (default: Geant4 11.4 on dataset-2 electrons, 1–100 GeV, single thread, measured on the
            2-core development machine; see the shared Geant4 reference data).
        reference_name: What ``reference_ms_per_shower`` measures.
        reference_source: Where ``reference_ms_per_shower`` comes from (printed beside every speed-up).
        base_dir: Directory relative file paths are resolved against (set by :func:`load_pipeline_config`).
    """

    name: str = "caloforge pipeline"
    data: DataConfig = field(default_factory=DataConfig)
    models: tuple[PipelineModel, ...] = (PipelineModel("vae"),)
    generate: GenerateStageConfig = field(default_factory=GenerateStageConfig)
    evaluate: EvaluateStageConfig = field(default_factory=EvaluateStageConfig)
    export: ExportStageConfig = field(default_factory=ExportStageConfig)
    bench: BenchStageConfig = field(default_factory=BenchStageConfig)
    reference_ms_per_shower: float = 127.3
    reference_name: str = "Geant4 11.4 (1 thread)"
    reference_source: str = ("caloforge's default: Geant4 11.4 full simulation of dataset-2 electrons, 1-100 GeV, "
                             "one thread, timed on the 2-core development machine (not measured in this run)")
    base_dir: str = "."

    def __post_init__(self) -> None:
        labels = [m.label for m in self.models]
        if not labels:
            msg = "models: give at least one model to train"
            raise ConfigError(msg)
        if len(set(labels)) != len(labels):
            msg = f"models: labels must be unique, got {labels}; set 'label' to tell them apart"
            raise ConfigError(msg)
        if self.data.source == "file" and not (self.data.train_file and self.data.reference_file):
            msg = "data: source 'file' needs train_file and reference_file"
            raise ConfigError(msg)

    def resolve(self, path: str) -> Path:
        """``path`` relative to :attr:`base_dir` unless absolute."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (without ``base_dir``), as written to the run directory."""
        out = to_dict(self)
        out.pop("base_dir", None)
        return out


def pipeline_from_dict(data: dict[str, Any], *, base_dir: str | Path = ".") -> PipelineConfig:
    """Validates a parsed YAML mapping into a :class:`PipelineConfig`.

    Raises:
        ConfigError: On unknown keys, wrong types or inconsistent settings.
    """
    config = from_dict(PipelineConfig, data, where="")
    return dataclasses.replace(config, base_dir=str(base_dir))


def load_pipeline_config(path: str | Path) -> PipelineConfig:
    """Reads a pipeline YAML/JSON file; relative data paths are taken relative to it.

    Raises:
        ConfigError: On a missing file or invalid content.
    """
    path = Path(path)
    return pipeline_from_dict(load_config_file(path), base_dir=path.resolve().parent)


def demo_config() -> PipelineConfig:
    """The built-in demo (``caloforge demo``): the shipped ``demo.yaml``."""
    text = resources.files("caloforge.pipeline").joinpath("demo.yaml").read_text(encoding="utf-8")
    import yaml

    return pipeline_from_dict(yaml.safe_load(text))

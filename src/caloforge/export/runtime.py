"""Shower generation through ONNX Runtime, without PyTorch.

This module imports only numpy, h5py, onnxruntime and caloforge's ``geometry`` / ``data`` layers, so a
light install (``pip install caloforge[onnx]`` without torch) can generate showers from a model
written by ``caloforge export``. Noise is drawn with numpy (standard normal), conditions are passed
raw (MeV, rad), and the graph returns MeV voxels in CaloChallenge order. Models exported with the
Par04 signature are handled too: the conditions are encoded as Par04 does and the output is
rescaled by the energy and reordered back to CaloChallenge order.

Example:
    >>> gen = OnnxGenerator(exported_model_path)  # doctest: +SKIP
    >>> data = gen.generate(np.full(100, 10e3, np.float32), seed=1)  # doctest: +SKIP
    >>> data.showers.shape  # doctest: +SKIP
    (100, 6480)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tqdm.auto import tqdm

from caloforge.data import EnergySpec, ShowerData, ShowerFile, ShowerFileError, ShowerWriter, parse_energy_spec
from caloforge.export.metadata import ModelCard

__all__ = ["GenerationRun", "OnnxGenerator", "OnnxModelError", "generate_onnx_to_file", "onnx_session"]

logger = logging.getLogger(__name__)


class OnnxModelError(ValueError):
    """An ONNX file cannot be loaded (empty, truncated, not ONNX, or unsupported); the message names it."""


def _ort() -> Any:
    try:
        import onnxruntime
    except ImportError:
        msg = "ONNX Runtime is not installed: install the extra with `pip install caloforge[onnx]`"
        raise ImportError(msg) from None
    return onnxruntime


def onnx_session(path: str | Path, *, threads: int | None = None, providers: list[str] | None = None) -> Any:
    """An ``onnxruntime.InferenceSession`` on ``path``.

    Arguments:
        path: The ``.onnx`` file.
        threads: Intra-op threads (``None``: ONNX Runtime's default, all cores).
        providers: Execution providers (default: CUDA when available, then CPU).

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        OnnxModelError: If ONNX Runtime cannot load the file.
        ImportError: If onnxruntime is missing (names the extra to install).
    """
    ort = _ort()
    if not Path(path).is_file():
        msg = f"{path}: no such model file"
        raise FileNotFoundError(msg)
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
    options.log_severity_level = 4  # errors are raised as exceptions
    if providers is None:
        available = ort.get_available_providers()
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as err:  # noqa: BLE001 - ONNX Runtime's errors share no base class but Exception
        reason = (str(err).splitlines() or [type(err).__name__])[0].split(" failed:")[-1].strip()
        msg = f"{path}: cannot load as an ONNX model (empty, truncated or not ONNX: {reason})"
        raise OnnxModelError(msg) from None


class OnnxGenerator:
    """Generates showers from an exported model with ONNX Runtime.

    Arguments:
        path: ``.onnx`` file written by ``caloforge export`` (it carries a :class:`ModelCard`).
        threads: Intra-op threads (``None``: all cores).
        providers: ONNX Runtime execution providers.

    Raises:
        caloforge.export.metadata.ModelCardError: If the model has no caloforge model card.
    """

    def __init__(self, path: str | Path, *, threads: int | None = None, providers: list[str] | None = None) -> None:
        self.path = Path(path)
        self.session = onnx_session(path, threads=threads, providers=providers)
        props = self.session.get_modelmeta().custom_metadata_map
        self.card = ModelCard.from_props(props, source=str(path))
        self.geometry = self.card.geometry
        self.par04 = json.loads(self.card.extra.get("par04", "{}"))

    @property
    def input_names(self) -> list[str]:
        """Names of the graph inputs."""
        return [i.name for i in self.session.get_inputs()]

    def feeds(
        self, energies: NDArray[np.float32], angles: NDArray[np.float32] | None, noise: NDArray[np.float32]
    ) -> dict[str, NDArray[np.float32]]:
        """The input dictionary for one batch (energies (B,) MeV, angles (B,) rad, noise (B, noise_dim))."""
        e = np.asarray(energies, np.float32).reshape(-1, 1)
        a = np.zeros_like(e) if angles is None else np.asarray(angles, np.float32).reshape(-1, 1)
        if self.card.signature == "par04":
            p = self.par04
            onehot = np.broadcast_to(np.asarray(p["geometry_onehot"], np.float32), (len(e), 2))
            x = [noise, e / p["max_energy_mev"], np.degrees(a) / p["max_angle_deg"], onehot]
            return {"input": np.concatenate(x, axis=1).astype(np.float32)}
        feeds = {"incident_energy": e, "noise": noise.astype(np.float32)}
        if self.card.n_conditions == 2:
            feeds["angle"] = a
        return feeds

    def decode(
        self, energies: NDArray[np.float32], noise: NDArray[np.float32], angles: NDArray[np.float32] | None = None
    ) -> NDArray[np.float32]:
        """Deterministic generation of one batch: (B,) MeV [+ (B,) rad] + (B, noise_dim) → (B, n_voxels) MeV."""
        out = self.session.run(None, self.feeds(energies, angles, noise))[0].astype(np.float32)
        if self.card.signature == "par04":
            n_z, n_phi, n_r = self.geometry.shape
            out = out.reshape(-1, n_r, n_phi, n_z).transpose(0, 3, 2, 1).reshape(len(out), -1)
            out = out * np.asarray(energies, np.float32).reshape(-1, 1)
        return np.ascontiguousarray(out)

    def generate(
        self,
        energies: NDArray[np.float32],
        angles: NDArray[np.float32] | None = None,
        *,
        batch_size: int = 1000,
        seed: int | None = None,
        progress: bool = False,
    ) -> ShowerData:
        """One shower per incident energy.

        Arguments:
            energies: Incident energies, (N,), MeV.
            angles: Incidence angles, (N,), rad (required for angle-conditioned models).
            batch_size: Showers per ONNX Runtime call.
            seed: Seed of the noise generator.
            progress: Show a progress bar.

        Returns:
            The showers, (N, n_voxels), MeV, on the model's geometry.

        Raises:
            ValueError: If an angle-conditioned model gets no angles.
        """
        energies = np.asarray(energies, np.float32).reshape(-1)
        if self.card.n_conditions == 2 and angles is None:
            msg = f"{self.path}: the model is angle-conditioned; pass incidence angles"
            raise ValueError(msg)
        rng = np.random.default_rng(seed)
        parts = []
        for i in tqdm(range(0, len(energies), batch_size), disable=not progress, desc="generate", unit="batch"):
            e = energies[i : i + batch_size]
            noise = rng.standard_normal((len(e), self.card.noise_dim), dtype=np.float32)
            a = None if angles is None else np.asarray(angles, np.float32)[i : i + batch_size]
            parts.append(self.decode(e, noise, a))
        showers = np.concatenate(parts) if parts else np.zeros((0, self.geometry.n_voxels), np.float32)
        return ShowerData(energies, showers, self.geometry, None if angles is None else angles)


@dataclass(frozen=True)
class GenerationRun:
    """What :func:`generate_onnx_to_file` wrote.

    Attributes:
        path: The output file.
        n_showers: Showers written.
        seconds: Wall time of generation and writing, s.
    """

    path: Path
    n_showers: int
    seconds: float

    @property
    def ms_per_shower(self) -> float:
        """Wall time per shower including file writing, ms."""
        return 1e3 * self.seconds / max(self.n_showers, 1)


def _like(like: str | Path, n: int | None, gen: OnnxGenerator) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
    """Incident energies (MeV) and angles (rad, or ``None``) of a reference file on the model's geometry.

    Raises:
        caloforge.data.ShowerFileError: If the file is unreadable or its geometry is not the model's.
    """
    with ShowerFile(like) as ref:
        if not ref.geometry.same_binning(gen.geometry):
            msg = (
                f"{like}: geometry {ref.geometry.name!r} ({ref.geometry.n_voxels} voxels) differs from the model's "
                f"{gen.geometry.name!r} ({gen.geometry.n_voxels} voxels) in {gen.path}"
            )
            raise ShowerFileError(msg)
        stop = len(ref) if n is None else min(n, len(ref))
        return ref.energies[:stop], None if ref.angles is None else ref.angles[:stop]


def generate_onnx_to_file(
    model: str | Path,
    output: str | Path,
    n: int | None,
    energy_spec: str | EnergySpec | None = "log-uniform:1:100",
    *,
    like: str | Path | None = None,
    angle: float | None = None,
    angle_range: tuple[float, float] = (0.0, 0.0),
    seed: int | None = None,
    batch_size: int = 1000,
    threads: int | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> GenerationRun:
    """Generates ``n`` showers with an exported model and writes a CaloChallenge file atomically.

    Arguments:
        model: ``.onnx`` file from ``caloforge export``.
        output: Output HDF5 file.
        n: Number of showers (with ``like``: the first ``n`` events, ``None`` for all).
        energy_spec: Incident-energy distribution in GeV (``"log-uniform:1:100"``, ``"fixed:10"``, ...).
        like: Take the incident energies (and angles) of this CaloChallenge file instead.
        angle: Fixed incidence angle in rad (angle-conditioned models; overrides ``angle_range``).
        angle_range: Uniform range of incidence angles in rad (angle-conditioned models only).
        seed: Seed for energies, angles and noise.
        batch_size: Showers per ONNX Runtime call (and per written chunk).
        threads: ONNX Runtime intra-op threads.
        overwrite: Replace an existing output file.
        progress: Show a progress bar.

    Raises:
        FileExistsError: If ``output`` exists and ``overwrite`` is false.
        ValueError: On a bad count or energy spec.
        OnnxModelError: If ``model`` cannot be loaded.
        caloforge.data.ShowerFileError: If ``like`` cannot be read or has another geometry than the model.
        caloforge.atomic.OutputError: If ``output`` cannot be written, or its disk has no room for the
            showers (checked before generating).
    """
    if batch_size < 1:
        msg = f"batch size must be at least 1, got {batch_size}"
        raise ValueError(msg)
    gen = OnnxGenerator(model, threads=threads)
    rng = np.random.default_rng(seed)
    with_angles = gen.card.n_conditions == 2
    chunks: Iterator[NDArray[np.float32]]
    if like is not None:
        energies, ref_angles = _like(like, n, gen)
        n = len(energies)
        chunks = (energies[i : i + batch_size] for i in range(0, n, batch_size))
    elif n is None or n < 1 or energy_spec is None:
        msg = f"give an energy spec and a number of showers of at least 1 (got n={n}, energies={energy_spec})"
        raise ValueError(msg)
    else:  # drawn chunk by chunk: memory does not grow with n
        spec = parse_energy_spec(energy_spec) if isinstance(energy_spec, str) else energy_spec
        chunks, ref_angles = spec.stream(n, rng, batch_size), None
    angle_rng = np.random.default_rng(None if seed is None else [seed, 1])
    attrs = {"generator": f"caloforge {gen.card.model} (ONNX Runtime)", "model_file": Path(model).name,
             "seed": -1 if seed is None else int(seed)}
    start = time.perf_counter()
    with (
        ShowerWriter(
            output, gen.geometry, with_angles=with_angles, overwrite=overwrite, attrs=attrs, expected_events=n
        ) as writer,
        tqdm(total=n, disable=not progress, desc="generate", unit="shower") as bar,
    ):
        for k, e in enumerate(chunks):
            i = k * batch_size
            a = None
            if with_angles:
                a = (np.full(len(e), angle, np.float32) if angle is not None
                     else ref_angles[i : i + len(e)] if ref_angles is not None
                     else angle_rng.uniform(*angle_range, len(e)).astype(np.float32))
            chunk_seed = None if seed is None else seed + 1 + k
            writer.write(gen.generate(e, a, batch_size=batch_size, seed=chunk_seed))
            bar.update(len(e))
    run = GenerationRun(Path(output), n, time.perf_counter() - start)
    logger.info("generated %d showers into %s (%.3f ms/shower)", n, output, run.ms_per_shower)
    return run


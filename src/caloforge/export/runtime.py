"""Shower generation through ONNX Runtime, without PyTorch.

This module imports only numpy, h5py, onnxruntime and caloforge's ``geometry`` / ``data`` layers, so a
light install (``pip install caloforge[onnx]`` without torch) can generate showers from a model
written by ``caloforge export``. Noise is drawn with numpy (standard normal), conditions are passed
raw (MeV, rad), and the graph returns MeV voxels in CaloChallenge order. Models exported with the
Par04 signature are handled too: the conditions are encoded as Par04 does and the output is
rescaled by the energy and reordered back to CaloChallenge order.

Files are written through :func:`caloforge.data.produce_to_file` with an :class:`OnnxProducer`.

Example:
    >>> gen = OnnxGenerator(exported_model_path)  # doctest: +SKIP
    >>> data = gen.generate(np.full(100, 10e3, np.float32), seed=1)  # doctest: +SKIP
    >>> data.showers.shape  # doctest: +SKIP
    (100, 6480)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tqdm.auto import tqdm

from caloforge.data import Conditions, ShowerData, ShowerFileError
from caloforge.data.producer import LazyState
from caloforge.export.latent_sampler import CARD_KEY, KDESampler
from caloforge.export.metadata import ModelCard
from caloforge.geometry import Geometry

__all__ = ["OnnxGenerator", "OnnxModelError", "OnnxProducer", "onnx_session", "quiet_onnxruntime"]

logger = logging.getLogger(__name__)


class OnnxModelError(ValueError):
    """An ONNX file cannot be loaded (empty, truncated, not ONNX, or unsupported); the message names it."""


#: ONNX Runtime's own logger severity: 3 = errors only (its warnings, e.g. about execution providers or
#: graph optimisations, are not for the user of a caloforge command; real errors are raised as exceptions).
_ORT_SEVERITY = 3


class _DropOnnxRuntime(logging.Filter):
    """Drops the records ONNX Runtime's Python tools log on the root logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "onnxruntime" not in record.pathname


@contextmanager
def quiet_onnxruntime() -> Iterator[None]:
    """Keeps ONNX Runtime's own warnings off the terminal while the block runs.

    Its C++ logger is set to errors only, and what its Python tools (``onnxruntime.quantization``) log on
    the root logger is dropped, without the root logger getting a stderr handler as a side effect.
    """
    ort = _ort()
    ort.set_default_logger_severity(_ORT_SEVERITY)
    root = logging.getLogger()
    drop, null = _DropOnnxRuntime(), logging.NullHandler()
    added = not root.handlers
    root.addFilter(drop)
    if added:
        root.addHandler(null)  # else logging.warning() would call basicConfig() and print
    try:
        yield
    finally:
        root.removeFilter(drop)
        if added:
            root.removeHandler(null)


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
        with quiet_onnxruntime():  # the session's own severity does not cover the environment's warnings
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
        sampler = self.card.extra.get(CARD_KEY)  # a latent KDE beside the model (bibae)
        self.latent = KDESampler.load(self.path.parent / sampler) if sampler else None

    def noise(
        self, energies: NDArray[np.float32], angles: NDArray[np.float32] | None, rng: np.random.Generator
    ) -> NDArray[np.float32]:
        """The noise input (B, noise_dim) of one batch: standard normal, or KDE latents first when the model has them."""
        if self.latent is not None:
            return self.latent.noise(energies, angles, self.card.noise_dim, rng)
        return rng.standard_normal((len(energies), self.card.noise_dim), dtype=np.float32)

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
            polar = p.get("angle_convention", "normal") == "polar"  # Par04's polar angle: 90° − θ
            angle_deg = 90.0 - np.degrees(a) if polar else np.degrees(a)
            x = [noise, e / p["max_energy_mev"], angle_deg / p["max_angle_deg"], onehot]
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
            a = None if angles is None else np.asarray(angles, np.float32)[i : i + batch_size]
            noise = self.noise(e, a, rng)
            parts.append(self.decode(e, noise, a))
        showers = np.concatenate(parts) if parts else np.zeros((0, self.geometry.n_voxels), np.float32)
        return ShowerData(energies, showers, self.geometry, None if angles is None else angles)


class OnnxProducer(LazyState):
    """Showers from an exported model run by ONNX Runtime (a :class:`~caloforge.data.producer.ShowerProducer`).

    Batch ``k`` of a run with seed ``seed`` draws its noise from ``numpy.random.default_rng(seed + 1 + k)``.
    The session is opened on first use and not pickled.

    Arguments:
        path: ``.onnx`` file from ``caloforge export``.
        batch_size: Showers per ONNX Runtime call (and per written chunk).
        threads: Intra-op threads (``None``: all cores).
        providers: ONNX Runtime execution providers.

    Raises:
        ValueError: A batch size below 1.
    """

    def __init__(
        self, path: str | Path, *, batch_size: int = 1000, threads: int | None = None, providers: list[str] | None = None
    ) -> None:
        if batch_size < 1:
            msg = f"batch size must be at least 1, got {batch_size}"
            raise ValueError(msg)
        self.path = Path(path)
        self.batch_size = batch_size
        self.threads = threads
        self.providers = providers

    @property
    def generator(self) -> OnnxGenerator:
        """The ONNX Runtime session and model card (opened on first use).

        Raises:
            FileNotFoundError, OnnxModelError: See :func:`onnx_session`.
        """
        if self._state is None:
            self._state = OnnxGenerator(self.path, threads=self.threads, providers=self.providers)
        gen: OnnxGenerator = self._state
        return gen

    @property
    def geometry(self) -> Geometry:
        """The model's geometry (from its card)."""
        return self.generator.geometry

    @property
    def label(self) -> str:
        """``caloforge <model> (ONNX Runtime)``."""
        return f"caloforge {self.generator.card.model} (ONNX Runtime)"

    def attrs(self) -> dict[str, Any]:
        """The model file's name."""
        return {"model_file": self.path.name}

    def accept(self, conditions: Conditions) -> Conditions:
        """Checks the geometry of a reference file and the angles an angle-conditioned model needs.

        Raises:
            caloforge.data.ShowerFileError: If the conditions come from a file of another geometry.
            ValueError: If an angle-conditioned model gets no angles.
        """
        gen = self.generator
        ref = conditions.geometry
        if ref is not None and not ref.same_binning(gen.geometry):
            msg = (
                f"{conditions.source}: geometry {ref.name!r} ({ref.n_voxels} voxels) differs from the model's "
                f"{gen.geometry.name!r} ({gen.geometry.n_voxels} voxels) in {gen.path}"
            )
            raise ShowerFileError(msg)
        if gen.card.n_conditions == 1:
            return conditions.without_angles()
        if conditions.angles is None:
            msg = f"{gen.path}: the model is angle-conditioned but {conditions.source} gives no angles; pass --angle DEG"
            raise ValueError(msg)
        return conditions

    def batches(self, conditions: Conditions, seed: int) -> Iterator[ShowerData]:
        """One ONNX Runtime call per batch, batch ``k`` seeded with ``seed + 1 + k``."""
        gen = self.generator
        for k, chunk in enumerate(conditions.chunks(self.batch_size)):
            rng = np.random.default_rng(int(seed) + 1 + k)
            noise = gen.noise(chunk.energies, chunk.angles, rng)
            yield ShowerData(chunk.energies, gen.decode(chunk.energies, noise, chunk.angles), gen.geometry, chunk.angles)

"""Statistical amplification: how many Geant4 showers a generated sample is worth (GANplification).

For one observable, quantile bins are defined on a large **reference** sample of truth (Geant4) showers,
so that each bin holds a fraction p_b ≈ 1/B of it. The quality of any sample is the mean squared error of
its per-bin fractions q_b against the reference::

    MSE = (1/B) Σ_b (q_b − p_b)²

A truth-distributed sample of size m, independent of the reference, has the expected MSE

    E[MSE(m)] = a/m + c,   a ≈ S = (1/B) Σ_b p_b (1 − p_b),   c ≈ S / N_ref

(multinomial noise of the sample plus the floor that the reference's own finite size sets). This curve,
with a = S and c = S/N_ref from the reference, is the one m* is read from. It is checked against samples
of growing size m drawn from a **pool** of truth showers independent of the reference (``repeats`` draws
per size, their mean and 16–84 % band; a weighted least-squares fit of a/m + c to them is reported too).
The fitted floor is not used: conditional on the pool it is off by the pool's own noise, ~S/N_pool, which
would limit the measurable m* to the pool size. A generated sample of size M has some MSE; the Geant4
sample size whose expected MSE is the same is

    m* = a / (MSE_gen − c),

and the **amplification** is m*/n for a model trained on n Geant4 showers. A perfect generator's MSE keeps
falling as a/M, so its m* grows with M; a biased one plateaus at a/bias². When MSE_gen is within the noise
of the floor, m* is only bounded from below: a reference of N_ref showers resolves m* up to about N_ref.

Uncertainties come from a bootstrap (the reference and the generated sample resampled, per observable):
the central value is the point estimate and the 68 % interval has the bootstrap's 16–84 % spread of
(MSE_gen − c)/a around it, widened in quadrature by the spread of the reference's own floor (its deviation
from the truth is one χ² draw with B − 1 degrees of freedom: ±c·√(2/(B − 1)), i.e. √(2/(B − 1))/N_ref in
1/m*), mapped to m*; an interval reaching 1/m* ≤ 0 has an infinite upper end.

References:
    Butter, Diefenbacher, Kasieczka, Nachman, Plehn, "GANplification: Eine Geschichte aus dem Reich der
    Statistik", arXiv:2008.06545; Bieringer, Butter, Diefenbacher, Eren, Gaede, Hundhausen, Kasieczka,
    Nachman, Plehn, Trabs, "Calomplification — the power of generative calorimeter models",
    arXiv:2202.07352.

Example:
    >>> rng = np.random.default_rng(0)
    >>> truth = {"x": rng.normal(size=20_000)}
    >>> pool = {"x": rng.normal(size=4_000)}
    >>> gen = {"perfect": {"x": rng.normal(size=8_000)}}
    >>> r = amplification(truth, pool, gen, train_size=1_000, config=AmplificationConfig(bootstrap=50))
    >>> r.samples["perfect"].observables["x"].amplification > 2
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "AmplificationConfig",
    "AmplificationResult",
    "Curve",
    "Geant4Curve",
    "ObservableAmplification",
    "SampleAmplification",
    "amplification",
    "default_sizes",
    "quantile_edges",
]

Values = Mapping[str, NDArray[np.floating]]


@dataclass(frozen=True)
class AmplificationConfig:
    """Settings of an amplification measurement.

    Attributes:
        n_bins: Quantile bins per observable (fewer where the reference has ties).
        sizes: Sample sizes of the Geant4 and generated curves (default: log-spaced, :func:`default_sizes`);
            sizes beyond a sample's length are dropped, and the full generated sample is always included.
        repeats: Random draws per size.
        bootstrap: Bootstrap replicas for the uncertainties.
        seed: Random seed (the whole measurement is reproducible).
    """

    n_bins: int = 10
    sizes: tuple[int, ...] | None = None
    repeats: int = 20
    bootstrap: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_bins", "repeats", "bootstrap"):
            if getattr(self, name) < (2 if name == "n_bins" else 1):
                msg = f"amplification {name} must be at least {2 if name == 'n_bins' else 1}, got {getattr(self, name)}"
                raise ValueError(msg)
        if self.sizes is not None and (not self.sizes or min(self.sizes) < 2):
            msg = f"amplification sizes must be integers of at least 2, got {self.sizes}"
            raise ValueError(msg)


@dataclass
class Curve:
    """MSE against the reference vs sample size (mean and 16–84 % band over the repeated draws).

    Attributes:
        sizes: Sample sizes, (J,).
        mse: Mean MSE per size, (J,).
        low: 16 % quantile per size, (J,).
        high: 84 % quantile per size, (J,).
    """

    sizes: list[int]
    mse: list[float]
    low: list[float]
    high: list[float]


@dataclass
class Geant4Curve(Curve):
    """The Geant4 curve: draws from the pool, the expected curve a/m + c and a fit to the draws.

    Attributes:
        slope: a = S = (1/B) Σ p_b (1 − p_b), the multinomial value, from the reference.
        floor: c = S / N_ref, the reference's own finite size.
        fitted_slope: a of a weighted least-squares fit a/m + c to the pool draws (a check).
        fitted_floor: c of that fit (includes the pool's own noise, ~S/N_pool).
        n_bins: Bins actually used.
    """

    slope: float = 0.0
    floor: float = 0.0
    fitted_slope: float = 0.0
    fitted_floor: float = 0.0
    n_bins: int = 0

    def expected(self, m: float | NDArray[np.float64]) -> float | NDArray[np.float64]:
        """The expected MSE of a Geant4 sample of size ``m`` (independent of the reference)."""
        return self.slope / m + self.floor


@dataclass
class ObservableAmplification:
    """One observable of one generated sample.

    Attributes:
        mse: MSE of the full generated sample.
        equivalent_size: m*, the Geant4 sample size with the same expected MSE (inf: not resolved).
        equivalent_interval: 68 % interval of m* (the upper end may be inf).
        amplification: m* / n.
        interval: 68 % interval of the amplification.
        resolved: Whether MSE_gen lies above the floor by more than its uncertainty (else m* is a lower bound).
        curve: The generated sample's MSE vs generated sample size.
    """

    mse: float
    equivalent_size: float
    equivalent_interval: tuple[float, float]
    amplification: float
    interval: tuple[float, float]
    resolved: bool
    curve: Curve


@dataclass
class SampleAmplification:
    """One generated sample: its size and the result per observable."""

    n_events: int
    observables: dict[str, ObservableAmplification]


@dataclass
class AmplificationResult:
    """Everything an amplification measurement yields (:meth:`to_dict` gives the JSON layout).

    Attributes:
        train_size: n, the Geant4 showers the model was trained on.
        n_reference: Reference showers (bins and densities).
        n_pool: Pool showers (the Geant4 curve).
        config: The settings used.
        geant4: The Geant4 curve per observable.
        samples: Per generated sample label.
        sources: Where the samples came from (files, ranges; filled by the file-level runner).
    """

    train_size: int
    n_reference: int
    n_pool: int
    config: AmplificationConfig
    geant4: dict[str, Geant4Curve]
    samples: dict[str, SampleAmplification]
    sources: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (inf written as the string ``"inf"``)."""
        out: dict[str, Any] = _json_safe(asdict(self))
        return out


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "inf" if value > 0 else "nan"
    return value


def default_sizes(largest: int, points: int = 12) -> tuple[int, ...]:
    """Log-spaced sizes from min(100, largest/10) up to ``largest``.

    Example:
        >>> default_sizes(10_000, points=5)
        (100, 316, 1000, 3162, 10000)
    """
    low = max(2, min(100, largest // 10))
    return tuple(sorted({round(float(s)) for s in np.geomspace(low, largest, points)}))


def quantile_edges(reference: NDArray[np.floating], n_bins: int) -> NDArray[np.float64]:
    """Interior edges of ``n_bins`` quantile bins (−∞, e_1], …, (e_k, ∞) of ``reference``; ties merge bins.

    Raises:
        ValueError: If the reference does not give at least two bins (a constant observable).
    """
    qs = np.quantile(np.asarray(reference, dtype=np.float64), np.linspace(0, 1, n_bins + 1)[1:-1])
    edges = np.unique(qs)
    if edges.size == 0 or edges[-1] >= np.max(reference):
        edges = edges[edges < np.max(reference)]
    if edges.size == 0:
        msg = "the observable is constant on the reference: no quantile bins"
        raise ValueError(msg)
    return edges


def _counts(index: NDArray[np.int64], n_bins: int) -> NDArray[np.float64]:
    return np.bincount(index, minlength=n_bins).astype(np.float64)


def _draw_fractions(index: NDArray[np.int64], sizes: list[int], repeats: int, n_bins: int,
                    rng: np.random.Generator) -> NDArray[np.float64]:
    """Bin fractions of ``repeats`` draws without replacement per size, (J, K, B)."""
    out = np.empty((len(sizes), repeats, n_bins))
    for j, m in enumerate(sizes):
        for k in range(repeats):
            pick = index if m == len(index) and k == 0 else index[rng.choice(len(index), m, replace=False)]
            out[j, k] = _counts(pick, n_bins) / m
    return out


def _fit(sizes: NDArray[np.float64], mse: NDArray[np.float64]) -> tuple[float, float]:
    """Least squares of mse = a/m + c with relative weights (the spread of an MSE grows with it); a, c ≥ 0."""
    x, w = 1.0 / sizes, 1.0 / np.maximum(mse, 1e-300)
    design = np.stack([x, np.ones_like(x)], axis=1) * w[:, None]
    (a, c), *_ = np.linalg.lstsq(design, mse * w, rcond=None)
    if c < 0:  # the floor is a variance: refit through the origin
        a, c = float(np.sum(w * w * x * mse) / np.sum(w * w * x * x)), 0.0
    return max(float(a), 1e-300), float(c)


def _curve(fractions: NDArray[np.float64], ref: NDArray[np.float64], sizes: list[int]) -> Curve:
    mse = np.mean((fractions - ref) ** 2, axis=2)  # (J, K)
    return Curve(sizes, mse.mean(axis=1).tolist(), np.quantile(mse, 0.16, axis=1).tolist(),
                 np.quantile(mse, 0.84, axis=1).tolist())


def _to_size(x: float) -> float:
    return 1.0 / x if x > 0 else math.inf


@dataclass
class _Observable:
    """Binned samples of one observable."""

    n_bins: int
    ref: NDArray[np.float64]  # reference counts (B,)
    pool: NDArray[np.float64]  # pool draws (J, K, B)
    sizes: list[int]
    gen: dict[str, NDArray[np.float64]]  # full generated counts (B,)
    gen_draws: dict[str, tuple[list[int], NDArray[np.float64]]]


def _bin_observable(name: str, reference: Values, pool: Values, generated: Mapping[str, Values],
                    config: AmplificationConfig, rng: np.random.Generator) -> _Observable:
    edges = quantile_edges(reference[name], config.n_bins)
    n_bins = len(edges) + 1

    def index(values: NDArray[np.floating]) -> NDArray[np.int64]:
        return np.searchsorted(edges, np.asarray(values, dtype=np.float64), side="left").astype(np.int64)

    pool_index = index(pool[name])
    pool_sizes = [m for m in (config.sizes or default_sizes(len(pool_index))) if m <= len(pool_index)]
    if len(pool_sizes) < 2:
        msg = f"the Geant4 curve needs at least two sizes up to the pool's {len(pool_index)} showers"
        raise ValueError(msg)
    gen, gen_draws = {}, {}
    for label, values in generated.items():
        gi = index(values[name])
        sizes = sorted({*(m for m in (config.sizes or default_sizes(len(gi), 8)) if m < len(gi)), len(gi)})
        gen[label] = _counts(gi, n_bins)
        gen_draws[label] = (sizes, _draw_fractions(gi, sizes, config.repeats, n_bins, rng))
    return _Observable(n_bins, _counts(index(reference[name]), n_bins),
                       _draw_fractions(pool_index, pool_sizes, config.repeats, n_bins, rng), pool_sizes,
                       gen, gen_draws)


def _inverse_size(ref: NDArray[np.float64], n_ref: int, gen: dict[str, NDArray[np.float64]]) -> dict[str, float]:
    """(MSE_gen − c)/a per sample, for reference fractions ``ref`` (1/m* when positive)."""
    a = max(float(np.mean(ref * (1 - ref))), 1e-300)
    c = a / n_ref
    return {label: (float(np.mean((q - ref) ** 2)) - c) / a for label, q in gen.items()}


def _measure(obs: _Observable, n_ref: int, train_size: int, config: AmplificationConfig,
             rng: np.random.Generator) -> tuple[Geant4Curve, dict[str, ObservableAmplification]]:
    ref = obs.ref / n_ref
    gen = {label: counts / counts.sum() for label, counts in obs.gen.items()}
    x_hat = _inverse_size(ref, n_ref, gen)
    boot: dict[str, list[float]] = {label: [] for label in gen}
    for _ in range(config.bootstrap):
        ref_b = rng.multinomial(n_ref, ref) / n_ref
        gen_b = {label: rng.multinomial(int(obs.gen[label].sum()), q) / obs.gen[label].sum()
                 for label, q in gen.items()}
        for label, x in _inverse_size(ref_b, n_ref, gen_b).items():
            boot[label].append(x)
    s = float(np.mean(ref * (1 - ref)))
    base = _curve(obs.pool, ref, obs.sizes)
    fit_a, fit_c = _fit(np.asarray(obs.sizes, dtype=np.float64), np.asarray(base.mse))
    g4 = Geant4Curve(base.sizes, base.mse, base.low, base.high, slope=s, floor=s / n_ref, fitted_slope=fit_a,
                     fitted_floor=fit_c, n_bins=obs.n_bins)
    results = {}
    for label, x in x_hat.items():
        q16, q50, q84 = (float(q) for q in np.quantile(boot[label], [0.16, 0.5, 0.84]))
        floor_sd = math.sqrt(2.0 / max(obs.n_bins - 1, 1)) / n_ref  # the reference's own χ² realisation
        x_lo, x_hi = x - math.hypot(q50 - q16, floor_sd), x + math.hypot(q84 - q50, floor_sd)
        m_star, m_lo, m_hi = _to_size(x), _to_size(x_hi), _to_size(x_lo)
        sizes, draws = obs.gen_draws[label]
        results[label] = ObservableAmplification(
            mse=float(np.mean((gen[label] - ref) ** 2)), equivalent_size=m_star,
            equivalent_interval=(m_lo, m_hi), amplification=m_star / train_size,
            interval=(m_lo / train_size, m_hi / train_size), resolved=bool(x_lo > 0),
            curve=_curve(draws, ref, sizes))
    return g4, results


def amplification(
    reference: Values,
    pool: Values,
    generated: Mapping[str, Values],
    train_size: int,
    config: AmplificationConfig | None = None,
    *,
    observables: tuple[str, ...] | None = None,
) -> AmplificationResult:
    """Measures the amplification factor of generated samples, per observable.

    Arguments:
        reference: Observable name → values of the reference truth showers, (N_ref,) each.
        pool: The same observables for truth showers independent of the reference (the Geant4 curve).
        generated: Sample label → observable values of the generated showers.
        train_size: n, the number of Geant4 showers the model was trained on.
        config: Settings (defaults: :class:`AmplificationConfig`).
        observables: Names to measure (default: every key of ``reference``).

    Raises:
        ValueError: On a missing observable, an empty sample, a constant observable or too small a pool.
    """
    config = config or AmplificationConfig()
    names = observables or tuple(reference)
    if train_size < 1:
        msg = f"train_size must be positive, got {train_size}"
        raise ValueError(msg)
    for label, values in {"reference": reference, "pool": pool, **generated}.items():
        missing = [n for n in names if n not in values]
        if missing:
            msg = f"{label}: missing observables {missing}"
            raise ValueError(msg)
        empty = [n for n in names if len(values[n]) < 2]
        if empty:
            msg = f"{label}: fewer than two values for {empty}"
            raise ValueError(msg)
    rng = np.random.default_rng(config.seed)
    geant4: dict[str, Geant4Curve] = {}
    per_sample: dict[str, dict[str, ObservableAmplification]] = {label: {} for label in generated}
    for name in names:
        try:
            obs = _bin_observable(name, reference, pool, generated, config, rng)
        except ValueError as err:
            msg = f"observable {name!r}: {err}"
            raise ValueError(msg) from None
        geant4[name], results = _measure(obs, len(reference[name]), train_size, config, rng)
        for label, res in results.items():
            per_sample[label][name] = res
    n_pool = len(pool[names[0]])
    samples = {label: SampleAmplification(len(generated[label][names[0]]), obs_res)
               for label, obs_res in per_sample.items()}
    return AmplificationResult(train_size, len(reference[names[0]]), n_pool, config, geant4, samples)

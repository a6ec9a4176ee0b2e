"""``caloforge latent``: the latent space of a VAE (KL per dimension, normality, correlations), or a KDE sampler fitted into it."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caloforge.cli.options import add_event_range
from caloforge.cli.zoo import add_pretrained_option, use_pretrained

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from caloforge.data import ShowerData
    from caloforge.evaluation.latent import LatentDiagnostics
    from caloforge.models.vae import VAE

__all__ = ["register", "run"]

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds the ``latent`` subcommand."""
    p = subparsers.add_parser(
        "latent",
        help="latent-space diagnostics of a VAE; fit a KDE latent sampler into it",
        description="Encode the showers of --data with a VAE and report, per latent dimension, the KL to N(0,1) "
        "(active: > 0.01 nats), Kolmogorov-Smirnov and Anderson-Darling tests of the aggregate posterior against "
        "N(0,1) and the correlation matrix, written to OUT/latent.json, latent.html and figures. With "
        "--fit-sampler kde --save NEW.pt, fit a conditional KDE of the encoded latents of --data (the training "
        "showers) jointly with the energy (and angle) and save a copy of the model that generates from it.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="training checkpoint or saved VAE (.pt)")
    add_pretrained_option(source)
    p.add_argument("--data", required=True, help="CaloChallenge HDF5 file of showers to encode")
    add_event_range(p)
    p.add_argument("--out", help="output folder of the diagnostics (default: latent; none with --fit-sampler "
                   "unless given)")
    p.add_argument("--fit-sampler", choices=["kde"], help="fit this latent sampler on --data and write --save")
    p.add_argument("--save", metavar="NEW.pt", help="the model with the fitted sampler (never the input file)")
    p.add_argument("--kde-max-points", type=int, help="rows the KDE keeps (default: the config's, 20000)")
    p.add_argument("--kde-bandwidth-scale", type=float, help="factor on Scott's-rule bandwidths (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the posterior draws (default 0)")
    p.add_argument("--no-plots", action="store_true", help="write latent.json and latent.html without figures")
    p.add_argument("--force", action="store_true", help="replace an existing --save file")
    p.set_defaults(func=run)


def _check_save(args: argparse.Namespace) -> Path | None:
    if args.fit_sampler is None:
        if args.save is not None:
            msg = "--save needs --fit-sampler kde"
            raise ValueError(msg)
        return None
    if args.save is None:
        msg = "--fit-sampler needs --save NEW.pt (the input checkpoint is never overwritten)"
        raise ValueError(msg)
    save = Path(args.save)
    if save.exists() and save.resolve() == Path(args.checkpoint).resolve():
        msg = f"{save}: --save must differ from the input checkpoint, which is never overwritten"
        raise ValueError(msg)
    if save.exists() and not args.force:
        msg = f"{save} exists; pass --force to replace it"
        raise FileExistsError(msg)
    return save


def run(args: argparse.Namespace) -> int:
    """Writes the diagnostics and/or the KDE-sampled model; prints a summary; returns 0."""
    from caloforge.data import read_showers
    from caloforge.models.serialization import load_model, save_model
    from caloforge.sampling.latent import require_vae, with_kde_sampler
    from caloforge.threads import apply_threads

    pretrained = use_pretrained(args)
    save = _check_save(args)
    apply_threads(None, what="encoding", level=logging.DEBUG)
    model = require_vae(load_model(args.checkpoint), str(args.pretrained or args.checkpoint))
    data = read_showers(args.data, start=args.start, stop=args.stop)
    if save is not None:
        overrides = {"kde_max_points": args.kde_max_points, "kde_bandwidth_scale": args.kde_bandwidth_scale}
        model = with_kde_sampler(model, data, **{k: v for k, v in overrides.items() if v is not None})
        save_model(model, save)
        kde = model.latent_kde
        rows = 0 if kde is None else int(kde.points.shape[0])
        sys.stdout.write(f"wrote {save}: latent_sampler kde, {rows} rows fitted on {len(data)} showers of {args.data}\n")
        if args.out is None:
            return 0
    out = Path(args.out or "latent")
    name = pretrained.name if pretrained is not None else Path(args.checkpoint).name
    _report(model, data, out, title=f"{name} on {Path(args.data).name}", args=args)
    return 0


def _report(model: VAE, data: ShowerData, out: Path, *, title: str, args: argparse.Namespace) -> None:
    from caloforge.atomic import atomic_write_text
    from caloforge.evaluation.latent import latent_diagnostics
    from caloforge.sampling.latent import encode_data

    encoded = encode_data(model, data, seed=args.seed)
    diagnostics = latent_diagnostics(encoded.z, encoded.mean, encoded.log_var, log_q=encoded.log_q)
    out.mkdir(parents=True, exist_ok=True)
    result = {
        "checkpoint": str(args.pretrained or args.checkpoint),
        "data": str(args.data),
        "start": args.start,
        "stop": args.stop,
        "seed": args.seed,
        "posterior": encoded.posterior,
        **diagnostics.to_dict(),
    }
    atomic_write_text(out / "latent.json", json.dumps(result, indent=1) + "\n")
    figures = {} if args.no_plots else _figures(encoded.z, diagnostics, out)
    notes = ""
    if encoded.posterior == "iaf":
        notes = "IAF posterior: the per-dimension KL is that of the Gaussian base q0(z0|x); the Monte-Carlo KL is the model's."
    from caloforge.evaluation.plots.latent import latent_html

    atomic_write_text(out / "latent.html", latent_html(diagnostics, title=title, figures=figures, notes=notes))
    sys.stdout.write(_summary(diagnostics) + f"wrote {out / 'latent.json'} and {out / 'latent.html'}\n")


def _figures(z: NDArray[np.float64], diagnostics: LatentDiagnostics, out: Path) -> dict[str, Any]:
    """The three figures as PNGs in ``out`` (none, with a warning, without matplotlib)."""
    try:
        from caloforge.evaluation.plots.canvas import require_matplotlib

        require_matplotlib()
    except ImportError as err:
        logger.warning("%s; skipping the figures", err)
        return {}
    from caloforge.evaluation.plots.canvas import save_figure
    from caloforge.evaluation.plots.latent import correlation_figure, kl_figure, latent_histograms_figure

    figures = {
        "latent-histograms": latent_histograms_figure(z, diagnostics),
        "latent-kl": kl_figure(diagnostics),
        "latent-correlation": correlation_figure(diagnostics),
    }
    for stem, fig in figures.items():
        save_figure(fig, out / stem, formats=("png",))
    return figures


def _summary(d: LatentDiagnostics) -> str:
    lines = [f"{'dim':>3} {'KL/nats':>9} {'active':>6} {'mean':>7} {'std':>6} {'KS p':>8} {'AD p':>8}  N(0,1)?"]
    for x in d.dimensions:
        lines.append(
            f"{x.index:>3} {x.kl:>9.4g} {'yes' if x.active else 'no':>6} {x.mean:>7.3f} {x.std:>6.3f} "
            f"{x.ks_pvalue:>8.2g} {x.ad_pvalue:>8.2g}  {'yes' if x.normal else 'rejected'}"
        )
    lines.append(
        f"{d.n_active} of {len(d.dimensions)} dimensions active (mean KL > {d.kl_threshold} nats); "
        f"{sum(x.normal for x in d.dimensions)} not rejected as N(0,1) at alpha={d.alpha}; "
        f"max |correlation| {d.max_abs_correlation:.2f}"
    )
    return "\n".join(lines) + "\n"

"""Which optional extra each command needs, and the one line a missing one ends in.

The core install (``pip install caloforge``, numpy / h5py / PyYAML / tqdm) runs ``simulate``,
``inspect``, ``zoo``, ``config``, ``datasets`` and, with the ``onnx`` extra, ONNX Runtime generation
(``generate --model MODEL.onnx``). Everything else imports a heavy library only when it runs;
:func:`missing_extra_message` turns the ``ModuleNotFoundError`` of such an import into
``caloforge train needs PyTorch: pip install 'caloforge[torch]'`` (``cli/main.py`` prints it, exit 2).

Example:
    >>> err = ModuleNotFoundError("No module named 'torch'", name="torch")
    >>> missing_extra_message("train", err)
    "caloforge train needs PyTorch: pip install 'caloforge[torch]'"
    >>> missing_extra_message("train", ModuleNotFoundError("No module named 'foo'", name="foo")) is None
    True
"""

from __future__ import annotations

__all__ = ["COMMAND_EXTRAS", "HEAVY_MODULES", "missing_extra_message"]

#: Top-level module → (what a user calls it, the extra that installs it).
HEAVY_MODULES: dict[str, tuple[str, str]] = {
    "torch": ("PyTorch", "torch"),
    "scipy": ("SciPy", "eval"),
    "matplotlib": ("Matplotlib", "plot"),
    "mplhep": ("mplhep", "plot"),
    "onnx": ("ONNX", "onnx"),
    "onnxruntime": ("ONNX Runtime", "onnx"),
    "zuko": ("zuko", "flows"),
    "dask": ("Dask", "dask"),
    "distributed": ("Dask distributed", "dask"),
    "geant4_pybind": ("geant4-pybind", "geant4"),
    "optuna": ("Optuna", "tune"),
}

#: Command → the extras it needs (beyond the core); optional ones in the README table, not here.
COMMAND_EXTRAS: dict[str, tuple[str, ...]] = {
    "simulate": (),
    "inspect": (),
    "zoo": (),
    "config": (),
    "datasets": (),
    "generate": ("onnx",),  # with --model MODEL.onnx; torch with --checkpoint / --pretrained
    "train": ("torch",),
    "score": ("torch",),
    "reflow": ("torch",),
    "calibrate": ("torch",),
    "export": ("torch", "onnx"),
    "bench": ("torch",),
    "evaluate": ("torch", "eval"),
    "reweight": ("torch", "eval"),
    "amplification": ("eval",),
    "run": ("torch", "eval", "onnx"),
    "demo": ("torch", "eval", "onnx"),
    "geant4": ("geant4",),
    "tune": ("torch", "eval", "tune"),
    "latent": ("torch", "eval"),
}


def missing_extra_message(command: str, err: ModuleNotFoundError) -> str | None:
    """The one line for a command that failed importing a heavy library; ``None`` for any other module.

    Arguments:
        command: The subcommand that ran.
        err: The import error (its ``name`` is the missing module, e.g. ``torch`` or ``scipy.stats``).
    """
    root = (err.name or "").split(".")[0]
    if root not in HEAVY_MODULES:
        return None
    library, extra = HEAVY_MODULES[root]
    return f"caloforge {command} needs {library}: pip install 'caloforge[{extra}]'"

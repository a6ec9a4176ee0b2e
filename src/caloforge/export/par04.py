"""The Geant4 Par04 macro written next to a Par04-signature ONNX model: the real inference commands.

:func:`par04_macro` renders the ``/Par04/inference/...`` commands of Geant4's
``examples/extended/parameterisations/Par04`` (``Par04InferenceMessenger``) for one exported model:
inference library, latent and condition sizes, model path, profiling and optimisation flags, and the
inference mesh (numbers and sizes of ρ, φ and z cells), then the two fast-simulation models the
example activates (``/param/ActivateModel defineMesh``, ``inferenceModel``). Run it after your detector
set-up and ``/run/initialize`` (``/control/execute model.mac``); the readout mesh
(``/Par04/mesh/...``, before ``/run/initialize``) must be the same mesh and is listed as comments.

The C++ side does not check that the mesh matches the network: an 18 × 50 × 45 mesh reads 40,500
floats from any output. :func:`check_macro_mesh` therefore refuses a mesh whose cell count differs
from the model's output width. Par04 encodes the conditions itself, with constants no command sets
(``fMaxEnergy`` = 1024 GeV, ``fMaxAngle`` = 90°): the energy and angle ranges the model was trained on
are written as comments. The two geometry one-hot inputs are accepted and ignored by caloforge models
(they are trained on one geometry).

Example:
    >>> text = par04_macro("model.onnx", latent_size=10, mesh=(9, 16, 45), output_size=6480)
    >>> [line for line in text.splitlines() if line.startswith("/Par04/inference/setNbOfPhi")]
    ['/Par04/inference/setNbOfPhiCells 16']
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from caloforge.export.graph import Par04Graph

__all__ = [
    "PAR04_COMMANDS", "PAR04_OPSET", "Par04MacroError", "check_macro_mesh", "macro_for_graph", "par04_macro",
    "write_par04_macro",
]

#: Default ONNX opset of Par04 exports: the highest that ONNX Runtime 1.11.1 (Par04's README) loads.
PAR04_OPSET = 15

#: Commands of Par04's inference messenger and of Geant4's fast-simulation messenger the macro uses.
PAR04_COMMANDS = frozenset({
    "/Par04/inference/setInferenceLibrary",
    "/Par04/inference/setSizeLatentVector",
    "/Par04/inference/setSizeConditionVector",
    "/Par04/inference/setModelPathName",
    "/Par04/inference/setProfileFlag",
    "/Par04/inference/setOptimizationFlag",
    "/Par04/inference/setNbOfRhoCells",
    "/Par04/inference/setNbOfPhiCells",
    "/Par04/inference/setNbOfZCells",
    "/Par04/inference/setSizeOfRhoCells",
    "/Par04/inference/setSizeOfZCells",
    "/param/ActivateModel",
})
_CONDITIONS = 4  # E / fMaxEnergy, angle / fMaxAngle, two geometry flags


class Par04MacroError(ValueError):
    """The macro's mesh does not match the model's output."""


def check_macro_mesh(mesh: Sequence[int], output_size: int, where: str = "Par04 macro") -> None:
    """Refuses a (ρ, φ, z) mesh whose number of cells differs from the model's output width.

    Raises:
        Par04MacroError: ``n_rho · n_phi · n_z != output_size``.
    """
    n_rho, n_phi, n_z = (int(m) for m in mesh)
    if n_rho * n_phi * n_z != output_size:
        msg = (f"{where}: mesh {n_rho} x {n_phi} x {n_z} = {n_rho * n_phi * n_z} cells, but the model outputs "
               f"{output_size} values per shower; Par04 would read past or short of its output")
        raise Par04MacroError(msg)


def par04_macro(
    model_path: str,
    *,
    latent_size: int,
    mesh: tuple[int, int, int],
    output_size: int,
    rho_cell_mm: float | None = None,
    z_cell_mm: float | None = None,
    energy_range_gev: tuple[float, float] | None = None,
    angle_range_deg: tuple[float, float] | None = None,
    max_energy_gev: float = 1024.0,
    max_angle_deg: float = 90.0,
    header: Sequence[str] = (),
) -> str:
    """The macro text (see the module docstring).

    Arguments:
        model_path: The ONNX file as Par04 should open it (relative to Geant4's working directory).
        latent_size: Latent (noise) inputs of the model.
        mesh: (n_rho, n_phi, n_z) cells.
        output_size: Output values per shower of the model (checked against the mesh).
        rho_cell_mm: Radial cell size (``None``: a non-uniform binning; left to the user, commented).
        z_cell_mm: Longitudinal cell size (``None``: unknown; left to the user, commented).
        energy_range_gev: Incident energies the model was trained on (a comment).
        angle_range_deg: Global polar angles the model was trained on, Par04's convention (90° =
            perpendicular; a comment).
        max_energy_gev: ``fMaxEnergy`` the export assumed (must match ``Par04InferenceSetup``).
        max_angle_deg: ``fMaxAngle`` the export assumed.
        header: Extra comment lines at the top.

    Raises:
        Par04MacroError: The mesh does not match ``output_size``.
    """
    check_macro_mesh(mesh, output_size)
    n_rho, n_phi, n_z = mesh
    lines = [f"# {h}" for h in header]
    lines += [
        "# Geant4 Par04 inference set-up; run after /run/initialize: /control/execute <this file>",
        (f"# Model inputs: {latent_size} latent values, then {_CONDITIONS} conditions: E / {max_energy_gev:g} GeV, "
        f"angle / {max_angle_deg:g} deg, geometry one-hot"),
        "# (the two geometry flags are accepted and ignored: the model was trained on one geometry).",
        (f"# fMaxEnergy = {max_energy_gev:g} GeV and fMaxAngle = {max_angle_deg:g} deg in Par04InferenceSetup "
        "must equal these."),
    ]
    if energy_range_gev is not None:
        lines.append(f"# Trained on incident energies {energy_range_gev[0]:g}-{energy_range_gev[1]:g} GeV; "
                     "shoot within this range (/gun/energy).")
    if angle_range_deg is not None:
        lines.append(f"# Trained on polar angles {angle_range_deg[0]:g}-{angle_range_deg[1]:g} deg "
                     "(Par04's convention, 90 deg = perpendicular to the layers).")
    lines += [
        f"# Output: {output_size} = {n_rho} x {n_phi} x {n_z} cell energies / E (rho outermost, z fastest).",
        (f"# The readout mesh must be the same: /Par04/mesh/setNbOfRhoCells {n_rho}, "
        f"/Par04/mesh/setNbOfPhiCells {n_phi}, /Par04/mesh/setNbOfZCells {n_z} (before /run/initialize)."),
        "/Par04/inference/setInferenceLibrary ONNX",
        f"/Par04/inference/setSizeLatentVector {latent_size}",
        f"/Par04/inference/setSizeConditionVector {_CONDITIONS}",
        f"/Par04/inference/setModelPathName {model_path}",
        "/Par04/inference/setProfileFlag 0",
        "/Par04/inference/setOptimizationFlag 0",
        f"/Par04/inference/setNbOfRhoCells {n_rho}",
        f"/Par04/inference/setNbOfPhiCells {n_phi}",
        f"/Par04/inference/setNbOfZCells {n_z}",
    ]
    for name, size in (("Rho", rho_cell_mm), ("Z", z_cell_mm)):
        line = f"/Par04/inference/setSizeOf{name}Cells {size:g} mm" if size is not None else None
        lines.append(line or f"# /Par04/inference/setSizeOf{name}Cells <size> mm  (unknown from the geometry: set it)")
    lines += [
        "# dynamically set the readout mesh from the particle direction (must be the first fast-sim model)",
        "/param/ActivateModel defineMesh",
        "# the ML fast simulation, configured by /Par04/inference above",
        "/param/ActivateModel inferenceModel",
        "",
    ]
    return "\n".join(lines)


def write_par04_macro(onnx_path: str | Path, text: str, *, overwrite: bool = False) -> Path:
    """Writes ``text`` atomically as ``<model>.mac`` next to the ONNX file; returns its path."""
    from caloforge.atomic import atomic_write_text, prepare_target

    path = Path(onnx_path).with_suffix(".mac")
    prepare_target(path, overwrite=overwrite)
    atomic_write_text(path, text)
    return path


def _trained_ranges(graph: Par04Graph) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    """Energy (GeV) and angle (deg) ranges of the model's fitted condition encoder, if it has one."""
    import math

    from caloforge.data.transforms import ConditionEncoder

    for module in graph.model.modules():
        if isinstance(module, ConditionEncoder):
            energy = (math.exp(float(module.log_e_min)) / 1e3, math.exp(float(module.log_e_max)) / 1e3)
            # Par04's global polar angle, 90° − θ: the largest θ is the smallest polar angle
            angle = (90.0 - math.degrees(float(module.angle_max)), 90.0 - math.degrees(float(module.angle_min)))
            return energy, angle if module.n_conditions > 1 else None
    return None, None


def macro_for_graph(graph: Par04Graph, model_path: str, output_size: int, header: Sequence[str] = ()) -> str:
    """:func:`par04_macro` for an exported :class:`~caloforge.export.graph.Par04Graph`.

    Raises:
        Par04MacroError: The geometry's mesh does not match ``output_size``.
    """
    geometry = graph.model.geometry
    n_z, n_phi, n_rho = graph.shape
    edges = geometry.layers[0].r_edges
    widths = [b - a for a, b in itertools.pairwise(edges)]
    uniform = bool(widths) and max(widths) - min(widths) <= 1e-6 * max(widths)
    energy, angle = _trained_ranges(graph)
    s = graph.settings
    return par04_macro(
        model_path, latent_size=graph.noise_dim, mesh=(n_rho, n_phi, n_z), output_size=output_size,
        rho_cell_mm=widths[0] if uniform else None, z_cell_mm=geometry.layer_thickness_mm,
        energy_range_gev=energy, angle_range_deg=angle, max_energy_gev=s.max_energy_mev / 1e3,
        max_angle_deg=s.max_angle_deg, header=header,
    )

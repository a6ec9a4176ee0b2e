"""Writes docs/tutorial.ipynb (unexecuted) from the cells below, so the notebook has one editable source.

Run ``python tools/build_tutorial.py`` after changing a cell; ``tests/docs/test_tutorial.py`` executes the
notebook (slow-marked, run in CI) and fails when any cell raises.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

__all__ = ["CELLS", "build"]

CELLS: list[tuple[str, str]] = [
    ("markdown", """# caloforge in ten minutes: simulate → train → evaluate → export

This notebook runs the whole workflow on small data, on a laptop CPU, in a few minutes:

1. simulate electron showers with the built-in parameterised simulator (CaloChallenge dataset-2 geometry),
2. train a small VAE on them,
3. generate showers and validate them against held-out simulated showers the way the CaloChallenge does
   (high-level features, separation powers, a classifier AUC),
4. export the model to ONNX and generate with ONNX Runtime, the path Geant4's Par04 example uses.

Everything here is also one command line away (`caloforge simulate`, `train`, `generate`, `evaluate`,
`export`); the notebook shows the Python API underneath. Nothing is downloaded."""),
    ("code", """import tempfile
from pathlib import Path

import numpy as np

import caloforge
from caloforge.geometry import get_geometry
from caloforge.simulate import GFlashSimulator

work = Path(tempfile.mkdtemp(prefix="caloforge-tutorial-"))
print("caloforge", caloforge.__version__, "working in", work)"""),
    ("markdown", """## 1. Simulate

`GFlashSimulator` draws GFlash-style longitudinal and transverse profiles with sampling fluctuations for
any geometry. Incident energies are in MeV; here log-uniform from 1 to 100 GeV, as in CaloChallenge
dataset 2. One generator seeds everything, so the showers are reproducible."""),
    ("code", """geometry = get_geometry("calochallenge-2")
rng = np.random.default_rng(0)
energies = np.exp(rng.uniform(np.log(1e3), np.log(1e5), 3000))
showers = GFlashSimulator(geometry).simulate(energies, rng)
train, reference = showers.subset(slice(0, 2000)), showers.subset(slice(2000, 3000))
print(showers.showers.shape, "voxels; mean E_dep / E_inc =",
      round(float((showers.showers.sum(1) / showers.energies).mean()), 3))"""),
    ("markdown", """Showers are a `ShowerData`: energies (N,) in MeV, voxel energies (N, n_voxels) in MeV, the geometry.
`write_showers` stores them as a CaloChallenge HDF5 file (atomic, compressed, checksummed); every
command reads that format."""),
    ("code", """from caloforge.data import read_showers, write_showers

write_showers(work / "reference.h5", reference)
print(read_showers(work / "reference.h5"))"""),
    ("markdown", """## 2. Train

Every model family (`vae`, `wgan`, `calogan`, `caloflow`, `flow-matching`, `bibae`, ...) is built by name
from a config dict and trained by the one `Trainer`. This VAE is deliberately small so that the cell runs in
about a minute; the shipped configs in `caloforge config list` are the real ones."""),
    ("code", """from caloforge.models import build_model
from caloforge.training import TrainConfig, Trainer

model = build_model("vae", geometry, {"latent_dim": 8, "hidden": [256, 128]})
trainer = Trainer(model, TrainConfig(max_steps=400, batch_size=100, lr=1e-3, progress=False, seed=0),
                  out_dir=work / "run")
result = trainer.fit(train)
print(f"{result.steps} steps in {result.seconds:.0f} s; checkpoint {result.checkpoint}")"""),
    ("markdown", """## 3. Generate and evaluate

`generate` draws one shower per incident energy. `evaluate` compares the generated file with the
reference: CaloChallenge high-level features (layer energies, centres of energy, widths, sparsity),
their separation powers, and a classifier trained to tell the two apart (AUC 0.5: indistinguishable).
It writes `metrics.json`, figures and an HTML report."""),
    ("code", """from caloforge.evaluation import EvaluationConfig, evaluate
from caloforge.sampling import generate

generated = generate(model, reference.energies, seed=1, device="cpu")
write_showers(work / "vae.h5", generated)
report = evaluate(work / "reference.h5", {"vae": work / "vae.h5"}, work / "eval",
                  EvaluationConfig(bootstrap=0, baseline=False, plot_formats=("png",)))
sample = report.generated["vae"]
print("classifier AUC (voxels):", round(sample.classifier_result("low").auc, 3))
print("mean separation power:", round(sample.summary.separation_power_mean, 3))
print("most separating histograms:")
for h in sorted(sample.histograms.values(), key=lambda h: -h.separation_power)[:5]:
    print(f"  {h.name:24s} {h.separation_power:.3f}")"""),
    ("markdown", """The report is `eval/report.html`; here is one of its figures, the energy response."""),
    ("code", """from IPython.display import Image

figure = sorted((work / "eval" / "plots").glob("*etot*.png")) or sorted((work / "eval" / "plots").glob("*.png"))
Image(filename=str(figure[0]), width=500)"""),
    ("markdown", """## 4. Export to ONNX and run it with ONNX Runtime

`export_onnx` writes one graph (preprocessing included), checks it against PyTorch on a parity batch, and
refuses a model that disagrees. `OnnxGenerator` runs it without PyTorch — the light install
(`pip install 'caloforge[onnx]'`) is enough on the machine that generates."""),
    ("code", """from caloforge.export import OnnxGenerator, export_onnx

exported = export_onnx(model, work / "vae.onnx")
print(exported.path.name, "parity max |Δ| =", f"{exported.parity.max_abs:.2e} MeV")
onnx_showers = OnnxGenerator(exported.path).generate(reference.energies[:100], seed=1)
print(onnx_showers.showers.shape)"""),
    ("markdown", """## Where next

- `caloforge demo` runs this pipeline at full size with two model families and writes a comparison page.
- `caloforge datasets` lists the CaloChallenge and Par04 data sets to train on real Geant4 showers.
- `caloforge zoo` lists the pretrained models that work out of the box (`generate --pretrained NAME`).
- The API reference (`make docs`) documents every function used above."""),
]


def build(path: Path) -> None:
    """Writes the notebook to ``path`` without outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, source in CELLS:
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    nbformat.write(nb, path)


if __name__ == "__main__":
    build(Path(__file__).resolve().parent.parent / "docs" / "tutorial.ipynb")

"""Drawing and HTML for an evaluation, kept apart from the statistics of :mod:`caloforge.evaluation`.

* :mod:`.canvas` — the matplotlib check (:func:`require_matplotlib`), Agg figures, saving, colours.
* :mod:`.histograms` — feature histograms with ratio panels; :mod:`.showers` — response, profiles, images.
* :mod:`.figures` — every figure of a report (:func:`write_figures`).
* :mod:`.markup` — the HTML pieces (numbers, tables, AUC colours) shared with the pipeline's ``index.html``;
  :mod:`.html` — the evaluation's ``report.html`` (:func:`render_html`).

matplotlib is the ``plot`` extra (``pip install 'caloforge[plot]'``): importing this package does not
import it, and drawing without it raises an :class:`ImportError` that names the extra.
"""

from __future__ import annotations

from caloforge.evaluation.plots.canvas import PLOT_EXTRA, figure, figure_png, require_matplotlib, save_figure
from caloforge.evaluation.plots.figures import FIGURE_TITLES, write_figures
from caloforge.evaluation.plots.histograms import histogram_figure, histogram_grid, separation_by_layer_figure
from caloforge.evaluation.plots.html import render_html
from caloforge.evaluation.plots.showers import layer_images_figure, profile_figure, radial_profile, response_figure

__all__ = [
    "FIGURE_TITLES",
    "PLOT_EXTRA",
    "figure",
    "figure_png",
    "histogram_figure",
    "histogram_grid",
    "layer_images_figure",
    "profile_figure",
    "radial_profile",
    "render_html",
    "require_matplotlib",
    "response_figure",
    "save_figure",
    "separation_by_layer_figure",
    "write_figures",
]

"""HTML pieces shared by the evaluation's ``report.html`` and the pipeline's ``index.html``.

Numbers (:func:`fmt`, by the one rule of :mod:`.numbers`), tables (:func:`table`) and classifier AUCs (:func:`auc_span`); each page keeps
its own style sheet, with the classes ``good`` and ``bad``.

One rule colours a classifier AUC everywhere (:func:`auc_class`): below :data:`AUC_GOOD` (0.6) it is
``good`` (green: hard to tell from the reference), above :data:`AUC_BAD` (0.8) it is ``bad`` (red: easily
told apart), in between uncoloured. 0.5 means indistinguishable and 1 perfectly separable.

Example:
    >>> auc_span(0.93, 0.006)
    '<span class="bad">0.930 ± 0.006</span>'
    >>> fmt(float("nan")), fmt(0.123456), fmt("<b>")
    ('–', '0.123', '&lt;b&gt;')
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from caloforge.evaluation.plots.numbers import auc as format_auc
from caloforge.evaluation.plots.numbers import num

__all__ = ["AUC_BAD", "AUC_GOOD", "auc_class", "auc_span", "escape", "fmt", "table"]

#: An AUC below this is coloured ``good``.
AUC_GOOD = 0.6
#: An AUC above this is coloured ``bad``.
AUC_BAD = 0.8


def escape(value: object) -> str:
    """``str(value)`` with HTML special characters escaped."""
    return html.escape(str(value))


def fmt(value: Any, digits: int = 3) -> str:
    """A number by :func:`~caloforge.evaluation.plots.numbers.num` (``digits`` significant digits, ``–`` for
    ``None``, NaN and inf); other values escaped."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return num(value, digits)
    return "–" if value is None else escape(value)


def auc_class(auc: float) -> str:
    """The CSS class of a classifier AUC: ``"good"``, ``"bad"`` or ``""`` (see the module docstring)."""
    if auc < AUC_GOOD:
        return "good"
    return "bad" if auc > AUC_BAD else ""


def auc_span(auc: float | None, std: float | None = None) -> str:
    """A coloured AUC (``mean ± std`` when ``std`` is given, for a repeated test); ``–`` without one."""
    if auc is None:
        return "–"
    return f'<span class="{auc_class(auc)}">{format_auc(auc, std)}</span>'


def table(header: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]]) -> str:
    """A table: ``header`` and each row's name are escaped, the cells are HTML already."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(f"<tr><td>{escape(n)}</td>{''.join(f'<td>{c}</td>' for c in cells)}</tr>" for n, cells in rows)
    return f"<table><tr>{head}</tr>{body}</table>"

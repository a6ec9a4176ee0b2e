"""Renders the first page of caloforge HTML reports to PNG, for the screenshots in the docs.

The reports are rendered with WeasyPrint (HTML/CSS → PDF, no browser needed) and the first page is
rasterised with PyMuPDF; neither is a caloforge dependency (``pip install weasyprint pymupdf`` in any
environment). Usage::

    python tools/screenshot_report.py demo-run/index.html docs/img/demo-index.png
    python tools/screenshot_report.py demo-run/evaluate/report.html docs/img/demo-report.png --pages 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

__all__ = ["render"]


def render(html: Path, png: Path, *, pages: int = 1, width_px: int = 1100, dpi: int = 80) -> Path:
    """Writes the first ``pages`` pages of ``html`` (stacked) as one PNG of ``width_px`` CSS pixels per page."""
    import pymupdf
    import weasyprint

    css = weasyprint.CSS(string=f"@page {{ size: {width_px}px {int(width_px * 1.3)}px; margin: 12px }}")
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "page.pdf"
        weasyprint.HTML(filename=str(html), base_url=str(html.parent)).write_pdf(pdf, stylesheets=[css])
        doc = pymupdf.open(pdf)
        shots = [doc[i].get_pixmap(dpi=dpi) for i in range(min(pages, len(doc)))]
        height = sum(s.height for s in shots)
        canvas = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, shots[0].width, height), False)
        y = 0
        for shot in shots:
            shot.set_origin(0, y)
            canvas.copy(shot, shot.irect)
            y += shot.height
        canvas.save(png)
    return png


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--pages", type=int, default=1)
    args = parser.parse_args()
    sys.stdout.write(f"{render(args.html, args.png, pages=args.pages)}\n")

"""Load, ahead of the first request, what the first map, report and PDF would otherwise wait for:
the map and image libraries, the compiled page templates, the PDF renderer and its fonts.

The server runs :func:`preload_steps` in a thread after start-up (``REGIOMATCH_WARM_UP``), so
start-up itself stays short and a planner's first map or report does not pay a second of imports.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path

from geo.engine.layer import Layer
from geo.paths import SHIPPED_DATA

log = logging.getLogger("regiomatch.maps")


def preload_steps(layer: Layer, data_dir: Path = SHIPPED_DATA) -> list[tuple[str, Callable[[], object]]]:
    """What to load, as named steps to run in order: draw one small map of ``layer`` (discarded),
    compile every page template, draw one report map and one tiny image, print one tiny PDF (that
    step returns False without a PDF renderer: nothing loaded). The server's warm-up runs them one
    by one and lets a request go first between two steps.

    Examples
    --------
    >>> [name for name, _ in preload_steps(catalog.layer("provincie"))]
    ['maps', 'templates', 'images', 'pdf']
    """
    return [("maps", lambda: _maps(layer, data_dir)), ("templates", _templates),
            ("images", lambda: _images(layer, data_dir)), ("pdf", _pdf)]


def _maps(layer: Layer, data_dir: Path) -> None:
    from maps import municipality_map, overlay_map, scenario_map  # noqa: F401 (imported for their first use)
    from maps.base import render
    from maps.choropleth import population_map

    render(population_map(layer, data_dir=data_dir, assets="served"))


def _templates() -> None:
    from maps.templating import TEMPLATES, environment

    env = environment()
    for template in sorted(p.name for p in Path(TEMPLATES).glob("*.html")):
        env.get_template(template)


def _images(layer: Layer, data_dir: Path) -> None:
    from matplotlib.figure import Figure

    from geo.engine.overlay import overlay
    from maps.zone_map import zone_map

    code = str(layer.zones["code"].iloc[0])  # a report map (SVG): the polygons and their simplified copies
    zone_map(layer, code, layer, overlay(layer, layer).zone_detail(code), data_dir)
    figure = Figure(figsize=(1, 1))  # and the matplotlib of the maps' "Download als PNG"
    figure.add_subplot().text(0.5, 0.5, "regiomatch")
    figure.savefig(io.BytesIO(), format="png")


def _pdf() -> bool:
    """Print one tiny PDF; False (nothing loaded) without WeasyPrint."""
    from maps.pdf import available_renderers, html_to_pdf

    if "weasyprint" not in available_renderers():
        return False
    html_to_pdf("<p>regiomatch</p>", "weasyprint")
    return True

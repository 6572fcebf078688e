"""``regiomatch map``: write an interactive map to one self-contained HTML file (Leaflet inlined,
no tiles: it opens offline, from disk or a mail attachment).

Examples::

    regiomatch map overlay samenwerkingsverband eerstelijnszone --focus W13 -o W13.html
    regiomatch map municipality 34022 -o kortrijk.html
    regiomatch map choropleth eerstelijnszone -o elz.html
    regiomatch map scenario 3f2a9c -o scenario.html

Every layer id the API accepts works here: shipped layers, imported layers and ``scenario:<id>``
from the service's database (``REGIOMATCH_STATE_DIR`` / ``REGIOMATCH_DATABASE_URL``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.cli_common import add_command, workspace
from geo import dutch
from geo.engine.overlay import overlay
from geo.errors import InvalidInput
from geo.reference.norms import NORM_LINES
from geo.usecases.norms import layer_norm
from geo.usecases.scenarios import scenario_with_base

ASSETS = "inline"
# The map modules (Folium, Jinja templates) are imported by the command that draws: ``regiomatch
# serve`` and every other command start without them.


def _output(output: str) -> Path:
    out = Path(output)
    if out.suffix.lower() not in (".html", ".htm"):
        raise InvalidInput(f"a map is written as HTML: the output file must end in .html, got {out.name!r}")
    return out


def _write(html: str, output: str, what: str) -> None:
    out = _output(output)
    out.write_text(html, encoding="utf-8")
    print(f"{what}: kaart geschreven naar {out} ({dutch.number(out.stat().st_size / 1e6, 1)} MB)", file=sys.stderr)


def cmd_map_overlay(args: argparse.Namespace) -> None:
    _output(args.output)  # refuse a wrong file name before any work
    from maps.base import render
    from maps.overlay_map import overlay_map

    ws = workspace(args)
    result = overlay(ws.layer(args.a), ws.layer(args.b), "population")
    m = overlay_map(result, args.focus, data_dir=ws.catalog.data_dir, assets=ASSETS)
    _write(render(m), args.output, f"{result.a.name} tegenover {result.b.name}")


def cmd_map_municipality(args: argparse.Namespace) -> None:
    _output(args.output)  # refuse a wrong file name before any work
    from maps.base import render
    from maps.municipality_map import municipality_map

    ws = workspace(args)
    ws.catalog.atoms.position(args.nis_code)
    layers = [ws.layer(i) for i in args.layers] if args.layers else ws.layers()
    m = municipality_map(args.nis_code, layers, data_dir=ws.catalog.data_dir, assets=ASSETS)
    _write(render(m), args.output, ws.catalog.atoms.name(args.nis_code))


def cmd_map_choropleth(args: argparse.Namespace) -> None:
    _output(args.output)  # refuse a wrong file name before any work
    from maps.base import render
    from maps.choropleth import population_map

    ws = workspace(args)
    layer = ws.layer(args.layer)
    m = population_map(layer, layer_norm(ws, args.layer), args.norms, data_dir=ws.catalog.data_dir,
                       assets=ASSETS)
    _write(render(m), args.output, layer.name)


def cmd_map_scenario(args: argparse.Namespace) -> None:
    _output(args.output)  # refuse a wrong file name before any work
    from maps.base import render
    from maps.scenario_map import scenario_map

    ws = workspace(args)
    view = scenario_with_base(ws, args.scenario_id)
    m = scenario_map(view.base, view.layer, view.norm, view.associations, data_dir=ws.catalog.data_dir, assets=ASSETS)
    _write(render(m), args.output, view.record.name)


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "map", help="write an interactive map (self-contained HTML)")
    kinds = p.add_subparsers(dest="map_kind", required=True)

    k = add_command(kinds, "overlay", help="layer A as outlines over layer B as coloured zones")
    k.add_argument("a", help="layer drawn as outlines, e.g. samenwerkingsverband")
    k.add_argument("b", help="layer drawn as coloured zones, e.g. eerstelijnszone")
    k.add_argument("--focus", default=None, help="zoom to this zone of layer A, e.g. W13")
    k.add_argument("-o", "--output", required=True, help="HTML file to write")
    k.set_defaults(func=cmd_map_overlay)

    k = add_command(kinds, "municipality", help="every zone one municipality belongs to")
    k.add_argument("nis_code", type=int, help="2025 NIS code, e.g. 34022")
    k.add_argument("--layers", nargs="+", default=None, metavar="LAYER", help="only these layers (default: all)")
    k.add_argument("-o", "--output", required=True, help="HTML file to write")
    k.set_defaults(func=cmd_map_municipality)

    k = add_command(kinds, "choropleth", help="population per zone with the norms in the legend")
    k.add_argument("layer", help="layer id, e.g. eerstelijnszone")
    k.add_argument("--norms", nargs="+", type=int, default=None, metavar="N",
                   help=f"population thresholds in the legend (default: {' '.join(map(str, NORM_LINES))} for layers "
                        "with a population norm, none for the others)")
    k.add_argument("-o", "--output", required=True, help="HTML file to write")
    k.set_defaults(func=cmd_map_choropleth)

    k = add_command(kinds, "scenario", help="today's zoning and a saved scenario side by side")
    k.add_argument("scenario_id", help="id of a saved scenario")
    k.add_argument("-o", "--output", required=True, help="HTML file to write")
    k.set_defaults(func=cmd_map_scenario)


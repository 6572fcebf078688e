"""``regiomatch``: the command line. Parse, call :mod:`geo`, print.

Examples::

    regiomatch layers
    regiomatch members samenwerkingsverband W13
    regiomatch overlay samenwerkingsverband eerstelijnszone --format table --population-year 2018
    regiomatch --as-of 2018-06-30 members samenwerkingsverband ISOM
    regiomatch overlay samenwerkingsverband@2018-06-30 eerstelijnszone
    regiomatch mismatch W13 --layer samenwerkingsverband --against eerstelijnszone
    regiomatch serve --port 8000

The commands come from an explicit list of groups (:data:`COMMAND_GROUPS`): this module, maps,
reports, zonings and ensembles. Each group module imports only :mod:`api.cli_common`, never this module.
``python -m api.cli`` is the same program as the ``regiomatch`` console script.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence

import pandas as pd

from api import cli_ensemble, cli_maps, cli_reports, cli_users, cli_zonings, serialize, startup
from api.cli_common import add_command, check_as_of, global_options, print_frame, workspace
from geo import dutch
from geo.engine.layer import with_population
from geo.engine.overlay import overlay
from geo.errors import RegiomatchError
from geo.paths import ATTRIBUTION
from geo.reference.roles import association_layer, zoning_layer


def cmd_layers(args: argparse.Namespace) -> None:
    ws = workspace(args)
    frame = pd.DataFrame([serialize.layer_info(layer) for layer in ws.layers()])
    print_frame(frame[["id", "name", "kind", "vintage", "zone_count", "source"]], args.format)


def cmd_members(args: argparse.Namespace) -> None:
    ws = workspace(args)
    layer = ws.layer(args.layer)
    frame = with_population(layer.members(args.zone), layer.atoms)
    frame["population"] = frame["population"].round().astype(int)
    if args.format == "table":
        print(f"{layer.name} ({layer.id}); bevolking op 1 januari {layer.atoms.population_year} (Statbel)")
    print_frame(frame, args.format)


def _summary_value(value: object) -> object:
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float):
        return dutch.number(value, 3)
    if isinstance(value, int):
        return dutch.number(value)
    return value


def cmd_overlay(args: argparse.Namespace) -> None:
    ws = workspace(args)
    result = overlay(ws.layer(args.a), ws.layer(args.b), args.weight)
    if args.format == "json":
        print(json.dumps(serialize.overlay(result), ensure_ascii=False, indent=2))
        return
    if args.format == "csv":
        print_frame(serialize.overlay_rows(result), "csv")
        return
    unit = f"inwoners op 1 januari {result.population_year}" if args.weight == "population" else "km²"
    print(f"{result.a.name} ({result.a.id}) tegenover {result.b.name} ({result.b.id}); gewicht: {unit}")
    table = result.zone_table()
    table["dominant_share"] = table["dominant_share"].map(dutch.percent)
    decimals = 0 if args.weight == "population" else 2
    for column in table.columns:
        if column != "dominant_share" and pd.api.types.is_float_dtype(table[column]):
            table[column] = table[column].map(lambda v: dutch.number(v, decimals))
    print(table.drop(columns=["dominant_zone"]).rename(columns={"dominant_share": "dominant_%"}).to_string(index=False))
    print()
    for key, value in serialize.summary(result).items():
        print(f"  {key:32s} {_summary_value(value)}")
    print(f"\n{ATTRIBUTION}")


def cmd_mismatch(args: argparse.Namespace) -> None:
    ws = workspace(args)
    result = overlay(ws.layer(args.layer), ws.layer(args.against), args.weight)
    detail = result.zone_detail(args.zone)
    if args.format == "json":
        print(json.dumps(serialize.zone_detail(detail, args.weight), ensure_ascii=False, indent=2))
        return
    rows = [{"zone": z.code, "zone_name": z.name, "nis_code": m.nis_code, "municipality": m.name,
             args.weight: m.weight, "dominant": z.code == detail.dominant_zone}
            for z in detail.zones_touched for m in z.members]
    rows += [{"zone": "", "zone_name": f"(niet in {result.b.name})", "nis_code": m.nis_code, "municipality": m.name,
              args.weight: m.weight, "dominant": False} for m in detail.not_covered]
    frame = pd.DataFrame(rows)
    if args.weight == "population" and len(frame):
        frame["population"] = frame["population"].round().astype(int)
    if args.format == "csv":
        print_frame(frame, "csv")
        return
    if args.weight == "population":
        total = f"{dutch.number(detail.weight)} inwoners (1 januari {result.population_year})"
        outside = f"{dutch.number(detail.weight_outside_dominant)} inwoners"
    else:
        total, outside = dutch.area(detail.weight), dutch.area(detail.weight_outside_dominant)
    print(f"{detail.name} ({detail.code}) in {result.b.name}: {total}")
    if detail.nested:
        print(f"  ligt volledig in {detail.dominant_zone_name} ({detail.dominant_zone})")
    else:
        print(f"  grootste deel in {detail.dominant_zone_name} ({detail.dominant_zone}): "
              f"{dutch.percent(detail.dominant_share)}; {len(detail.zones_touched)} zones geraakt")
        print(f"  buiten de dominante zone: {len(detail.members_outside_dominant)} leden, {outside}")
    print()
    print_frame(frame, "table")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from api.settings import check_exposure, get_settings

    # The server reads its settings from the environment (also in worker processes).
    if args.data_dir is not None:
        os.environ["REGIOMATCH_DATA_DIR"] = str(args.data_dir)
    if args.population_year is not None:
        os.environ["REGIOMATCH_POPULATION_YEAR"] = str(args.population_year)
    if args.as_of is not None:
        os.environ["REGIOMATCH_AS_OF"] = args.as_of.isoformat()
    check_exposure(get_settings(), args.host)
    from api.serving import protocol

    # Slow clients are cut off: request headers within REGIOMATCH_HEADER_SECONDS (api/serving.py),
    # bodies within REGIOMATCH_BODY_SECONDS (api/limits.py), idle connections after 5 s.
    # One log line per request costs about a tenth of a cached answer's time: off unless asked for
    # (--access-log or REGIOMATCH_ACCESS_LOG=1); errors and start-up are logged either way.
    access_log = bool(args.access_log or get_settings().access_log)
    # The app's modules load and its first report renders with the collector paused; the
    # warm-up resumes it (api.startup). With --workers this process only watches the workers.
    if args.workers == 1:
        startup.pause()
    uvicorn.run("api.main:app", host=args.host, port=args.port, workers=args.workers, log_level="info",
                http=protocol(), timeout_keep_alive=5, access_log=access_log)


def cmd_prepare(args: argparse.Namespace) -> None:
    """What a server's start builds, built ahead and kept for it (``make run`` does this): the
    page templates compiled, the catalog and the shipped layers' outlines (geo.kept)."""
    from geo.geometry.polygons import zone_polygons
    from geo.reference.catalog import load_catalog
    from maps.templating import compile_ahead

    compile_ahead()
    catalog = load_catalog(args.data_dir, args.population_year, args.as_of)
    for layer in catalog.layers():
        zone_polygons(layer, catalog.data_dir)


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "layers", help="list the layers (shipped and imported)")
    p.set_defaults(func=cmd_layers)

    p = add_command(sub, "members", help="members of a layer, or of one zone")
    p.add_argument("layer", help="layer id or scenario:<id>")
    p.add_argument("zone", nargs="?")
    p.set_defaults(func=cmd_members)

    p = add_command(sub, "overlay", help="overlay layer A on layer B")
    p.add_argument("a", help="layer id or scenario:<id>")
    p.add_argument("b", help="layer id or scenario:<id>")
    p.add_argument("--weight", choices=("population", "area"), default="population")
    p.set_defaults(func=cmd_overlay)

    p = add_command(sub, "mismatch", help="which members of a zone sit in which zone of another layer")
    p.add_argument("zone", help="zone code, e.g. W13")
    p.add_argument("--layer", default=association_layer())
    p.add_argument("--against", default=zoning_layer())
    p.add_argument("--weight", choices=("population", "area"), default="population")
    p.set_defaults(func=cmd_mismatch)

    p = add_command(sub, "prepare", help="build ahead what a server's start needs (templates, catalog, outlines)")
    p.set_defaults(func=cmd_prepare)

    p = add_command(sub, "serve", help="start the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--access-log", action="store_true", help="log every request (default: REGIOMATCH_ACCESS_LOG, off)")
    p.set_defaults(func=cmd_serve)


# Every command group, in the order of the help text. A new group is added here, nowhere else.
COMMAND_GROUPS: list[Callable[[argparse._SubParsersAction], None]] = [
    register, cli_zonings.register, cli_maps.register, cli_reports.register, cli_ensemble.register,
    cli_users.register,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="regiomatch", parents=[global_options(after_command=False)],
                                     description="Where Flanders' regional boundaries do not line up.")
    parser.set_defaults(format="table")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    finally:
        startup.resume()  # paused by the `regiomatch` command while the modules loaded (api.launch)
    try:
        check_as_of(args)
        args.func(args)
    except RegiomatchError as exc:
        print(f"regiomatch: {exc.detail}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

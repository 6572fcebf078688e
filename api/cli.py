"""``regiomatch``: the command line. Parse, call :mod:`geo`, print.

Examples::

    regiomatch layers
    regiomatch members samenwerkingsverband W13
    regiomatch overlay samenwerkingsverband eerstelijnszone --format table
    regiomatch mismatch W13 --layer samenwerkingsverband --against eerstelijnszone
    regiomatch serve --port 8000
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from api import serialize
from geo.catalog import DEFAULT_POPULATION_YEAR, load_catalog, population_years
from geo.errors import RegiomatchError
from geo.overlay import overlay
from geo.paths import ATTRIBUTION

FORMATS = ("table", "json", "csv")
# Registered by feature modules (maps, reports, suggestions) so this file stays a dispatcher.
EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def _catalog(args: argparse.Namespace):
    return load_catalog(str(args.data_dir) if args.data_dir else None, args.population_year)


def _print_frame(frame: pd.DataFrame, fmt: str, out=None) -> None:
    out = out or sys.stdout
    if fmt == "csv":
        frame.to_csv(out, index=False)
    elif fmt == "json":
        out.write(frame.to_json(orient="records", force_ascii=False, indent=2) + "\n")
    else:
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200,
                               "display.max_colwidth", 48, "display.float_format", "{:,.3f}".format):
            out.write(frame.to_string(index=False) + "\n")


def cmd_layers(args: argparse.Namespace) -> None:
    catalog = _catalog(args)
    frame = pd.DataFrame([serialize.layer_info(layer) for layer in catalog.layers()])
    _print_frame(frame[["id", "name", "kind", "vintage", "zone_count", "source"]], args.format)


def cmd_members(args: argparse.Namespace) -> None:
    catalog = _catalog(args)
    layer = catalog.layer(args.layer)
    frame = layer.members(args.zone)
    frame["population"] = (frame["nis_code"].map(catalog.atoms.table["population"]) * frame["share"]).round().astype(int)
    if args.format == "table":
        print(f"{layer.name} ({layer.id}); bevolking op 1 januari {catalog.atoms.population_year} (Statbel)")
    _print_frame(frame, args.format)


def cmd_overlay(args: argparse.Namespace) -> None:
    catalog = _catalog(args)
    result = overlay(catalog.layer(args.a), catalog.layer(args.b), args.weight)
    if args.format == "json":
        print(json.dumps(serialize.overlay(result), ensure_ascii=False, indent=2))
        return
    if args.format == "csv":
        _print_frame(serialize.overlay_rows(result), "csv")
        return
    unit = f"inwoners op 1 januari {result.population_year}" if args.weight == "population" else "km²"
    print(f"{result.a.name} ({result.a.id}) tegenover {result.b.name} ({result.b.id}); gewicht: {unit}")
    table = result.zone_table()
    table["dominant_share"] = (table["dominant_share"] * 100).round(1)
    print(table.drop(columns=["dominant_zone"]).rename(columns={"dominant_share": "dominant_%"}).to_string(
        index=False, float_format=lambda v: f"{v:,.0f}" if args.weight == "population" else f"{v:,.2f}"))
    print()
    for key, value in serialize.summary(result).items():
        print(f"  {key:32s} {value}")
    print(f"\n{ATTRIBUTION}")


def cmd_mismatch(args: argparse.Namespace) -> None:
    catalog = _catalog(args)
    result = overlay(catalog.layer(args.layer), catalog.layer(args.against), args.weight)
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
        _print_frame(frame, "csv")
        return
    unit = f"inwoners (1 januari {result.population_year})" if args.weight == "population" else "km²"
    print(f"{detail.name} ({detail.code}) in {result.b.name}: {detail.weight:,.0f} {unit}")
    if detail.nested:
        print(f"  ligt volledig in {detail.dominant_zone_name} ({detail.dominant_zone})")
    else:
        print(f"  grootste deel in {detail.dominant_zone_name} ({detail.dominant_zone}): "
              f"{detail.dominant_share:.1%}; {len(detail.zones_touched)} zones geraakt")
        print(f"  buiten de dominante zone: {len(detail.members_outside_dominant)} leden, "
              f"{detail.weight_outside_dominant:,.0f} {unit}")
    print()
    _print_frame(frame, "table")


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from api.settings import check_exposure, get_settings

    check_exposure(get_settings(), args.host)
    uvicorn.run("api.main:app", host=args.host, port=args.port, workers=args.workers, log_level="info")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="regiomatch", description="Where Flanders' regional boundaries do not line up.")
    parser.add_argument("--data-dir", type=Path, default=None, help="shipped data folder (default: the package's data/)")
    parser.add_argument("--population-year", type=int, default=DEFAULT_POPULATION_YEAR, choices=population_years(),
                        help=f"Statbel population on 1 January (default {DEFAULT_POPULATION_YEAR})")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("layers", help="list the layers")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=cmd_layers)

    p = sub.add_parser("members", help="members of a layer, or of one zone")
    p.add_argument("layer")
    p.add_argument("zone", nargs="?")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=cmd_members)

    p = sub.add_parser("overlay", help="overlay layer A on layer B")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--weight", choices=("population", "area"), default="population")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=cmd_overlay)

    p = sub.add_parser("mismatch", help="which members of a zone sit in which zone of another layer")
    p.add_argument("zone", help="zone code, e.g. W13")
    p.add_argument("--layer", default="samenwerkingsverband")
    p.add_argument("--against", default="eerstelijnszone")
    p.add_argument("--weight", choices=("population", "area"), default="population")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=cmd_mismatch)

    p = sub.add_parser("serve", help="start the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(func=cmd_serve)

    for register in EXTRA_COMMANDS:
        register(sub)
    return parser


def _load_extra_commands() -> None:
    """Feature modules register their subcommands on import (maps, reports, zonings); importing
    them here, not at the top, keeps this module importable by them."""
    import api.cli_maps  # noqa: F401
    import api.cli_reports  # noqa: F401
    import api.cli_zonings  # noqa: F401


def main(argv: Sequence[str] | None = None) -> int:
    _load_extra_commands()
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except RegiomatchError as exc:
        print(f"regiomatch: {exc.detail}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

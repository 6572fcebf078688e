"""``regiomatch validate | compare | suggest | cost-share``: alternative zonings on the command line.

Examples::

    regiomatch validate eerstelijnszone --nest-in referentieregio
    regiomatch compare eerstelijnszone scenario:1a2b3c --against samenwerkingsverband --format csv
    regiomatch suggest eerstelijnszone --against samenwerkingsverband --min-population 60000 \\
        --keep-together 34022,34025 --max-moves 5 --seed 1
    regiomatch cost-share W13 --amount 321235 --fixed-per-member 1000
"""

from __future__ import annotations

import argparse
import json
import sys

import pandas as pd

from api.cli import EXTRA_COMMANDS, FORMATS, _catalog, _print_frame
from geo.compare import compare
from geo.costshare import SeatRule, cost_share, per_inhabitant
from geo.errors import InvalidInput
from geo.layer import Layer
from geo.norms import norm_for
from geo.paths import ATTRIBUTION
from geo.suggest import DEFAULT_MAX_MOVES, DEFAULT_TIME_BUDGET, Constraints, suggest
from geo.validation import make_norm, validate

class _Layers:
    """Resolves layer ids: shipped ones from the catalog; ``scenario:<id>`` and imported layers
    from the database the API uses (then every layer comes from that workspace, so all layers
    share the same municipalities)."""

    def __init__(self, args: argparse.Namespace, ids: list[str]):
        self.catalog = _catalog(args)
        self.workspace = None
        if any(i not in self.catalog.builtin for i in ids if i):
            from api.settings import workspace_for
            from api.settings import get_settings

            self.workspace = workspace_for(get_settings())

    def __call__(self, layer_id: str) -> Layer:
        return self.workspace.layer(layer_id) if self.workspace else self.catalog.layer(layer_id)

    def base_of(self, layer_id: str) -> Layer | None:
        return None if self.workspace is None else self.workspace.base_of(layer_id)


# The header is read by planners: name the key in Dutch.
WEIGHT_DUTCH = {"population": "inwonertal", "area": "oppervlakte", "equal": "gelijke delen"}

def _nis_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.replace(";", ",").split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NIS codes separated by commas, got {text!r}") from None


def _emit(body: dict, frame: pd.DataFrame, fmt: str, header: str) -> None:
    if fmt == "json":
        print(json.dumps(body, ensure_ascii=False, indent=2, default=str))
    elif fmt == "csv":
        _print_frame(frame, "csv")
    else:
        print(header)
        _print_frame(frame, "table")
        print(f"\n{ATTRIBUTION}")


def cmd_validate(args: argparse.Namespace) -> None:
    layers = _Layers(args, [args.layer, *args.nest_in, args.base or ""])
    layer = layers(args.layer)
    base = layers(args.base) if args.base else layers.base_of(args.layer)
    default = norm_for(layer, base.id if base is not None else None)
    norm = None if args.no_population_check else make_norm(args.min_population, args.max_population, default)
    report = validate(layer, base=base, norm=norm, nest_in=[layers(p) for p in args.nest_in], territory=args.territory)
    status = "geldig" if report.valid else "niet geldig: " + ", ".join(f"{k} {v}" for k, v in report.errors.items() if v)
    header = (f"{layer.name} ({layer.id}): {status}\n  gebied: {report.territory.label} "
              f"({report.territory.size} gemeenten); norm: {norm.label if norm else 'geen'}; "
              f"bevolking op 1 januari {layer.atoms.population_year}")
    _emit(report.as_dict(), report.rows(), args.format, header)


def cmd_compare(args: argparse.Namespace) -> None:
    against = args.against or ["samenwerkingsverband"]
    layers = _Layers(args, [args.base, args.other, *against])
    base = layers(args.base)
    default = norm_for(base, getattr(layers.base_of(args.base), "id", None))
    result = compare(base, layers(args.other), [layers(a) for a in against], args.weight,
                     norm=make_norm(args.min_population, args.max_population, default))
    header = (f"{result.base.name} ({args.base}) tegenover {result.other.name} ({args.other}): "
              f"{len(result.moved)} gemeente(n) verplaatst; bevolking op 1 januari {base.atoms.population_year}")
    _emit(result.as_dict(), result.rows(), args.format, header)


def cmd_suggest(args: argparse.Namespace) -> None:
    against = args.against or ["samenwerkingsverband"]
    layers = _Layers(args, [args.base, *against])
    base = layers(args.base)
    default = norm_for(base, getattr(layers.base_of(args.base), "id", None))
    norm = None if args.no_population_check else make_norm(args.min_population, args.max_population, default)
    constraints = Constraints(norm=norm, use_default_norm=False, contiguity=not args.no_contiguity,
                              keep_together=tuple(args.keep_together), fixed=tuple(c for f in args.fixed for c in f))
    result = suggest(base, [layers(a) for a in against], constraints, max_moves=args.max_moves,
                     time_budget=args.time_budget, seed=args.seed)
    body = result.as_dict()
    if args.save:
        if not result.net_moves:
            raise InvalidInput("the suggestion has no moves; nothing to save as a scenario")
        from api.settings import workspace_for
        from api.settings import get_settings

        record = workspace_for(get_settings()).store.create_scenario(
            args.save, args.base, body["moves"], "; ".join(s["explanation"] for s in body["steps"]))
        body["scenario"] = {"id": record.id, "layer_id": record.layer_id, "name": record.name}
    frame = pd.DataFrame([{"step": s["step"], "nis_codes": " ".join(map(str, s["nis_codes"])),
                           "municipalities": ", ".join(s["municipalities"]), "population": s["population"],
                           "from": ",".join(s["from_zones"]), "to": s["to_zone"],
                           "objective": round(s["objective_after"], 6), "explanation": s["explanation"]}
                          for s in body["steps"]],
                         columns=["step", "nis_codes", "municipalities", "population", "from", "to", "objective",
                                  "explanation"])
    if args.format == "table":
        print(f"Suggestie voor {base.name} ({args.base}), afgestemd op {', '.join(l.id for l in result.against)}; "
              f"norm: {norm.label if norm else 'geen'}; seed {args.seed}; gestopt: {result.stopped}")
        for step in body["steps"]:
            print(f"{step['step']:3d}. {step['explanation']}")
        if not body["steps"]:
            print("  geen verplaatsing verbetert de aansluiting binnen de opgelegde voorwaarden")
        for item in body["unresolved"]:
            print(f"  niet opgelost: {item['nis_codes']}: {item['reason']}")
        if "scenario" in body:
            print(f"  opgeslagen als {body['scenario']['layer_id']}")
        print(f"\nbevolking op 1 januari {base.atoms.population_year}; {ATTRIBUTION}")
        return
    _emit(body, frame, args.format, "")


def cmd_cost_share(args: argparse.Namespace) -> None:
    layers = _Layers(args, [args.layer])
    layer = layers(args.layer)
    layer.zone_position(args.zone)
    if (args.amount is None) == (args.per_inhabitant is None):
        raise InvalidInput("give either --amount or --per-inhabitant")
    amount = args.amount if args.amount is not None else str(per_inhabitant(layer, args.zone, args.per_inhabitant))
    rule = SeatRule(base=args.seat_base, thresholds=tuple(args.seat_threshold or [20_000]), extra=args.seat_extra)
    share = cost_share(layer, args.zone, amount, weight=args.weight, fixed_per_member=args.fixed_per_member,
                       seat_rule=rule)
    body = share.as_dict()
    header = (f"{share.zone_name} ({share.zone_code}): EUR {body['amount']:,.2f} verdeeld volgens {WEIGHT_DUTCH.get(args.weight, args.weight)}"
              f" (vast deel EUR {body['fixed_per_member']:,.2f} per lid); zetels: {rule.describe()}; "
              f"bevolking op 1 januari {share.population_year}")
    _emit(body, share.rows(), args.format, header)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a layer or scenario: assignment, contiguity, population, nesting")
    p.add_argument("layer")
    p.add_argument("--base", help="base layer (inherited detached pieces); default for scenario:<id> its base")
    p.add_argument("--nest-in", action="append", default=[], help="higher layer each zone should lie in (repeatable)")
    p.add_argument("--min-population", type=int)
    p.add_argument("--max-population", type=int)
    p.add_argument("--no-population-check", action="store_true")
    p.add_argument("--territory", choices=("auto", "flanders", "flanders_brussels"), default="auto")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("compare", help="compare two zonings against the associations and other layers")
    p.add_argument("base")
    p.add_argument("other")
    p.add_argument("--against", action="append", help="layer to measure the fit with (repeatable; "
                   "default samenwerkingsverband)")
    p.add_argument("--weight", choices=("population", "area"), default="population")
    p.add_argument("--min-population", type=int)
    p.add_argument("--max-population", type=int)
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("suggest", help="propose moves that fit the associations better within constraints")
    p.add_argument("base", nargs="?", default="eerstelijnszone")
    p.add_argument("--against", action="append", help="layer to fit (repeatable; default samenwerkingsverband)")
    p.add_argument("--min-population", type=int)
    p.add_argument("--max-population", type=int)
    p.add_argument("--no-population-check", action="store_true")
    p.add_argument("--no-contiguity", action="store_true")
    p.add_argument("--keep-together", type=_nis_list, action="append", default=[],
                   help="NIS codes that must stay in one zone, comma-separated (repeatable)")
    p.add_argument("--fixed", type=_nis_list, action="append", default=[], help="NIS codes that must not move")
    p.add_argument("--max-moves", type=int, default=DEFAULT_MAX_MOVES)
    p.add_argument("--time-budget", type=float, default=DEFAULT_TIME_BUDGET, help="seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", metavar="NAME", help="save the suggestion as a scenario in the API's database")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=cmd_suggest)

    p = sub.add_parser("cost-share", help="split an amount and allocate board seats over a zone's members")
    p.add_argument("zone", help="zone code, e.g. W13")
    p.add_argument("--layer", default="samenwerkingsverband")
    p.add_argument("--amount", help="euro to split")
    p.add_argument("--per-inhabitant", help="instead of --amount: euro per inhabitant")
    p.add_argument("--weight", choices=("population", "area", "equal"), default="population")
    p.add_argument("--fixed-per-member", default="0")
    p.add_argument("--seat-base", type=int, default=1)
    p.add_argument("--seat-threshold", type=int, action="append", help="population above which a member gets "
                   "extra seats (repeatable; default 20000)")
    p.add_argument("--seat-extra", type=int, default=1)
    p.add_argument("--format", choices=FORMATS, default="table")
    p.set_defaults(func=cmd_cost_share)


EXTRA_COMMANDS.append(register)

if __name__ == "__main__":  # pragma: no cover - use the regiomatch console script
    sys.exit("use: regiomatch validate|compare|suggest|cost-share")

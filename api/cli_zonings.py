r"""``regiomatch validate | compare | suggest | cost-share``: alternative zonings on the command line.

Examples::

    regiomatch validate eerstelijnszone --nest-in referentieregio
    regiomatch compare eerstelijnszone scenario:1a2b3c --against samenwerkingsverband --format csv
    regiomatch suggest eerstelijnszone --against samenwerkingsverband --min-population 60000 \
        --keep-together 34022,34025 --max-moves 5 --seed 1
    regiomatch cost-share W13 --amount 321235 --fixed-per-member 1000
"""

from __future__ import annotations

import argparse

import pandas as pd

from api.cli_common import add_command, emit, workspace
from geo import dutch
from geo.errors import InvalidInput
from geo.paths import ATTRIBUTION
from geo.reference.roles import association_layer, zoning_layer
from geo.usecases.norms import requested_norm
from geo.views.costshare import SeatRule, cost_share, per_inhabitant
from geo.zoning.compare import compare
from geo.zoning.suggest import DEFAULT_MAX_MOVES, DEFAULT_TIME_BUDGET, Constraints, suggest
from geo.zoning.validation import validate

# The header is read by planners: name the key in Dutch.
WEIGHT_DUTCH = {"population": "inwonertal", "area": "oppervlakte", "equal": "gelijke delen"}


def _nis_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.replace(";", ",").split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NIS codes separated by commas, got {text!r}") from None


def cmd_validate(args: argparse.Namespace) -> None:
    ws = workspace(args)
    layer = ws.layer(args.layer)
    base = ws.layer(args.base) if args.base else ws.base_of(args.layer)
    norm = requested_norm(ws, args.layer, args.min_population, args.max_population, not args.no_population_check,
                          base_id=base.id if base is not None else None)
    report = validate(layer, base=base, norm=norm, nest_in=[ws.layer(p) for p in args.nest_in],
                      territory=args.territory)
    status = ("geldig" if report.valid
              else "niet geldig: " + ", ".join(f"{k} {v}" for k, v in report.errors.items() if v))
    header = (f"{layer.name} ({layer.id}): {status}\n  gebied: {report.territory.label} "
              f"({report.territory.size} gemeenten); norm: {norm.label if norm else 'geen'}; "
              f"bevolking op 1 januari {layer.atoms.population_year}")
    emit(report.as_dict(), report.rows(), args.format, header)


def cmd_compare(args: argparse.Namespace) -> None:
    against = args.against or [association_layer()]
    ws = workspace(args)
    base = ws.layer(args.base)
    result = compare(base, ws.layer(args.other), [ws.layer(a) for a in against], args.weight,
                     norm=requested_norm(ws, args.base, args.min_population, args.max_population))
    header = (f"{result.base.name} ({args.base}) tegenover {result.other.name} ({args.other}): "
              f"{len(result.moved)} gemeente(n) verplaatst; bevolking op 1 januari {base.atoms.population_year}")
    emit(result.as_dict(), result.rows(), args.format, header)


def cmd_suggest(args: argparse.Namespace) -> None:
    against = args.against or [association_layer()]
    ws = workspace(args)
    base = ws.layer(args.base)
    norm = requested_norm(ws, args.base, args.min_population, args.max_population, not args.no_population_check)
    constraints = Constraints(norm=norm, use_default_norm=False, contiguity=not args.no_contiguity,
                              keep_together=tuple(args.keep_together), fixed=tuple(c for f in args.fixed for c in f),
                              allow_anchor_moves=args.allow_anchor_moves)
    result = suggest(base, [ws.layer(a) for a in against], constraints, max_moves=args.max_moves,
                     time_budget=args.time_budget, seed=args.seed)
    body = result.as_dict()
    if args.save:
        if not result.net_moves:
            raise InvalidInput("the suggestion has no moves; nothing to save as a scenario")
        record = ws.store.create_scenario(
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
    emit(body, frame, args.format, "")


def cmd_cost_share(args: argparse.Namespace) -> None:
    layer = workspace(args).layer(args.layer)
    layer.zone_position(args.zone)
    if (args.amount is None) == (args.per_inhabitant is None):
        raise InvalidInput("give either --amount or --per-inhabitant")
    amount = args.amount if args.amount is not None else str(per_inhabitant(layer, args.zone, args.per_inhabitant))
    rule = SeatRule(base=args.seat_base, thresholds=tuple(args.seat_threshold or [20_000]), extra=args.seat_extra)
    share = cost_share(layer, args.zone, amount, weight=args.weight, fixed_per_member=args.fixed_per_member,
                       seat_rule=rule)
    body = share.as_dict()
    header = (f"{share.zone_name} ({share.zone_code}): {dutch.euro(body['amount'])} verdeeld volgens "
              f"{WEIGHT_DUTCH.get(args.weight, args.weight)} (vast deel {dutch.euro(body['fixed_per_member'])} "
              f"per lid); zetels: {rule.describe()}; bevolking op 1 januari {share.population_year}")
    emit(body, share.rows(), args.format, header)


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "validate", help="check a layer or scenario: assignment, contiguity, population, nesting")
    p.add_argument("layer")
    p.add_argument("--base", help="base layer (inherited detached pieces); default for scenario:<id> its base")
    p.add_argument("--nest-in", action="append", default=[], help="higher layer each zone should lie in (repeatable)")
    p.add_argument("--min-population", type=int)
    p.add_argument("--max-population", type=int)
    p.add_argument("--no-population-check", action="store_true")
    p.add_argument("--territory", choices=("auto", "flanders", "flanders_brussels"), default="auto")
    p.set_defaults(func=cmd_validate)

    p = add_command(sub, "compare", help="compare two zonings against the associations and other layers")
    p.add_argument("base")
    p.add_argument("other")
    p.add_argument("--against", action="append", help="layer to measure the fit with (repeatable; "
                   f"default {association_layer()})")
    p.add_argument("--weight", choices=("population", "area"), default="population")
    p.add_argument("--min-population", type=int)
    p.add_argument("--max-population", type=int)
    p.set_defaults(func=cmd_compare)

    p = add_command(sub, "suggest", help="propose moves that fit the associations better within constraints")
    p.add_argument("base", nargs="?", default=zoning_layer())
    p.add_argument("--against", action="append", help=f"layer to fit (repeatable; default {association_layer()})")
    p.add_argument("--min-population", type=int)
    p.add_argument("--max-population", type=int)
    p.add_argument("--no-population-check", action="store_true")
    p.add_argument("--no-contiguity", action="store_true")
    p.add_argument("--keep-together", type=_nis_list, action="append", default=[],
                   help="NIS codes that must stay in one zone, comma-separated (repeatable)")
    p.add_argument("--fixed", type=_nis_list, action="append", default=[], help="NIS codes that must not move")
    p.add_argument("--allow-anchor-moves", action="store_true",
                   help="let a zone's anchor (the municipality it is named after, else its largest) move too")
    p.add_argument("--max-moves", type=int, default=DEFAULT_MAX_MOVES)
    p.add_argument("--time-budget", type=float, default=DEFAULT_TIME_BUDGET, help="seconds")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", metavar="NAME", help="save the suggestion as a scenario in the API's database")
    p.set_defaults(func=cmd_suggest)

    p = add_command(sub, "cost-share", help="split an amount and allocate board seats over a zone's members")
    p.add_argument("zone", help="zone code, e.g. W13")
    p.add_argument("--layer", default=association_layer())
    p.add_argument("--amount", help="euro to split")
    p.add_argument("--per-inhabitant", help="instead of --amount: euro per inhabitant")
    p.add_argument("--weight", choices=("population", "area", "equal"), default="population")
    p.add_argument("--fixed-per-member", default="0")
    p.add_argument("--seat-base", type=int, default=1)
    p.add_argument("--seat-threshold", type=int, action="append", help="population above which a member gets "
                   "extra seats (repeatable; default 20000)")
    p.add_argument("--seat-extra", type=int, default=1)
    p.set_defaults(func=cmd_cost_share)


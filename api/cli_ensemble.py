"""``regiomatch ensemble run | propose``: ensembles of valid zonings and whole zonings proposed (issue 28).

Examples::

    regiomatch ensemble run eerstelijnszone --plans 10000 --chains 4 --seed 1
    regiomatch ensemble run eerstelijnszone --min-population 75000 --max-population 125000 --format json
    regiomatch ensemble run eerstelijnszone --plans 2000 --plans-csv plannen.csv --format csv
    regiomatch ensemble propose eerstelijnszone --objective crossings --proposals 3

Chains run in a local process pool, or on the Dask cluster named by ``REGIOMATCH_DASK_SCHEDULER``.
A progress bar (on standard error) shows how far the chains are; Ctrl-C stops them.
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from api.cli_common import add_command, emit, workspace
from geo import dutch
from geo.ensemble.measures import MEASURES, per_plan_table
from geo.ensemble.problem import prepare
from geo.ensemble.propose import OBJECTIVES, propose
from geo.ensemble.run import run_ensemble
from geo.ensemble.spec import DEFAULT, EnsembleSpec
from geo.ensemble.summary import summarise


def _nis_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.replace(";", ",").split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NIS codes separated by commas, got {text!r}") from None


def _spec(args: argparse.Namespace) -> EnsembleSpec:
    zones: str | int = args.zones if args.zones is not None else "today"
    return EnsembleSpec(base_layer=args.base, nest_in=None if args.no_nesting else (args.nest_in or DEFAULT),
                        zones=zones, lower=args.min_population, upper=args.max_population,
                        fixed=tuple(c for group in args.fixed for c in group),
                        together=tuple(args.keep_together), plans=args.plans, chains=args.chains, seed=args.seed,
                        max_seconds=args.max_seconds)


class _Bar:
    """A tqdm progress bar fed fractions (0..1); silent when asked or when stderr is not a terminal."""

    def __init__(self, total: int, label: str, quiet: bool):
        self.bar = None
        if not quiet:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=" indelingen", desc=label, file=sys.stderr, leave=True)
        self.total, self.done = total, 0

    def __call__(self, fraction: float) -> None:
        if self.bar is None:
            return
        now = int(round(fraction * self.total))
        if now > self.done:
            self.bar.update(now - self.done)
            self.done = now

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _rows(summary) -> pd.DataFrame:
    rows = []
    for m in (*summary.layer, *summary.associations):
        rows.append({"measure": m.measure, "association": m.association or "", "today": m.base.value,
                     "percentile": m.base.percentile, "better_share": m.base.share_better,
                     "median": m.quantiles.get("0.5"), "p05": m.quantiles.get("0.05"),
                     "p95": m.quantiles.get("0.95")})
    return pd.DataFrame(rows)


def cmd_run(args: argparse.Namespace) -> None:
    ws = workspace(args)
    problem = prepare(ws, _spec(args))
    bar = _Bar(problem.spec.plans, "Ensemble", args.quiet)
    try:
        result = run_ensemble(problem, progress=bar)
    finally:
        bar.close()
    summary = summarise(problem, result)
    if args.plans_csv:
        per_plan_table(result, problem.measures.codes).to_csv(args.plans_csv, index=False)
    body = {"problem": problem.to_dict(), "result": result.to_dict(), "summary": summary.to_dict()}
    lines = [f"{problem.base_layer_name}: {dutch.number(len(result.plans))} geldige indelingen in "
             f"{len(result.chains)} ketens (zaad {problem.spec.seed}), {problem.norm_label}, genest in "
             f"{problem.nest_name or 'niets'}; {dutch.number(result.seconds, 1)} s",
             f"  {summary.repairs_text}", f"  {summary.convergence.statement}"]
    lines += [f"  {s}" for s in summary.sentences[:-1]]
    lines.append(f"  Bevolking op 1 januari {problem.population_year} (Statbel).")
    emit(body, _rows(summary), args.format, "\n".join(lines))


def cmd_propose(args: argparse.Namespace) -> None:
    ws = workspace(args)
    problem = prepare(ws, _spec(args))
    bar = _Bar(100, "Voorstellen", args.quiet)
    try:
        proposals = propose(problem, args.objective, n=args.proposals, progress=bar)
    finally:
        bar.close()
    rows = [{"proposal": i + 1, "nis_code": nis, "municipality": problem.names[problem.position(nis)],
             "from_zone": before or "", "to_zone": after}
            for i, p in enumerate(proposals) for nis, before, after in p.moves]
    header = "\n".join(f"{i + 1}. {p.explanation}" for i, p in enumerate(proposals))
    emit({"problem": problem.to_dict(), "proposals": [p.to_dict() for p in proposals]},
         pd.DataFrame(rows, columns=["proposal", "nis_code", "municipality", "from_zone", "to_zone"]),
         args.format, header)


def _rules(p: argparse.ArgumentParser) -> None:
    p.add_argument("base", nargs="?", default="eerstelijnszone", help="layer id or scenario:<id>")
    p.add_argument("--nest-in", help="layer each zone lies in (default: the reference regions)")
    p.add_argument("--no-nesting", action="store_true", help="no nesting layer")
    p.add_argument("--zones", type=int, help="total number of zones (default: today's per nest zone)")
    p.add_argument("--min-population", type=float, help="lower bound per zone (default: the layer's norm)")
    p.add_argument("--max-population", type=float, help="upper bound per zone (default: the layer's norm)")
    p.add_argument("--fixed", type=_nis_list, action="append", default=[], help="NIS codes that never move")
    p.add_argument("--keep-together", type=_nis_list, action="append", default=[],
                   help="NIS codes that stay in one zone, comma-separated (repeatable)")
    p.add_argument("--plans", type=int, default=1000)
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-seconds", type=float, default=3600.0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def register(sub: argparse._SubParsersAction) -> None:
    parser = add_command(sub, "ensemble", help="ensembles of valid zonings (GerryChain ReCom) and proposals")
    inner = parser.add_subparsers(dest="ensemble_command", required=True)
    p = add_command(inner, "run", help="draw valid zonings and place today's among them")
    _rules(p)
    p.add_argument("--plans-csv", help="write every plan's measures to this CSV file")
    p.set_defaults(func=cmd_run)
    p = add_command(inner, "propose", help="whole zonings that do best on an objective")
    _rules(p)
    p.add_argument("--objective", choices=sorted(OBJECTIVES), default="crossings")
    p.add_argument("--proposals", type=int, default=3)
    p.set_defaults(func=cmd_propose)


__all__ = ["MEASURES", "register"]

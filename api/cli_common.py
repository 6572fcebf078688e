"""What every ``regiomatch`` command shares: the global options, the workspace, table output.

The global options (``--data-dir``, ``--population-year``, ``--as-of``, ``--format``) are accepted
before and after the subcommand: ``regiomatch overlay A B --population-year 2018`` and
``regiomatch --population-year 2018 overlay A B`` are the same. Every command resolves layer ids
through the workspace the API uses (same ``REGIOMATCH_*`` settings, same database), so shipped,
imported, dated (``samenwerkingsverband@2018-06-30``) and ``scenario:<id>`` layers work everywhere.

``--as-of YYYY-MM-DD`` is the date the association layer is served on, as the server's
``REGIOMATCH_AS_OF`` (default: that setting, else today): the memberships the dated history counts
that day, the same date ``GET /api/v1/associations?as_of=`` lists. A bad date is refused before
anything is read or written.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from api.settings import Settings, get_settings, workspace_for
from geo import dutch
from geo.formulas import neutralise_frame
from geo.paths import ATTRIBUTION
from geo.reference.catalog import default_population_year, population_years
from geo.storage.workspace import Workspace

FORMATS = ("table", "json", "csv")
# Integer columns that are quantities (thousands separated in tables); codes stay as they are.
QUANTITY_COLUMNS = ("population", "inhabitants", "weight")
# Euro amounts travel as exact decimal strings ("18909.00"); tables show them with cents.
MONEY_COLUMNS = ("amount", "fixed", "proportional", "total")


@lru_cache(maxsize=2)
def global_options(after_command: bool) -> argparse.ArgumentParser:
    """The options every command takes (built when the command line is parsed: the choice of
    years is read from the data then, not when this module is imported).

    After the subcommand the options default to "not given", so they never overwrite a value
    given before the subcommand."""
    parser = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS if after_command else None)
    parser.add_argument("--data-dir", type=Path, help="shipped data folder (default: REGIOMATCH_DATA_DIR or "
                        "the package's data/)")
    parser.add_argument("--population-year", type=int, choices=population_years(),
                        help="Statbel population year, one of the years in data/population.csv (default: "
                        f"REGIOMATCH_POPULATION_YEAR or {default_population_year()})")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="date the association layer is served on: the "
                        "memberships the dated history counts then (default: REGIOMATCH_AS_OF or today)")
    parser.add_argument("--format", choices=FORMATS, help="output of listing commands (default: table)")
    return parser


def add_command(sub: argparse._SubParsersAction, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    """A subcommand parser that also accepts the global options."""
    return sub.add_parser(name, parents=[global_options(after_command=True)], **kwargs)


def check_as_of(args: argparse.Namespace) -> None:
    """Parse ``--as-of`` into a date (``args.as_of``) before a command runs: a bad date raises
    ``InvalidInput`` naming it, and nothing is read or written."""
    from geo.reference.history import parse_date

    if getattr(args, "as_of", None) is not None:
        args.as_of = parse_date(args.as_of)


def settings(args: argparse.Namespace) -> Settings:
    """The API's settings with this command line's ``--as-of`` (what ``serve`` passes on too)."""
    current = get_settings()
    as_of = getattr(args, "as_of", None)
    return current if as_of is None else current.model_copy(update={"as_of": as_of})


def workspace(args: argparse.Namespace) -> Workspace:
    """The workspace of the API's settings, with this command line's data folder, population year
    and date of the association layer."""
    return workspace_for(settings(args), args.data_dir, args.population_year)


def _table_cell(column: str, value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if column in MONEY_COLUMNS:
        try:
            return dutch.number(float(value), 2)
        except (TypeError, ValueError):
            return value
    if isinstance(value, float):
        return dutch.number(value, 0 if column in QUANTITY_COLUMNS else 3)
    if isinstance(value, int) and column in QUANTITY_COLUMNS:
        return dutch.number(value)
    return value


def print_frame(frame: pd.DataFrame, fmt: str, out: TextIO | None = None) -> None:
    """A table as CSV, JSON records or (``table``) aligned text with Dutch numbers."""
    out = out or sys.stdout
    if fmt == "csv":
        neutralise_frame(frame).to_csv(out, index=False)  # no live formulas from user text
    elif fmt == "json":
        out.write(frame.to_json(orient="records", force_ascii=False, indent=2) + "\n")
    else:
        shown = frame.astype(object).apply(lambda col: col.map(lambda v: _table_cell(str(col.name), v)))
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200,
                               "display.max_colwidth", 48):
            out.write(shown.to_string(index=False) + "\n")


def emit(body: dict, frame: pd.DataFrame, fmt: str, header: str) -> None:
    """JSON of ``body``, CSV of ``frame``, or ``header`` + the table + the data sources."""
    if fmt == "json":
        print(json.dumps(body, ensure_ascii=False, indent=2, default=str))
    elif fmt == "csv":
        print_frame(frame, "csv")
    else:
        print(header)
        print_frame(frame, "table")
        print(f"\n{ATTRIBUTION}")

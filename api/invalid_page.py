"""The Dutch page of an address a page cannot take: a query value of the wrong kind or out of
bounds (``/reports/samenwerkingsverband/W13?format=docx``). ``api.errors`` decides that a request
gets it (a page route asked for by a browser, status 422); under ``/api`` the same problem stays
``{"detail", "code"}`` in English. Each of pydantic's complaints is said in a Dutch sentence
naming the parameter, what it takes and what it got.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from api.not_found import shown
from geo import dutch


def _value(value: Any) -> str:
    """A bound in Dutch digits (``1000`` -> ``1.000``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")  # exact, however large (a float would round it)
    return dutch.number(value, 0 if value.is_integer() else 2)


def _choices(expected: str) -> str:
    """The choices pydantic lists, ``"'html' or 'pdf'"``, as ``‘html’ of ‘pdf’``."""
    parts = [part.strip().strip("'") for part in expected.replace(" or ", ", ").split(", ") if part.strip()]
    return dutch.join([f"‘{part}’" for part in parts], last="of")


def problem(error: dict[str, Any]) -> str:
    """One of pydantic's errors (``RequestValidationError.errors()``) as a Dutch sentence.

    Examples
    --------
    >>> problem({"type": "literal_error", "loc": ("query", "format"), "input": "docx",
    ...          "ctx": {"expected": "'html' or 'pdf'"}})
    '‘format’ moet ‘html’ of ‘pdf’ zijn, niet ‘docx’.'
    >>> problem({"type": "less_than_equal", "loc": ("query", "voor"), "input": "9223372036854775808",
    ...          "ctx": {"le": 9223372036854775807}})
    '‘voor’ mag hoogstens 9.223.372.036.854.775.807 zijn, niet ‘9223372036854775808’.'
    """
    name = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")) or "invoer"
    kind, ctx = str(error.get("type", "")), error.get("ctx") or {}
    got = shown(str(error.get("input", "")))
    if kind == "missing":
        return f"‘{name}’ ontbreekt in het adres."
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"‘{name}’ moet een geheel getal zijn, niet ‘{got}’."
    if kind == "int_parsing_size":
        return f"‘{name}’ is een te groot getal: ‘{got}’."
    if kind in ("float_parsing", "float_type", "finite_number"):
        return f"‘{name}’ moet een getal zijn, niet ‘{got}’."
    if kind in ("bool_parsing", "bool_type"):
        return f"‘{name}’ moet waar of onwaar zijn (true of false), niet ‘{got}’."
    if kind in ("date_parsing", "date_from_datetime_parsing", "date_type"):
        return f"‘{name}’ moet een datum zijn als JJJJ-MM-DD, niet ‘{got}’."
    if kind in ("literal_error", "enum"):
        return f"‘{name}’ moet {_choices(str(ctx.get('expected', '')))} zijn, niet ‘{got}’."
    bounds = {"greater_than_equal": ("moet minstens", "ge"), "greater_than": ("moet meer dan", "gt"),
              "less_than_equal": ("mag hoogstens", "le"), "less_than": ("moet minder dan", "lt")}
    if kind in bounds:
        words, key = bounds[kind]
        return f"‘{name}’ {words} {_value(ctx.get(key))} zijn, niet ‘{got}’."
    if kind == "string_too_long":
        return f"‘{name}’ mag hoogstens {_value(ctx.get('max_length'))} tekens lang zijn."
    if kind == "string_too_short":
        return f"‘{name}’ moet minstens {_value(ctx.get('min_length'))} teken(s) lang zijn."
    return f"‘{name}’ kan de waarde ‘{got}’ niet hebben."


def problems(errors: Iterable[dict[str, Any]]) -> list[str]:
    """Every error as a sentence, each once."""
    return list(dict.fromkeys(problem(error) for error in errors))

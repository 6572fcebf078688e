"""Dutch (Belgian) wording of numbers, shares, money and dates: one place for every front end.

Pages, maps, documents, exports, the CLI and the Dutch explanations that ``geo`` writes itself
(suggestions, validation) all format through these functions, so "321.235 inwoners", "37,1 %"
and "1 december 2026" read the same everywhere.

Examples
--------
>>> number(321235)
'321.235'
>>> number(1234.5, decimals=1)
'1.234,5'
>>> percent(0.371)
'37,1 %'
>>> euro(321235)
'EUR 321.235,00'
>>> inhabitants(1)
'1 inwoner'
>>> import datetime
>>> date(datetime.date(2026, 12, 1))
'1 december 2026'
"""

from __future__ import annotations

import datetime as _dt
import math

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december")


def number(value: float | int | None, decimals: int = 0) -> str:
    """A number with '.' between thousands and ',' before decimals; '–' for a missing value.

    Examples
    --------
    >>> number(-12345.678, decimals=2)
    '-12.345,68'
    >>> number(None)
    '–'
    >>> number(-0.0001, decimals=1), number(-0.4)
    ('0,0', '0')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    # Never "-0,0": a value that rounds to zero is zero, whatever float noise signed it.
    value = float(value)
    if round(value, decimals) == 0:
        value = 0.0
    text = f"{value:,.{decimals}f}" if decimals else f"{int(round(value)):,}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def percent(share: float | None, decimals: int = 1) -> str:
    """A share (0..1) as a Dutch percentage with a space before the sign.

    Examples
    --------
    >>> percent(1.0)
    '100,0 %'
    >>> percent(0.05, decimals=0)
    '5 %'
    """
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return f"{number(share * 100, decimals)} %"


def euro(amount: float) -> str:
    """An amount in euro with cents.

    Examples
    --------
    >>> euro(1.5)
    'EUR 1,50'
    """
    return f"EUR {number(amount, 2)}"


def inhabitants(count: float) -> str:
    """A head count with its noun ("1 inwoner", "321.235 inwoners").

    Examples
    --------
    >>> inhabitants(2500)
    '2.500 inwoners'
    """
    rounded = int(round(float(count)))
    return f"{number(rounded)} {'inwoner' if rounded == 1 else 'inwoners'}"


def municipalities(count: int) -> str:
    """A number of municipalities with its noun ("1 gemeente", "1.234 gemeenten").

    Examples
    --------
    >>> municipalities(1), municipalities(12)
    ('1 gemeente', '12 gemeenten')
    """
    count = int(count)
    return f"{number(count)} {'gemeente' if count == 1 else 'gemeenten'}"


def area(km2: float) -> str:
    """An area in square kilometres with one decimal.

    Examples
    --------
    >>> area(1234.56)
    '1.234,6 km²'
    """
    return f"{number(km2, 1)} km²"


def date(value: _dt.date | _dt.datetime | str) -> str:
    """A date in words ("1 december 2026"); ISO strings are accepted.

    Examples
    --------
    >>> date("2024-01-01")
    '1 januari 2024'
    """
    if isinstance(value, str):
        value = _dt.date.fromisoformat(value[:10])
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


DATED_STATE = "toestand op {date}"


def state_on(value: _dt.date | _dt.datetime | str) -> str:
    """The vintage of a layer counted on a date ("toestand op 1 december 2026").

    Examples
    --------
    >>> state_on("2026-12-01")
    'toestand op 1 december 2026'
    """
    return DATED_STATE.format(date=date(value))


def vintage(value: str) -> str:
    """A layer's vintage in a sentence: "jaargang 2019-2023", or the state on a date as it is.

    Examples
    --------
    >>> vintage("2019-2023"), vintage(state_on("2026-12-01"))
    ('jaargang 2019-2023', 'toestand op 1 december 2026')
    """
    prefix = DATED_STATE.partition("{")[0]
    return value if str(value).startswith(prefix) else f"jaargang {value}"


def join(items: list[str], last: str = "en") -> str:
    """Items in a Dutch enumeration ("A, B en C").

    Examples
    --------
    >>> join(["Bree", "Peer", "Hamont-Achel"])
    'Bree, Peer en Hamont-Achel'
    """
    items = [str(item) for item in items]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"

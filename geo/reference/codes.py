"""Codes as published: enterprise numbers in their notation, and what a zone is called in running text.

The register of local-government organisations keys an association by its enterprise number (KBO,
10 digits, often with a leading zero: ``0827396340``). People read it as ``0827.396.340``, and a
spreadsheet that sees ``0827396340`` makes it the number 827396340. In a sentence, a title or a
legend an association is named by its name ("Hoe past Audio in ..."), never by that number; short
codes that people use as names (``W13``, ``WZK``) stay.

Examples
--------
>>> published("0827396340")
'0827.396.340'
>>> published("W13")
'W13'
>>> label("0827396340", "Audio"), label("W13", "Welzijnsvereniging W13 (Zuid-West-Vlaanderen)")
('Audio', 'W13')
"""

from __future__ import annotations

import re
from typing import TypeGuard

_ENTERPRISE_NUMBER = re.compile(r"[01]\d{9}")


def is_enterprise_number(code: object) -> TypeGuard[str]:
    """Is ``code`` an enterprise number as the register writes it (10 digits, starting 0 or 1)?

    Examples
    --------
    >>> is_enterprise_number("0630835639"), is_enterprise_number("elz18")
    (True, False)
    """
    return isinstance(code, str) and _ENTERPRISE_NUMBER.fullmatch(code) is not None


def published(code: object) -> object:
    """An enterprise number in its published notation (``0827.396.340``); anything else unchanged.

    Examples
    --------
    >>> published("1234567890"), published(34025)
    ('1234.567.890', 34025)
    """
    if not is_enterprise_number(code):
        return code
    return f"{code[:4]}.{code[4:7]}.{code[7:]}"


def label(code: object, name: object) -> str:
    """What running text calls a zone: its name when its code is an enterprise number, else its code.

    Examples
    --------
    >>> label("0219395192", "Cipal")
    'Cipal'
    """
    return str(name) if is_enterprise_number(code) else str(code)

"""Close matches for a code or name that was not found: "did you mean ...?".

A mistyped zone code, layer id or NIS code should lead somewhere useful. This compares the
unknown text with the known ones, case- and accent-insensitively, with :mod:`difflib`.

Examples
--------
>>> close_matches("W31", {"W13": "Welzijnsvereniging W13", "WZK": "Welzijnszorg Kempen"})
['W13']
"""

from __future__ import annotations

import difflib

from geo.reference.vintages import normalise_name


def close_matches(text: str, options: dict[str, str], limit: int = 5, cutoff: float = 0.5) -> list[str]:
    """Keys of ``options`` whose key or label resembles ``text``, best first.

    Parameters
    ----------
    text : str
        What the user typed (a code, an id or a name).
    options : dict of str to str
        Known keys (codes, ids) and their labels (names).
    limit : int
        At most this many keys.
    cutoff : float
        Minimum :class:`difflib.SequenceMatcher` ratio (0..1).

    Examples
    --------
    >>> close_matches("eerstelijnzone", {"eerstelijnszone": "Eerstelijnszones", "logo": "LOGO-regio's"})
    ['eerstelijnszone']
    >>> close_matches("zzz", {"logo": "LOGO"})
    []
    """
    key = normalise_name(str(text))
    if not key:
        return []
    scores: dict[str, float] = {}
    for option, label in options.items():
        for candidate in (normalise_name(option), normalise_name(label)):
            if not candidate:
                continue
            ratio = difflib.SequenceMatcher(None, key, candidate).ratio()
            if key in candidate and len(key) >= 3:
                ratio = max(ratio, 0.8)  # "kempen" in "welzijnszorg kempen"
            scores[option] = max(scores.get(option, 0.0), ratio)
    ranked = sorted((s, o) for o, s in scores.items() if s >= cutoff)
    ranked.sort(key=lambda pair: -pair[0])
    return [option for _, option in ranked[:limit]]

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

# Typed text beyond this is never even normalised (a path segment of 4,290 digits was 3 s of CPU).
MAX_TYPED = 1000


def matchable_length(candidates, cutoff: float) -> int:  # noqa: ANN001
    """The longest typed text that could still reach ``cutoff`` against one of ``candidates``:
    a ratio is ``2 M / (len(typed) + len(candidate))`` with ``M <= len(candidate)``, so typed text
    longer than ``len(candidate) * (2 / cutoff - 1)`` matches nothing, and is cut to that before
    matching (the answer is the same, the cost no longer grows with the input).

    Examples
    --------
    >>> matchable_length([("w13", "welzijnsvereniging w13")], 0.5)
    67
    """
    longest = max((len(c) for pair in candidates for c in pair), default=0)
    return max(1, int(longest * (2 / max(cutoff, 0.01) - 1)) + 1)


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
    normalised = {option: (normalise_name(option), normalise_name(label)) for option, label in options.items()}
    key = normalise_name(str(text)[:MAX_TYPED])[:matchable_length(normalised.values(), cutoff)]
    if not key:
        return []
    scores: dict[str, float] = {}
    for option, candidates in normalised.items():
        for candidate in candidates:
            if not candidate:
                continue
            ratio = difflib.SequenceMatcher(None, key, candidate).ratio()
            if key in candidate and len(key) >= 3:
                ratio = max(ratio, 0.8)  # "kempen" in "welzijnszorg kempen"
            scores[option] = max(scores.get(option, 0.0), ratio)
    ranked = sorted((s, o) for o, s in scores.items() if s >= cutoff)
    ranked.sort(key=lambda pair: -pair[0])
    return [option for _, option in ranked[:limit]]

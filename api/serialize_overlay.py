"""The overlay JSON written straight from the detail arrays: what ``/api/v1/overlay`` answers.

:func:`overlay_json` gives the bytes :func:`api.serialize.json_bytes` writes for
:func:`api.serialize.overlay`, without building a :class:`geo.engine.overlay.ZoneDetail`, a dict and an
encoder call per zone and member: the zones' JSON is laid out as a sequence of pieces (fragments
prepared once per layer and per municipality, digits of numbers, punctuation), each put in its
place with array indexing from :func:`geo.engine.details.detail_arrays`, and joined once. The details of
all 10,000 squares of an imported grid take tens of milliseconds instead of most of a second.

Examples
--------
>>> from api import serialize
>>> result = overlay(catalog.layer("samenwerkingsverband"), catalog.layer("eerstelijnszone"))
>>> overlay_json(result, direction="a") == serialize.json_bytes({**serialize.overlay(result), "direction": "a"})
True
"""

from __future__ import annotations

import weakref
from json.encoder import encode_basestring

import numpy as np

from api.serialize import json_text, number, overlay_head, weight_key
from geo.engine.atoms import Atoms
from geo.engine.details import atom_labels, detail_arrays, layer_columns
from geo.engine.layer import Layer
from geo.engine.overlay import OverlayResult


def overlay_json(result: OverlayResult, offset: int = 0, limit: int | None = None, **fields: object) -> bytes:
    """``json_bytes`` of ``serialize.overlay(result, offset, limit)`` with ``fields`` set on it
    (as ``body[key] = value``: a key it has keeps its place, a new one comes after ``zones``).

    Examples
    --------
    >>> overlay_json(result, 0, 10, direction="a")[:20]
    b'{"a":"samenwerkingsv'
    """
    stop = None if limit is None else offset + limit
    body: dict = {**overlay_head(result, offset, limit), "zones": _Written(zones_json(result, offset, stop))}
    body.update(fields)
    return ("{" + ",".join(json_text(k) + ":" + (v if isinstance(v, _Written) else json_text(v))
                           for k, v in body.items()) + "}").encode()


class _Written(str):
    """Text that is JSON already (put into an object as it is)."""


def zones_json(result: OverlayResult, start: int = 0, stop: int | None = None) -> str:
    """The JSON list of ``serialize.zone_detail(d, weight)`` for the details ``d`` of A-zones
    ``start:stop`` (positions in ``result.a``).

    Examples
    --------
    >>> zones_json(result, 0, 1)[:30]
    '[{"code":"NETELAND","name":"Ne'
    """
    d = detail_arrays(result, start, stop)
    if d.start == d.stop:
        return "[]"
    weight, key = result.weight, weight_key(result.weight)
    member_heads = _member_heads(result.a.atoms) + f',"{key}":'

    # Where each piece goes: every zone, touched zone and member is a run of pieces (ZONE, TOUCHED,
    # MEMBER below) with the runs of its members and touched zones inside, in the order they are
    # written. Runs of zones and touched zones are laid out from their lengths.
    n_out, n_not, n_in = np.diff(d.o_bounds), np.diff(d.c_bounds), np.diff(d.m_bounds)
    t_len = TOUCHED.length + MEMBER.length * n_in
    t_end = np.concatenate([[0], np.cumsum(t_len)])
    t_in_zone = t_end[d.t_bounds[1:]] - t_end[d.t_bounds[:-1]]
    z_len = ZONE.length + MEMBER.length * (n_out + n_not) + t_in_zone
    z_at = np.concatenate([[0], np.cumsum(z_len)])
    pieces = np.empty(int(z_at[-1]), dtype=object)
    z_at = z_at[:-1]
    not_covered_at = z_at + MEMBER.length * n_out  # the pieces after the outside members move up
    touched_at = not_covered_at + MEMBER.length * n_not

    def put(at: np.ndarray, run: _Run, name: str, values) -> None:
        offset = run.at[name]
        for i, column in enumerate(values if isinstance(values, tuple) else (values,)):
            pieces[at + offset + i] = column

    def put_members(at: np.ndarray, bounds: np.ndarray, atom: np.ndarray, values: np.ndarray) -> None:
        group, index, last = _within(bounds)
        at = at[group] + MEMBER.length * index
        put(at, MEMBER, "head", member_heads[atom])
        put(at, MEMBER, "weight", _whole_or_number(values, weight))
        put(at, MEMBER, "close", _either(last, "}", "},"))

    put(z_at, ZONE, "named", _named(result.a, key)[d.start:d.stop])
    put(z_at, ZONE, "weight", _whole_or_number(d.total, weight))
    put(z_at, ZONE, "dominant", _dominant(result.b)[d.dominant])
    put(z_at, ZONE, "share", _share(d.dominant_share))
    put(z_at, ZONE, "nested", _either(d.nested, f',"nested":true,"{key}_outside_dominant":',
                                      f',"nested":false,"{key}_outside_dominant":'))
    put(z_at, ZONE, "outside", _whole_or_number(d.weight_outside, weight))
    put(z_at, ZONE, "outside_open", ',"members_outside_dominant":[')
    put_members(z_at + ZONE.at["outside_members"], d.o_bounds, d.o_atom, d.o_weight)
    put(not_covered_at, ZONE, "not_covered_open", '],"not_covered":[')
    put_members(not_covered_at + ZONE.at["not_covered_members"], d.c_bounds, d.c_atom, d.c_weight)
    put(touched_at, ZONE, "touched_open", '],"zones_touched":[')

    zone, index, last = _within(d.t_bounds)
    t_at = touched_at[zone] + ZONE.at["touched"] + t_end[:-1] - t_end[d.t_bounds[zone]]
    put(t_at, TOUCHED, "named", _named(result.b, key)[d.t_b])
    put(t_at, TOUCHED, "weight", _whole_or_number(d.t_weight, weight))
    put(t_at, TOUCHED, "share_key", ',"share":')
    put(t_at, TOUCHED, "share", _share(d.t_share))
    put(t_at, TOUCHED, "members_open", ',"members":[')
    put_members(t_at + TOUCHED.at["members"], d.m_bounds, d.m_atom, d.m_weight)
    pieces[t_at + t_len - 1] = _either(last, "]}", "]},")
    pieces[z_at + z_len - 1] = _either(np.arange(len(z_at)) == len(z_at) - 1, "]}", "]},")
    return "[" + "".join(pieces.tolist()) + "]"


class _Run:
    """The pieces of one object in writing order: ``(name, count)``; ``at[name]`` is where a
    part starts, counted from the run's start, and ``length`` is the run's length without the
    runs written inside it (members, touched zones), which come at the named places."""

    def __init__(self, *parts: tuple[str, int]):
        self.at: dict[str, int] = {}
        length = 0
        for name, count in parts:
            self.at[name] = length
            length += count
        self.length = length


WHOLE, SHARE = 2, 3  # pieces per number (see _whole_or_number, _share)
MEMBER = _Run(("head", 1), ("weight", WHOLE), ("close", 1))
TOUCHED = _Run(("named", 1), ("weight", WHOLE), ("share_key", 1), ("share", SHARE), ("members_open", 1),
               ("members", 0), ("close", 1))
ZONE = _Run(("named", 1), ("weight", WHOLE), ("dominant", 1), ("share", SHARE),
            ("nested", 1), ("outside", WHOLE), ("outside_open", 1), ("outside_members", 0),
            ("not_covered_open", 1), ("not_covered_members", 0), ("touched_open", 1), ("touched", 0), ("close", 1))


def _within(bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For groups ``bounds[g]:bounds[g+1]`` of a sequence (``bounds[0] == 0``): each element's
    group, its index in the group, and whether it is the group's last."""
    counts = np.diff(bounds)
    group = np.repeat(np.arange(len(counts)), counts)
    index = np.arange(int(bounds[-1])) - bounds[:-1][group]
    return group, index, index == counts[group] - 1


def _either(condition: np.ndarray, yes: str, no: str) -> np.ndarray:
    return np.array([no, yes], dtype=object)[condition.astype(np.intp)]


# -- numbers as pieces: digits from tables, no str() or repr() per number --------------------------------
_UNITS = np.array([str(i) for i in range(1000)], dtype=object)  # 7 -> "7"
_PADDED = np.array([f"{i:03d}" for i in range(1000)], dtype=object)  # 7 -> "007"
_DECIMALS = np.array([f"{i:03d}".rstrip("0") for i in range(1000)], dtype=object)  # 70 -> "07", 0 -> ""
_THOUSANDS = np.concatenate([[""], _UNITS[1:]])  # the digits above the last three: none below 1000
_LAST_THREE = np.concatenate([_UNITS, _PADDED])  # [low + 1000 * (above 999)]: "7" alone, "007" after digits
_SHARE_DIGITS = np.concatenate([_DECIMALS, _PADDED])  # [high + 1000 * (low > 0)]: 0.12 -> "12", 0.120034 -> "120"
_SHARE_START = np.array(["0.", "0.0", "1.0"], dtype=object)


def _whole_or_number(values: np.ndarray, weight: str) -> tuple[np.ndarray, np.ndarray]:
    """``serialize.number(v, weight)`` of each value as JSON, in ``WHOLE`` pieces: inhabitants
    ``int(round(v))`` (``rint`` rounds half to even, as ``round`` does; NaN is 0) as the digits
    above the last three and those three; km² (rounded to 4 decimals) whole in the first piece."""
    if weight != "population":
        return (np.array([json_text(number(v, weight)) for v in values.tolist()], dtype=object),
                np.full(len(values), "", dtype=object))
    whole = np.rint(np.where(np.isnan(values), 0.0, values)).astype(np.int64)
    high, low = np.divmod(whole, 1000)
    rare = np.nonzero((high >= 1000) | (whole < 0))[0]
    first = _THOUSANDS[np.clip(high, 0, 999)]
    second = _LAST_THREE[low + 1000 * (high > 0)]
    if len(rare):
        first[rare] = [str(v) for v in whole[rare].tolist()]
        second[rare] = ""
    return first, second


def _share(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """JSON of ``round(v, 6)`` for each value, in ``SHARE`` pieces. ``n = rint(v * 1e6)`` is the
    rounded value in millionths unless ``v * 1e6`` lies within rounding error of a half; for
    ``100 <= n < 10**6`` Python writes ``"0."`` and the six digits without trailing zeros (the
    shortest text that reads back as the same float). Those, 0 and 1 come from tables; the rest
    (tiny shares written with an exponent, the doubtful halves, -0.0) from ``round`` itself."""
    scaled = values * 1e6
    usual = (values >= 0.0) & (values <= 1.0) & ~np.signbit(values)
    n = np.rint(np.where(usual, scaled, 0.0)).astype(np.int64)
    high, low = np.divmod(np.where(n == 1_000_000, 0, n), 1000)
    first = _SHARE_START[(n == 0) + 2 * (n == 1_000_000)]
    second = _SHARE_DIGITS[high + 1000 * (low > 0)]
    third = _DECIMALS[low]
    rare = np.nonzero(~usual | (np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6) | ((n > 0) & (n < 100)))[0]
    if len(rare):
        first[rare] = [json_text(round(v, 6)) for v in values[rare].tolist()]
        second[rare] = third[rare] = ""
    return first, second, third


# -- fragments prepared once per layer and per set of municipalities ------------------------------------
_NAMED: "weakref.WeakKeyDictionary[Layer, dict[str, np.ndarray]]" = weakref.WeakKeyDictionary()
_DOMINANT: "weakref.WeakKeyDictionary[Layer, np.ndarray]" = weakref.WeakKeyDictionary()
_MEMBERS: "weakref.WeakKeyDictionary[Atoms, np.ndarray]" = weakref.WeakKeyDictionary()


def _string(value: object) -> str:
    """``json_text(value)`` for a string without building an encoder per call (the C escaper
    ``json.dumps`` itself uses): 20,000 zone codes and names of a big import in 10 ms, not 60."""
    return encode_basestring(value) if type(value) is str else json_text(value)


def _named(layer: Layer, key: str) -> np.ndarray:
    """Per zone ``{"code":...,"name":...,"<key>":``: how a zone's object starts (an A-zone or a
    touched one), up to its weight."""
    by_key = _NAMED.setdefault(layer, {})
    named = by_key.get(key)
    if named is None:
        columns = layer_columns(layer)
        named = np.array([f'{{"code":{_string(c)},"name":{_string(n)},"{key}":'
                          for c, n in zip(columns.codes, columns.names)], dtype=object)
        by_key[key] = named
    return named


def _dominant(layer: Layer) -> np.ndarray:
    """Per zone ``,"dominant_zone":...,"dominant_zone_name":...,"dominant_share":``; the last
    entry (position -1) for none."""
    named = _DOMINANT.get(layer)
    if named is None:
        columns = layer_columns(layer)
        named = np.array([f',"dominant_zone":{_string(c)},"dominant_zone_name":{_string(n)},"dominant_share":'
                          for c, n in zip(columns.codes, columns.names)]
                         + [',"dominant_zone":null,"dominant_zone_name":null,"dominant_share":'], dtype=object)
        _DOMINANT[layer] = named
    return named


def _member_heads(atoms: Atoms) -> np.ndarray:
    """Per atom ``{"nis_code":...,"name":...``: how a member's object starts."""
    heads = _MEMBERS.get(atoms)
    if heads is None:
        _, codes, names = atom_labels(atoms)
        heads = np.array(['{"nis_code":' + str(c) + ',"name":' + _string(n) for c, n in zip(codes, names)],
                         dtype=object)
        _MEMBERS[atoms] = heads
    return heads

"""Scenarios: an alternative zoning of an existing layer, as a list of moves.

A move puts one municipality wholly in one existing zone of the base layer (and out of every
other zone of that layer). Applying moves is a row replacement in the membership matrix, so a
scenario is evaluated with the same overlay engine as any layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
from scipy import sparse

from geo.engine.layer import Layer
from geo.errors import InvalidInput


@dataclass(frozen=True)
class Move:
    """Put municipality ``nis_code`` in zone ``to_zone`` of the base layer."""

    nis_code: int
    to_zone: str


def check_moves(base: Layer, moves: Iterable[Move]) -> list[Move]:
    """Refuse unknown municipalities and zones, naming them; later moves of the same
    municipality replace earlier ones.

    Parameters
    ----------
    base : Layer
        The layer the moves apply to.
    moves : iterable of Move

    Returns
    -------
    list of Move
        One per municipality, NIS codes as int; an unknown municipality raises
        ``UnknownMunicipality``, an unknown zone ``InvalidInput``.

    Examples
    --------
    >>> check_moves(elz, [Move(34025, "elz40"), Move(34025, "elz18")])
    [Move(nis_code=34025, to_zone='elz18')]
    """
    checked: dict[int, Move] = {}
    for move in moves:
        base.atoms.position(move.nis_code)
        if not base.has_zone(move.to_zone):
            raise InvalidInput(f"layer {base.id!r} has no zone {move.to_zone!r} to move NIS code "
                               f"{move.nis_code} to")
        checked.pop(int(move.nis_code), None)
        checked[int(move.nis_code)] = Move(int(move.nis_code), str(move.to_zone))
    return list(checked.values())


def apply_moves(base: Layer, moves: Iterable[Move], *, id: str | None = None, name: str | None = None,
                description: str = "") -> Layer:
    """The base layer with the moves applied, as a new layer of kind ``scenario``.

    Parameters
    ----------
    base : Layer
    moves : iterable of Move
        Checked by :func:`check_moves`; each puts a municipality wholly in one zone.
    id, name, description : str, optional
        Of the new layer (by default derived from the base layer's).

    Returns
    -------
    Layer

    Examples
    --------
    >>> elz = catalog.layer("eerstelijnszone")
    >>> apply_moves(elz, [Move(34025, "elz18")]).zones_of(34025)
    [('elz18', 'Kortrijk-Kuurne-Harelbeke', 1.0)]
    """
    moves = check_moves(base, moves)
    matrix = sparse.lil_array(base.membership)
    for move in moves:
        row = base.atoms.position(move.nis_code)
        matrix[[row], :] = 0.0
        matrix[row, base.zone_position(move.to_zone)] = 1.0
    membership = sparse.csr_array(matrix)
    membership.eliminate_zeros()
    # The outlines no longer match a scenario, but the sectors' zones still hold where the
    # municipality was not moved (geo.engine.overlay.split_cells checks each municipality).
    scenario = base.with_membership(membership, id=id or f"{base.id}+{len(moves)}", name=name or base.name,
                                    kind="scenario", description=description, polygons=None,
                                    sector_zones=base.sector_assignment())
    # By area, the municipalities not moved keep the base's polygon pieces (geo.engine.areas).
    from geo.engine.areas import keep_pieces

    keep_pieces(base, scenario, [base.atoms.position(m.nis_code) for m in moves])
    return scenario


def moved(base: Layer, scenario: Layer) -> list[dict]:
    """Municipalities whose zones differ between two zonings over the same zones.

    Parameters
    ----------
    base, scenario : Layer
        Zonings with the same zone codes in the same order (others raise ``InvalidInput``).

    Returns
    -------
    list of dict
        Per municipality, by NIS code: ``nis_code, municipality, from_zones, to_zones, population``.

    Examples
    --------
    >>> [(c["municipality"], c["from_zones"], c["to_zones"])
    ...  for c in moved(elz, apply_moves(elz, [Move(34025, "elz18")]))]
    [('Lendelede', ['elz40'], ['elz18'])]
    """
    if list(base.zones["code"]) != list(scenario.zones["code"]):
        raise InvalidInput(f"{base.id!r} and {scenario.id!r} do not have the same zones")
    diff = abs(base.membership - scenario.membership)
    rows = np.unique(diff.tocoo().row)
    out = []
    for row in rows:
        nis = int(base.atoms.nis_codes[row])
        out.append({
            "nis_code": nis,
            "municipality": str(base.atoms.names[row]),
            "from_zones": [c for c, _, _ in base.zones_of(nis)],
            "to_zones": [c for c, _, _ in scenario.zones_of(nis)],
            "population": int(base.atoms.table["population"].iloc[row]),
        })
    return out

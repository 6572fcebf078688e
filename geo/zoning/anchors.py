"""A zone's anchor: the municipality the zone is named after, else its most populous member.

Planners accept that a border municipality changes zone; moving the town a zone is named after
(Kortrijk out of "Kortrijk-Kuurne-Harelbeke") is a different zoning, not an adjustment. Tools that
propose moves (:mod:`geo.zoning.suggest`) leave anchors where they are unless told otherwise.

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> elz = load_catalog().layer("eerstelijnszone")
>>> anchors = zone_anchors(elz)
>>> elz.atoms.name(anchors["elz18"]), elz.atoms.name(anchors["elz50"])  # Kortrijk-..., Regio Waregem
('Kortrijk', 'Waregem')
"""

from __future__ import annotations

import re

import numpy as np

from geo.engine.layer import Layer


def _named_position(zone_name: str, municipality: str) -> int | None:
    """Where ``municipality`` appears in the zone name as a whole name (None if it does not)."""
    found = re.search(rf"(?<!\w){re.escape(municipality)}(?!\w)", zone_name, flags=re.IGNORECASE)
    return None if found is None else found.start()


def zone_anchors(layer: Layer) -> dict[str, int]:
    """NIS code of the anchor of every zone of ``layer``, by zone code.

    The anchor is the member named in the zone's name (the first named if several, as in
    "Kortrijk-Kuurne-Harelbeke"); for a zone named otherwise ("RITS", "Kempenland") its member with
    the most inhabitants. Only members wholly in the zone count.

    Examples
    --------
    >>> from geo.reference.catalog import load_catalog
    >>> elz = load_catalog().layer("eerstelijnszone")
    >>> elz.atoms.name(zone_anchors(elz)["elz40"])  # RITS: its most populous member
    'Tielt'
    """
    matrix = layer.membership.tocsc()
    population = layer.atoms.weights("population")
    names = layer.atoms.table["name"].to_numpy()
    anchors: dict[str, int] = {}
    for col, (code, zone_name) in enumerate(zip(layer.zones["code"], layer.zones["name"])):
        start, end = matrix.indptr[col], matrix.indptr[col + 1]
        rows = matrix.indices[start:end][matrix.data[start:end] >= 1.0 - 1e-9]
        if not len(rows):
            continue
        named = []
        for row in rows:
            at = _named_position(str(zone_name), str(names[row]))
            if at is not None:
                named.append((at, -len(str(names[row])), int(row)))
        row = min(named)[2] if named else int(rows[np.argmax(population[rows])])
        anchors[str(code)] = int(layer.atoms.nis_codes[row])
    return anchors

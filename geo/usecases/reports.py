"""A fit report's question: zone ``code`` of a layer against which layers? The defaults, the cap
and the refusals, the same for the report page, its PDF and ``regiomatch report``.

Examples
--------
>>> from geo.storage.workspace import open_workspace
>>> ws = open_workspace(None, "sqlite://", 2020)
>>> layer, others = report_layers(ws, "samenwerkingsverband", None)
>>> [o.id for o in others]
['eerstelijnszone', 'referentieregio', 'gezondheidsmakers', 'logo']
>>> report_layers(ws, "eerstelijnszone", ["eerstelijnszone"])
Traceback (most recent call last):
geo.errors.InvalidInput: a report needs at least one comparison layer other than the layer itself
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from geo.engine.layer import Layer
from geo.errors import InvalidInput
from geo.reference.roles import association_layer, compare_with

if TYPE_CHECKING:
    from geo.storage.workspace import Workspace


def default_against() -> tuple[str, ...]:
    """The layers a fit report compares with by default: the structures associations are compared
    with (``compare_with`` of the association layer in data/layers.json, read on first use).

    Examples
    --------
    >>> default_against()[0]
    'eerstelijnszone'
    """
    return tuple(compare_with(association_layer()))


MAX_AGAINST = 8


def report_layers(ws: Workspace, layer_id: str, against: Sequence[str] | None) -> tuple[Layer, list[Layer]]:
    """The layer a report is about and the layers it is compared with.

    Parameters
    ----------
    ws : Workspace
        Resolves the ids (shipped, imported, ``scenario:<id>``).
    layer_id : str
        The layer of the zone the report is about.
    against : sequence of str or None
        Comparison layers; None: :func:`default_against`. Repeats count once, the layer itself is
        left out, at most :data:`MAX_AGAINST`.

    Returns
    -------
    (Layer, list of Layer)
        The layer, and the comparison layers in the order given.
    """
    layer = ws.layer(layer_id)
    ids = list(dict.fromkeys(against or default_against()))
    if len(ids) > MAX_AGAINST:
        raise InvalidInput(f"at most {MAX_AGAINST} comparison layers per report, got {len(ids)}",
                           dutch=f"Een rapport vergelijkt met hoogstens {MAX_AGAINST} lagen, niet {len(ids)}.")
    others = [ws.layer(i) for i in ids if i != layer.id]
    if not others:
        raise InvalidInput("a report needs at least one comparison layer other than the layer itself",
                           dutch="Een rapport vergelijkt met minstens een andere laag dan die van de zone zelf.")
    return layer, others

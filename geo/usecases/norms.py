"""The population norm a request asks for: the layer's own (a scenario inherits its base's),
with the bounds a user gave taking the place of the norm's, or none when the check is off.

Every front end (routes, the command line, the workbench, maps) resolves norms here, once.

Examples
--------
>>> from geo.storage.workspace import open_workspace
>>> ws = open_workspace(None, "sqlite://", 2020)
>>> layer_norm(ws, "eerstelijnszone").minimum
60000
>>> requested_norm(ws, "eerstelijnszone", maximum=150_000).label
'60.000 tot 150.000 inwoners'
>>> requested_norm(ws, "eerstelijnszone", check=False) is None
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo.reference.norms import PopulationNorm, norm_for
from geo.zoning.validation import make_norm

if TYPE_CHECKING:
    from geo.storage.workspace import Workspace


def layer_norm(ws: Workspace, layer_id: str, base_id: str | None = None) -> PopulationNorm | None:
    """The default norm of a layer: its own, else its base layer's (a scenario, or ``base_id``).

    Parameters
    ----------
    ws : Workspace
        Resolves ``layer_id`` (shipped, imported or ``scenario:<id>``).
    layer_id : str
        The layer whose norm is asked for.
    base_id : str, optional
        The base to inherit from instead of the scenario's own base (the command line's ``--base``).

    Returns
    -------
    PopulationNorm or None
        None when neither the layer nor its base has a norm.
    """
    return norm_for(ws.layer(layer_id), base_id if base_id is not None else ws.base_id_of(layer_id))


def requested_norm(ws: Workspace, layer_id: str, minimum: int | None = None, maximum: int | None = None,
                   check: bool = True, base_id: str | None = None) -> PopulationNorm | None:
    """The norm a request asks for: the layer's default with the given bounds in its place.

    Parameters
    ----------
    ws : Workspace
        Resolves the layer.
    layer_id : str
        The layer being checked.
    minimum, maximum : int, optional
        Bounds given by the user; a bound not given is the default norm's (``minimum=0`` drops it).
    check : bool
        False: no population check at all (None).
    base_id : str, optional
        As in :func:`layer_norm`.

    Returns
    -------
    PopulationNorm or None
        The norm to check against, or None.
    """
    if not check:
        return None
    return make_norm(minimum, maximum, layer_norm(ws, layer_id, base_id))

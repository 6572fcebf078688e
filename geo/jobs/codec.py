"""A job's result as bytes: JSON for the figures and words, numpy arrays for the bulk (plans).

One ``.npz`` archive (no pickles: reading a result back never runs code) with the JSON part as
one more member. The job store compresses what it keeps.

Examples
--------
>>> import numpy as np
>>> data = pack({"plans": 2}, {"plans": np.array([[0, 1], [1, 0]], dtype=np.int32)})
>>> meta, arrays = unpack(data)
>>> meta, arrays["plans"].tolist()
({'plans': 2}, [[0, 1], [1, 0]])
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

_META = "__meta__"


def pack(meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray] | None = None) -> bytes:
    """JSON-able ``meta`` and named arrays as one archive."""
    members = {name: np.asarray(value) for name, value in (arrays or {}).items()}
    if _META in members:
        raise ValueError(f"{_META!r} is reserved")
    members[_META] = np.frombuffer(json.dumps(meta, default=_plain).encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    # numpy's stubs type **arrays as the allow_pickle keyword (a stub gap):
    np.savez(buffer, **members)  # type: ignore[arg-type]  # the store compresses the whole; compressing twice costs time only
    return buffer.getvalue()


def unpack(data: bytes) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The ``meta`` and arrays of :func:`pack`."""
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = json.loads(arrays.pop(_META).tobytes().decode("utf-8"))
    return meta, arrays


def _plain(value: Any) -> Any:
    """Numpy scalars and arrays inside ``meta`` as plain JSON."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")

"""How many examples a property test draws: all of them in `make test` and CI, a share in `make check`.

The fast loop (``make check``) sets ``REGIOMATCH_EXAMPLE_SHARE=0.25``: the property tests still run
and still find what a handful of examples finds; the whole count runs in ``make test`` and in CI,
which replays the same examples every time (the ``ci`` profile in ``tests/conftest.py``).

>>> examples(40, share=0.25), examples(40, share=1.0), examples(6, share=0.25)
(10, 40, 5)
"""

from __future__ import annotations

import os

MINIMUM = 5  # fewer than this and a property test hardly explores at all


def examples(count: int, share: float | None = None) -> int:
    """``count`` examples scaled by the share of the run (``REGIOMATCH_EXAMPLE_SHARE``, default 1)."""
    if share is None:
        share = float(os.environ.get("REGIOMATCH_EXAMPLE_SHARE", "1"))
    return min(count, max(MINIMUM, round(count * share)))

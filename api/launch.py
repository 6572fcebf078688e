"""The ``regiomatch`` command: :func:`api.cli.main` with the garbage collector paused while the
modules load (:mod:`api.startup`). Nothing is imported here before the pause."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line (``regiomatch --help``)."""
    from api import startup

    startup.pause()
    from api.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    import sys

    sys.exit(main())

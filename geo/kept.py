"""What a process builds from the data folder on start-up, kept on disk for the next one.

Python keeps a module's bytecode in ``__pycache__`` beside it, valid while the source's size and
time are; this keeps the catalog (0.1 s of CPU of every start: sixteen layers built from CSV) and
the dissolved outlines of the shipped layers (0.1 s for W13's report, the first page most
planners open) in ``<data folder>/__pycache__``, valid while

* it is the same folder, and every file in it has the same size and modification time,
* every module of ``geo/`` has (the code that builds them, and the classes they are made of),
* and Python, numpy, pandas, scipy and shapely are the same versions.

Anything else (a file that does not load, a folder that cannot be written) means building
again, as without it: a kept result is never a stale one, only a faster way to the same.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "members.csv").write_text("nis_code,zone")
>>> calls = []
>>> def build():
...     calls.append(1)
...     return {"zones": ["A"]}
>>> kept(folder, "example", build), kept(folder, "example", build), len(calls)
({'zones': ['A']}, {'zones': ['A']}, 1)
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

FOLDER = "__pycache__"
_CODE = Path(__file__).resolve().parent
_LIBRARIES = ("numpy", "pandas", "scipy", "shapely", "geopandas", "pyproj")


def kept(data_dir: Path, name: str, build: Callable[[], T]) -> T:
    """``build()``'s result, kept in ``data_dir/__pycache__`` under ``name`` while the data, the
    code and the libraries are those it was built from (see the module)."""
    path = Path(data_dir) / FOLDER / f"{name}.{_stamp(Path(data_dir))}.pickle"
    try:
        with open(path, "rb") as file:
            return pickle.load(file)  # noqa: S301 - our own file, as trusted as a module's bytecode
    except Exception:  # noqa: BLE001 - missing, damaged or from another build: build it again
        pass
    value = build()
    _write(path, value)
    return value


def _write(path: Path, value: object) -> None:
    try:
        path.parent.mkdir(exist_ok=True)
        for old in path.parent.glob(f"{path.name.split('.')[0]}.*.pickle"):
            old.unlink(missing_ok=True)  # an earlier build's: never read again
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)  # another process reads the whole file or none
    except Exception:  # noqa: BLE001 - a read-only folder or an unpicklable value: only not kept
        if "temporary" in locals():
            Path(temporary).unlink(missing_ok=True)


def _stamp(data_dir: Path) -> str:
    """A digest of the data folder's files (read each time: a test may write a folder's files
    between two reads), our code and the libraries' versions."""
    digest = hashlib.blake2b(_code_and_libraries(), digest_size=12)
    # The folder itself too: what is built names it (a catalog's data_dir), and a copy of the
    # folder, files' times and all, must not read the original's.
    digest.update(str(data_dir.resolve()).encode())
    for path in sorted(p for p in data_dir.iterdir() if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.name}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _code_and_libraries() -> bytes:
    digest = hashlib.blake2b(sys.version.encode(), digest_size=16)
    for path in sorted(_CODE.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    # The installed versions, as the names of their metadata folders say ("pandas-2.2.3.dist-info"):
    # one listing, where importlib.metadata would take 0.4 s to look each up.
    folders = {os.path.dirname(module.__file__ or "") for module in sys.modules.values()
               if getattr(module, "__file__", None) and "-packages" in (module.__file__ or "")}
    names = sorted(n for folder in folders if os.path.basename(folder).endswith("-packages")
                   for n in os.listdir(folder) if n.endswith(".dist-info") and n.split("-")[0] in _LIBRARIES)
    digest.update("|".join(names).encode())
    return digest.digest()

"""The module structure holds: every module imports on its own in a fresh interpreter (no import
circle hides behind an import order), geo/ imports no web framework, the command line loads
none, and each geo subpackage names its public parts, which resolve."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("geo", "api", "maps")
WEB = ("fastapi", "starlette", "uvicorn", "jinja2", "folium", "weasyprint")  # geo/ renders nothing
SERVER = ("fastapi", "starlette", "uvicorn")  # the command line is a front end beside the server


def _modules() -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def _imports(path: Path, deferred: bool = False) -> set[str]:
    """Modules a file imports at its top level; ``deferred``: also inside functions (they load on
    first use, but a circle through them is a circle all the same). Imports only for type checkers
    (``if TYPE_CHECKING:``) load nothing and are left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()

    def visit(nodes: list) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif deferred or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit([child for child in ast.iter_child_nodes(node) if isinstance(child, ast.stmt)])
            elif isinstance(node, ast.ClassDef):
                visit(node.body)

    visit(tree.body)
    return names


DATA_SUFFIXES = (".csv", ".json", ".geojson", ".gpkg", ".parquet", ".xlsx", ".zip", ".shp")
# Reads at import that are the point of the module, or not yet moved to first use (named, so the list
# shows what remains): the upload sandbox's fork server preloads the catalog; the routes and pages
# name layers by role in their defaults and OpenAPI documentation (data/layers.json).
READ_AT_IMPORT = {"geo.uploads.preload": "*"}
ROLE_REGISTRY = "data/layers.json"


# Libraries loaded once before the per-module interpreters fork off: each then imports only the
# project's code (a fresh interpreter per module cost 154 s of the fast loop's 210; forked, a few).
# No project module is loaded before the fork, so a circle among them still shows.
PRELOAD = ("numpy", "pandas", "scipy.sparse", "shapely", "pyproj", "geopandas", "sqlalchemy", "pydantic",
           "pydantic_settings", "starlette", "fastapi", "jinja2", "networkx", "matplotlib", "folium", "xlsxwriter",
           "openpyxl", "weasyprint")

_FORKED_IMPORTS = """
import importlib, json, os, sys
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
for library in PRELOAD:
    try:
        importlib.import_module(library)
    except Exception:  # noqa: BLE001 - a missing optional library is simply not preloaded
        pass
repo = os.path.realpath(os.getcwd()) + os.sep
data = repo + "data" + os.sep
# A virtual environment inside the checkout (make's .venv) holds libraries, not project data.
libraries = tuple(os.path.realpath(p) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
out = {}
for name in json.loads(sys.argv[1]):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the fresh interpreter for this one module
        os.close(r)
        read = set()

        def audit(event, args):
            if event == "open" and isinstance(args[0], (str, bytes)):
                path = os.path.realpath(os.fsdecode(args[0]))
                if path.startswith(libraries):
                    return
                if path.startswith(data) or (path.startswith(repo) and path.lower().endswith(DATA_SUFFIXES)):
                    read.add(os.path.relpath(path, repo))

        sys.addaudithook(audit)
        try:
            importlib.import_module(name)
            result = {"error": None, "read": sorted(read)}
        except BaseException as exc:  # noqa: BLE001 - reported, whatever it is
            result = {"error": [f"{type(exc).__name__}: {exc}"], "read": []}
        with os.fdopen(w, "w") as pipe:
            pipe.write(json.dumps(result))
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as pipe:
        answer = pipe.read()
    os.waitpid(pid, 0)
    out[name] = json.loads(answer) if answer else {"error": ["the import ended the interpreter"], "read": []}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def fresh_imports() -> dict[str, dict]:
    """Every module of geo/, api/ and maps/ imported alone in an interpreter of its own (forked from
    one that loaded only libraries): per module the error it raised (its last line, or None) and the
    data files it read while importing."""
    code = f"DATA_SUFFIXES = {DATA_SUFFIXES!r}\nPRELOAD = {PRELOAD!r}\n" + _FORKED_IMPORTS
    out = subprocess.run([sys.executable, "-c", code, json.dumps(_modules())], cwd=REPO,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_every_module_imports_on_its_own_in_a_fresh_interpreter(fresh_imports):
    # One interpreter per module: a circle shows as an ImportError whichever module of it comes first.
    assert {name: found["error"] for name, found in fresh_imports.items() if found["error"]} == {}


def test_no_data_file_is_read_at_import(fresh_imports):
    """Importing a module reads no data (the CLI's ``--help``, a worker's start, a test collection
    pay nothing); data is read on first use."""
    read = {}
    for name, found in fresh_imports.items():
        allowed = READ_AT_IMPORT.get(name)
        files = [] if allowed == "*" else [f for f in found["read"] if not (
            name.split(".")[0] in ("api", "maps") and f == ROLE_REGISTRY)]
        if files:
            read[name] = files
    assert read == {}


def test_geo_imports_no_web_framework():
    offenders = {str(p.relative_to(REPO)): sorted(m for m in _imports(p) if m.split(".")[0] in WEB)
                 for p in (REPO / "geo").rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_circle_between_modules(package):
    graph = {}
    for path in (REPO / package).rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph[name] = {m for m in _imports(path, deferred=True) if m.startswith(f"{package}.") and m != name}
    # Top-level imports only; a package's __init__ loads its modules lazily, so it is left out.
    graph = {k: {m for m in v if m in graph and not (REPO / m.replace(".", "/") / "__init__.py").exists()}
             for k, v in graph.items() if not (REPO / k.replace(".", "/") / "__init__.py").exists()}
    seen, stack, circles = set(), [], []

    def visit(node: str) -> None:
        if node in stack:
            circles.append(stack[stack.index(node):] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        stack.pop()

    for node in sorted(graph):
        visit(node)
    assert circles == []


@pytest.mark.parametrize("package", sorted(p.parent.name for p in (REPO / "geo").glob("*/__init__.py")))
def test_each_geo_subpackage_names_public_parts_that_resolve(package):
    module = importlib.import_module(f"geo.{package}")
    assert module.__all__, f"geo.{package} names no public parts"
    for name in module.__all__:
        assert getattr(module, name) is not None


def test_the_command_line_loads_no_web_framework():
    code = ("import json, sys, api.cli; "
            f"print(json.dumps(sorted(m for m in {list(SERVER)!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []

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


def _imports(path: Path) -> set[str]:
    """Modules a file imports at its top level (not inside functions: those load on first use)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_every_module_imports_on_its_own_in_a_fresh_interpreter():
    # One interpreter per module, run in batches: a circle shows as an ImportError whichever
    # module of it comes first.
    code = ("import importlib, json, subprocess, sys\n"
            "failed = {}\n"
            "for name in json.loads(sys.argv[1]):\n"
            "    r = subprocess.run([sys.executable, '-c', f'import {name}'], capture_output=True, text=True)\n"
            "    if r.returncode:\n"
            "        failed[name] = r.stderr.strip().splitlines()[-1:]\n"
            "print(json.dumps(failed))\n")
    out = subprocess.run([sys.executable, "-c", code, json.dumps(_modules())], cwd=REPO, capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout) == {}


def test_geo_imports_no_web_framework():
    offenders = {str(p.relative_to(REPO)): sorted(m for m in _imports(p) if m.split(".")[0] in WEB)
                 for p in (REPO / "geo").rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_import_circle_between_geo_modules():
    graph = {}
    for path in (REPO / "geo").rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        graph[name] = {m for m in _imports(path) if m.startswith("geo.") and m != name}
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

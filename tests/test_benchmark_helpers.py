"""Benchmark helpers: synthetic finer atoms keep the real totals and zones; the wrk parser reads wrk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.common import fit_exponent, percentiles
from benchmarks.synthetic import neighbour_lists, subdivide
from geo.engine.overlay import overlay

LAYERS = ["eerstelijnszone", "samenwerkingsverband", "eerstelijnszone_antwerpen_stad"]


@pytest.fixture(scope="module")
def fine(catalog):
    return subdivide(catalog.atoms, [catalog.layer(i) for i in LAYERS], 5, perturb=0.0, seed=3)


def test_every_municipality_becomes_parts_that_add_up(catalog, fine):
    atoms, _ = fine
    assert len(atoms) == 5 * len(catalog.atoms)
    parent = atoms.nis_codes // 1000
    by_parent = pd.DataFrame({"parent": parent, "population": atoms.weights("population"),
                              "area": atoms.weights("area")}).groupby("parent").sum()
    assert (by_parent.index.to_numpy() == catalog.atoms.nis_codes).all()
    assert (by_parent["population"].to_numpy() == catalog.atoms.weights("population")).all()
    assert np.allclose(by_parent["area"].to_numpy(), catalog.atoms.weights("area"), rtol=1e-12)
    # Population is whole people; the parts of one municipality are not all equal.
    assert (atoms.weights("population") == np.round(atoms.weights("population"))).all()
    assert atoms.weights("population")[:5].std() > 0


def test_without_perturbation_the_overlay_is_the_municipal_one(catalog, fine):
    _, layers = fine
    for a, b in [("samenwerkingsverband", "eerstelijnszone"), ("eerstelijnszone_antwerpen_stad", "eerstelijnszone")]:
        coarse = overlay(catalog.layer(a), catalog.layer(b))
        finer = overlay(layers[a], layers[b])
        assert np.allclose(finer.table.toarray(), coarse.table.toarray(), rtol=1e-12, atol=1e-9)
        assert finer.summary.nested_share == pytest.approx(coarse.summary.nested_share, abs=1e-12)
        assert finer.summary.adjusted_rand_index == pytest.approx(coarse.summary.adjusted_rand_index, abs=1e-12)


def test_perturbed_parts_take_a_neighbours_zone(catalog):
    neighbours = neighbour_lists(pd.DataFrame({"nis_a": [11001, 11001], "nis_b": [11002, 11004]}))
    assert neighbours[11001] == [11002, 11004] and neighbours[11004] == [11001]
    atoms, layers = subdivide(catalog.atoms, [catalog.layer("eerstelijnszone")], 20, perturb=1.0,
                              neighbours=neighbours, seed=5)
    elz, fine = catalog.layer("eerstelijnszone"), layers["eerstelijnszone"]
    allowed = {z for n in (11002, 11004) for z, _, _ in elz.zones_of(n)}
    for k in range(20):
        assert {z for z, _, _ in fine.zones_of(11001 * 1000 + k)} <= allowed
    # A municipality without neighbours in the list keeps its own zone.
    own = elz.zones_of(44021)
    assert fine.zones_of(44021 * 1000) == own
    assert fine.membership.shape == (len(atoms), len(elz))


def test_same_seed_same_atoms(catalog):
    a, _ = subdivide(catalog.atoms, [], 3, seed=11)
    b, _ = subdivide(catalog.atoms, [], 3, seed=11)
    c, _ = subdivide(catalog.atoms, [], 3, seed=12)
    assert a.table.equals(b.table)
    assert not a.table.equals(c.table)
    with pytest.raises(ValueError, match="parts"):
        subdivide(catalog.atoms, [], 1001)


def test_helpers_report_what_they_were_given():
    assert fit_exponent([10, 100, 1000], [1.0, 10.0, 100.0]) == pytest.approx(1.0)
    assert fit_exponent([10, 100, 1000], [5.0, 5.0, 5.0]) == pytest.approx(0.0, abs=1e-12)
    stats = percentiles([0.001, 0.002, 0.003])
    assert stats["median_ms"] == pytest.approx(2.0) and stats["n"] == 3 and stats["max_ms"] == pytest.approx(3.0)


WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:8000/api/v1/overlay
  1 threads and 4 connections
  Latency Distribution
     50%   25.90ms
     75%   30.00ms
     90%  800.00us
     99%    1.20s\x20
  668 requests in 5.01s, 4.77MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:    133.41
Transfer/sec:      0.95MB
"""


def test_wrk_output_is_read_with_units_and_every_kind_of_error():
    from benchmarks.bench_server import parse_wrk

    got = parse_wrk(WRK_OUTPUT)
    assert got["requests"] == 668 and got["requests_per_s"] == 133.41
    assert (got["p50_ms"], got["p90_ms"], got["p99_ms"]) == (25.9, 0.8, 1200.0)
    assert got["errors"] == 6
    clean = parse_wrk(WRK_OUTPUT.replace("  Socket errors: connect 0, read 1, write 0, timeout 2\n", "")
                      .replace("  Non-2xx or 3xx responses: 3\n", ""))
    assert clean["errors"] == 0


def test_every_route_of_the_app_has_a_benchmark_example():
    """The page benchmark measures every route: a new route needs an example in
    benchmarks/routes.py (or a reason it is not timed), else the benchmark stops naming it."""
    from fastapi import FastAPI

    from api.main import app
    from benchmarks.routes import EXAMPLES, MissingExample, app_routes, requests_for

    examples = requests_for(app, "abc123")
    assert {e.method for e in examples} == {"GET", "POST"}
    assert all("{" not in e.path for e in examples)  # every placeholder filled
    routes = set(app_routes(app))
    assert set(EXAMPLES) <= routes, f"examples of routes the app no longer has: {set(EXAMPLES) - routes}"

    extra = FastAPI()
    extra.get("/nieuwe-pagina")(lambda: {})
    with pytest.raises(MissingExample, match="GET /nieuwe-pagina"):
        requests_for(extra, "abc123")

"""Property-based fuzzing of every route in the OpenAPI schema (schemathesis).

Every operation the app documents, including routes other modules add later, is called with
generated requests: schema examples, boundary values, valid and deliberately invalid data
(wrong types, missing fields, garbage bodies, unexpected methods). Each response must be

* never a 5xx (``not_a_server_error``; the app re-raises in the test client, so a bug shows
  its traceback),
* a documented status with a documented content type and body (``status_code_conformance``,
  ``content_type_conformance``, ``response_schema_conformance``, ``response_headers_conformance``),
* for a 405, an ``Allow`` header naming the path's methods (``unsupported_method``),
* for any error, JSON ``{"detail", "code"}`` with a non-empty detail (``errors_name_the_problem``).

Two built-in checks are left out on purpose: ``positive_data_acceptance`` (a schema cannot say
which zone codes or NIS codes exist, so a schema-valid move to zone ``"0"`` is rightly a 422)
and ``negative_data_rejection`` (pydantic's lax mode accepts ``0`` for ``false`` and ``"0"`` as
the date 1970-01-01; that is coercion, not a fault).

The number of examples per operation is bounded (``REGIOMATCH_FUZZ_EXAMPLES``, default 20) so
the whole module stays within a couple of minutes on a CI runner.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi import checks as openapi_checks

from api.errors import HTML_ROUTES, is_ogc
from api.main import create_app
from api.settings import Settings
from tests.examples import examples

# A quarter of them in `make check` (tests/examples.py): the whole module is 80 s of its CPU.
FULL_EXAMPLES = int(os.environ.get("REGIOMATCH_FUZZ_EXAMPLES", "20"))
EXAMPLES = examples(FULL_EXAMPLES)
# What each operation answered, printed at the end of the module (``pytest -s`` or ``-rA``).
TALLY: dict[str, Counter] = defaultdict(Counter)


# Built once at import: the schema does not depend on the database. The app serves its own
# throwaway database (seeded by ``user_data``): no token, no database server, no CORS.
APP = create_app(Settings(state_dir=Path(tempfile.mkdtemp(prefix="regiomatch-fuzz-")), api_token=None,
                          database_url=None, cors_origins=[]))
# Adding a user switches the service to named accounts, after which every write is a 401: the rest
# of the run would only fuzz the refusal. Those two routes are tested in tests/test_sec_accounts.py.
schema = schemathesis.openapi.from_dict(APP.openapi()).exclude(method="POST", path_regex=r"^/(api/v1/users|beheer/gebruikers)$")
schema.app = APP  # what ``schemathesis.openapi.from_asgi`` sets; from_asgi would open var/ at import
if EXAMPLES < FULL_EXAMPLES:
    # The fast loop (`make check`): a few random requests per operation. The coverage phase's
    # boundary values and wrong types (most of this module's minute of CPU) run in make test and CI.
    schema.config.phases.coverage.enabled = False

# Random strings almost never name a real layer, zone or scenario, so half the time a parameter
# with one of these names gets a real value instead: the fuzzing then reaches the computation
# behind the 404s (overlays of scenarios, imported layers, old NIS codes, Brussels).
REAL: dict[str, list] = {
    "layer": ["eerstelijnszone", "samenwerkingsverband", "eerstelijnszone_antwerpen_stad", "gemeente", "fuzzlaag"],
    "nis_code": [34025, 11002, 11007, 21004, 46003, 13053],
    "zone": ["W13", "ISOM", "elz18", "elz40", "A"],
    "scenario": [],  # filled by ``user_data``
    "disposable": [],  # a scenario for DELETE to remove, filled by ``user_data``
}
NAMES = {"layer_id": "layer", "layer": "layer", "a": "layer", "b": "layer", "other": "layer", "base_layer": "layer",
         "nis_code": "nis_code", "code": "zone", "zone": "zone", "to_zone": "zone", "scenario_id": "scenario"}


def _maybe_real(name: str, value: object, real_values: dict[str, list]) -> st.SearchStrategy:
    kind = NAMES.get(name)
    if kind is None or not isinstance(value, (str, int)) or isinstance(value, bool):
        return st.just(value)
    real = real_values.get(kind, REAL[kind])
    if kind == "layer" and "layer" not in real_values:
        real = real + ["scenario:" + i for i in REAL["scenario"]]
    return st.one_of(st.just(value), st.sampled_from(real)) if real else st.just(value)


def _mapped(values: object, real_values: dict[str, list] | None = None) -> st.SearchStrategy:
    if not isinstance(values, dict):
        return st.just(values)
    fields = {}
    for name, value in values.items():
        if name in ("moves", "add_moves") and isinstance(value, list):
            fields[name] = st.tuples(*(_mapped(v, real_values) for v in value)).map(list)
        else:
            fields[name] = _maybe_real(name, value, real_values or {})
    return st.fixed_dictionaries(fields)


@schema.hook
def flatmap_path_parameters(context, path_parameters):  # noqa: ANN001 - schemathesis hook signature
    if context.operation is not None and context.operation.method.upper() == "DELETE":
        # Deletes get their own victims, so the other operations keep finding the seeded data.
        return _mapped(path_parameters, {"layer": ["wegwerplaag"], "scenario": REAL["disposable"]})
    return _mapped(path_parameters)


@schema.hook
def flatmap_query(context, query):  # noqa: ANN001
    return _mapped(query)


@schema.hook
def flatmap_body(context, body):  # noqa: ANN001
    return _mapped(body)


@pytest.fixture(scope="module", autouse=True)
def user_data() -> Iterator[None]:
    """One throwaway database for the module (writes by earlier operations stay, as in real use),
    seeded with a saved scenario and an imported layer."""
    with TestClient(APP) as client:
        created = client.post("/api/v1/scenarios", json={
            "name": "Fuzz", "base_layer": "eerstelijnszone", "moves": [{"nis_code": 34025, "to_zone": "elz18"}]})
        assert created.status_code == 201, created.text
        REAL["scenario"][:] = [created.json()["id"]]
        disposable = client.post("/api/v1/scenarios", json={"name": "Weg", "base_layer": "provincie"})
        REAL["disposable"][:] = [disposable.json()["id"]]
        for layer_id in ("fuzzlaag", "wegwerplaag"):
            imported = client.post("/api/v1/layers", data={"id": layer_id},
                                   files={"file": ("f.csv", b"nis_code,zone_code\n34025,A\n11002,B\n")})
            assert imported.status_code == 201, imported.text
    yield


def errors_name_the_problem(ctx, response, case) -> None:  # noqa: ANN001 - schemathesis check signature
    """Any 4xx/5xx is JSON ``{"detail", "code"}`` with words in it; a 404 or 422 of an HTML page
    (``api.errors.HTML_ROUTES``) is a Dutch page saying what was not found or what cannot be."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", "")
    content_type = " ".join(content_type) if isinstance(content_type, list) else content_type
    if response.status_code == 404 and content_type.startswith("text/html"):
        assert HTML_ROUTES.match(case.operation.path), f"HTML error page on {case.operation.path}"
        assert "niet gevonden" in response.text, "the 404 page does not say what was not found"
        return None
    if response.status_code == 422 and content_type.startswith("text/html"):
        # a page's address with a value it cannot take: the Dutch page naming the parameter
        assert HTML_ROUTES.match(case.operation.path), f"HTML error page on {case.operation.path}"
        assert "Ongeldige invoer (fout 422)" in response.text and "Input should" not in response.text
        return None
    body = response.json()
    if is_ogc(case.operation.path):
        # OGC API exceptions: {"code", "description"}, with the service's "detail" beside them.
        assert set(body) == {"detail", "code", "description"} and body["description"] == body["detail"], body
        body = {k: body[k] for k in ("detail", "code")}
    assert isinstance(body, dict) and set(body) == {"detail", "code"}, f"error body is not {{detail, code}}: {body!r}"
    assert isinstance(body["detail"], str) and body["detail"].strip(), f"empty error detail: {body!r}"
    assert isinstance(body["code"], str) and body["code"], f"empty error code: {body!r}"
    return None


CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.unsupported_method,
    errors_name_the_problem,
]


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
def test_every_route_answers_bad_and_good_input_as_documented(case) -> None:  # noqa: ANN001
    response = case.call()
    TALLY[case.operation.label][response.status_code] += 1
    case.validate_response(response, checks=CHECKS)


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    if TALLY:
        total = sum(sum(c.values()) for c in TALLY.values())
        print(f"\nfuzzing: {total} requests over {len(TALLY)} operations")
        for operation, statuses in sorted(TALLY.items()):
            print(f"  {operation}: {dict(sorted(statuses.items()))}")

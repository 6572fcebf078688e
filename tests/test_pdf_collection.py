"""maps.pdf pauses cyclic garbage collection while WeasyPrint lays out a document, and always
switches it back on: never left off after a render, never switched on when it was off before."""

from __future__ import annotations

import gc

import pytest

from maps import pdf


@pytest.fixture
def collection_on():
    # A render of an app another test started (its warm-up thread) may still hold collection
    # paused in this process: wait until none runs, so the counts below are this test's own.
    import time

    deadline = time.monotonic() + 300
    while pdf._collection_paused and time.monotonic() < deadline:
        time.sleep(0.05)
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_collection_is_off_during_a_render_and_on_after_it(collection_on):
    with pdf._cycles_collected_after():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_renders_switch_it_on_when_the_last_ends(collection_on):
    first, second = pdf._cycles_collected_after(), pdf._cycles_collected_after()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled(), "switched on while a render still runs"
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_failing_render_still_switches_it_on(collection_on):
    with pytest.raises(RuntimeError), pdf._cycles_collected_after():
        raise RuntimeError("layout failed")
    assert gc.isenabled()


def test_collection_switched_off_by_someone_else_stays_off(collection_on):
    gc.disable()
    with pdf._cycles_collected_after():
        pass
    assert not gc.isenabled()


def test_a_real_pdf_leaves_collection_on(collection_on):
    if "weasyprint" not in pdf.available_renderers():
        pytest.skip("WeasyPrint is not installed: pip install weasyprint (needs Pango: apt install libpango-1.0-0)")
    assert pdf.html_to_pdf("<h1>W13</h1><p>Zuid-West-Vlaanderen</p>").startswith(b"%PDF-")
    assert gc.isenabled()

"""Issue 27 item 2: a path segment of 4,290 digits cost 3.1 s of CPU on the "did you mean" page.
Text longer than anything it could match is cut before fuzzy matching, so the work no longer
grows with the input (asserted on what reaches the matcher, not on time)."""

from __future__ import annotations

import difflib

from geo.reference import lookup


def test_the_matcher_sees_at_most_what_could_match(monkeypatch):
    seen: list[int] = []
    real = difflib.SequenceMatcher

    def recording(isjunk, a, b):  # noqa: ANN001, ANN202
        seen.append(len(a))
        return real(isjunk, a, b)

    monkeypatch.setattr(lookup.difflib, "SequenceMatcher", recording)
    options = {"34022": "Kortrijk", "34025": "Lendelede"}
    assert lookup.close_matches("3402" + "2" * 4290, options, cutoff=0.6) == []
    assert seen and max(seen) <= lookup.matchable_length([("34022", "lendelede")], 0.6)
    # The cut changes no answer: a typo within reach is still found.
    assert lookup.close_matches("34O22", options, cutoff=0.6)[:1] == ["34022"]


def test_the_not_found_page_for_4290_digits_is_short_and_dutch(client):
    response = client.get("/municipalities/" + "9" * 4290, headers={"accept": "text/html"})
    assert response.status_code in (404, 422)
    if response.status_code == 404:
        assert "9" * 61 not in response.text and "Gemeente niet gevonden" in response.text
    zone = client.get("/reports/eerstelijnszone/" + "x" * 5000, headers={"accept": "text/html"})
    assert zone.status_code == 404 and "x" * 61 not in zone.text

"""HTML of the zoning workbench, the comparison page, the import page and the sign-in page.

The pages carry their data as JSON in ``<script type="application/json">`` and load one static
script (``/maps/static/workbench.js``): no inline JavaScript, no event-handler attributes, so a
strict Content-Security-Policy holds. Everything a user reads is Dutch; numbers via
:mod:`geo.dutch`.
"""

from __future__ import annotations

import pandas as pd

from geo import dutch
from geo.engine.layer import Layer
from geo.zoning.compare import Comparison
from maps.csp import nonce_attribute
from maps.templating import each, no_single, the, zone_noun
from maps.templating import render as _render

# Dutch words for the measures of geo.zoning.compare (never the field names).
MEASURE_WORDS = {
    "nested_share": ("Inwoners van wie {the_a} volledig in één {b} ligt",
                     "Aandeel van de inwoners van alle {as_} samen; 100 % = {each_a} past in één {b}."),
    "zoning_nested_share": ("Inwoners van wie {the_b} volledig in één {a} ligt",
                            "Omgekeerd: past {each_b} in één {a}?"),
    "population_outside_dominant": ("Inwoners buiten {the_largest_b} van hun {a}",
                                    "Leden die aan de andere kant van een grens liggen, opgeteld."),
    "adjusted_rand_index": ("Overeenkomst van beide indelingen (aangepaste Rand-index)",
                            "1 = identieke indeling, 0 = niet beter dan toeval."),
    "variation_of_information": ("Verschil tussen beide indelingen (variatie van informatie, bits)",
                                 "0 = identiek; hoe hoger, hoe meer de grenzen verschillen."),
    "normalized_mutual_information": ("Wat de ene indeling over de andere zegt "
                                      "(genormaliseerde wederzijdse informatie)",
                                      "Van 0 (niets) tot 1 (alles)."),
    "population_gap": ("Inwoners in {no_single_a}", "Telt niet mee in de drie maten hierboven."),
    "population_overlap": ("Inwoners dubbel geteld", "Gemeenten die in twee of meer {as_} tegelijk zitten."),
}
def render(template: str, **context: object) -> str:
    """A template of ``maps/templates`` with the CSP nonce attribute for its script tags."""
    return _render(template, nonce_attr=nonce_attribute(), **context)


SHARE_MEASURES = {"nested_share", "zoning_nested_share"}
COUNT_MEASURES = {"population_outside_dominant", "population_gap", "population_overlap"}


def measure_value(measure: str, value: float) -> str:
    """A measure in Dutch notation: shares as '37,1 %', inhabitants as '5.787', the rest '0,812'."""
    if measure in SHARE_MEASURES:
        return dutch.percent(value)
    if measure in COUNT_MEASURES:
        return dutch.number(value)
    return dutch.number(value, decimals=3)


def comparison_context(result: Comparison, base_id: str, other_id: str) -> dict:
    """Everything the comparison page and its PDF show, worded in Dutch."""
    layers = {layer.id: layer for layer in result.against}
    measures = []
    for layer in result.against:
        a, b = zone_noun(layer), zone_noun(result.base)
        # The article follows each noun's gender: "het samenwerkingsverband", "de referentieregio".
        words = {"a": a, "as_": zone_noun(layer, plural=True), "b": b, "the_a": the(a), "the_b": the(b),
                 "each_a": each(a), "each_b": each(b), "no_single_a": no_single(a),
                 "the_largest_b": the(b).split(" ", 1)[0] + " grootste " + b}
        rows = []
        for r in result.measures[result.measures["against"] == layer.id].itertuples():
            label, explanation = MEASURE_WORDS.get(r.measure, (r.measure, ""))
            better = _better(r.measure, r.before, r.after)
            rows.append({"label": label.format(**words), "explanation": explanation.format(**words),
                         "before": measure_value(r.measure, r.before), "after": measure_value(r.measure, r.after),
                         "verdict": better})
        measures.append({"layer": layer, "rows": rows})
    names = dict(zip(result.base.zone_codes, result.base.zones["name"]))
    names.update(zip(result.other.zone_codes, result.other.zones["name"]))

    def named(code: str | None) -> str:
        return f"{names.get(code, code)} ({code})" if code else "–"

    zones = []
    for r in result.against_zones.itertuples():
        layer = layers[r.against]
        zones.append({"layer": layer, "code": r.code, "name": r.name,
                      "before": f"{dutch.percent(r.dominant_share_before)} in {named(r.dominant_zone_before)}",
                      "after": f"{dutch.percent(r.dominant_share_after)} in {named(r.dominant_zone_after)}",
                      "touched_before": r.zones_touched_before, "touched_after": r.zones_touched_after,
                      "report": f"/reports/{layer.id}/{r.code}?against={other_id}&against={base_id}"})
    population = []
    for r in result.population.to_dict("records"):
        population.append({**r, "before_text": dutch.number(r["population_before"]),
                           "after_text": dutch.number(r["population_after"]),
                           "crossed_text": dutch.join([dutch.number(t) for t in r["crossed"]])})
    moved = [{**m, "from_text": dutch.join([f"{names.get(c, c)} ({c})" for c in m["from_zones"]]),
              "to_text": dutch.join([f"{names.get(c, c)} ({c})" for c in m["to_zones"]]),
              "population_text": dutch.number(m["population"])} for m in result.moved]
    return {"result": result, "measures": measures, "zones": zones, "population": population, "moved": moved,
            "base_id": base_id, "other_id": other_id, "population_year": result.base.atoms.population_year}


def _better(measure: str, before: float, after: float) -> str:
    if abs(after - before) < 1e-9:
        return "gelijk"
    higher_is_better = measure in {"nested_share", "zoning_nested_share", "adjusted_rand_index",
                                   "normalized_mutual_information"}
    if measure in {"population_gap", "population_overlap"}:
        return "anders"
    return "beter" if (after > before) == higher_is_better else "slechter"


def render_workbench(data: dict) -> str:
    """The workbench page around its JSON data (see ``api/routes/workbench.py``)."""
    return render("workbench.html", data=data, population_year=data["population_year"])


def render_comparison(context: dict, data: dict, pdf: bool = False) -> str:
    return render("compare.html", data=data, pdf=pdf, **context)


def render_layer_new(layers: list[Layer], data: dict, population_year: int) -> str:
    return render("layer_new.html", layers=layers, data=data, population_year=population_year)


def render_signin(next_url: str, error: str | None, signed_in: bool, configured: bool, *, accounts: bool = False,
                  user: str | None = None) -> str:
    """``accounts``: users sign in with name and password (else with the shared key)."""
    return render("signin.html", next_url=next_url, error=error, signed_in=signed_in, configured=configured,
                  accounts=accounts, user=user, population_year=None)


def membership_frame(layer: Layer, base: Layer) -> pd.DataFrame:
    """The scenario's membership table with Dutch headers, one row per municipality and zone."""
    year = layer.atoms.population_year
    rows = []
    for r in layer.members().itertuples():
        before = [c for c, _, _ in base.zones_of(int(r.nis_code))]
        rows.append({"NIS-code": int(r.nis_code), "gemeente": r.municipality, "zone": r.zone_code,
                     "naam zone": r.zone_name, "aandeel": round(float(r.share), 6),
                     f"inwoners (1/1/{year})": int(round(layer.atoms.population(int(r.nis_code)) * float(r.share))),
                     "verschoven": "ja" if before != [r.zone_code] else "nee",
                     "zone vóór": ", ".join(before)})
    return pd.DataFrame(rows)


def membership_csv(frame: pd.DataFrame) -> bytes:
    """Belgian Excel reads this as is: UTF-8 with BOM, ';' between fields, decimal comma.
    (Sources and population year travel in the headers and in the XLSX 'bron' tab.)"""
    from maps.exports import EXCEL, csv_bytes

    return csv_bytes(frame, EXCEL)

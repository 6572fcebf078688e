"""The fit report: one zone of any layer held against other layers, as a printable page.

The report takes what :func:`geo.views.fit.zone_fit` computes (the overlay's zone detail, the whole-layer
measures, population norms) and says it in plain Dutch for a meeting: which members sit on the
other side of which line, how many inhabitants that is, and which norms the zones meet. It ranks
no municipality; it shows structure and fit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from geo import dutch
from geo.engine.details import ZoneDetail
from geo.engine.layer import Layer
from geo.engine.overlay import Summary
from geo.paths import SHIPPED_DATA
from geo.reference.codes import label
from geo.reference.norms import PopulationNorm
from geo.storage.records import scenario_id
from geo.usecases.reports import report_layers
from geo.views.fit import HistoryPeriod, zone_fit
from maps.templating import (  # noqa: F401
    TEMPLATES,
    ZONE_NOUNS,
    dezelfde,
    each,
    first_upper,
    getal,
    inwoners,
    list_dutch,
    no_single,
    procent,
    render,
    the,
    zone_noun,
)

if TYPE_CHECKING:  # drawn on first use: the server's start-up does not load the drawing code
    from geo.storage.workspace import Workspace
    from maps.zone_map import ZoneMap

def fit_sentences(detail: ZoneDetail, against: Layer, population_year: int) -> list[str]:
    """How one zone fits the zones of another layer, in plain Dutch.

    Examples
    --------
    >>> isom = ws.layer("samenwerkingsverband@2018-06-30")  # ISOM ended in 2018: on a date it existed
    >>> fit_sentences(overlay(isom, elz).zone_detail("ISOM"), elz, 2020)[0]
    "ISOM - ... ligt volledig in eerstelijnszone Middenkempen (elz25). Alle leden zitten aan dezelfde kant van de lijn."
    """
    noun, nouns = zone_noun(against), zone_noun(against, plural=True)
    year = f"inwoners op 1 januari {population_year}"
    if not detail.zones_touched:
        return [f"{detail.name} ligt in {no_single(noun)}: {against.name} dekt deze gemeenten niet."]
    if detail.nested:
        return [f"{detail.name} ligt volledig in {noun} {detail.dominant_zone_name} ({detail.dominant_zone}). "
                f"Alle leden zitten aan dezelfde kant van de lijn."]
    sentences = []
    touched = len(detail.zones_touched)
    if touched > 1:
        sentences.append(f"{detail.name} is verdeeld over {touched} {nouns}. De meeste inwoners "
                         f"({procent(detail.dominant_share)}) wonen in {detail.dominant_zone_name} "
                         f"({detail.dominant_zone}).")
    else:
        sentences.append(f"{detail.name} ligt voor {procent(detail.dominant_share)} in {noun} "
                         f"{detail.dominant_zone_name} ({detail.dominant_zone}); de rest ligt in {no_single(noun)}.")
    if detail.members_outside_dominant:
        count = len(detail.members_outside_dominant)
        people = f"{inwoners(detail.weight_outside_dominant)} {year}"
        sentences.append(f"Buiten {detail.dominant_zone_name} ligt 1 lid ({people})." if count == 1 else
                         f"Buiten {detail.dominant_zone_name} liggen {count} leden met samen {people}.")
        for zone in detail.zones_touched:
            if zone.code == detail.dominant_zone:
                continue
            sentences.append(f"In {zone.name} ({zone.code}): "
                             f"{list_dutch([f'{m.name} ({inwoners(m.weight)})' for m in zone.members])}.")
    if detail.not_covered:
        sentences.append(f"In {no_single(noun)}: {list_dutch([m.name for m in detail.not_covered])} "
                         f"({inwoners(sum(m.weight for m in detail.not_covered))} {year}).")
    return sentences


COLUMN_NOUN = ("zone", "zones")  # in a table with one column per comparison layer


def zone_measures(detail: ZoneDetail, against: Layer | None, subject: str, population_year: int) -> list[dict]:
    """The per-zone measures with a one-sentence Dutch explanation each.

    With ``against=None`` the explanations speak of "the zones of the layer in the column", for a
    table that compares several layers side by side.
    """
    noun, nouns = (zone_noun(against), zone_noun(against, plural=True)) if against else COLUMN_NOUN
    outside_members = len(detail.members_outside_dominant)
    return [
        {"label": "Aandeel in de grootste zone", "value": procent(detail.dominant_share),
         "explanation": f"Welk deel van de inwoners van {subject} woont in {the(noun)} waar de meesten van hen wonen. "
                        f"100 % betekent: {subject} past volledig in één {noun}."},
        {"label": f"{first_upper(nouns)} geraakt", "value": str(len(detail.zones_touched)),
         "explanation": f"In hoeveel {nouns} minstens één lid (of een deel ervan) ligt. "
                        f"1 betekent: alle leden liggen in {dezelfde(noun)}."},
        {"label": "Leden buiten de grootste zone", "value": str(outside_members),
         "explanation": f"Gemeenten van {subject} die (deels) in een andere {noun} liggen dan de meeste inwoners."},
        {"label": "Inwoners buiten de grootste zone", "value": inwoners(detail.weight_outside_dominant),
         "explanation": f"Zoveel mensen (1 januari {population_year}) wonen in die leden. Voor een taak die per "
                        f"{noun} georganiseerd wordt, vallen zij aan de andere kant van de lijn."},
        {"label": "Volledig binnen één zone", "value": "ja" if detail.nested else "nee",
         "explanation": f"'Ja' als elk lid in {dezelfde(noun)} ligt: dan kan {subject} zonder aanpassing "
                        f"binnen die {noun} werken."},
        {"label": f"Inwoners in {no_single(noun)}", "value": inwoners(sum(m.weight for m in detail.not_covered)),
         "explanation": "Leden die de andere laag niet indeelt."},
    ]


def layer_measures(summary: Summary, a: Layer, b: Layer | None, weight: str = "population") -> list[dict]:
    """The whole-layer measures (``geo.engine.metrics``) with a plain-Dutch explanation each.

    With ``b=None`` the explanations speak of "the layer in the column" (side-by-side tables).
    """
    a_noun, a_nouns = zone_noun(a), zone_noun(a, plural=True)
    b_noun = zone_noun(b) if b else "zone van de laag in de kolom"
    b_name = b.name if b else "de laag in de kolom"
    people = weight == "population"
    amount = inwoners if people else (lambda v: getal(v, 1) + " km²")
    what = "Inwoners" if people else "Oppervlakte"
    # Undefined partition measures (geo.engine.overlay.UNDEFINED_REASONS) are shown as such, with why.
    why = summary.undefined_reason

    def measure(value: float, unit: str = "") -> str:
        return "niet bepaald" if why else getal(value) + unit

    rows = [
        {"label": "Aandeel genest", "value": procent(summary.nested_share),
         "explanation": f"Welk deel van de inwoners van alle {a_nouns} samen in een {a_noun} woont die volledig "
                        f"binnen één {b_noun} ligt. 100 % = {each(a_noun)} past in één {b_noun}."},
        {"label": "Aangepaste Rand-index", "value": measure(summary.adjusted_rand_index),
         "explanation": "Neem twee willekeurige inwoners: zijn beide indelingen het eens over 'samen in een zone' "
                        "of 'in verschillende zones'? Gecorrigeerd voor toeval: 1 = identieke indeling, "
                        "0 = niet meer overeenstemming dan toeval. Ook een indeling die netjes in een veel "
                        "grovere past, scoort laag: de index vraagt dat beide even fijn zijn."},
        {"label": "Variatie van informatie", "value": measure(summary.variation_of_information, " bits"),
         "explanation": "Hoeveel informatie je verliest en moet toevoegen om van de ene indeling naar de "
                        "andere te gaan. 0 = identiek; hoe hoger, hoe meer de grenzen verschillen."},
        {"label": "Genormaliseerde wederzijdse informatie", "value": measure(summary.normalized_mutual_information),
         "explanation": f"Hoeveel je weet over iemands {b_noun} als je zijn {a_noun} kent (en omgekeerd), "
                        "van 0 (niets) tot 1 (alles)."},
        {"label": f"{what} niet in een {a_noun}", "value": amount(summary.gap_weight),
         "explanation": f"{what} die {b_name} wel indeelt maar die in "
                        f"{no_single(a_noun)} ligt. De drie maten hierboven tellen alleen wat in beide lagen in een "
                        "zone ligt."},
        {"label": f"{what} dubbel geteld", "value": amount(summary.overlap_weight),
         "explanation": f"{what} van gemeenten die in twee of meer {a_nouns} tegelijk zitten."},
    ]
    if why:
        for row in rows[1:4]:
            row["explanation"] = why
    return rows


def measures_caveat(summary: Summary, a: Layer, b: Layer | None) -> str | None:
    """Why a fully nested layer can still score low on the chance-corrected measures, or None.

    "Aandeel genest 100 %" next to "Aangepaste Rand-index 0,000" reads as a contradiction; both
    are true when the zones of A are much finer than those of B (each A-zone fits in one B-zone, but
    B puts together many people that A keeps apart), or when B has only one zone where A lies.

    Examples
    --------
    >>> measures_caveat(overlay(catalog.layer("gemeente"), provincie).summary, catalog.layer("gemeente"), provincie)
    'Geen tegenspraak: ...'
    """
    if summary.nested_share < 0.99 or summary.adjusted_rand_index >= 0.5:
        return None
    a_nouns = zone_noun(a, plural=True)
    b_nouns = zone_noun(b, plural=True) if b else "zones van de andere laag"
    return (f"Geen tegenspraak: {each(zone_noun(a))} ligt binnen één van de {b_nouns}, maar de {a_nouns} zijn "
            f"veel kleiner en talrijker dan de {b_nouns}. Wie samen in één van de {b_nouns} woont, woont daarom "
            f"meestal niet samen in één van de {a_nouns}: dat drukt de Rand-index en de wederzijdse informatie, "
            f"ook al is de nesting volledig.")


def side_by_side(per_column: list[list[dict]]) -> list[dict]:
    """Measure lists of several comparisons -> rows ``{label, explanation, cells[]}``."""
    if not per_column:
        return []
    return [{"label": first["label"], "explanation": first["explanation"],
             "cells": [column[i]["value"] for column in per_column]}
            for i, first in enumerate(per_column[0])]


# -- the report ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """The zone against one other layer."""

    layer: Layer
    detail: ZoneDetail
    summary: Summary
    sentences: list[str]
    measures: list[dict]
    layer_measures: list[dict]
    norm: PopulationNorm | None
    zone_norms: list[dict]  # touched zones of this layer against its own norm
    zone_map: ZoneMap | None = None

    @property
    def map_uri(self) -> str | None:
        """The map as a ``data:`` URI, so the page stays one self-contained file."""
        if self.zone_map is None:
            return None
        return self.zone_map.data_uri

    @property
    def headline(self) -> list[str]:
        """The verdict without the per-zone member lists (for the summary box)."""
        return self.sentences[:2]

    @property
    def noun(self) -> str:
        return zone_noun(self.layer)

    @property
    def nouns(self) -> str:
        return zone_noun(self.layer, plural=True)


@dataclass(frozen=True)
class FitReport:
    """Everything the printable report shows about zone ``code`` of ``layer``."""

    layer: Layer
    code: str
    name: str
    population: float
    population_year: int
    member_rows: list[dict]
    comparisons: list[Comparison]
    norm_rows: list[dict]
    flemish: bool
    sources: list[dict]
    history: list[dict] = field(default_factory=list)
    generated: str = ""
    partial_members: bool = False

    @property
    def label(self) -> str:
        """What the report's sentences call the zone: "W13", or a registered association's name
        (never its enterprise number: "Hoe past Audio in ...")."""
        return label(self.code, self.name)

    @property
    def split(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.detail.nested]

    @property
    def measure_rows(self) -> list[dict]:
        """Zone measures with one value column per comparison layer."""
        return side_by_side([c.measures for c in self.comparisons])

    @property
    def layer_measure_rows(self) -> list[dict]:
        """Whole-layer measures with one value column per comparison layer."""
        return side_by_side([c.layer_measures for c in self.comparisons])

    @property
    def measure_caveats(self) -> list[str]:
        """One explanation per comparison whose measures would otherwise read as a contradiction."""
        notes = [(c.layer.name, measures_caveat(c.summary, self.layer, c.layer)) for c in self.comparisons]
        return [f"{name}: {note}" for name, note in notes if note]

    @property
    def own_norm(self) -> PopulationNorm | None:
        """The population norm that applies to this layer itself (None for most layers)."""
        own = [r["norm"] for r in self.norm_rows if r["own"]]
        return own[0] if own else None


# The notes in ``association_history.csv`` are the researchers' own shorthand (partly English);
# a report shows a Dutch description of each period instead. Unknown notes are not shown.
HISTORY_NOTES = {
    "undated web page (feitelijke vereniging since 2003, cooperation since 1988)":
        "Feitelijke vereniging sinds 2003; de OCMW's werken samen sinds 1988 (webpagina van de vereniging, "
        "zonder datum).",
    "Neteland Welzijn en Zorg continued part of ISOM from 2019, without Lille and Kasterlee (research report)":
        "Neteland Welzijn en Zorg zet vanaf 2019 een deel van ISOM voort, zonder Lille en Kasterlee "
        "(onderzoeksrapport).",
    "post-2019 (8 OCMW's; Oudsbergen as a whole after the 2019 merger)":
        "Sinds 2019: 8 OCMW's; Oudsbergen als geheel na de fusie van 2019.",
    "2019-2021 (14 OCMW's + CAW Zuid-West-Vlaanderen; Wielsbeke joined 2017)":
        "2019-2021: 14 OCMW's en CAW Zuid-West-Vlaanderen; Wielsbeke trad toe in 2017.",
    "page says 'de 27 OCMW's uit het arrondissement Turnhout'":
        "Volgens de webpagina van de vereniging: 'de 27 OCMW's uit het arrondissement Turnhout'.",
}


def _history_row(period: HistoryPeriod) -> dict:
    """A membership period as the report prints it: Dutch dates and a Dutch description."""
    def day(value: str) -> str:
        return dutch.date(value) if value[:4].isdigit() else value  # "onbekend", "nu" stay as they are

    return {"valid_from": day(period.valid_from), "valid_to": day(period.valid_to),
            "note": history_note(period.note), "members": period.members, "names": list(period.names)}


def history_note(note: str) -> str:
    """The Dutch description of a membership period's source note ('' when there is none).

    Examples
    --------
    >>> history_note("post-2019 (8 OCMW's; Oudsbergen as a whole after the 2019 merger)")
    "Sinds 2019: 8 OCMW's; Oudsbergen als geheel na de fusie van 2019."
    """
    return HISTORY_NOTES.get(str(note).strip(), "")


def fit_report(layer: Layer, code: str, against: list[Layer], *, history: pd.DataFrame | None = None,
               base_layer_id: str | None = None, with_maps: bool = True,
               data_dir: Path = SHIPPED_DATA, for_print: bool = False) -> FitReport:
    """Gather the report for zone ``code`` of ``layer`` against each layer in ``against``.

    Parameters
    ----------
    layer, code
        The zone the report is about (unknown codes raise ``UnknownZone``).
    against : list of Layer
        Comparison layers, e.g. primary care zones, reference regions, LOGO and Gezondheidsmakers.
    history : pandas.DataFrame, optional
        ``catalog.history``: dated membership notes, shown for associations.
    base_layer_id : str, optional
        For a scenario layer: the layer whose population norm it inherits.
    with_maps : bool
        Draw maps (a few hundredths of a second each): for the first comparison and every split one.
    for_print : bool
        Maps for the PDF: simplified to the paper rather than the screen (:func:`maps.zone_map.zone_map`).

    Examples
    --------
    >>> report = fit_report(catalog.layer("samenwerkingsverband"), "W13",
    ...                     [catalog.layer("eerstelijnszone")], history=catalog.history)
    >>> report.comparisons[0].detail.dominant_zone
    'elz18'
    """
    from maps.zone_map import zone_map  # loaded with the first report, not at the server's start

    fit = zone_fit(layer, code, against, history=history, base_layer_id=base_layer_id)
    year = fit.population_year
    comparisons: list[Comparison] = []
    for i, c in enumerate(fit.comparisons):
        detail = c.detail
        # A map where a line cuts the zone, and always for the first comparison: enough for a meeting.
        drawn = with_maps and detail.zones_touched and (i == 0 or not detail.nested)
        drawn_map = zone_map(layer, fit.code, c.layer, detail, data_dir, for_print=for_print) if drawn else None
        comparisons.append(Comparison(
            layer=c.layer, detail=detail, summary=c.summary,
            sentences=fit_sentences(detail, c.layer, year),
            measures=zone_measures(detail, None, label(detail.code, detail.name), year),
            layer_measures=layer_measures(c.summary, layer, None),
            norm=c.norm, zone_norms=[asdict(z) for z in c.zone_norms],
            zone_map=drawn_map))

    member_rows = [{"nis_code": m.nis_code, "name": m.name, "share": m.share, "population": m.population,
                    "flemish": m.flemish,
                    "cells": [{"text": " / ".join(f"{n} ({c})" for c, n in zones) or "–", "outside": outside,
                               "zones": [{"code": c, "name": n} for c, n in zones]}
                              for zones, outside in zip(m.zones, m.outside)]}
                   for m in fit.members]
    # The id a planner types in the CLI or API for a shipped or imported layer; a scenario goes by
    # its name (its id is an internal key).
    sources = [{"name": l.name, "id": None if scenario_id(l.id) else l.id.split("@")[0], "source": l.source,
                "vintage": l.vintage} for l in fit.sources]
    return FitReport(
        layer=layer, code=fit.code, name=fit.name, population=fit.population, population_year=year,
        member_rows=member_rows, comparisons=comparisons,
        norm_rows=[{"norm": n.norm, "own": n.own, "passes": n.passes} for n in fit.norms], flemish=fit.flemish,
        sources=sources, history=[_history_row(h) for h in fit.history], generated=dutch.date(dt.date.today()),
        partial_members=fit.partial_members)


def render_report(report: FitReport, pdf_link: str | None = None, association: dict | None = None,
                  ensembles: list[dict] | None = None) -> str:
    """The report as one self-contained HTML page (maps inlined as data URIs).

    ``association``: for an association, its legal type, status, vintage and registration date
    (:func:`maps.atlas_page.association_facts`), shown under the title. ``ensembles``: the section
    "Hoe ongewoon is de huidige indeling?" per layer with a finished ensemble
    (:func:`maps.alternatives_pages.report_sections`).

    Examples
    --------
    >>> html = render_report(fit_report(assoc, "W13", [elz]))
    """
    return render("report.html", report=report, pdf_link=pdf_link, population_year=report.population_year,
                  association=association, ensembles=ensembles)


def report_html(ws: "Workspace", layer_id: str, code: str, against: list[str] | None,
                pdf_link: str | None = None, *, for_print: bool = False) -> tuple[str, str]:
    """The report page of zone ``code`` of ``layer_id`` and a file name for it: what the report
    page, its PDF and ``regiomatch report`` print (the layers from :func:`geo.usecases.reports.report_layers`).
    ``for_print``: the page a PDF is printed from (its maps drawn for paper, :func:`fit_report`).

    Examples
    --------
    >>> html, name = report_html(ws, "samenwerkingsverband", "W13", None)
    >>> name, "W13" in html
    ('aansluiting_samenwerkingsverband_W13', True)
    """
    layer, others = report_layers(ws, layer_id, against)
    report = fit_report(layer, code, others, history=ws.catalog.history, base_layer_id=ws.base_id_of(layer_id),
                        data_dir=ws.catalog.data_dir, for_print=for_print)
    filename = f"aansluiting_{layer.id}_{report.code}".replace(":", "-").replace("/", "-")
    # Imported here: maps.alternatives_pages reaches back into this module's rendering helpers.
    from geo.jobs.ensembles import ensembles_about
    from maps.alternatives_pages import report_sections
    from maps.atlas_page import association_facts_of

    ensembles = report_sections(report.code, ensembles_about(ws, layer.id, others))
    return render_report(report, pdf_link, association=association_facts_of(ws.catalog, layer.id, report.code),
                         ensembles=ensembles), filename

"""A preview of an import before it is saved: what was matched, and every problem row at once.

:func:`geo.uploads.importing.import_layer` refuses a file at its first problem, which is right for the
API but slow going for a person fixing a spreadsheet: they fix row 3, upload again, learn about
row 17. :func:`preview_import` checks every row of a membership table and lists all problems in
Dutch (unknown municipality, no zone code, a share that is not a number in (0, 1], a
municipality twice in one zone); when there are none it builds the layer exactly as the import
would and lists municipality -> zone with population. Polygon files are checked by the import
itself (one problem at a time: their problems are about the file, not rows).

Examples
--------
>>> from geo.reference.catalog import load_catalog
>>> csv = b"nis_code,zone_code\\n34022,A\\n99999,A\\n34025,\\n"
>>> [p for p in preview_import("x", csv, "x.csv", load_catalog()).problems]  # doctest: +NORMALIZE_WHITESPACE
['rij 3: gemeente 99999 niet herkend (geen NIS-code of naam van 2025, 2019-2024 of 2018)',
 'rij 4: geen zonecode']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo.uploads import importing
from geo.reference.catalog import Catalog
from geo.errors import RegiomatchError
from geo.engine.layer import Layer


@dataclass(frozen=True)
class ImportPreview:
    """The layer the file would give (None while there are problems), and the problems in Dutch."""

    layer: Layer | None
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        out: dict = {"problems": self.problems, "zone_count": 0, "members": [], "population": 0,
                     "population_year": None}
        if self.layer is None:
            return out
        atoms = self.layer.atoms
        members = []
        for r in self.layer.members().itertuples():
            population = int(round(atoms.population(int(r.nis_code)) * float(r.share)))
            members.append({"nis_code": int(r.nis_code), "municipality": r.municipality, "zone_code": r.zone_code,
                            "zone_name": r.zone_name, "share": round(float(r.share), 6), "population": population})
        out.update(zone_count=len(self.layer.zones), members=members,
                   population=sum(m["population"] for m in members), population_year=atoms.population_year)
        return out


def table_problems(frame: pd.DataFrame, catalog: Catalog, vintage: str | None = None) -> list[str]:
    """Every problem row of a membership table, in Dutch (row numbers as in a spreadsheet)."""
    columns = list(frame.columns)
    try:
        muni = importing._pick(columns, importing._MUNICIPALITY_COLUMNS, "municipality (NIS code or name)")
        zone = importing._pick([c for c in columns if c != muni], importing._ZONE_CODE_COLUMNS, "zone code")
    except RegiomatchError:
        return [f"geen kolom met de gemeente of de zonecode gevonden; kolommen in het bestand: {', '.join(map(str, columns))}. "
                "Noem ze bv. 'nis_code' (of 'gemeente') en 'zone_code'."]
    share = importing._pick(columns, importing._SHARE_COLUMNS, "share", required=False)
    problems, seen = [], {}
    for i, row in enumerate(frame.itertuples(index=False), start=2):
        values = dict(zip(columns, row))
        municipality = "" if pd.isna(values[muni]) else str(values[muni]).strip().removesuffix(".0")
        code = "" if pd.isna(values[zone]) else str(values[zone]).strip()
        try:
            nis = catalog.crosswalk.resolve(municipality, vintage) if municipality else None
        except RegiomatchError:
            nis = None
            problems.append(f"rij {i}: gemeente {municipality} niet herkend (geen NIS-code of naam van 2025, "
                            "2019-2024 of 2018)")
        if not municipality:
            problems.append(f"rij {i}: geen gemeente")
        if not code or code.lower() == "nan":
            problems.append(f"rij {i}: geen zonecode")
        if share:
            value = pd.to_numeric(str(values[share]).replace(",", "."), errors="coerce")
            if pd.isna(value) or not 0 < value <= 1:
                problems.append(f"rij {i}: aandeel {values[share]!s} is geen getal tussen 0 en 1")
        if nis is not None and code:
            key = (nis, code)
            if key in seen:
                problems.append(f"rij {i}: {catalog.atoms.name(nis)} staat al in zone {code} (rij {seen[key]})")
            seen.setdefault(key, i)
    return problems


def preview_import(layer_id: str, content: bytes, filename: str, catalog: Catalog, *,
                   parsed: pd.DataFrame | None = None, **options: object) -> ImportPreview:
    """What importing this file would give, without saving it (see the module docstring).
    ``parsed``: the file as already read by ``geo.uploads.sandbox.parse_upload`` (the server does that)."""
    if parsed is not None:
        options["parsed"] = parsed
    if Path(filename).suffix.lower() in importing.TABLE_SUFFIXES:
        try:
            frame = importing.read_table(content, filename) if parsed is None else parsed
        except RegiomatchError as exc:
            return ImportPreview(None, [exc.detail])
        problems = table_problems(frame, catalog, options.get("vintage"))  # type: ignore[arg-type]
        if problems:
            return ImportPreview(None, problems)
    try:
        return ImportPreview(importing.import_layer(layer_id, content, filename, catalog, **options))
    except RegiomatchError as exc:
        return ImportPreview(None, [exc.detail])

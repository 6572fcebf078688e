r"""Every tabular and geographic download, written one way: CSV, Excel, GeoJSON and GeoPackage.

CSV comes in two dialects. ``EXCEL`` is what a Belgian Dutch office opens with a double click:
``;`` between fields, a decimal comma, a UTF-8 byte-order mark (so "Zuid-West-Vlaanderen" and
"Geïmporteerde" survive) and "ja"/"nee"; the HTML pages link to it, with Dutch column headers.
``MACHINE`` keeps ``,`` and a decimal point for scripts (``format=csv`` on the API). Yes/no is
"ja"/"nee" in both dialects and in Excel workbooks.

Examples
--------
>>> frame = pd.DataFrame({"nis_code": [34025], "share": [0.5], "nested": [True]})
>>> csv_bytes(frame, EXCEL, DUTCH_HEADERS).decode("utf-8-sig")
'NIS-code;aandeel;volledig binnen één zone\r\n34025;0,5;ja\r\n'
>>> csv_bytes(frame, MACHINE).decode()
'nis_code,share,nested\n34025,0.5,ja\n'
"""

from __future__ import annotations

import io
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from geo.formulas import neutralise_frame
from geo.lazy import lazy_module
from geo.paths import ATTRIBUTION

# Only drawing and importing polygons need geopandas: not a start-up, nor an overlay.
gpd = lazy_module("geopandas")


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV is written: separator, decimal mark, byte-order mark, line ending."""

    sep: str
    decimal: str
    bom: bool
    line_end: str


# Media types of the documents written here.
CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GPKG = "application/geopackage+sqlite3"

EXCEL = CsvDialect(sep=";", decimal=",", bom=True, line_end="\r\n")
MACHINE = CsvDialect(sep=",", decimal=".", bom=False, line_end="\n")
Separator = Literal[",", ";"]

# Dutch column headers for the HTML downloads (API field -> what a spreadsheet user reads).
DUTCH_HEADERS: dict[str, str] = {
    "zone_code": "zone", "zone_name": "naam zone", "zone_population": "inwoners zone", "zone_area_km2": "km² zone",
    "dominant_zone": "grootste zone", "dominant_share": "aandeel in grootste zone",
    "touched_zone_code": "geraakte zone", "touched_zone_name": "naam geraakte zone",
    "touched_zone_population": "inwoners in geraakte zone", "touched_zone_area_km2": "km² in geraakte zone",
    "nis_code": "NIS-code", "municipality": "gemeente", "population": "inwoners", "area_km2": "km²",
    "outside_dominant": "buiten grootste zone", "population_year": "bevolkingsjaar", "share": "aandeel",
    "nested": "volledig binnen één zone", "code": "code", "name": "naam", "members": "leden",
}


def dialect_for(sep: Separator | None) -> CsvDialect:
    """``;`` -> the Excel dialect (decimal comma, BOM); ``,`` or nothing -> the machine dialect.

    Examples
    --------
    >>> dialect_for(";").decimal
    ','
    """
    return EXCEL if sep == ";" else MACHINE


def yes_no(frame: pd.DataFrame) -> pd.DataFrame:
    """Boolean columns (and booleans in object columns) as "ja"/"nee".

    Examples
    --------
    >>> yes_no(pd.DataFrame({"a": [True, False]}))["a"].tolist()
    ['ja', 'nee']
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == bool:
            out[column] = values.map({True: "ja", False: "nee"})
        elif values.dtype == object:
            out[column] = values.map(lambda v: "ja" if v is True else "nee" if v is False else v)
    return out


def as_published(frame: pd.DataFrame) -> pd.DataFrame:
    """Codes and numbers as people read them: an enterprise number in its published notation
    (``0827.396.340``, text that keeps its leading zero in Excel and pandas; a text cell in XLSX)
    and no negative zero (``-0.0``) from float noise.

    Examples
    --------
    >>> as_published(pd.DataFrame({"zone_code": ["0827396340", "W13"], "x": [-0.0, 1.5]})).values.tolist()
    [['0827.396.340', 0.0], ['W13', 1.5]]
    """
    from geo.reference.codes import published

    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_float_dtype(values):
            out[column] = values + 0.0  # -0.0 + 0.0 is 0.0
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            out[column] = values.map(published)
    return out


def csv_bytes(frame: pd.DataFrame, dialect: CsvDialect = MACHINE, headers: dict[str, str] | None = None) -> bytes:
    r"""A table as CSV bytes in ``dialect``, optionally with its columns renamed (Dutch headers).

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows, with API field names as columns.
    dialect : CsvDialect
        ``EXCEL`` for people, ``MACHINE`` for scripts.
    headers : dict, optional
        Column renames; columns not in it keep their name.

    Examples
    --------
    >>> csv_bytes(pd.DataFrame({"a": [1.25]}), EXCEL)[:3] == "\ufeff".encode()
    True
    """
    out = neutralise_frame(as_published(yes_no(frame)))  # user text such as '=HYPERLINK(...)' stays text (geo.formulas)
    if headers:
        out = out.rename(columns=lambda c: headers.get(c, c))
    buffer = io.StringIO()
    out.to_csv(buffer, index=False, sep=dialect.sep, decimal=dialect.decimal, lineterminator=dialect.line_end)
    text = buffer.getvalue()
    return (("\ufeff" if dialect.bom else "") + text).encode("utf-8")


_ILLEGAL_IN_XLSX = re.compile(r"[\000-\010\013\014\016-\037]")  # control characters xlsx cannot store


def xlsx_bytes(sheets: dict[str, pd.DataFrame], notes: list[str]) -> bytes:
    """An .xlsx with one tab per table, "ja"/"nee" for yes/no, and a 'bron' tab with the sources.

    Written cell by cell with XlsxWriter (the cells pandas' ``to_excel`` wrote: a plain header
    row, empty cells for missing values, the first row frozen), not through pandas and openpyxl,
    whose XML writer took three quarters of a download's time. Text is always stored as text: a
    name such as ``=HYPERLINK(...)`` stays a name (geo.formulas), as do text that looks like a
    number or a URL.

    Examples
    --------
    >>> xlsx_bytes({"zones": pd.DataFrame({"a": [1]})}, ["Bevolking: 1 januari 2020"])[:2]
    b'PK'
    """
    import xlsxwriter

    def clean(value: object) -> object:
        # Names typed by users (a scenario called "W13\x1f") may hold control characters that
        # the xlsx format cannot store; drop them rather than fail the whole download.
        return _ILLEGAL_IN_XLSX.sub("", value) if isinstance(value, str) else value

    def write(sheet, frame: pd.DataFrame) -> None:  # noqa: ANN001 - an XlsxWriter worksheet
        for j, column in enumerate(frame.columns):
            sheet.write_string(0, j, str(clean(column)))
        for i, row in enumerate(frame.itertuples(index=False, name=None), start=1):
            for j, value in enumerate(row):
                if value is None or value is pd.NA or value is pd.NaT:
                    continue  # as pandas: an empty cell
                if isinstance(value, str):
                    if value:  # an empty text is an empty cell, as pandas wrote it
                        sheet.write_string(i, j, clean(value))
                elif isinstance(value, (bool, np.bool_)):
                    sheet.write_boolean(i, j, bool(value))
                elif isinstance(value, (int, float, np.integer, np.floating)):
                    if value == value and abs(value) != float("inf"):  # NaN and infinity: empty, as pandas
                        sheet.write_number(i, j, value)
                else:
                    sheet.write_string(i, j, str(clean(value)))

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                        "strings_to_numbers": False})
    for name, frame in sheets.items():
        frame = as_published(yes_no(frame))
        sheet = book.add_worksheet(name[:31])
        sheet.freeze_panes(1, 0)
        for j, column in enumerate(frame.columns):
            width = max([len(str(clean(column)))] + [len(str(clean(v))) for v in frame[column].head(200)])
            sheet.set_column(j, j, min(max(width + 2, 8), 60))
        write(sheet, frame)
    sources = book.add_worksheet("bron")
    sources.set_column(0, 0, 120)
    write(sources, pd.DataFrame({"bron": [*notes, ATTRIBUTION]}))
    book.close()
    return buffer.getvalue()


def geopackage_bytes(zones: gpd.GeoDataFrame, layer_name: str) -> bytes:
    r"""Zones (EPSG:31370, Belgian Lambert 72, as computed) as a GeoPackage file's bytes.

    Examples
    --------
    >>> from geo.geometry.polygons import zone_polygons
    >>> geopackage_bytes(zone_polygons(elz), "eerstelijnszone")[:16]
    b'SQLite format 3\x00'
    """
    with tempfile.TemporaryDirectory(prefix="regiomatch-gpkg-") as tmp:
        path = Path(tmp) / "zones.gpkg"
        zones.to_file(path, layer=layer_name, driver="GPKG")
        return path.read_bytes()

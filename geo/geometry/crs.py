"""The coordinate reference systems the feature service offers, by OGC URI, and the one place
geometry computed in EPSG:31370 is turned into any of them (OGC API - Features Part 2).

Axis order follows each CRS's definition, as Part 2 requires and GDAL and QGIS expect: CRS84 and
EPSG:3857 and EPSG:31370 are easting/longitude first; EPSG:4326 is **latitude first**. A
bounding box is read in the axis order of the CRS it is given in.

Examples
--------
>>> import shapely
>>> crs = parse_crs("http://www.opengis.net/def/crs/EPSG/0/4326")
>>> crs.epsg, crs.lat_first
(4326, True)
>>> point = shapely.Point(150000.0, 200000.0)  # Lambert 72 metres, in Boom
>>> shapely.get_coordinates(from_metric([point], crs))[0].round(4).tolist()
[51.1101, 4.3688]
>>> shapely.get_coordinates(from_metric([point], parse_crs("CRS84")))[0].round(4).tolist()
[4.3688, 51.1101]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Union

import numpy as np
import shapely

from geo.errors import WrongCRS

if TYPE_CHECKING:
    import geopandas as gpd

    GeoFrame = Union[gpd.GeoDataFrame, gpd.GeoSeries]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"


@dataclass(frozen=True)
class Crs:
    """One offered CRS: its OGC URI, EPSG code (CRS84 is EPSG:4326 with longitude first), axis
    order, and the decimals its coordinates are written with (about a centimetre)."""

    uri: str
    epsg: int
    lat_first: bool
    decimals: int
    label: str


# Storage first (what the geometry is computed in), then what GIS users in Flanders ask for.
OFFERED = (
    Crs(EPSG_URI.format(31370), 31370, False, 2, "Belgische Lambert 72 (EPSG:31370)"),
    Crs(CRS84, 4326, False, 7, "WGS 84, lengte-breedte (CRS84)"),
    Crs(EPSG_URI.format(4326), 4326, True, 7, "WGS 84, breedte-lengte (EPSG:4326)"),
    Crs(EPSG_URI.format(3857), 3857, False, 2, "Web Mercator (EPSG:3857)"),
)
STORAGE = OFFERED[0]
DEFAULT = OFFERED[1]  # OGC API - Features: without a crs parameter, CRS84
_BY_NAME = {c.uri: c for c in OFFERED}
_ALIASES = {"CRS84": CRS84, "OGC:CRS84": CRS84, "urn:ogc:def:crs:OGC:1.3:CRS84": CRS84,
            "urn:ogc:def:crs:OGC::CRS84": CRS84, "[OGC:CRS84]": CRS84}
for _c in OFFERED:
    if _c.uri != CRS84:
        _ALIASES.update({f"EPSG:{_c.epsg}": _c.uri, f"[EPSG:{_c.epsg}]": _c.uri,
                         f"urn:ogc:def:crs:EPSG::{_c.epsg}": _c.uri})


def crs_name(crs: object) -> str:
    """A frame's CRS as people write it (``EPSG:4326``), or ``no CRS``.

    Examples
    --------
    >>> from pyproj import CRS
    >>> crs_name(CRS.from_epsg(31370)), crs_name(None)
    ('EPSG:31370', 'no CRS')
    """
    if crs is None:
        return "no CRS"
    epsg = getattr(crs, "to_epsg", lambda: None)()
    return f"EPSG:{epsg}" if epsg else str(getattr(crs, "name", crs))


def require_crs(frame: GeoFrame, expected: str) -> None:
    """Raise :class:`WrongCRS` naming both CRSs unless ``frame`` (a GeoDataFrame or GeoSeries)
    is in ``expected`` (``"EPSG:31370"``): the one check before geometry is measured in metres
    or served as GeoJSON (maup checks the same with ``require_same_crs``).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> frame = gpd.GeoDataFrame(geometry=[shapely.Point(4.4, 51.2)], crs="EPSG:4326")
    >>> require_crs(frame, "EPSG:4326")
    >>> require_crs(frame, "EPSG:31370")
    Traceback (most recent call last):
    geo.errors.WrongCRS: expected geometry in EPSG:31370, got EPSG:4326
    """
    epsg = int(expected.rpartition(":")[2])
    actual = frame.crs
    if actual is None or actual.to_epsg() != epsg:
        got = crs_name(actual)
        raise WrongCRS(f"expected geometry in {expected}, got {got}",
                       f"De geometrie staat in {got.replace('no CRS', 'geen coördinatenstelsel')}; "
                       f"hier is {expected} nodig.")


def parse_crs(value: str | None) -> Crs:
    """The offered CRS named by ``value`` (an OGC URI; ``EPSG:31370``, ``CRS84`` and the URN
    forms are accepted too); None is CRS84. Anything else raises :class:`WrongCRS` naming the
    offered ones.

    Examples
    --------
    >>> parse_crs(None).uri
    'http://www.opengis.net/def/crs/OGC/1.3/CRS84'
    >>> parse_crs("EPSG:31370").epsg
    31370
    >>> parse_crs("EPSG:28992")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    geo.errors.WrongCRS: unsupported crs 'EPSG:28992'; offered: http://www.opengis.net/def/crs/EPSG/0/31370, ...
    """
    if value is None:
        return DEFAULT
    text = value.strip()
    uri = _ALIASES.get(text, text.replace("https://", "http://", 1))
    found = _BY_NAME.get(uri)
    if found is None:
        raise WrongCRS(f"unsupported crs {value!r}; offered: {', '.join(c.uri for c in OFFERED)}")
    return found


@lru_cache(maxsize=16)
def _transformer(source: int, target: int):  # noqa: ANN202 - pyproj.Transformer
    from pyproj import Transformer

    return Transformer.from_crs(source, target, always_xy=True)


def _to(xy: np.ndarray, source: int, target: int) -> np.ndarray:
    if source == target:
        return xy
    x, y = _transformer(source, target).transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def from_metric(geometries, crs: Crs) -> np.ndarray:  # noqa: ANN001 - array-like of shapely geometries
    """Geometries in EPSG:31370 -> ``crs``, in its axis order, rounded to its decimals."""
    def convert(xy: np.ndarray) -> np.ndarray:
        out = np.round(_to(xy, STORAGE.epsg, crs.epsg), crs.decimals)
        return out[:, ::-1] if crs.lat_first else out

    return shapely.transform(np.asarray(geometries, dtype=object), convert)


def parse_bbox(text: str | None, crs: Crs) -> tuple[float, float, float, float] | None:
    """``minx,miny,maxx,maxy`` (4 numbers; 6 with heights, which are ignored) in the axis order of
    ``crs`` -> the box in EPSG:31370 (the box around the densified outline, so nothing inside the
    asked box is missed). Raises :class:`geo.errors.InvalidInput` naming what is wrong.

    Examples
    --------
    >>> [round(v) for v in parse_bbox("140000,190000,160000,210000", parse_crs("EPSG:31370"))]
    [140000, 190000, 160000, 210000]
    >>> parse_bbox("4,51,3,52", parse_crs("CRS84"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    geo.errors.InvalidInput: bbox: the lower corner must come first ..., got '4,51,3,52'
    """
    from geo.errors import InvalidInput

    if text is None:
        return None
    try:
        numbers = [float(v) for v in text.split(",")]
    except ValueError:
        raise InvalidInput(f"bbox: four comma-separated numbers expected, got {text!r}") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(np.isfinite(numbers)):
        raise InvalidInput(f"bbox: four comma-separated numbers expected, got {text!r}")
    a0, a1, b0, b1 = numbers
    if a0 > b0 or a1 > b1:
        raise InvalidInput(f"bbox: the lower corner must come first (minx,miny,maxx,maxy in the axis order of the "
                           f"bbox-crs), got {text!r}")
    if crs.lat_first:
        a0, a1, b0, b1 = a1, a0, b1, b0
    if crs.epsg == 4326 and not (-180 <= a0 <= 180 and -180 <= b0 <= 180 and -90 <= a1 <= 90 and -90 <= b1 <= 90):
        raise InvalidInput(f"bbox: longitudes lie between -180 and 180 and latitudes between -90 and 90 in "
                           f"{crs.uri}, got {text!r}")
    outline = shapely.segmentize(shapely.box(a0, a1, b0, b1), max(b0 - a0, b1 - a1, 1e-9) / 16)
    xy = _to(shapely.get_coordinates(outline), crs.epsg, STORAGE.epsg)
    if not np.isfinite(xy).all():
        raise InvalidInput(f"bbox {text!r} lies outside the area of {crs.uri}")
    return float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max())


def crs84_bounds(bounds: tuple[float, float, float, float]) -> list[float]:
    """A box in EPSG:31370 -> ``[lon_min, lat_min, lon_max, lat_max]`` (a collection's extent).

    Examples
    --------
    >>> [round(v, 2) for v in crs84_bounds((22000.0, 153000.0, 259000.0, 245000.0))]
    [2.53, 50.67, 5.94, 51.51]
    """
    outline = shapely.segmentize(shapely.box(*bounds), max(bounds[2] - bounds[0], bounds[3] - bounds[1]) / 16)
    xy = _to(shapely.get_coordinates(outline), STORAGE.epsg, 4326)
    return [round(float(v), 6) for v in (xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max())]

"""Where the shipped data lives."""

from pathlib import Path

SHIPPED_DATA = Path(__file__).resolve().parent.parent / "data"
METRIC_CRS = "EPSG:31370"
WEB_CRS = "EPSG:4326"
ATTRIBUTION = (
    "Grenzen: Provincies in Cijfers / Statbel open data. Bevolking: Statbel. "
    "Gemeentelijst 2025: Statbel (CC BY 4.0). "
    "Samenwerkingsverbanden: Agentschap Binnenlands Bestuur - Organisatieportaal."
)

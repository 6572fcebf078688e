"""Read models for pages: the numbers behind a fit report, a municipality's profile, the atlas, one
zone against every layer, cost sharing, and the search box.

Public parts (imported on first use, so importing one module never loads its siblings):
- ``fit``: ZoneFit, zone_fit
- ``profile``: MunicipalityProfile, municipality_profile
- ``atlas``: Atlas, AtlasRow, fit_atlas, municipality_counts
- ``zones``: ZoneOverlaps, zone_overlaps, ZoneMembers, zone_members
- ``costshare``: CostShare, SeatRule, cost_share, per_inhabitant
- ``search``: Hit (and the function ``search.search``)
- ``features``: Collection, FeatureTable, collections, collection, feature_table (the OGC API - Features service)
"""

from geo.lazy import lazy_exports

_EXPORTS = {
    "ZoneFit": "geo.views.fit",
    "zone_fit": "geo.views.fit",
    "MunicipalityProfile": "geo.views.profile",
    "municipality_profile": "geo.views.profile",
    "Atlas": "geo.views.atlas",
    "AtlasRow": "geo.views.atlas",
    "fit_atlas": "geo.views.atlas",
    "municipality_counts": "geo.views.atlas",
    "ZoneOverlaps": "geo.views.zones",
    "zone_overlaps": "geo.views.zones",
    "ZoneMembers": "geo.views.zones",
    "zone_members": "geo.views.zones",
    "CostShare": "geo.views.costshare",
    "SeatRule": "geo.views.costshare",
    "cost_share": "geo.views.costshare",
    "per_inhabitant": "geo.views.costshare",
    "Hit": "geo.views.search",
    "Collection": "geo.views.features",
    "FeatureTable": "geo.views.features",
    "collections": "geo.views.features",
    "collection": "geo.views.features",
    "feature_table": "geo.views.features",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

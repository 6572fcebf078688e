"""Reference data and its history: the shipped catalog, municipal vintages, the associations and
their dated memberships, layer roles and population norms.

Public parts (imported on first use, so importing one module never loads its siblings):
- ``catalog``: Catalog, load_catalog, load_catalog_from
- ``vintages``: Crosswalk, carry_forward, normalise_name
- ``associations``: Association, Reconciliation, associations, association, reconciliation, layer_on
- ``history``: members_as_of, associations_as_of, changes_between
- ``roles``: LayerMeta, layer_meta, association_layer, compare_with
- ``norms``: PopulationNorm, norm_for, check_population
- ``lookup``: close_matches
- ``codes``: published, label (enterprise numbers as published; names in running text)
"""

from geo.lazy import lazy_exports

_EXPORTS = {
    "Catalog": "geo.reference.catalog",
    "load_catalog": "geo.reference.catalog",
    "load_catalog_from": "geo.reference.catalog",
    "Crosswalk": "geo.reference.vintages",
    "carry_forward": "geo.reference.vintages",
    "normalise_name": "geo.reference.vintages",
    "Association": "geo.reference.associations",
    "Reconciliation": "geo.reference.associations",
    "associations": "geo.reference.associations",
    "association": "geo.reference.associations",
    "reconciliation": "geo.reference.associations",
    "layer_on": "geo.reference.associations",
    "published": "geo.reference.codes",
    "label": "geo.reference.codes",
    "members_as_of": "geo.reference.history",
    "associations_as_of": "geo.reference.history",
    "changes_between": "geo.reference.history",
    "LayerMeta": "geo.reference.roles",
    "layer_meta": "geo.reference.roles",
    "association_layer": "geo.reference.roles",
    "compare_with": "geo.reference.roles",
    "PopulationNorm": "geo.reference.norms",
    "norm_for": "geo.reference.norms",
    "check_population": "geo.reference.norms",
    "close_matches": "geo.reference.lookup",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

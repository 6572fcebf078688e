"""Municipal vintages: old NIS codes and names are carried to the municipalities of 2025."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.errors import InvalidInput, UnknownMunicipality
from geo.reference.vintages import carry_forward, normalise_name


def test_merged_code_answers_which_municipality_it_is_now(catalog):
    assert catalog.crosswalk.to_2025(11007) == 11002  # Borsbeek -> Antwerpen (2025)
    assert catalog.crosswalk.to_2025(44029) == 44084  # Knesselare -> Aalter (2019)


def test_current_codes_map_to_themselves(catalog):
    for code in catalog.atoms.nis_codes:
        assert catalog.crosswalk.to_2025(int(code)) == int(code)


def test_unknown_code_is_refused_naming_it(catalog):
    with pytest.raises(UnknownMunicipality, match="12345"):
        catalog.crosswalk.to_2025(12345)
    with pytest.raises(UnknownMunicipality, match="abc"):
        catalog.crosswalk.to_2025("abc")


def test_walloon_code_is_not_in_the_territory(catalog):
    with pytest.raises(UnknownMunicipality, match="62063"):  # Liège
        catalog.crosswalk.to_2025(62063)


def test_names_resolve_case_and_accent_insensitively(catalog):
    assert catalog.crosswalk.by_name("borsbeek") == 11002
    assert catalog.crosswalk.by_name("SINT NIKLAAS") == 46021
    assert catalog.crosswalk.by_name("Anvers") == 11002  # French name
    assert normalise_name("Sint-Genesius-Rode") == normalise_name("sint genesius rode")


def test_history_lists_the_old_parts(catalog):
    history = catalog.crosswalk.history(11002)
    assert set(history.loc[history["vintage"] == "2019-2024", "name"]) == {"Antwerpen", "Borsbeek"}
    assert catalog.crosswalk.merged_from(11002) == [11002, 11007]
    assert catalog.crosswalk.merged_from(34025) == []


def test_carry_forward_weights_old_parts_by_population(catalog):
    only_borsbeek = carry_forward(pd.DataFrame({"nis_code": [11007], "zone_code": ["X"]}), catalog.crosswalk)
    assert only_borsbeek["nis_code"].tolist() == [11002]
    # Borsbeek had 10,949 of the 540,196 inhabitants of the merged city (2020).
    assert only_borsbeek["share"].iloc[0] == pytest.approx(10_949 / 540_196, abs=1e-5)

    both = carry_forward(pd.DataFrame({"nis_code": [11002, 11007], "zone_code": ["X", "X"]}),
                         catalog.crosswalk, vintage="2019-2024")
    assert both[["nis_code", "share"]].values.tolist() == [[11002, 1.0]]


def test_carry_forward_refuses_an_unknown_name(catalog):
    table = pd.DataFrame({"gemeente": ["Kortrijk", "Atlantis"], "zone_code": ["A", "A"]})
    with pytest.raises(UnknownMunicipality, match="Atlantis"):
        carry_forward(table, catalog.crosswalk, column="gemeente")


def test_unknown_vintage_is_refused(catalog):
    with pytest.raises(InvalidInput, match="1977"):
        catalog.crosswalk.to_2025(11002, vintage="1977")


def test_search_finds_current_old_and_code(catalog):
    assert catalog.crosswalk.search("Lendelede")["nis_code"].tolist()[0] == 34025
    hit = catalog.crosswalk.search("Borsbeek").iloc[0]
    assert (hit["nis_code"], hit["name"], hit["matched"]) == (11002, "Antwerpen", "Borsbeek")
    assert catalog.crosswalk.search("34025")["nis_code"].tolist()[0] == 34025
    assert catalog.crosswalk.search("").empty

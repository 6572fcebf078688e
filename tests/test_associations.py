"""Every registered association, checked against the register's raw files and the hand list."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.errors import InvalidInput, UnknownZone
from geo.paths import SHIPPED_DATA
from geo.reference.associations import REGISTER_LAYER, association, associations, layer_on, reconciliation


def _by_name(catalog, name):
    found = [a for a in associations(catalog) if a.name == name and a.in_register]
    assert len(found) == 1, name
    return found[0]


def test_w13_from_the_register_equals_the_hand_list(catalog):
    w13 = _by_name(catalog, "W13")
    register = set(catalog.layer(REGISTER_LAYER).members(w13.code)["nis_code"])
    hand = set(catalog.layer("samenwerkingsverband").members("W13")["nis_code"])
    assert register == hand and len(hand) == 14
    assert reconciliation(catalog, "W13").identical
    # Asked by enterprise number, the register entry finds the same reconciliation.
    assert reconciliation(catalog, w13.code) == reconciliation(catalog, "W13")


def test_iok_has_29_members(catalog):
    iok = _by_name(catalog, "IOK")
    assert len(catalog.layer(REGISTER_LAYER).members(iok.code)) == 29 == iok.member_count
    assert iok.legal_type == "Dienstverlenende vereniging" and iok.registered == "augustus-september 2023"
    assert len(iok.code) == 10 and iok.code.isdigit()


def test_every_registered_association_is_a_zone_with_its_published_name(catalog):
    layer = catalog.layer(REGISTER_LAYER)
    listing = pd.read_csv(SHIPPED_DATA / "associations.csv", dtype=str, keep_default_na=False)
    register = listing[listing["layer"] == REGISTER_LAYER]
    assert len(register) == 286 and set(register["code"]) == set(layer.zone_codes)
    for row in register.itertuples():
        assert layer.zone_name(row.code) == row.name
    # A municipality takes part in about ten associations at once.
    assert 5 < layer.coverage()[catalog.atoms.flemish].mean() < 15


def test_hand_list_differences_are_listed_not_merged(catalog):
    wrnl = reconciliation(catalog, "WRNL")
    assert len(wrnl.in_both) == 6 and wrnl.only_in_hand_names == ["Oudsbergen", "Pelt"]
    isom = reconciliation(catalog, "ISOM")
    assert isom.register_code is None and len(isom.only_in_hand) == 7
    # The hand list as shipped keeps all 8 WRNL members and ISOM; the layer served on the pinned
    # date counts what the dated history counts (WRNL 6, ISOM ended in 2018).
    hand = catalog.published_layer("samenwerkingsverband")
    assert len(hand.members("WRNL")) == 8 and hand.has_zone("ISOM")
    served = catalog.layer("samenwerkingsverband")
    assert len(served.members("WRNL")) == 6 and not served.has_zone("ISOM")
    assert reconciliation(catalog, _by_name(catalog, "IOK").code) is None


def test_non_municipal_members_are_kept(catalog):
    assert "IOK" in _by_name(catalog, "Welzijnszorg Kempen").non_municipal_members
    assert "IOK" in association(catalog, "WZK").non_municipal_members


def test_filters_and_history(catalog):
    ocmw = associations(catalog, legal_type="OCMW-vereniging")
    assert ocmw and {a.legal_type for a in ocmw} == {"OCMW vereniging"}
    assert all(a.status == "Niet actief" for a in associations(catalog, status="niet actief"))
    codes_2018 = {a.code for a in associations(catalog, on="2018-06-01")}
    codes_2020 = {a.code for a in associations(catalog, on="2020-06-01")}
    assert "ISOM" in codes_2018 and "ISOM" not in codes_2020
    assert "NETELAND" in codes_2020 and "NETELAND" not in codes_2018
    with pytest.raises(InvalidInput, match="legal type"):
        associations(catalog, legal_type="vzw")
    with pytest.raises(InvalidInput, match="status"):
        associations(catalog, status="weg")
    with pytest.raises(UnknownZone):
        association(catalog, "XYZ")


@pytest.mark.parametrize("name, part", [("Welzijnsband Meetjesland", "Wachtebeke"), ("TMVW", "Lochristi")])
def test_merger_partial_membership_has_the_member_parts_population(catalog, name, part):
    """Lochristi (2025) = Lochristi + Wachtebeke (2019-2024). The register names only one part as a
    member of these associations: Lochristi (2025) counts for that part's share of its 2024
    population, recomputed here from the shipped sectors (a 2024 sector code starts with the NIS
    code of its 2019-2024 municipality) and the shipped code table."""
    codes = pd.read_csv(SHIPPED_DATA / "municipality_codes.csv", dtype={"vintage": str})
    parts = codes[(codes["vintage"] == "2019-2024") & (codes["nis_2025"] == 44087)]
    assert sorted(parts["name"]) == ["Lochristi", "Wachtebeke"]
    member_code = str(int(parts.loc[parts["name"] == part, "nis_code"].iloc[0]))
    sectors = pd.read_csv(SHIPPED_DATA / "sectors.csv", dtype={"sector": str})
    lochristi = sectors[sectors["nis_code"] == 44087]
    expected = lochristi.loc[lochristi["sector"].str[:5] == member_code, "population"].sum() / lochristi["population"].sum()
    assert 0 < expected < 1
    share = catalog.layer(REGISTER_LAYER).members(_by_name(catalog, name).code).set_index("nis_code")["share"][44087]
    assert share == pytest.approx(expected, abs=1e-6)
    # Not rounded to a whole municipality, and what the layer counts for Lochristi is that part.
    assert round(share) != share


def test_association_layers_on_a_date(catalog):
    today = layer_on(catalog, REGISTER_LAYER, "2026-12-01")
    inactive = {a.code for a in associations(catalog, status="Niet actief") if a.in_register}
    assert inactive and not inactive & set(today.zone_codes)
    assert _by_name(catalog, "IOK").code in today.zone_codes
    # Between the two imports only the intermunicipal associations (August 2023) are dated.
    between = layer_on(catalog, REGISTER_LAYER, "2024-01-01")
    assert _by_name(catalog, "IOK").code in between.zone_codes
    assert _by_name(catalog, "W13").code not in between.zone_codes
    with pytest.raises(InvalidInput, match="no registered membership"):
        layer_on(catalog, REGISTER_LAYER, "2020-01-01")
    hand = layer_on(catalog, "samenwerkingsverband", "2026-12-01")
    assert "ISOM" not in hand.zone_codes and "NETELAND" in hand.zone_codes
    with pytest.raises(InvalidInput, match="no dated memberships"):
        layer_on(catalog, "eerstelijnszone", "2026-12-01")

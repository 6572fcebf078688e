"""Association memberships as of a date: ISOM before 2019, Neteland after, Wielsbeke from 2017."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.engine.overlay import overlay
from geo.errors import InvalidInput, UnknownZone
from geo.reference.history import associations_as_of, changes_between, members_as_of
from geo.reference.vintages import carry_forward

LILLE, KASTERLEE, WIELSBEKE = 13019, 13017, 37017


def test_isom_until_2018_neteland_from_2019_without_lille_and_kasterlee(catalog):
    before = members_as_of(catalog, "2018-12-31", include_unknown=True)
    after = members_as_of(catalog, "2019-01-01", include_unknown=True)
    isom = before[before["zone_code"] == "ISOM"]
    neteland = set(after.loc[after["zone_code"] == "NETELAND", "nis_code"])
    # ISOM's start is unknown, its end is known: the list describes it until it ended (issue 23).
    assert len(isom) == 7 and set(isom["status"]) == {"geldig"}
    assert "ISOM" in set(members_as_of(catalog, "2018-12-31")["zone_code"])
    assert "NETELAND" not in set(before["zone_code"]) and "ISOM" not in set(after["zone_code"])
    assert set(isom["nis_code"]) - neteland == {LILLE, KASTERLEE} and len(neteland) == 5
    assert set(after.loc[after["zone_code"] == "NETELAND", "status"]) == {"geldig"}


def test_wielsbeke_joins_w13_in_2017(catalog):
    assert WIELSBEKE not in set(members_as_of(catalog, "2016-12-31", "W13")["nis_code"])
    joined = members_as_of(catalog, "2017-01-01", "W13")
    # Only Wielsbeke has a known start; the other 13 are known from the register's date on.
    assert set(joined["nis_code"]) == {WIELSBEKE}
    assert joined.loc[joined["nis_code"] == WIELSBEKE, "start_known"].item()
    assert len(members_as_of(catalog, "2024-05-22", "W13")) == 14


def test_unknown_start_is_not_counted_on_any_date_before_it_is_attested(catalog):
    rows = members_as_of(catalog, "2000-01-01", "WZK", include_unknown=True)
    assert len(rows) == 27 and set(rows["status"]) == {"onbekend"}
    assert not rows["start_known"].any() and rows["valid_from"].isna().all()
    assert members_as_of(catalog, "2000-01-01", "WZK").empty
    # WRNL on 2018-06-01: nobody counted; from the register's date its 6 registered members are.
    assert members_as_of(catalog, "2018-06-01", "WRNL").empty
    today = members_as_of(catalog, "2026-01-01", "WRNL", include_unknown=True)
    counted = today[today["status"] == "geldig"]
    assert len(counted) == 6 and set(counted["registered_on"]) == {"2024-05-22"}
    # Oudsbergen and Pelt: in the hand list, in no register, start unknown: never counted.
    assert set(today.loc[today["status"] == "onbekend", "municipality"]) == {"Oudsbergen", "Pelt"}


def test_changes_between_two_dates(catalog):
    changes = changes_between(catalog, "2016-06-30", "2019-06-30")
    joined = set(map(tuple, changes.loc[changes["change"] == "joined", ["zone_code", "nis_code"]].to_numpy()))
    assert ("W13", WIELSBEKE) in joined
    assert {n for z, n in joined if z == "NETELAND"} == {13010, 13011, 13012, 13029, 13044}


def test_as_of_layer_overlays_like_any_layer(catalog):
    layer = associations_as_of(catalog, "2025-06-30")
    assert layer.id == "samenwerkingsverband@2025-06-30"
    assert layer.zone_codes == ["NETELAND", "W13", "WRNL", "WZK"]
    assert len(layer.members("WRNL")) == 6 and len(layer.members("W13")) == 14
    result = overlay(layer, catalog.layer("eerstelijnszone"))
    assert result.table.sum() == pytest.approx(layer.zone_weight("population").sum())


def test_old_codes_are_carried_through_the_crosswalk(catalog):
    # The carrying is the crosswalk's: an old code merged in 2025 becomes a partial member.
    history = catalog.history
    old = pd.DataFrame({"zone_code": ["X"], "zone_name": ["X"], "nis_code": [11007]})  # Borsbeek -> Antwerpen
    carried = carry_forward(old, catalog.crosswalk)
    assert carried["nis_code"].item() == catalog.crosswalk.to_2025(11007) == 11002
    assert 0 < carried["share"].item() < 1
    rows = members_as_of(catalog, "2020-01-01")
    assert set(rows["source_nis_code"]) <= set(history["nis_code"])
    assert all(code in catalog.atoms for code in rows["nis_code"])


@pytest.mark.parametrize("bad", ["2019-13-01", "yesterday", ""])
def test_bad_dates_are_refused(catalog, bad):
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        members_as_of(catalog, bad)


def test_unknown_association_is_refused(catalog):
    with pytest.raises(UnknownZone, match="NETELAND"):
        members_as_of(catalog, "2020-01-01", "NOPE")


def test_a_historical_association_opens_and_overlays_on_a_date_it_existed(client):
    """Issue 23: ISOM ended in 2018; as ``samenwerkingsverband@2018-06-30`` its page, overlay and
    report work, and it is no zone of the layer on a later date."""
    dated = "samenwerkingsverband@2018-06-30"
    zone = client.get(f"/api/v1/zones/{dated}/ISOM")
    assert zone.status_code == 200 and len(zone.json()["members"]) == 7
    overlay = client.get("/api/v1/overlay", params={"a": dated, "b": "eerstelijnszone"}).json()
    assert "ISOM" in {z["code"] for z in overlay["zones"]}
    assert client.get(f"/reports/{dated}/ISOM").status_code == 200
    later = client.get("/api/v1/overlay", params={"a": "samenwerkingsverband@2026-12-07", "b": "eerstelijnszone"}).json()
    codes = {z["code"] for z in later["zones"]}
    assert "ISOM" not in codes and "NETELAND" in codes
    wrnl = client.get("/api/v1/zones/samenwerkingsverband@2026-12-07/WRNL").json()
    assert len(wrnl["members"]) == 6  # as the dated history counts (Oudsbergen and Pelt: start unknown)


# -- the vintage of the dated association layer (issue 23): the state on its date, never "2019-2023" ---------
SERVED = "toestand op 1 december 2026"  # the pinned REGIOMATCH_AS_OF (conftest.AS_OF), in Dutch


def test_the_served_association_layer_says_it_is_the_state_on_its_date(catalog):
    from conftest import AS_OF
    from geo import dutch
    from geo.reference.associations import layer_on

    layer = catalog.layer("samenwerkingsverband")
    assert str(catalog.as_of) == AS_OF and layer.vintage == dutch.state_on(AS_OF) == SERVED
    assert associations_as_of(catalog, "2018-06-30").vintage == "toestand op 30 juni 2018"
    register = layer_on(catalog, "samenwerkingsverbanden", "2024-01-01")
    assert register.vintage == "toestand op 1 januari 2024" and register.name.endswith("op 1 januari 2024")


@pytest.mark.parametrize("url", [
    f"/municipalities/{KASTERLEE}",  # WZK's list; ISOM is historical there
    "/",  # the layers table and the association facts
    "/zones/samenwerkingsverband/WZK",
    "/reports/samenwerkingsverband/WZK",  # the sources table and the association's facts
    "/ogc/collections/samenwerkingsverband?f=html",  # the layer's page in the feature service
])
def test_pages_give_the_dated_layers_vintage_in_dutch(client, url):
    from tests.test_pages import visible_text

    text = visible_text(client.get(url).text)
    assert SERVED in text, url
    assert "2019-2023" not in text and "2026-12-01" not in text, url


def test_the_api_and_a_page_on_another_date_give_that_date(client):
    from tests.test_pages import visible_text

    layers = {layer["id"]: layer for layer in client.get("/api/v1/layers").json()}
    assert layers["samenwerkingsverband"]["vintage"] == SERVED
    assert client.get("/api/v1/layers/samenwerkingsverband").json()["vintage"] == SERVED
    text = visible_text(client.get("/reports/samenwerkingsverband@2025-01-01/W13").text)
    assert "toestand op 1 januari 2025" in text and "2019-2023" not in text
    isom = visible_text(client.get("/zones/samenwerkingsverband@2018-06-30/ISOM").text)
    assert "tot 31 december 2018" in isom and "2019-2023" not in isom  # its list as it ended


def test_the_cli_lists_the_vintage_of_its_date(capsys):
    from api.cli import main

    assert main(["--as-of", "2018-06-30", "layers", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if row.startswith("samenwerkingsverband,"))
    assert "toestand op 30 juni 2018" in line and "2019-2023" not in line

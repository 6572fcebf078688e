"""What start-up builds, kept on disk for the next process (geo.kept): never stale, never needed."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace

import pandas as pd

from geo.geometry import polygons
from geo.kept import FOLDER, kept
from geo.paths import SHIPPED_DATA
from geo.reference.catalog import read_catalog


def _counting(value):
    calls = []

    def build():
        calls.append(1)
        return value

    return build, calls


def test_a_kept_result_is_built_once_and_again_when_a_data_file_changes(tmp_path):
    data = tmp_path / "members.csv"
    data.write_text("nis_code,zone\n11001,A\n")
    build, calls = _counting({"A": 1})
    assert kept(tmp_path, "x", build) == {"A": 1} and kept(tmp_path, "x", build) == {"A": 1}
    assert len(calls) == 1
    data.write_text("nis_code,zone\n11001,B\n")  # another size: another build
    assert kept(tmp_path, "x", build) == {"A": 1} and len(calls) == 2
    stat = data.stat()
    os.utime(data, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # same size, touched
    kept(tmp_path, "x", build)
    assert len(calls) == 3
    assert len(list((tmp_path / FOLDER).glob("x.*.pickle"))) == 1  # the earlier builds' are gone


def test_a_damaged_file_is_built_again_and_replaced(tmp_path):
    (tmp_path / "a.csv").write_text("x")
    build, calls = _counting([1, 2, 3])
    kept(tmp_path, "x", build)
    [path] = (tmp_path / FOLDER).glob("x.*.pickle")
    path.write_bytes(b"\x80\x05 not a pickle")
    assert kept(tmp_path, "x", build) == [1, 2, 3] and len(calls) == 2
    assert kept(tmp_path, "x", build) == [1, 2, 3] and len(calls) == 2


def test_a_folder_that_cannot_be_written_builds_each_time(tmp_path):
    (tmp_path / "a.csv").write_text("x")
    (tmp_path / FOLDER).write_text("a file where the folder would be")
    build, calls = _counting("ok")
    assert kept(tmp_path, "x", build) == "ok" and kept(tmp_path, "x", build) == "ok"
    assert len(calls) == 2


def test_the_kept_catalog_is_the_catalog_read_from_the_files(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SHIPPED_DATA, data, ignore=shutil.ignore_patterns(FOLDER, "web"))
    read = read_catalog(data, 2024)
    first = kept(data, "catalog-2024", lambda: read_catalog(data, 2024))
    again = kept(data, "catalog-2024", lambda: (_ for _ in ()).throw(AssertionError("built again")))
    for catalog in (first, again):
        assert catalog.layer_ids() == read.layer_ids()
        assert catalog.atoms.weights("population").tolist() == read.atoms.weights("population").tolist()
        for layer_id in read.layer_ids():
            a, b = catalog.layer(layer_id), read.layer(layer_id)
            assert (a.membership != b.membership).nnz == 0, layer_id
            pd.testing.assert_frame_equal(a.zones, b.zones)
        assert catalog.layer("samenwerkingsverband").atoms is catalog.atoms  # one set of municipalities


def test_kept_outlines_are_the_dissolved_ones_with_the_layers_own_names(catalog):
    layer = catalog.layer("eerstelijnszone")
    polygons._zone_polygons.cache_clear()
    kept_frame = polygons.zone_polygons(layer)
    fresh = polygons._outlines(layer, SHIPPED_DATA).merge(layer.zones, on="code", how="right")
    assert list(kept_frame["code"]) == list(fresh["code"]) and list(kept_frame["name"]) == list(layer.zones["name"])
    assert all(a.equals_exact(b, 0) for a, b in zip(kept_frame.geometry, fresh.geometry))
    # the same make-up under other names: the kept outlines, the layer's own names
    renamed = replace(layer, zones=layer.zones.assign(name=[f"Zone {c}" for c in layer.zones["code"]]))
    frame = polygons.zone_polygons(renamed)
    assert list(frame["name"]) == [f"Zone {c}" for c in layer.zones["code"]]
    assert all(a.equals_exact(b, 0) for a, b in zip(frame.geometry, fresh.geometry))


def test_a_copy_of_the_folder_builds_its_own(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.csv").write_text("x")
    build, calls = _counting("a")
    kept(tmp_path / "a", "x", build)
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # times kept, the pickle copied along
    kept(tmp_path / "b", "x", build)
    assert len(calls) == 2

"""Issue 22 item 5: well-kept libraries against today's hand-written code, side by side in one run.

* ``maps``: the report maps as SVG (:mod:`maps.zone_map`) against the Pillow JPEG they replace
  (``benchmarks/pillow_zone_map.py``, the same scene), and the comparison map of ``/vergelijk.pdf``
  as matplotlib's SVG against its PNG: drawing time, PDF print time (WeasyPrint, warm) and PDF size,
  alternating the two so both see the same load.
* ``sandbox``: reading an upload in a pool of pre-forked workers (:mod:`geo.uploads.sandbox`)
  against a child forked per upload (``benchmarks/child_sandbox.py``, the code before the pool).

::

    python -m benchmarks.bench_libs                  # both, about 2 minutes on 2 quiet cores
    python -m benchmarks.bench_libs --only maps --runs 5
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

JPEG_TOLERANCE_PX = 0.5  # the Pillow map's simplification (half a pixel), as it was shipped


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def _alternate(runs: int, **paths) -> dict[str, list[float]]:
    """Seconds per call of each path, called in turn (the order swapped every round)."""
    out: dict[str, list[float]] = {name: [] for name in paths}
    names = list(paths)
    for i in range(runs):
        for name in (names if i % 2 == 0 else names[::-1]):
            t0 = time.perf_counter()
            paths[name]()
            out[name].append(time.perf_counter() - t0)
    return out


def _compare(samples: dict[str, list[float]], old: str, new: str) -> dict:
    return {f"{old}_median_ms": _median_ms(samples[old]), f"{new}_median_ms": _median_ms(samples[new]),
            f"ratio_{new}_over_{old}": round(statistics.median(samples[new]) / statistics.median(samples[old]), 3),
            "runs": len(samples[old]), "load_average_1min": round(os.getloadavg()[0], 2)}


def report_maps(runs: int, out_dir: Path | None = None) -> dict:
    """W13's fit report (4 comparison layers, 4 maps): maps drawn as JPEG (Pillow) or SVG; then
    the page printed with each."""
    import maps.zone_map as zone_map
    from benchmarks import pillow_zone_map
    from geo.reference.catalog import load_catalog
    from maps.pdf import html_to_pdf
    from maps.report import fit_report, render_report

    catalog = load_catalog()
    layer = catalog.layer("samenwerkingsverband")
    against = [catalog.layer(i) for i in ("eerstelijnszone", "referentieregio", "gezondheidsmakers", "logo")]
    report = fit_report(layer, "W13", against, history=catalog.history)
    html_svg = render_report(report)
    drawn = [c for c in report.comparisons if c.zone_map is not None]

    def maps_of(render, tolerance: float) -> list:
        # each at its own simplification: the JPEG at half a pixel as it was drawn, the SVG at TOLERANCE_PX
        shipped, zone_map.TOLERANCE_PX = zone_map.TOLERANCE_PX, tolerance
        try:
            return [render(zone_map.zone_scene(layer, report.code, c.layer, c.detail)) for c in drawn]
        finally:
            zone_map.TOLERANCE_PX = shipped

    svg_tolerance = zone_map.TOLERANCE_PX
    jpegs, svgs = maps_of(pillow_zone_map.jpeg, JPEG_TOLERANCE_PX), maps_of(zone_map.svg, svg_tolerance)
    html_jpeg = html_svg
    for c, jpeg in zip(drawn, jpegs):
        html_jpeg = html_jpeg.replace(c.map_uri, "data:image/jpeg;base64," + base64.b64encode(jpeg).decode())
    drawing = _alternate(runs * 2, jpeg=lambda: maps_of(pillow_zone_map.jpeg, JPEG_TOLERANCE_PX),
                         svg=lambda: maps_of(zone_map.svg, svg_tolerance))
    pdfs = {"jpeg": html_to_pdf(html_jpeg), "svg": html_to_pdf(html_svg)}  # the warm-up print of each
    printing = _alternate(runs, jpeg=lambda: html_to_pdf(html_jpeg), svg=lambda: html_to_pdf(html_svg))
    if out_dir is not None:
        for name, pdf in pdfs.items():
            (out_dir / f"W13_{name}.pdf").write_bytes(pdf)
    points = sum(int(len(ring)) for c in drawn
                 for scene in [zone_map.zone_scene(layer, report.code, c.layer, c.detail)]
                 for rings in [*(r for _, _, r in scene.areas), scene.lines, scene.outline]
                 for exterior, holes in rings for ring in (exterior, *holes))
    return {"report": "samenwerkingsverband W13, 4 comparison layers", "maps": len(drawn),
            "tolerance_px": {"jpeg": JPEG_TOLERANCE_PX, "svg": svg_tolerance}, "svg_points_drawn": points,
            "map_bytes": {"jpeg": sum(map(len, jpegs)), "svg": sum(len(s.encode()) for s in svgs)},
            "html_bytes": {"jpeg": len(html_jpeg.encode()), "svg": len(html_svg.encode())},
            "pdf_bytes": {name: len(pdf) for name, pdf in pdfs.items()},
            "draw_maps": _compare(drawing, "jpeg", "svg"), "print_pdf": _compare(printing, "jpeg", "svg")}


def comparison_map(runs: int, out_dir: Path | None = None) -> dict:
    """``/vergelijk.pdf`` of the benchmark's scenario (Lendelede and Wevelgem to elz18): its map as
    matplotlib's PNG (today) or as matplotlib's SVG of the same figure."""
    from matplotlib.figure import Figure

    from api.routes.workbench import _comparison
    from benchmarks.bench_pages import SCENARIO_MOVES
    from geo.reference.catalog import load_catalog
    from geo.storage.workspace import Workspace
    from maps.comparison_png import comparison_png
    from maps.pdf import html_to_pdf
    from maps.workbench_pages import render_comparison

    ws = Workspace(load_catalog(), "sqlite://")
    record = ws.store.create_scenario("Lendelede en Wevelgem naar Kortrijk", "eerstelijnszone", SCENARIO_MOVES)
    other = f"scenario:{record.id}"
    context, data = _comparison(ws, "eerstelijnszone", other, ["samenwerkingsverband"])
    base_layer, other_layer = ws.layer("eerstelijnszone"), ws.layer(other)

    def draw(fmt: str) -> str:
        with _savefig_as(Figure, fmt):
            image = comparison_png(base_layer, other_layer, data["moved"], ws.catalog.data_dir)
        return f"data:image/{'png' if fmt == 'png' else 'svg+xml'};base64," + base64.b64encode(image).decode()

    uris = {fmt: draw(fmt) for fmt in ("png", "svg")}
    drawing = _alternate(runs * 2, png=lambda: draw("png"), svg=lambda: draw("svg"))
    html = {fmt: render_comparison({**context, "map_image": uri}, data, pdf=True) for fmt, uri in uris.items()}
    pdfs = {fmt: html_to_pdf(h) for fmt, h in html.items()}
    printing = _alternate(runs, png=lambda: html_to_pdf(html["png"]), svg=lambda: html_to_pdf(html["svg"]))
    if out_dir is not None:
        for name, pdf in pdfs.items():
            (out_dir / f"vergelijk_{name}.pdf").write_bytes(pdf)
    return {"page": "/vergelijk.pdf eerstelijnszone against the scenario (2 moves)",
            "map_bytes": {fmt: len(base64.b64decode(uri.split(",", 1)[1])) for fmt, uri in uris.items()},
            "pdf_bytes": {name: len(pdf) for name, pdf in pdfs.items()},
            "draw_map": _compare(drawing, "png", "svg"), "print_pdf": _compare(printing, "png", "svg")}


@contextmanager
def _savefig_as(figure_class, fmt: str):
    """``Figure.savefig`` writing ``fmt`` whatever it is asked (text kept as text in an SVG)."""
    import matplotlib

    original = figure_class.savefig

    def savefig(self, buffer, format=None, **kwargs):  # noqa: A002
        with matplotlib.rc_context({"svg.fonttype": "none"}):
            return original(self, buffer, format=fmt, **kwargs)

    figure_class.savefig = savefig
    try:
        yield
    finally:
        figure_class.savefig = original


def upload_sandbox(runs: int = 21) -> dict:
    """Per upload, one after the other: a one-row CSV parsed, and a 300-municipality layer built
    (read, cut with the municipalities, checked), through each sandbox in turn; then a wall-time
    bomb (0.3 s) cut off followed by a one-row CSV (the pool forks a new worker for the one it
    killed)."""
    from benchmarks import child_sandbox
    from geo import errors
    from geo.reference.catalog import load_catalog
    from geo.uploads import sandbox
    from geo.uploads.sandbox import ImportLimits

    catalog = load_catalog()
    nis = sorted({int(n) for n in catalog.atoms.nis_codes})[:300]
    tiny = b"nis_code,zone_code\n34022,K\n"
    layer = ("nis_code,zone_code\n" + "\n".join(f"{n},Z{i % 20}" for i, n in enumerate(nis))).encode()
    out: dict = {}
    cases = [("parse a one-row CSV", lambda: child_sandbox.parse_upload(tiny, "k.csv"),
              lambda: sandbox.parse_upload(tiny, "k.csv")),
             ("build a 300-municipality layer", lambda: child_sandbox.build_upload(layer, "l.csv", catalog),
              lambda: sandbox.build_upload(layer, "l.csv", catalog))]
    for name, old, new in cases:
        old(), new()  # warm: the fork server started, the pool's first worker forked
        samples: dict[str, list[float]] = {"child_per_upload": [], "pool": []}
        for i in range(runs):
            order = [("child_per_upload", old), ("pool", new)]
            for label, fn in (order if i % 2 == 0 else order[::-1]):
                t0 = time.perf_counter()
                fn()
                samples[label].append(time.perf_counter() - t0)
                time.sleep(0.05)  # uploads a moment apart: the pool forks its next worker meanwhile
        out[name] = _compare(samples, "child_per_upload", "pool")
    rows = "\n".join(f"34022,Z{i % 7},naam {i},{i},{i * 2},x{i},y{i}" for i in range(99_000))
    bomb, limits = ("nis_code,zone_code,zone_name,a,b,d,e\n" + rows).encode(), ImportLimits(wall_seconds=0.3)
    cut: dict[str, float] = {}
    for label, module in (("child_per_upload", child_sandbox), ("pool", sandbox)):
        t0 = time.perf_counter()
        try:
            module.parse_upload(bomb, "traag.csv", limits)
        except errors.LimitExceeded:
            pass
        module.parse_upload(tiny, "k.csv")
        cut[f"{label}_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    out["wall-time bomb (0.3 s) cut off, then a one-row CSV"] = cut
    return out


def measure(runs: int = 7, only: tuple[str, ...] = ("maps", "sandbox"), out_dir: Path | None = None) -> dict:
    out: dict = {"load_average_at_start": [round(v, 2) for v in os.getloadavg()]}
    if "maps" in only:
        out["report_maps"] = report_maps(runs, out_dir)
        out["comparison_map"] = comparison_map(runs, out_dir)
    if "sandbox" in only:
        out["sandbox"] = upload_sandbox(runs * 3)
    out["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", default="maps,sandbox")
    parser.add_argument("--pdf-dir", type=Path, default=None, help="write the printed PDFs here")
    args = parser.parse_args()
    print(json.dumps(measure(args.runs, tuple(args.only.split(",")), args.pdf_dir), indent=2))


if __name__ == "__main__":
    main()

"""Issue 25, first prints in process: the first print of a PDF the warm-up did not print.

Each sample is a fresh interpreter started in a checkout (``python -c`` with that checkout as its
working directory, so it imports that checkout's code) that

1. prepares as the server's warm-up does (``api.warmup._steps``, run in order in this thread),
   without the GIS service's features and with one report printed (W13's page and PDF) instead of
   every association's: fonts loaded, WeasyPrint imported, one other PDF printed;
2. prints one PDF through its route's synchronous function, timed (wall and CPU seconds of the
   process): elz18's report (``/reports/eerstelijnszone/elz18?format=pdf``) or the comparison of a
   saved scenario with its base (``/vergelijk.pdf``, Lendelede and Wevelgem to elz18, asked for
   without its page).

With ``baseline`` (another checkout, e.g. a worktree of main) the two checkouts' samples
alternate, so each ratio comes from one run; the 1-minute load average is recorded beside each
sample (CPU seconds are distorted far less by the load than wall seconds). Then the same two
first prints through HTTP on a real server of each checkout after its whole warm-up
(:func:`through_server`).

    python -m benchmarks.run --only print --baseline ../main-checkout
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KINDS = ("report", "compare")

# Runs in the checkout being measured; prints one JSON line.
CHILD = r'''
import json, os, sys, tempfile, time
os.environ["REGIOMATCH_STATE_DIR"] = tempfile.mkdtemp(prefix="regiomatch-bench-print-")
for key in ("REGIOMATCH_DATABASE_URL", "DATABASE_URL", "REGIOMATCH_API_TOKEN"):
    os.environ.pop(key, None)
from api import warmup
from api.settings import Settings, workspace_for
ws = workspace_for(Settings())
t0 = time.perf_counter()
reports = 0
for name, step in warmup._steps(ws):
    if name == "features":
        continue
    if name == "reports":
        reports += 1
        if reports > 1:
            continue
    step()
# What the warm-up queued on the prefetch thread (W13's PDF after its page) is done before the
# timed print, as on a server whose warm-up is over; otherwise the two prints share the interpreter.
from api import render_cache
if getattr(render_cache, "_prefetcher", None) is not None:
    render_cache._prefetcher.submit(lambda: None).result()
prepared = time.perf_counter() - t0
kind = sys.argv[1]
if kind == "compare":
    from api.routes.workbench import compare_pdf
    moves = [{"nis_code": 34025, "to_zone": "elz18"}, {"nis_code": 34041, "to_zone": "elz18"}]
    record = ws.store.create_scenario("Lendelede en Wevelgem naar Kortrijk", "eerstelijnszone", moves)
    def first():
        return compare_pdf.sync(base="eerstelijnszone", other=f"scenario:{record.id}",
                                against=["samenwerkingsverband", "referentieregio"], ws=ws)
else:
    from api.routes.reports import get_report
    def first():
        return get_report.sync(layer="eerstelijnszone", code="elz18", against=None, format="pdf", ws=ws)
load = os.getloadavg()[0]
wall, cpu = time.perf_counter(), time.process_time()
response = first()
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "status": response.status_code, "bytes": len(response.body),
                  "pdf": response.body[:5] == b"%PDF-", "load": round(load, 2), "prepared_s": round(prepared, 2)}))
'''


# Runs in this checkout after the same preparation: each change against what it replaced, in turn
# in one process (warm), so the process-to-process spread of the first prints does not hide it.
ALTERNATIVES = CHILD[:CHILD.index("kind = sys.argv[1]")] + r'''
import base64, re, statistics
import weasyprint
from maps import pdf
from maps.pdf import html_to_pdf
from maps.report import report_html

def before(html):
    """maps.pdf before this work: a fresh font configuration and the page's style parsed per print."""
    images = {}
    def set_aside(match):
        url = f"regiomatch-image:{len(images)}"
        images[url] = (match.group(1), match.group(2))
        return f'src="{url}"'
    light = pdf._DATA_IMAGE.sub(set_aside, html)
    with pdf._cycles_collected_after():
        return weasyprint.HTML(string=light, url_fetcher=pdf._fetcher(images)).write_pdf()

paths = {}
for code in ("elz18", "elz40"):
    page, _ = report_html(ws, "eerstelijnszone", code, None)
    paper, _ = report_html(ws, "eerstelijnszone", code, None, for_print=True)
    paths[f"{code}: before"] = lambda page=page: before(page)
    paths[f"{code}: style sheet and fonts kept"] = lambda page=page: html_to_pdf(page)
    paths[f"{code}: and maps for paper (now)"] = lambda paper=paper: html_to_pdf(paper)
from api.routes.workbench import _comparison
from maps.comparison_png import comparison_png, comparison_svg, svg_data_uri
from maps.static_map import data_uri
from maps.workbench_pages import render_comparison
record = ws.store.create_scenario("Lendelede en Wevelgem naar Kortrijk", "eerstelijnszone",
                                  [{"nis_code": 34025, "to_zone": "elz18"}, {"nis_code": 34041, "to_zone": "elz18"}])
other = f"scenario:{record.id}"
context, data = _comparison(ws, "eerstelijnszone", other, ["samenwerkingsverband", "referentieregio"])
layers = (ws.layer("eerstelijnszone"), ws.layer(other), data["moved"], ws.catalog.data_dir)
def compare_png():
    html = render_comparison({**context, "map_image": data_uri(comparison_png(*layers))}, data, pdf=True)
    return before(html)
def compare_svg():
    html = render_comparison({**context, "map_image": svg_data_uri(comparison_svg(*layers))}, data, pdf=True)
    return html_to_pdf(html)
paths["compare: matplotlib PNG, before"] = compare_png
paths["compare: SVG map, style sheet and fonts kept (now)"] = compare_svg
times = {name: [] for name in paths}
for call in paths.values():
    call()
names = list(paths)
for i in range(int(sys.argv[1])):
    for name in (names if i % 2 == 0 else names[::-1]):
        t0 = time.process_time()
        paths[name]()
        times[name].append(time.process_time() - t0)
print(json.dumps({name: round(statistics.median(v) * 1e3, 1) for name, v in times.items()}))
'''


def alternatives(runs: int) -> dict:
    """Each change of this checkout against what it replaced, in turn in one warm process: CPU
    milliseconds (median) per print of elz18's and elz40's report and of the comparison PDF (its
    map drawn too)."""
    load = round(os.getloadavg()[0], 2)
    done = subprocess.run([sys.executable, "-c", ALTERNATIVES, str(runs)], cwd=REPO, capture_output=True, text=True,
                          timeout=1200, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the alternatives failed: {done.stderr[-2000:]}")
    medians = json.loads(done.stdout.strip().splitlines()[-1])
    return {"cpu_median_ms": medians, "runs": runs, "load_before": load, "load_after": round(os.getloadavg()[0], 2)}


def sample(repo: Path, kind: str) -> dict:
    """One fresh process in ``repo``: prepare, then the first print of ``kind``."""
    done = subprocess.run([sys.executable, "-c", CHILD, kind], cwd=repo, capture_output=True, text=True,
                          timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the print sample failed in {repo}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def through_server(runs: int, repos: dict[str, Path]) -> dict:
    """The same two first prints through HTTP on a real server of each checkout whose warm-up is
    done (``benchmarks.bench_first``'s paths, the compare PDF first), one server per run, the
    checkouts alternated."""
    import tempfile

    from benchmarks.bench_first import FIRST_PRINTS
    from benchmarks.bench_pages import Client, save_scenario
    from benchmarks.bench_server import server

    log = Path(tempfile.gettempdir()) / "regiomatch-bench-print.log"
    out: dict = {name: {path: {"first_ms": [], "load": []} for path in FIRST_PRINTS} for name in repos}
    for _ in range(runs):
        for name, repo in repos.items():
            with server(log, repo=repo) as (_process, base, _ready):
                client = Client(base)
                scenario = save_scenario(client)
                for path in FIRST_PRINTS:
                    load = round(os.getloadavg()[0], 2)
                    seconds, status, _sent, _raw = client.get(path.format(scenario=scenario))
                    entry = out[name][path]
                    entry["first_ms"].append(round(seconds * 1e3, 1) if status == 200 else None)
                    entry["load"].append(load)
                client.close()
    for paths in out.values():
        for entry in paths.values():
            done = [v for v in entry["first_ms"] if v is not None]
            entry["median_ms"] = statistics.median(done) if done else None
    return out


def measure(quick: bool = False, baseline: Path | None = None) -> dict:
    """Per kind of PDF and checkout: the samples, their medians, and the ratio baseline / now."""
    runs = 2 if quick else 5
    repos = {"now": REPO, **({"baseline": Path(baseline)} if baseline is not None else {})}
    out: dict = {"runs": runs, "what": "first print in a fresh process after a warm-up-like preparation"}
    for repo in repos.values():  # bytecode compiled in both checkouts, as `make run` serves them
        subprocess.run([sys.executable, "-m", "compileall", "-q", "api", "geo", "maps"], cwd=repo, check=True)
    for kind in KINDS:
        samples: dict = {name: [] for name in repos}
        for _ in range(runs):
            for name, repo in repos.items():
                samples[name].append(sample(repo, kind))
        entry: dict = {}
        for name, runs_of in samples.items():
            entry[name] = {"wall_ms": [round(s["wall_s"] * 1e3, 1) for s in runs_of],
                           "cpu_ms": [round(s["cpu_s"] * 1e3, 1) for s in runs_of],
                           "load": [s["load"] for s in runs_of], "bytes": runs_of[-1]["bytes"],
                           "all_pdf": all(s["pdf"] and s["status"] == 200 for s in runs_of)}
            entry[name]["median_wall_ms"] = statistics.median(entry[name]["wall_ms"])
            entry[name]["median_cpu_ms"] = statistics.median(entry[name]["cpu_ms"])
        if "baseline" in entry:
            for unit in ("wall", "cpu"):
                entry[f"ratio_{unit}_baseline_over_now"] = round(
                    entry["baseline"][f"median_{unit}_ms"] / entry["now"][f"median_{unit}_ms"], 2)
        out[kind] = entry
    out["alternatives"] = alternatives(3 if quick else 9)
    out["server"] = through_server(1 if quick else 3, repos)
    return out


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(measure(args.quick, args.baseline), indent=1))

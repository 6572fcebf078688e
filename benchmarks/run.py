"""``make bench``: every measure of issue 6 in one run, a table on stdout and a JSON file.

Each measure runs in its own Python process so that its peak RSS is its own::

    python -m benchmarks.run                  # everything (about 6 minutes on 2 cores)
    python -m benchmarks.run --quick          # a subset of pairs, short load test (about 1 minute)
    python -m benchmarks.run --duration 10    # load test seconds per target (default 30)
    python -m benchmarks.run --only scenario,growth
    python -m benchmarks.run --only pages,server --quick   # issue 13: pages, cache on/off, load test

Results go to ``benchmarks/results/latest.json`` (``--output`` to change).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import machine, write_json

MEASURES = ("overlay", "scenario", "server", "growth", "evaluate", "pages", "routes", "first", "print", "soak",
            "ensemble", "ogc", "jobs", "libs", "sparse", "memory")
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
REPO = Path(__file__).resolve().parent.parent


def run_one(name: str, quick: bool, duration: float, parts: int | None = None, baseline: Path | None = None) -> dict:
    """One measure in a fresh interpreter; returns its JSON."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    cmd = [sys.executable, "-m", "benchmarks.run", "--measure", name, "--out", str(out), "--duration", str(duration)]
    if quick:
        cmd.append("--quick")
    if parts is not None:
        cmd += ["--parts", str(parts)]
    if baseline is not None:
        cmd += ["--baseline", str(baseline)]
    t0 = time.perf_counter()
    load_before = os.getloadavg()[0]
    subprocess.run(cmd, cwd=REPO, check=True)
    data = json.loads(out.read_text())
    out.unlink()
    data["wall_s"] = time.perf_counter() - t0
    # Other work on the machine inflates every timing: record how busy it was.
    data["load_average_1min_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return data


def child(args: argparse.Namespace) -> None:
    """Inside the measure's own process."""
    from geo.engine.threads import limit_blas_threads

    limit_blas_threads()  # as the server and the CLI's serve (the growth measure also times the default)
    if args.measure == "overlay":
        from benchmarks import bench_overlay
        data = bench_overlay.measure(args.quick)
    elif args.measure == "scenario":
        from benchmarks import bench_scenario
        data = bench_scenario.measure(args.quick)
    elif args.measure == "server":
        from benchmarks import bench_server
        data = bench_server.measure(args.quick, args.duration, args.baseline)
    elif args.measure == "evaluate":
        from benchmarks import bench_evaluate
        data = bench_evaluate.measure(args.quick, args.baseline)
    elif args.measure == "growth":
        from benchmarks import bench_growth
        data = bench_growth.measure(args.parts, args.quick)
    elif args.measure == "routes":
        from benchmarks import bench_pages
        data = bench_pages.every_route_measure(args.quick, args.baseline)
    elif args.measure == "first":
        from benchmarks import bench_first
        data = bench_first.measure(args.quick, args.baseline)
    elif args.measure == "print":
        from benchmarks import bench_print
        data = bench_print.measure(args.quick, args.baseline)
    elif args.measure == "pages":
        from benchmarks import bench_pages
        data = bench_pages.measure(args.quick)
    elif args.measure == "soak":
        from benchmarks import bench_soak
        data = bench_soak.measure(args.quick, args.duration)
    elif args.measure == "ensemble":
        from benchmarks import bench_ensemble
        data = bench_ensemble.measure(args.quick)
    elif args.measure == "ogc":
        from benchmarks import bench_ogc
        data = bench_ogc.measure(args.quick)
    elif args.measure == "jobs":
        from benchmarks import bench_jobs
        data = bench_jobs.measure(args.quick)
    elif args.measure == "libs":
        from benchmarks import bench_libs
        data = bench_libs.measure(3 if args.quick else 7)
    elif args.measure == "memory":
        from benchmarks import bench_growth
        data = bench_growth.worker_memory(args.parts or 329)
    elif args.measure == "sparse":
        from benchmarks import bench_sparse
        data = bench_sparse.measure(args.quick, args.baseline)
    else:
        raise SystemExit(f"unknown measure {args.measure!r}")
    write_json(Path(args.out), data)


def _f(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def table(results: dict) -> str:
    """The headline numbers, one line each."""
    lines = [f"regiomatch benchmarks, {results['finished_at']}; {results['machine']['nproc']} cores "
             f"{results['machine']['cpu_model']}, Python {results['machine']['python']}; "
             f"load average before/after {results['machine']['load_average_at_start']} / "
             f"{results['load_average_at_end']}",
             "", f"{'measure':62s} {'value':>14s}  {'target':>12s}  {'peak RSS':>9s}", "-" * 104]

    def row(label: str, value: str, target: str = "", rss: float | None = None) -> None:
        lines.append(f"{label:62s} {value:>14s}  {target:>12s}  {(_f(rss) + ' MiB') if rss else '':>9s}")

    m = results["measures"]
    if "overlay" in m:
        o = m["overlay"]
        row(f"1 engine overlay, median over {o['engine_pairs']} ordered pairs",
            f"{_f(o['engine_median_ms_over_pairs'])} ms", "", o["peak_rss_mib"])
        row("  slowest pair (engine)", f"{_f(o['engine_max_ms_over_pairs'])} ms")
        row(f"  geopandas.overlay A x B + area table, median over {o['geopandas_pairs']} pairs",
            f"{_f(o['geopandas_median_area_ms'])} ms")
        row("  ... + municipalities, population table (areal interpolation)",
            f"{_f(o['geopandas_median_population_ms'])} ms")
        row("  ratio geopandas/engine, area table: median (min)",
            f"{_f(o['ratio_area_median'])}x ({_f(o['ratio_area_min'])}x)", ">= 100x")
        row("  ratio geopandas/engine, population table: median (min)",
            f"{_f(o['ratio_population_median'])}x ({_f(o['ratio_population_min'])}x)", ">= 100x")
        row("  population geopandas puts in another cell: median (max)",
            f"{o['population_misplaced_share_median']:.2%} ({o['population_misplaced_share_max']:.2%})")
    if "scenario" in m:
        s = m["scenario"]
        row("2 try_move (one move, all measures vs associations): median", f"{_f(s['try_move']['median_ms'])} ms",
            "< 1 ms", s["peak_rss_mib"])
        row("  p99", f"{_f(s['try_move']['p99_ms'])} ms")
        t = s["try_move_touching_an_association"]
        row(f"  moves that change the table ({t['n']}): median / p99", f"{_f(t['median_ms'])} / {_f(t['p99_ms'])} ms")
        row("  naive apply_moves + overlay: median", f"{_f(s['naive_apply_moves_plus_overlay']['median_ms'])} ms")
        row("  try_move against all 13 other layers: median / p99",
            f"{_f(s['all_13_references']['median_ms'])} / {_f(s['all_13_references']['p99_ms'])} ms")
    if "server" in m:
        c, load = m["server"]["cold_start"], m["server"]["load"]
        row("3 cold start to first /api/v1/overlay 200: median", f"{_f(c['median_s'])} s", "< 3 s",
            c["server_peak_rss_mib_after_start"])
        row("  runs", ", ".join(f"{x:.2f}" for x in c["runs_s"]) + " s")
        for name in load["targets"]:
            r = load[name]
            row(f"4 {r['path'][:58]}", f"{_f(r['requests_per_s'])} req/s", "no errors")
            row(f"  p50 / p99 latency, errors ({r['tool']}, {r['connections']} conn, {_f(load['duration_s'])} s)",
                f"{_f(r.get('p50_ms'))} / {_f(r.get('p99_ms'))} ms, {r['errors']}")
        row("  server peak RSS after the load test", "", "", load["server_memory_mib"]["peak_rss_mib"])
        two = m["server"].get("load_2_workers")
        if two and "error" in two:
            row("4 --workers 2: failed", two["error"][:40])
        elif two:
            for name in two["targets"]:
                r = two[name]
                row(f"4 --workers 2: {r['path'][:46]}", f"{_f(r['requests_per_s'])} req/s", "no errors")
                row("  p50 / p99 latency, errors", f"{_f(r.get('p50_ms'))} / {_f(r.get('p99_ms'))} ms, {r['errors']}")
            row("  RSS of the 3 processes before / after the load test",
                f"{_f(two['memory_before_mib']['rss_mib'])} / {_f(two['server_memory_mib']['rss_mib'])} MiB")
    if "pages" in m:
        p = m["pages"]
        row("6 cold start to the first overlay answer: median", f"{_f(p['cold_start']['median_s'])} s", "< 1.5 s")
        row("  import api.main (-X importtime)", f"{_f(p['import_time']['api_main_s'])} s")
        on, off, first = p["warm_cache_on"], p["warm_cache_off"], p["first_view"]
        for path in on:
            a, b = on[path], off.get(path, {})
            if "p50_ms" not in a:
                row(f"7 {path[:60]}", f"status {a.get('status')}")
                continue
            ratio = f" ({b['p50_ms'] / a['p50_ms']:.0f}x)" if "p50_ms" in b else ""
            row(f"7 {path[:60]}", f"{_f(a['p50_ms'])} ms{ratio}", "< 150 ms")
            view = first.get(path, {})
            row("  p90; uncached p50; first view at start / after warm-up; sent/HTML KB",
                f"{_f(a['p90_ms'])}; {_f(b.get('p50_ms'))}; {_f(view.get('first_view_ms'))} / "
                f"{_f(view.get('first_view_after_warm_up_ms'))} ms; "
                f"{a['sent_bytes'] / 1e3:.0f}/{a['html_or_body_bytes'] / 1e3:.0f}")
        s = p["overlay_pairs_summary"]
        row(f"8 /api/v1/overlay, {s['pairs']} pairs: p50 median / max", f"{_f(s['cache_on_p50_ms_median'])} / "
            f"{_f(s['cache_on_p50_ms_max'])} ms", "< 3 ms")
        row("  computed every request (cache off): median / max", f"{_f(s['cache_off_p50_ms_median'])} / "
            f"{_f(s['cache_off_p50_ms_max'])} ms")
        ratios = p["geopandas_vs_http"].values()
        row("  geopandas population table / HTTP p50: min (cache on / off)",
            f"{_f(min(r['ratio_cache_on'] for r in ratios))}x / "
            f"{_f(min((r['ratio_cache_off'] for r in ratios if r['ratio_cache_off']), default=None))}x", ">= 20x")
        big = p["big_import"]
        row(f"9 import of {big.get('zones', '?')} grid squares", f"{_f(big.get('import_s'))} s")
        if "error" in big:
            row("  failed", big["error"][:40])
        for label, r in big.items():
            if isinstance(r, dict) and "first_ms" in r:
                row(f"  {label[:58]}", f"{_f(r['first_ms'])} / {_f(r.get('p50_ms'))} ms",
                    "< 100 ms" if label.startswith("overlay") else "< 1 s, 1 MB")
                row("    first / warm p50; sent / body KB", f"{r['first_sent_bytes'] / 1e3:.0f} / "
                    f"{r['first_body_bytes'] / 1e3:.0f}")
    if "growth" in m:
        g = m["growth"]
        for size in g["sizes"]:
            row(f"5 {size['atoms']:>7,} atoms: overlay median / try_move median / naive",
                f"{_f(size['overlay']['median_ms'])} / {_f(size['try_move']['median_ms'])} / "
                f"{_f(size['naive_apply_moves_plus_overlay']['median_ms'])} ms", "", size["peak_rss_mib"])
        e = g["exponents"]
        row("  fitted exponent (time ~ atoms^k): overlay / try_move / naive",
            f"{e['overlay']:.2f} / {e['try_move']:.2f} / {e['naive']:.2f}")
        e = g["exponents_last_step"]
        row("  exponent over the last step only", f"{e['overlay']:.2f} / {e['try_move']:.2f} / {e['naive']:.2f}")
    if "evaluate" in m:
        e = m["evaluate"]
        row(f"6 POST /api/v1/evaluate, {e['moves']} moves, through HTTP: p50 / p99",
            f"{_f(e['evaluate_http']['median_ms'])} / {_f(e['evaluate_http']['p99_ms'])} ms", "p50 < 20 ms",
            e["peak_rss_mib"])
        row("  full overlay per request (GET /api/v1/compare of the saved moves): p50",
            f"{_f(e['full_overlay_http']['median_ms'])} ms")
        row("  ratio full / incremental, HTTP (in process)",
            f"{_f(e['ratio_http_median'])}x ({_f(e['in_process']['ratio_median'])}x)")
    if "first" in m:
        f = m["first"]
        for name, entry in f["first_page"].items():
            row(f"25 W13's report: Popen to the first whole answer ({name}), median of {len(entry['runs_s'])}",
                f"{_f(entry['median_s'])} s", "< 1.5 s")
        for name in ("now", "baseline"):
            for path, p in f.get(name, {}).get("prints", {}).items():
                row(f"  first print after the warm-up ({name}) {path.split('?')[0]}: first / again",
                    f"{_f(p['first_ms'], 1)} / {_f(p['again_p50_ms'])} ms", "< 500 / 10")
            for path, p in f.get(name, {}).get("pages", {}).items():
                row(f"  warm p50 with gzip ({name}) {path[:40]}", f"{_f(p.get('p50_ms'))} ms")
    if "print" in m:
        for kind, entry in ((k, m["print"][k]) for k in ("report", "compare") if k in m["print"]):
            for name in ("now", "baseline"):
                if name in entry:
                    row(f"25 first {kind} PDF in process after a warm-up ({name}): wall / CPU, median",
                        f"{_f(entry[name]['median_wall_ms'])} / {_f(entry[name]['median_cpu_ms'])} ms", "< 500")
        for name, value in m["print"].get("alternatives", {}).get("cpu_median_ms", {}).items():
            row(f"  warm print CPU: {name}"[:62], f"{_f(value)} ms")
        for name, paths in m["print"].get("server", {}).items():
            for path, entry in paths.items():
                row(f"  first print through HTTP after the warm-up ({name}) {path.split('?')[0]}, median",
                    f"{_f(entry['median_ms'])} ms", "< 500")
    if "ensemble" in m:
        e = m["ensemble"]
        row(f"10 ensemble: {e['plans']:,} plans, {e['chains']} chains, every measure (run_ensemble)",
            f"{_f(e['run_ensemble_s'])} s", "<= 60 s", e["peak_rss_mib"])
        row("  chains (s each); acceptance", ", ".join(f"{x:.1f}" for x in e["chain_s"]) + "; "
            + ", ".join(f"{x:.2f}" for x in e["acceptance_rates"]))
        row("  measures of all plans, vectorised / a full overlay per plan (est.)",
            f"{_f(e['measures_vectorised_s'])} / {_f(e['overlay_all_plans_s_estimated'])} s")
        row("  ratio full overlay per plan / vectorised measures", f"{_f(e['ratio_overlay_to_vectorised_measures'])}x")
        row(f"  invalid plans in a sample of {e['validated_sample']}", str(e["invalid_in_sample"]), "0")
    if "ogc" in m:
        o = m["ogc"]
        for name, target in (("layer zones, CRS84", "< 50 ms"), ("layer zones, Lambert 72", "< 50 ms"),
                             ("304 municipalities, CRS84", "< 200 ms"), ("304 municipalities, Lambert 72", "< 200 ms")):
            warm, bare = o["cached"][name], o["uncached"][name]
            row(f"7 /ogc {name}: warm p50 (render cache off)",
                f"{_f(warm['p50_ms'])} ({_f(bare['p50_ms'])}) ms", target)
            if name in o["geopandas_per_request"]:
                row("  geopandas GeoDataFrame -> to_crs -> to_json per request: p50",
                    f"{_f(o['geopandas_per_request'][name]['p50_ms'])} ms")
        row("  GDAL OAPIF reads the 304 municipalities", f"{_f(o['gdal_read']['gemeenten']['seconds'])} s")
    if "jobs" in m:
        j = m["jobs"]
        row(f"4 ensemble as a job through HTTP: {j['plans']:,} plans, {j['chains']} chains, to done",
            f"{_f(j['done_s'])} s", "", j.get("peak_rss_mib"))
        row("  /health while it runs: p50 / p99 / max", f"{_f(j['health_during_job']['median_ms'])} / "
            f"{_f(j['health_during_job']['p99_ms'])} / {_f(j['health_during_job']['max_ms'])} ms", "< 1 s")
        row("  same inputs again (served from the database)", f"{_f(j['same_inputs_again_ms'])} ms")
    lines.append("")
    lines.append(f"total {results['total_s']:.0f} s; JSON: {results['output']}")
    return "\n".join(lines)


def _commit(repo: Path) -> str | None:
    """The checkout's commit, with ``+changes`` when its tracked files differ from it."""
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+changes" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer pairs and sizes, 5 s load test")
    parser.add_argument("--duration", type=float, default=None,
                        help="load test seconds per target (default 30; 5 with --quick)")
    parser.add_argument("--only", default=",".join(MEASURES), help=f"comma-separated subset of {', '.join(MEASURES)}")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--parts", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout (e.g. a git worktree of the previous commit): the server, evaluate "
                             "and routes measures time its code too, in the same run, for before/after ratios")
    args = parser.parse_args(argv)
    if args.duration is None:
        args.duration = 5.0 if args.quick else 30.0
    if args.measure:
        child(args)
        return 0

    chosen = [m.strip() for m in args.only.split(",") if m.strip()]
    unknown = set(chosen) - set(MEASURES)
    if unknown:
        parser.error(f"unknown measure(s) {', '.join(sorted(unknown))}; choose from {', '.join(MEASURES)}")
    started = time.perf_counter()
    results: dict = {"issue": 6, "quick": args.quick, "machine": machine(), "measures": {},
                     "commit": _commit(REPO), "baseline": None if args.baseline is None else
                     {"path": str(args.baseline), "commit": _commit(args.baseline)}}
    for name in chosen:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        if name == "growth":
            from benchmarks.bench_growth import PARTS, QUICK_PARTS
            from benchmarks.common import fit_exponent

            sizes = [run_one("growth", args.quick, args.duration, p) for p in (QUICK_PARTS if args.quick else PARTS)]
            atoms = [s["atoms"] for s in sizes]
            results["measures"]["growth"] = {
                "sizes": sizes,
                "exponents": {
                    "overlay": fit_exponent(atoms, [s["overlay"]["median_ms"] for s in sizes]),
                    "overlay_every_pair": fit_exponent(atoms, [s["overlay_every_pair_median_ms"] for s in sizes]),
                    "try_move": fit_exponent(atoms, [s["try_move"]["median_ms"] for s in sizes]),
                    "try_move_touching": fit_exponent(atoms, [s["try_move_touching_an_association"]["median_ms"]
                                                              for s in sizes]),
                    "naive": fit_exponent(atoms, [s["naive_apply_moves_plus_overlay"]["median_ms"] for s in sizes]),
                    "peak_rss": fit_exponent(atoms, [s["peak_rss_mib"] for s in sizes]),
                },
                # At a few hundred atoms fixed per-call overheads dominate; the last step shows
                # the asymptotic growth.
                "exponents_last_step": {
                    "overlay": fit_exponent(atoms[-2:], [s["overlay"]["median_ms"] for s in sizes[-2:]]),
                    "try_move": fit_exponent(atoms[-2:], [s["try_move"]["median_ms"] for s in sizes[-2:]]),
                    "naive": fit_exponent(atoms[-2:], [s["naive_apply_moves_plus_overlay"]["median_ms"]
                                                       for s in sizes[-2:]]),
                },
            }
        else:
            results["measures"][name] = run_one(name, args.quick, args.duration, baseline=args.baseline)
        write_json(args.output.with_suffix(".partial.json"), results)  # a later failure keeps this one
    results["total_s"] = time.perf_counter() - started
    results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["finished_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    results["output"] = str(args.output)
    write_json(args.output, results)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

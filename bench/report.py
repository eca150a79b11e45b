#!/usr/bin/env python3
"""Render one bench/run directory as a Markdown report with gnuplot plots.

usage: bench/report.py RUN_DIR OUT.md

Every figure is the median with min-max over the repeats in the run. Ratios
to the in-process baselines use only figures measured in the same run. A
figure the run did not record (an empty or malformed CSV field) is printed
as "n/a" and left out of medians, ratios and plots.
"""
import csv
import math
import os
import statistics
import subprocess
import sys
from collections import defaultdict


def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


NA = "n/a"


def num(x):
    """A CSV field as a float, or None when the figure is missing or not a number."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def fnum(x, spec):
    """One figure formatted with `spec`, or "n/a"."""
    v = num(x)
    return NA if v is None else format(v, spec)


def med(xs):
    """(median, min, max) of the figures present; (None, None, None) if none is."""
    vals = [v for v in map(num, xs) if v is not None]
    if not vals:
        return None, None, None
    return statistics.median(vals), min(vals), max(vals)


def fmt_range(xs, digits=0):
    vals = [v for v in map(num, xs) if v is not None]
    if not vals:
        return NA
    m, lo, hi = med(vals)
    s = f"{m:,.{digits}f}" if len(vals) == 1 else f"{m:,.{digits}f} ({lo:,.{digits}f}–{hi:,.{digits}f})"
    if len(vals) < len(xs):
        s += f" [{len(xs) - len(vals)} of {len(xs)} n/a]"
    return s


def present(points):
    """The (recall, qps, ...) points whose recall and QPS were both recorded."""
    return [p for p in points if num(p[0]) is not None and num(p[1]) is not None]


def interp_qps(points, target):
    """QPS at `target` recall, linear on the recall-vs-QPS curve; None if unreached."""
    pts = sorted((num(r), num(q)) for r, q in present(points))
    if not pts or pts[-1][0] < target:
        return None
    if pts[0][0] >= target:
        # every point is above the target: the fastest point is a lower bound
        return max(q for r, q in pts)
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= target <= r1:
            if r1 == r0:
                return max(q0, q1)
            return q0 + (q1 - q0) * (target - r0) / (r1 - r0)
    return None


# Which in-process FAISS index each index kind's build is set against: the
# same lists and the same thread count. nmvec ivf with flat lists or 1-bit
# RaBitQ codes, and pgvector's ivfflat, against IndexIVFFlat (both train the
# same k-means and write every vector once; RaBitQ's codes are cheap to make);
# 4- and 8-bit RaBitQ against IndexIVFScalarQuantizer QT_8bit (the FAISS index
# that also quantizes each dimension to a few bits). hnsw kinds: hnswlib.
def quantizer(kind):
    """An IVF kind's quantizer: the ddl's, else the access method's default."""
    return kind["quantizer"] or ("rabitq" if kind["system"] == "nmvec" and kind["am"] == "ivf" else "flat")


def faiss_peer(kind):
    if kind["am"] in ("ivf", "ivfflat"):
        q = quantizer(kind)
        return "faiss ivfsq8" if q in ("rabitq4", "rabitq8") else "faiss ivfflat"
    if kind["am"] == "hnsw":
        return "hnswlib hnsw"
    return None


def display(kinds, label):
    """'nmvec ivf_rabitq8', 'pgvector ivfflat', ...: the name a kind (or a label built on it) is shown by."""
    base, sep, rest = label.partition(" (")
    k = kinds.get(base)
    name = f"nmvec {base}" if k is None or k["system"] == "nmvec" else f"{k['system']} {k['am']}"
    return name + (sep + rest if sep else "")


def main():
    run, out = sys.argv[1], sys.argv[2]
    meta = open(os.path.join(run, "meta.txt")).read().strip().splitlines()
    copy = read_csv(os.path.join(run, "copy.csv"))
    search = read_csv(os.path.join(run, "search.csv"))
    build = read_csv(os.path.join(run, "build.csv"))
    pgb = read_csv(os.path.join(run, "pgbench.csv"))
    base = read_csv(os.path.join(run, "baseline.csv"))
    kinds = {r["kind"]: r for r in read_csv(os.path.join(run, "kinds.csv"))}
    rows_n = next((num(l.split(": ", 1)[1]) for l in meta if l.startswith("base rows: ")), None)
    skipped = open(os.path.join(run, "skipped.txt")).read().strip() if os.path.exists(
        os.path.join(run, "skipped.txt")) else ""
    name = os.path.splitext(os.path.basename(out))[0]
    plotdir = os.path.dirname(out)
    L = [f"# Benchmark: {name}", ""]
    L += ["Made by `bench/run` and `bench/report.py`. Every figure is the median (min–max) over the",
          "repeats of this run; a figure without a range is a single measurement. Compare only",
          "figures from the same run: these shared machines drift.", "", "| | |", "|---|---|"]
    for line in meta:
        k, _, v = line.partition(": ")
        L.append(f"| {k} | `{v}` |" if k in ("command", "data") else f"| {k} | {v} |")
    L.append("")

    if copy:
        L += ["## COPY ingest", "", "| variant | rows | rows/s |", "|---|---:|---:|"]
        by = defaultdict(list)
        for r in copy:
            by[r["variant"]].append(r)
        for v, rs in by.items():
            L.append(f"| {v} | {fnum(rs[0]['rows'], ',.0f')} | {fmt_range([r['rows_per_s'] for r in rs])} |")
        L.append("")

    exact = [r for r in search if r["label"].startswith("exact")]
    if exact:
        L += ["## Exact scans (no ANN index)", "",
              "| plan | filter | queries | recall@10 | rows/query | QPS | p50 ms | p95 ms | p99 ms |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in exact:
            q = f"{fnum(r['qps_median'], ',.1f')} ({fnum(r['qps_min'], ',.1f')}–{fnum(r['qps_max'], ',.1f')})"
            L.append(f"| {r['label']} | {r['filter']} | {r['queries']} | {fnum(r['recall10'], '.4f')} | "
                     f"{fnum(r['rows_mean'], '.2f')} | {q} | {r['p50_ms'] or NA} | {r['p95_ms'] or NA} | "
                     f"{r['p99_ms'] or NA} |")
        L.append("")

    curves = defaultdict(list)  # name -> [(recall, qps)]
    for r in search:
        if ":" in r["label"] and r["filter"] == "none":
            kind, param = r["label"].split(":", 1)
            curves[display(kinds, kind)].append((r["recall10"], r["qps_median"], param))
    bcurves = defaultdict(list)
    bbuild = defaultdict(list)
    blists = {}  # baseline name -> lists (IVF)

    def bname(r):
        return f"{r['system']} {r['index']}" + (f" m={r['m']}" if r["index"] == "ivfpq" else "")

    for r in base:
        key = bname(r)
        bbuild[(key, r["build_threads"])].append(num(r["build_s"]))
        bcurves[(key, r["build_threads"])].append((r["recall10"], r["qps_median"], r["param"]))
        if r["index"].startswith("ivf"):
            blists[key] = r["lists"]
    bb = read_csv(os.path.join(run, "baseline.builds.csv"))
    bsize = {(bname(r), r["build_threads"]): (num(r.get("index_bytes")), num(r.get("rows"))) for r in bb}
    # "faiss ivfpq" -> "faiss ivfpq m=98": the names faiss_peer() gives, as shown
    bfull = {k.split(" m=")[0]: k for k, _ in bbuild}

    def size_cells(size, rows):
        if not size:
            return f"{NA} | {NA}"
        per = f"{size / rows:,.0f}" if rows else NA
        return f"{size / 1e6:,.1f} MB | {per}"

    if build or bbuild:
        L += ["## Index builds", "",
              "Build time against the in-process index of the same kind, lists and thread count, built in "
              "this run (FAISS peer: nmvec ivf flat and rabitq, and pgvector ivfflat, against IndexIVFFlat; "
              "rabitq4 and rabitq8 against IndexIVFScalarQuantizer QT_8bit; hnsw against hnswlib). Sizes: "
              "`pg_relation_size` for Postgres indexes; FAISS's serialized index (`write_index`: codes, ids, "
              "centroids) and hnswlib's level-0 and link arrays for the in-process ones. Bytes/vector = size "
              "/ base rows.", "",
              "| index | threads / workers | seconds | size | bytes/vector | peak backend memory | in-process peer "
              "| ratio |",
              "|---|---|---:|---:|---:|---:|---|---:|"]
        by = defaultdict(list)
        for r in build:
            by[(r["index"], r["workers"])].append(r)
        ivf_ratios = []
        for (k, w), rs in by.items():
            size = num(rs[-1]["size_bytes"])
            peak = max((num(r.get("peak_anon_kb")) or 0) for r in rs)
            peak_s = f"{peak / 1024:,.0f} MB" if peak else NA
            threads = str(int(w) + 1)
            # a run directory from before kinds.csv: nmvec's kinds, named after their access method
            peer = faiss_peer(kinds.get(k, {"system": "nmvec", "am": k, "quantizer": ""}))
            peer = bfull.get(peer, peer)
            ref = bbuild.get((peer, threads)) if peer else None
            ours = med([r["seconds"] for r in rs])[0]
            peer_s, ratio_s = "", ""  # blank unless the peer was measured in this run
            if ref and ref[0] and ours is not None:
                note = ""
                if k in kinds and peer in blists and kinds[k]["lists"] and kinds[k]["lists"] != blists[peer]:
                    note = f", lists {blists[peer]} against {kinds[k]['lists']}"
                peer_s = f"{peer} ({threads} thr, {ref[0]:.2f} s{note})"
                ratio_s = f"{ours / ref[0]:.2f}×"
                if peer.startswith("faiss ivf"):
                    ivf_ratios.append(f"{display(kinds, k)} ({quantizer(kinds[k])}, "
                                      f"{threads} thr) {ours:.2f} s = **{ours / ref[0]:.2f}×** {peer}'s {ref[0]:.2f} s")
            L.append(f"| {display(kinds, k)} | {threads} thread(s) ({w} workers + leader) | "
                     f"{fmt_range([r['seconds'] for r in rs], 2)} | {size_cells(size, rows_n)} | {peak_s} | "
                     f"{peer_s} | {ratio_s} |")
        for (k, t), secs in bbuild.items():
            bs, br = bsize.get((k, t), (None, None))
            lists = f", lists {blists[k]}" if k in blists else ""
            L.append(f"| {k} (in-process{lists}) | {t} threads | {fnum(secs[0], '.2f')} | "
                     f"{size_cells(bs, br or rows_n)} | | | |")
        L.append("")
        if ivf_ratios:
            L += ["IVF build time against FAISS with the same lists, same run (target: within 1.5×): "
                  + "; ".join(ivf_ratios) + ".", ""]
        # Build-time ratio to hnswlib at the same thread count, same run.
        ratios = []
        for (k, w), rs in by.items():
            if k in kinds and kinds[k]["am"] != "hnsw":
                continue
            ref = bbuild.get(("hnswlib hnsw", str(int(w) + 1)))
            ours = med([r["seconds"] for r in rs])[0]
            if ref and ref[0] and ours is not None:
                ratios.append(f"{display(kinds, k)} with {int(w) + 1} thread(s): {ours:.2f} s = **{ours / ref[0]:.2f}×** "
                              f"hnswlib's {ref[0]:.2f} s")
        if ratios:
            L += ["Build time against hnswlib in this run: " + "; ".join(ratios) + ".", ""]

    if bb:
        blas = next((l.split(": ", 1)[1] for l in meta if l.startswith("blas: ")), "?")
        ivf = [r for r in bb if r["index"] == "ivfflat"]
        train = f"; its IVF k-means trained in {fnum(ivf[0]['train_s'], '.1f')} s here" if ivf else ""
        L += ["About the baselines: hnswlib is Debian's `libhnswlib-dev` headers compiled here with "
              "`-O3 -march=native`. FAISS is Debian's `libfaiss-dev`, a generic build (`OPTIMIZE GENERIC`: "
              f"its distance loops are scalar), using the BLAS `{blas}`{train} (with Debian's reference "
              "BLAS the same k-means on this data took about 68 s in pgvector's reference run, so OpenBLAS "
              "changes FAISS's training time, not its search). Queries run on one thread."
              + (" `hnswlib hnsw-thp` is the same hnswlib with its level-0 array (links and vectors) on "
                 "transparent huge pages (`madvise`), as the server's shared buffers are on huge pages in "
                 "this run (`huge_pages` in the settings above); the ratios are to plain `hnswlib hnsw`, "
                 "the default build, and the thp row shows what huge pages give the peer."
                 if any(r["index"] == "hnsw-thp" for r in bb) else ""), ""]

    ref = None  # hnswlib's curve (1-thread build), when measured
    if curves or bcurves:
        L += ["## Recall@10 and single-client QPS", "",
              "| system | build threads | param | recall@10 | QPS |", "|---|---|---:|---:|---:|"]
        for k, pts in curves.items():
            for rc, q, p in pts:
                L.append(f"| {k} | | {p} | {fnum(rc, '.4f')} | {fnum(q, ',.0f')} |")
        for (k, t), pts in bcurves.items():
            for rc, q, p in pts:
                L.append(f"| {k} | {t} | {p} | {fnum(rc, '.4f')} | {fnum(q, ',.0f')} |")
        L.append("")
        if blists:
            L += ["In-process IVF indexes: " + ", ".join(f"{k} lists {v}" for k, v in blists.items()) +
                  "; `param` is nprobe (ivf.probes / ivfflat.probes for the SQL kinds)."
                  + (" IVFPQ: m sub-quantizers of 8 bits." if any("ivfpq" in k for k in blists) else ""), ""]
        for (k, t), pts in bcurves.items():
            if k == "hnswlib hnsw" and t == "1":
                ref = pts
        if ref:
            L += ["QPS interpolated at fixed recall@10, and the ratio to hnswlib (1-thread build) in this run:", "",
                  "| system | @0.90 | @0.95 | @0.99 |", "|---|---:|---:|---:|"]
            rows = list(curves.items()) + [(f"{k} ({t} thr)", v) for (k, t), v in bcurves.items()]
            for k, pts in rows:
                cells = []
                for target in (0.90, 0.95, 0.99):
                    q = interp_qps([(a, b) for a, b, _ in pts], target)
                    r = interp_qps([(a, b) for a, b, _ in ref], target)
                    if q is None:
                        cells.append(NA)
                    elif r:
                        cells.append(f"{q:,.0f} ({q / r:.2f}×)")
                    else:
                        cells.append(f"{q:,.0f}")
                L.append(f"| {k} | " + " | ".join(cells) + " |")
            L.append("")
        # plot
        dat = os.path.join(run, "curves.dat")
        series = []
        with open(dat, "w") as f:
            # in-process curves of the 1-thread builds only (the table has both; a
            # 2-thread build is the same index, k-means aside)
            for k, pts in list(curves.items()) + [(f"{k} ({t} thr build)", v) for (k, t), v in bcurves.items()
                                                  if t == "1" or not any(t2 == "1" for k2, t2 in bcurves if k2 == k)]:
                f.write(f'"{k}"\n')
                for rc, q, _ in sorted(present(pts), key=lambda x: num(x[0])):
                    f.write(f"{rc} {q}\n")
                f.write("\n\n")
                series.append(k)
        png = os.path.join(plotdir, f"{name}-recall-qps.png")
        plot(f"""set terminal pngcairo size 1200,650 noenhanced
set output '{png}'
set title 'recall@10 vs single-client QPS ({name})'
set xlabel 'recall@10'; set ylabel 'queries per second'; set logscale y; set grid; set key outside right font ',9'
plot for [i=0:{len(series) - 1}] '{dat}' index i using 1:2 with linespoints title columnheader(1)
""")
        L += [f"![recall vs QPS]({os.path.basename(png)})", ""]

    rtt = read_csv(os.path.join(run, "rtt.csv"))
    if rtt:
        by = {}
        for r in rtt:
            by.setdefault(r["busy"], {})[r["label"]] = r
        L += ["## Round trip on this machine (no index involved)", "",
              "`ann_pg rtt`: one prepared call that keeps the server busy in a PL/pgSQL loop for a set",
              "time, then returns one row. *server µs* is the loop alone (a call 200 times longer,",
              "divided by 200); *per call* is 1e6 / QPS; the rest is what the round trip adds: protocol,",
              "executor, and waking the process that waited. Client on the other core (as in the",
              "unpinned curves) and on the server's core (as in the pinned ones).", "",
              "| loop iterations | server µs | per call, other core | added | per call, same core | added |",
              "|---:|---:|---:|---:|---:|---:|"]
        for busy in sorted(by, key=lambda b: num(b) or 0):
            row = by[busy]
            srv = num(next(iter(row.values()))["server_us"])
            cells = []
            for placement in ("other-core", "same-core"):
                call = num(row[placement]["call_us"]) if placement in row else None
                added = fnum(call - srv, ".0f") if call is not None and srv is not None else NA
                cells.append(f"{fnum(call, '.0f')} | {added}")
            L.append(f"| {fnum(busy, ',.0f')} | {fnum(srv, '.0f')} | " + " | ".join(cells) + " |")
        L.append("")
        if ref:
            q95 = interp_qps([(a, b) for a, b, _ in ref], 0.95)
            if q95:
                L += [f"For scale: hnswlib's whole query at recall@10 = 0.95 takes {1e6 / q95:.0f} µs in this run "
                      f"(1e6 / {q95:,.0f} QPS); 0.40× of its QPS leaves {1e6 / (0.4 * q95):.0f} µs per query, "
                      "round trip included.", ""]

    filt = [r for r in search if not r["label"].startswith("exact") and r["filter"] != "none"]
    if filt:
        L += ["## Filtered search (index)", "",
              "| index | filter | recall@10 | rows/query | short queries | QPS | p50 ms | p95 ms |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
        for r in filt:
            short = num(r["short_frac"])
            short_s = f"{short * 100:.1f}%" if short is not None else NA
            L.append(f"| {r['label']} | {r['filter']} | {fnum(r['recall10'], '.4f')} | {fnum(r['rows_mean'], '.2f')} | "
                     f"{short_s} | {fnum(r['qps_median'], ',.0f')} | {r['p50_ms'] or NA} | {r['p95_ms'] or NA} |")
        L.append("")

    if pgb:
        L += ["## pgbench (prepared, query vectors drawn from a table)", "",
              "| index | setting | clients | TPS | p50 ms | p95 ms | p99 ms |", "|---|---|---:|---:|---:|---:|---:|"]
        for r in pgb:
            L.append(f"| {r['index']} | {r['param']} | {r['clients']} | {fnum(r['tps'], ',.1f')} | {r['p50_ms'] or NA} | "
                     f"{r['p95_ms'] or NA} | {r['p99_ms'] or NA} |")
        L.append("")
        dat = os.path.join(run, "pgbench.dat")
        kinds = sorted({r["index"] for r in pgb})
        with open(dat, "w") as f:
            for k in kinds:
                f.write(f'"{k}"\n')
                for r in pgb:
                    if r["index"] == k and all(num(r[c]) is not None for c in ("clients", "p50_ms", "p95_ms", "p99_ms")):
                        f.write(f"{r['clients']} {r['p50_ms']} {r['p95_ms']} {r['p99_ms']}\n")
                f.write("\n\n")
        png = os.path.join(plotdir, f"{name}-latency.png")
        plot(f"""set terminal pngcairo size 900,600 noenhanced
set output '{png}'
set title 'pgbench latency percentiles vs clients ({name})'
set xlabel 'clients'; set ylabel 'latency (ms)'; set logscale xy; set grid; set key top left
plot for [i=0:{len(kinds) - 1}] '{dat}' index i using 1:2 with linespoints title columnheader(1).' p50', \\
     for [i=0:{len(kinds) - 1}] '{dat}' index i using 1:3 with linespoints title columnheader(1).' p95', \\
     for [i=0:{len(kinds) - 1}] '{dat}' index i using 1:4 with linespoints title columnheader(1).' p99'
""")
        L += [f"![latency vs clients]({os.path.basename(png)})", ""]

    vac = read_csv(os.path.join(run, "vacuum.csv"))
    if vac:
        L += ["## Recall after deleting 30% and VACUUM, against a fresh build of the same rows", "",
              "| index | recall@10 | QPS |", "|---|---:|---:|"]
        for r in vac:
            L.append(f"| {r['label']} | {fnum(r['recall10'], '.4f')} | {fnum(r['qps_median'], ',.0f')} |")
        L.append("")

    nmr = read_csv(os.path.join(run, "nm_recall.csv"))
    if nmr:
        L += ["## nm-events: recall@10 against an exact scan (100 held-out queries)", "",
              "| index | filter | recall@10 |", "|---|---|---:|"]
        for r in nmr:
            L.append(f"| {r['index']} | `{r['filter']}` | {fnum(r['recall10'], '.3f')} |")
        L.append("")

    if skipped:
        L += ["## Not measured in this run", ""] + [f"* {s}" for s in skipped.splitlines()] + [""]
    with open(out, "w") as f:
        f.write("\n".join(L))


def plot(script):
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"report: gnuplot failed: {e}", file=sys.stderr)


if __name__ == "__main__":
    main()

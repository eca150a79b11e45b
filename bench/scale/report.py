#!/usr/bin/env python3
"""report.py RUN_DIR OUT.md ROWS — the Markdown report of bench/scale/ivf.sh."""
import csv
import os
import statistics
import sys

run, out, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
v = {}
for line in open(os.path.join(run, "results.txt")):
    k, _, rest = line.strip().partition(" ")
    v[k] = rest
meta = open(os.path.join(run, "meta.txt")).read().strip().splitlines()
dims = 384
n = int(v["rows"])
copied = int(v["copy_rows"])
raw = n * dims * 4
build_s = float(v["build_s"])
threads = 2
lists, records, largest = v["stats"].split()
idx = int(v["index_bytes"])
o = [f"# ivf at scale: {n:,} × {dims}-d nm-monitor events\n"]
o += [f"- {m}" for m in meta]
o.append("")
o.append("## Load, build, size\n")
o.append("| measure | value |")
o.append("|---|---|")
o.append(f"| COPY BINARY into the unindexed table | {copied / float(v['copy_s']):,.0f} rows/s ({copied:,} rows in {float(v['copy_s']):.0f} s; generated to a file first) |")
o.append(f"| heap | {int(v['heap_bytes']) / 2**30:.2f} GiB |")
o.append(f"| CREATE INDEX (ivf, {lists} lists) | {build_s:.1f} s = {n / build_s:,.0f} vectors/s = **{n / build_s / threads:,.0f} vectors/s per thread** ({threads} threads) |")
o.append(f"| peak anonymous memory of the building backend | {int(v['build_peak_anon_kb']) / 1024:,.0f} MiB (RssAnon sampled every 0.5 s; shared buffers not counted) |")
o.append(f"| index size | {idx / 2**20:,.1f} MiB = {idx / n:.1f} bytes/vector = **{idx / raw:.3f}× the raw float32 vectors** ({raw / 2**30:.2f} GiB) |")
o.append(f"| records / largest list | {int(records):,} / {int(largest):,} |")
o.append("")
o.append("## Recall@10 and single-client latency\n")
o.append(f"{sum(1 for _ in open(os.path.join(run, 'queries.txt')))} held-out queries; a returned row counts when its distance is within the exact 10th nearest's (events repeat vectors). Latency: one `ORDER BY embedding <-> q LIMIT 10` in a PL/pgSQL loop (ms).\n")
o.append("| ivf.probes | recall@10 | p50 ms | p95 ms |")
o.append("|---|---|---|---|")
auto = int(v["auto_probes"])
keys = ["recall_default"] + sorted((k for k in v if k.startswith("recall_") and k != "recall_default"), key=lambda k: int(k.split("_")[1]))
for key in keys:
    label = f"0 (automatic: {auto})" if key == "recall_default" else key.split("_")[1]
    if v.get(key):
        r, p50, p95 = v[key].split()
        o.append(f"| {label} | {r} | {p50} | {p95} |")
o.append("")
if v.get("rerank_default"):
    cands, read = v["rerank_default"].split()
    o.append(f"At the automatic probes a query estimates {int(cands):,} candidates and reads {read} rows from the table to re-rank them (means over the queries; the scan's DEBUG1 line).\n")
plan = os.path.join(run, "plan.txt")
if os.path.exists(plan):
    o.append("Plan at the default settings:\n")
    o.append("```\n" + open(plan).read().strip() + "\n```\n")
o.append("## pgbench (ivf.probes = 0, prepared, 10 nearest of a random held-out query)\n")
o.append("| clients | TPS | p50 ms | p95 ms | p99 ms |")
o.append("|---|---|---|---|---|")
for k in sorted((k for k in v if k.startswith("pgbench_")), key=lambda k: int(k.split("_")[1])):
    f = v[k].split(",")
    o.append(f"| {f[2]} | {float(f[3]):,.0f} | {f[4]} | {f[5]} | {f[6]} |")
o.append("")
pairs = [(v[f"tail_plain_{i}"].split(), v[f"tail_indexed_{i}"].split()) for i in range(1, 4) if f"tail_indexed_{i}" in v]
if pairs:
    wall = [float(a[0]) / float(b[0]) for a, b in pairs]
    cpu = [float(a[1]) / float(b[1]) for a, b in pairs]
    o.append("## COPY into the indexed table at this size\n")
    o.append(f"The stream's last 200,000 rows (same fleet, generated after the indexed rows), 3 times each, each time first into an empty unindexed table, then into the indexed one. Rows/s (wall): unindexed {200000 / statistics.median(float(a[0]) for a, _ in pairs):,.0f}, indexed {200000 / statistics.median(float(b[0]) for _, b in pairs):,.0f}. Indexed vs unindexed, median of the 3 pairs (range): **wall {statistics.median(wall):.2f}×** ({min(wall):.2f}–{max(wall):.2f}), **backend CPU time {statistics.median(cpu):.2f}×** ({min(cpu):.2f}–{max(cpu):.2f}).\n")
fc = os.path.join(run, "faiss.csv")
if os.path.exists(fc):
    o.append("## FAISS in-process, same vectors, same lists\n")
    b = os.path.join(run, "faiss.builds.csv")
    if os.path.exists(b):
        o.append("| FAISS index | threads | build s | nmvec ivf build / FAISS build |")
        o.append("|---|---|---|---|")
        for r in csv.DictReader(open(b)):
            s = float(r.get("build_s") or r.get("seconds") or 0)
            o.append(f"| {r.get('index', r.get('system'))} | {r.get('build_threads', r.get('threads'))} | {s:.1f} | {build_s / s:.2f}× |" if s else f"| {r} |")
        o.append("")
    o.append("| FAISS index | nprobe | recall@10 | QPS (1 thread) |")
    o.append("|---|---|---|---|")
    for r in csv.DictReader(open(fc)):
        o.append(f"| {r['index']} | {r['param']} | {r['recall10']} | {float(r['qps_median']):,.0f} |")
    o.append("")
open(out, "w").write("\n".join(o) + "\n")

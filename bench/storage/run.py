#!/usr/bin/env python3
"""bench/storage/run.py — COPY and exact-scan cost of each way to store a
vector column, nmvec beside pgvector in one cluster and one run.

Run through bench/storage/run.sh (it installs what is needed, builds nmvec
and the peer, starts a throwaway cluster and sets PGHOST/PGPORT/PGUSER).

Two kinds of data, each at several dimensions:
  * fashion: Fashion-MNIST pixel values (0..255 stored as floats), the
    vector of row i being d consecutive pixels of images i, i+1, ... (so
    every dimension gets real, compressible image data: zeros and repeats);
  * random: (random() * 2 - 1)::real, embedding-like floats that no
    compressor shrinks.
For each (kind, dims) the same text and binary COPY files are loaded into
pgvector's table (its type's default storage) and into nmvec's tables under
each storage variant; then the exact scan (no vector index) answers top-10 over the
whole table and under a 10 % filter. Medians and min-max over repeats; the
variants are interleaved within each round so that drift hits them alike.
"""
import argparse
import gzip
import os
import platform
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FASHION = "/usr/share/datasets/fashion-mnist"

# name -> (database, CREATE TABLE suffix for the column, table options, label)
VARIANTS = {
    "pgvector": ("pgv", "", "", "pgvector 0.8.6 (its default: STORAGE external)"),
    "nmvec": ("nmv", "", "", "nmvec, default column"),
    "nmvec_main_pglz": ("nmv", "main pglz", "", "nmvec, STORAGE main, pglz"),
    "nmvec_main_lz4": ("nmv", "main lz4", "", "nmvec, STORAGE main, COMPRESSION lz4"),
    "nmvec_external": ("nmv", "external", "", "nmvec, STORAGE external"),
    "nmvec_main8160": ("nmv", "main pglz", ", toast_tuple_target = 8160",
                       "nmvec, STORAGE main, toast_tuple_target = 8160"),
}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def psql(db, sql, timing=False):
    """Run sql in db; returns stdout (unaligned tuples). With timing, returns
    the milliseconds of every statement after a `\\timing on` line."""
    cmd = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", db]
    r = subprocess.run(cmd, input=sql, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"psql failed in {db}: {r.stderr.strip()}\n--- sql ---\n{sql[:2000]}")
    if timing:
        return [float(m) for m in re.findall(r"^Time: ([0-9.]+) ms", r.stdout, re.M)]
    return r.stdout.strip()


def stats(xs):
    return statistics.median(xs), min(xs), max(xs)


def fmt_rate(rows, ms_list):
    rates = [rows * 1000.0 / ms for ms in ms_list]
    m, lo, hi = stats(rates)
    return m, f"{m:,.0f} ({lo:,.0f}–{hi:,.0f})"


def fmt_ms(ms_list):
    m, lo, hi = stats(ms_list)
    return m, f"{m:.1f} ({lo:.1f}–{hi:.1f})"


def load_pixels(files):
    """Fashion-MNIST train images as a COPY text file: id, label, int[]."""
    path = os.path.join(files, "pixels.txt")
    if os.path.exists(path):
        return path
    with gzip.open(os.path.join(FASHION, "train-images-idx3-ubyte.gz")) as f:
        data = f.read()
    with gzip.open(os.path.join(FASHION, "train-labels-idx1-ubyte.gz")) as f:
        labels = f.read()
    n = int.from_bytes(data[4:8], "big")
    rows, cols = int.from_bytes(data[8:12], "big"), int.from_bytes(data[12:16], "big")
    px = rows * cols
    with open(path + ".part", "w") as out:
        for i in range(n):
            img = data[16 + i * px:16 + (i + 1) * px]
            out.write(f"{i}\t{labels[8 + i]}\t{{{','.join(map(str, img))}}}\n")
    os.rename(path + ".part", path)
    os.chmod(path, 0o644)
    return path


def create_table(name, variant, dims):
    db, storage, relopts, _ = VARIANTS[variant]
    sql = [f"DROP TABLE IF EXISTS {name};",
           f"CREATE TABLE {name} (id int, label int, v vector({dims})) "
           f"WITH (autovacuum_enabled = off{relopts});"]
    if storage:
        st, *comp = storage.split()
        sql.append(f"ALTER TABLE {name} ALTER COLUMN v SET STORAGE {st};")
        if comp:
            sql.append(f"ALTER TABLE {name} ALTER COLUMN v SET COMPRESSION {comp[0]};")
    psql(db, "\n".join(sql))
    return db


def timed_copy(db, table, path, fmt):
    opts = "(FORMAT binary)" if fmt == "binary" else ""
    psql(db, f"TRUNCATE {table};\nCHECKPOINT;")
    os.sync()  # the previous load's dirty pages written back before the clock starts
    ms = psql(db, f"\\timing on\nCOPY {table} FROM '{path}' {opts};\n", timing=True)
    return ms[0]


def storage_facts(db, table):
    """heap MB, TOAST MB, values compressed inline, values out of line, raw and stored bytes."""
    toast = psql(db, f"SELECT reltoastrelid::regclass FROM pg_class WHERE oid = '{table}'::regclass")
    heap = int(psql(db, f"SELECT pg_relation_size('{table}')"))
    tsize = int(psql(db, f"SELECT pg_total_relation_size('{toast}')")) if toast != "-" else 0
    ool = int(psql(db, f"SELECT count(DISTINCT chunk_id) FROM {toast}")) if toast != "-" else 0
    comp = int(psql(db, f"SELECT count(*) FROM {table} WHERE pg_column_compression(v) IS NOT NULL"))
    return heap / 1048576, tsize / 1048576, comp, ool


def exact_queries(table):
    """The exact top-10 over all rows and under label = 3; the query vector is
    a literal, as an application sends it."""
    return (f"SELECT id FROM {table} ORDER BY v <-> :'q' LIMIT 10;",
            f"SELECT id FROM {table} WHERE label = 3 ORDER BY v <-> :'q' LIMIT 10;")


def exact_scans(tables, runs):
    """Milliseconds of both exact queries for every variant, interleaved: one
    run of each variant per round (round 0 warms up), so drift hits all."""
    pre = "SET max_parallel_workers_per_gather = 0;\nSELECT v::text AS q FROM qv \\gset\n"
    for v, table in tables.items():
        db = VARIANTS[v][0]
        psql(db, f"SELECT pg_prewarm('{table}');" +
             f"SELECT pg_prewarm(reltoastrelid) FROM pg_class WHERE oid = '{table}'::regclass AND reltoastrelid <> 0;")
    res = {v: ([], []) for v in tables}
    for r in range(runs + 1):
        for v, table in tables.items():
            q_all, q_flt = exact_queries(table)
            ms = psql(VARIANTS[v][0], pre + "\\timing on\n" + q_all + q_flt, timing=True)
            if r > 0:
                res[v][0].append(ms[0])
                res[v][1].append(ms[1])
    ids = {v: psql(VARIANTS[v][0], pre + exact_queries(t)[0]).replace("\n", ",") for v, t in tables.items()}
    return res, ids


BENCH_FN = """
CREATE OR REPLACE FUNCTION bench_filtered(tbl text, nq int, OUT qps float8, OUT rows_mean float8)
LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; q record; r int; total int := 0;
BEGIN
  t0 := clock_timestamp();
  FOR q IN SELECT id, label, v FROM qsrc ORDER BY id LIMIT nq LOOP
    EXECUTE format('SELECT count(*) FROM (SELECT id FROM %I WHERE label = %s ORDER BY v <-> %L LIMIT 10) s',
                   tbl, q.label, q.v::text) INTO r;
    total := total + r;
  END LOOP;
  qps := nq / extract(epoch FROM clock_timestamp() - t0);
  rows_mean := total::float8 / nq;
END $$;
CREATE OR REPLACE FUNCTION bench_plans(tbl text, nq int, OUT via_index int, OUT queries int)
LANGUAGE plpgsql AS $$
DECLARE q record; line text; hit bool;
BEGIN
  via_index := 0; queries := 0;
  FOR q IN SELECT id, label, v FROM qsrc ORDER BY id LIMIT nq LOOP
    hit := false;
    FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM %I WHERE label = %s ORDER BY v <-> %L LIMIT 10',
                               tbl, q.label, q.v::text) LOOP
      IF line LIKE '%Index Scan using%' AND line NOT LIKE '%label%' THEN hit := true; END IF;
    END LOOP;
    via_index := via_index + hit::int;
    queries := queries + 1;
  END LOOP;
END $$;
CREATE OR REPLACE FUNCTION bench_ids(tbl text, nq int) RETURNS TABLE (qid int, ids int[])
LANGUAGE plpgsql AS $$
DECLARE q record;
BEGIN
  FOR q IN SELECT id, label, v FROM qsrc ORDER BY id LIMIT nq LOOP
    qid := q.id;
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I WHERE label = %s ORDER BY v <-> %L LIMIT 10) s',
                   tbl, q.label, q.v::text) INTO ids;
    RETURN NEXT;
  END LOOP;
END $$;
"""

MODES = {
    "planner's choice": "",
    "index forced": "SET enable_seqscan = off; SET enable_bitmapscan = off;",
    # serial: on a 2-core machine a parallel exact plan (which the planner
    # picks once decompression is priced) waits on worker start-up
    "exact forced": "SET enable_indexscan = off; SET max_parallel_workers_per_gather = 0;",
}


def planner_part(a, variants):
    """fashion 784-d, default table settings, a B-tree on label and an hnsw
    index: `WHERE label = $2 ORDER BY v <-> $1 LIMIT 10` (10 %), planned with
    the query's own values, as the planner chooses and each plan forced."""
    rows = a.rows
    log(f"planner: fashion 784-d, {rows} rows, hnsw + B-tree on label")
    ft = os.path.join(a.files, "planner.txt")
    psql("nmv", f"DROP TABLE IF EXISTS src;\n"
                f"CREATE TABLE src AS SELECT id, label, px::real[]::vector(784) AS v FROM pixels WHERE id < {rows};\n"
                f"COPY src TO '{ft}';")
    out = ["\n## The planner on compressible data (fashion 784-d, default table settings)\n",
           f"{rows:,} rows; `CREATE INDEX ... USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64)`, "
           "a B-tree on label, ANALYZE, table and indexes pg_prewarm-ed; hnsw.ef_search = 40. "
           f"{a.planner_queries} queries, each a table row with `WHERE label = <its label>` (10 % of the rows), "
           "planned with its values (custom plans) from a PL/pgSQL loop in one call, so QPS is server time "
           "with no client round trip; the exact plan forced runs serially. Recall@10 against the exact plan's ids. pgvector's index scans run with "
           "`hnsw.iterative_scan = relaxed_order` (without it a 10 % filter returns ~4 rows).\n",
           "| | plan chosen | planner's choice QPS | index forced QPS (rows, recall@10) | exact forced QPS |",
           "|---|---|---|---|---|"]
    for v in ("pgvector", "nmvec"):
        if v not in variants:
            continue
        db = VARIANTS[v][0]
        psql(db, f"DROP TABLE IF EXISTS pl; CREATE TABLE pl (id int, label int, v vector(784));\n"
                 f"COPY pl FROM '{ft}';\n"
                 f"CREATE INDEX ON pl USING hnsw (v vector_l2_ops) WITH (m = 16, ef_construction = 64);\n"
                 f"CREATE INDEX ON pl (label); VACUUM ANALYZE pl;\n"
                 f"DROP TABLE IF EXISTS qsrc; CREATE TABLE qsrc AS SELECT id, label, v FROM pl WHERE id % 300 = 7;\n"
                 + BENCH_FN)
        psql(db, "SELECT pg_prewarm(c.oid) FROM pg_class c WHERE c.relname = 'pl' OR c.oid IN "
                 "(SELECT indexrelid FROM pg_index WHERE indrelid = 'pl'::regclass) OR c.oid = "
                 "(SELECT reltoastrelid FROM pg_class WHERE relname = 'pl');")
        it = "SET hnsw.iterative_scan = relaxed_order;" if v == "pgvector" else ""
        via, nq = psql(db, f"{it} SELECT via_index, queries FROM bench_plans('pl', {a.planner_queries})").split("|")
        chosen = (f"hnsw index ({via} of {nq} queries)" if int(via) == int(nq) else
                  f"exact ({int(nq) - int(via)} of {nq} queries)" if int(via) == 0 else
                  f"hnsw index for {via} of {nq} queries, exact for the rest")
        res = {}
        for mode, sets in MODES.items():
            qps = []
            for _ in range(a.repeats):
                r = psql(db, f"{it} {sets} SELECT qps, rows_mean FROM bench_filtered('pl', {a.planner_queries});")
                qps.append(float(r.split("|")[0]))
                rows_mean = float(r.split("|")[1])
            res[mode] = (fmt_rate(1, [1000.0 / x for x in qps])[1], rows_mean)
            log(f"planner: {v} {mode}: {res[mode][0]} QPS, {rows_mean:.1f} rows")
        recall = psql(db, f"{it} CREATE TEMP TABLE ix AS SELECT * FROM bench_ids('pl', {a.planner_queries});\n"
                          f"SET enable_indexscan = off;\n"
                          f"CREATE TEMP TABLE ex AS SELECT * FROM bench_ids('pl', {a.planner_queries});\n"
                          "SELECT avg((SELECT count(*) FROM unnest(ix.ids) i WHERE i = ANY(ex.ids)) / 10.0) "
                          "FROM ix JOIN ex USING (qid);")
        planner = res["planner's choice"][0]
        out.append(f"| {VARIANTS[v][3]} | {chosen} | {planner} | "
                   f"{res['index forced'][0]} ({res['index forced'][1]:.1f}, {float(recall):.3f}) | "
                   f"{res['exact forced'][0]} |")
        psql(db, "DROP TABLE pl, qsrc;")
    os.remove(ft)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", required=True, help="directory the server can read and write")
    ap.add_argument("--dims", default="384,784,1536,4000")
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--rows-wide", type=int, default=20000, help="rows at dims above 2000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--queries", type=int, default=7)
    ap.add_argument("--kinds", default="fashion,random")
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--out", required=True)
    ap.add_argument("--planner-queries", type=int, default=200)
    ap.add_argument("--no-planner", action="store_true")
    ap.add_argument("--command", default="bash bench/storage/run.sh")
    a = ap.parse_args()
    dims_list = [int(x) for x in a.dims.split(",")]
    kinds = a.kinds.split(",")
    variants = a.variants.split(",")

    for db, ext in (("nmv", "nmvec"), ("pgv", "vector")):
        psql("postgres", f"DROP DATABASE IF EXISTS {db}; CREATE DATABASE {db};")
        psql(db, f"CREATE EXTENSION {ext}; CREATE EXTENSION pg_prewarm;")
    if "fashion" in kinds:
        log("fashion-mnist pixels")
        pix = load_pixels(a.files)
        psql("nmv", f"CREATE TABLE pixels (id int PRIMARY KEY, label int, px int[]);\n"
                    f"COPY pixels FROM '{pix}';\nANALYZE pixels;")

    report = []
    summary = []  # (kind, dims, what, ratio vs pgvector) for the top table
    for dims in dims_list:
        rows = a.rows if dims <= 2000 else a.rows_wide
        for kind in kinds:
            log(f"{kind} {dims}-d: generating {rows} rows (not timed)")
            if kind == "fashion":
                k = (dims + 783) // 784
                gen = (f"SELECT p.id, p.label, ((SELECT array_agg(e) FROM unnest((SELECT array_agg(q.px ORDER BY q.id) "
                       f"FROM pixels q WHERE q.id IN (SELECT (p.id + j) % 60000 FROM generate_series(0, {k - 1}) j))) e))"
                       f"[1:{dims}]::real[]::vector({dims}) AS v FROM pixels p WHERE p.id <= {rows}")
            else:
                gen = (f"SELECT i AS id, i % 10 AS label, ARRAY(SELECT (random() * 2 - 1)::real "
                       f"FROM generate_series(1, {dims} + 0 * i))::vector({dims}) AS v FROM generate_series(0, {rows}) i")
            ft, fb = os.path.join(a.files, f"{kind}{dims}.txt"), os.path.join(a.files, f"{kind}{dims}.bin")
            # The query: one more random vector, not loaded; for fashion (which
            # has no image beyond the 60,000 loaded) a loaded row's vector.
            qid = rows if kind == "random" else rows // 2
            psql("nmv", f"SELECT setseed(0.42);\nDROP TABLE IF EXISTS src;\n"
                        f"CREATE TABLE src AS SELECT * FROM ({gen}) s WHERE id <= {rows};\n"
                        f"COPY (SELECT id, label, v FROM src WHERE id < {rows} ORDER BY id) TO '{ft}';\n"
                        f"COPY (SELECT id, label, v FROM src WHERE id < {rows} ORDER BY id) TO '{fb}' (FORMAT binary);\n"
                        f"COPY (SELECT v FROM src WHERE id = {qid}) TO '{ft}.q';")
            for db in ("nmv", "pgv"):
                psql(db, f"DROP TABLE IF EXISTS qv; CREATE TABLE qv (v vector({dims})); COPY qv FROM '{ft}.q';")
                if psql(db, "SELECT count(v) FROM qv") != "1":
                    raise SystemExit(f"no query vector for {kind} {dims}-d")
            tables = {v: f"t_{v}" for v in variants}
            times = {(v, f): [] for v in variants for f in ("text", "binary")}
            for v in variants:
                create_table(tables[v], v, dims)
            for r in range(a.repeats + 1):  # round 0 warms up and is discarded
                # each round starts with another variant, so that no variant
                # always follows the same one (a TOAST-heavy load slows the next)
                for v in variants[r % len(variants):] + variants[:r % len(variants)]:
                    db = VARIANTS[v][0]
                    for fmt, path in (("text", ft), ("binary", fb)):
                        ms = timed_copy(db, tables[v], path, fmt)
                        if r > 0:
                            times[(v, fmt)].append(ms)
                        log(f"{kind} {dims}-d {v:16s} {fmt:6s} {'warm-up' if r == 0 else f'round {r}'}: "
                            f"{rows * 1000 / ms:,.0f} rows/s")
            res = {}
            for v in variants:
                psql(VARIANTS[v][0], f"CREATE INDEX ON {tables[v]} (label); VACUUM ANALYZE {tables[v]};")
            scans, ids = exact_scans(tables, a.queries)
            for v in variants:
                facts = storage_facts(VARIANTS[v][0], tables[v])
                res[v] = dict(text=fmt_rate(rows, times[(v, "text")]), binary=fmt_rate(rows, times[(v, "binary")]),
                              all=fmt_ms(scans[v][0]), flt=fmt_ms(scans[v][1]), facts=facts, ids=ids[v])
                log(f"{kind} {dims}-d {v:16s} exact {res[v]['all'][1]} ms, filtered {res[v]['flt'][1]} ms")
            for v in variants:
                psql(VARIANTS[v][0], f"DROP TABLE {tables[v]};")
            os.remove(ft)
            os.remove(fb)

            same = len({res[v]["ids"] for v in variants}) == 1
            report.append(f"\n### {kind}, {dims}-d ({rows:,} rows, vector datum {8 + 4 * dims:,} bytes)\n")
            report.append("| variant | text COPY rows/s | binary COPY rows/s | exact top-10 ms, all rows | "
                          "exact top-10 ms, 10 % filter (B-tree on label) | heap MB | TOAST MB | compressed | out of line |")
            report.append("|---|---|---|---|---|---|---|---|---|")
            base = res.get("pgvector")
            for v in variants:
                x = res[v]
                h, t, c, o = x["facts"]

                def rel(key):  # the bare ratio of medians; the note under the table says which way is better
                    if base is None or v == "pgvector":
                        return ""
                    return f" **{x[key][0] / base[key][0]:.2f}×**"
                report.append(f"| {VARIANTS[v][3]} | {x['text'][1]}{rel('text')} | "
                              f"{x['binary'][1]}{rel('binary')} | {x['all'][1]}{rel('all')} | "
                              f"{x['flt'][1]}{rel('flt')} | {h:.1f} | {t:.1f} | {c:,} | {o:,} |")
            report.append("")
            report.append("Ratios (bold) are to pgvector in the same run: above 1 is faster for COPY, "
                          "below 1 is faster for scans. " +
                          ("Every variant returned the same 10 ids." if same else
                           "**The variants did not all return the same ids**: " +
                           "; ".join(f"{v}: {res[v]['ids']}" for v in variants)))
            if base is not None and "nmvec" in res:
                n = res["nmvec"]
                summary.append((kind, dims, n["text"][0] / base["text"][0], n["binary"][0] / base["binary"][0],
                                base["all"][0] / n["all"][0], base["flt"][0] / n["flt"][0]))

    if "fashion" in kinds and not a.no_planner:
        report += planner_part(a, variants)

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    with open(a.out, "w") as out:
        out.write(f"# Vector column storage: COPY and exact scans, nmvec beside pgvector ({time.strftime('%Y-%m-%d')})\n\n")
        out.write(f"Machine: {cpu}, {os.cpu_count()} CPUs, {platform.release()}; "
                  f"{psql('nmv', 'SELECT version()')}; pgvector 0.8.6 built from ../shared/peers in this run.\n\n")
        out.write(f"Command: `{a.command}`\n\n")
        out.write(f"nmvec: `{psql('nmv', 'SELECT nmvec_build_info()')}`; git {subprocess.run(['git', '-C', ROOT, 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()}\n\n")
        out.write("Settings: " + psql("nmv", "SELECT string_agg(name || ' = ' || setting, ', ' ORDER BY name) FROM pg_settings "
                                            "WHERE name IN ('shared_buffers', 'fsync', 'default_toast_compression', "
                                            "'max_wal_size', 'wal_level')") +
                  "; exact scans serial (max_parallel_workers_per_gather = 0) with no vector index, "
                  "the 10 % filter reading its rows through a B-tree on label.\n\n")
        if summary:
            out.write("## nmvec's default against pgvector\n\n")
            out.write("| data | dims | text COPY | binary COPY | exact scan, all rows | exact scan, 10 % filter (B-tree) |\n")
            out.write("|---|---|---|---|---|---|\n")
            for kind, dims, t, b, s_all, s_flt in summary:
                out.write(f"| {kind} | {dims} | {t:.2f}× | {b:.2f}× | {s_all:.2f}× | {s_flt:.2f}× |\n")
            out.write("\nEach figure is nmvec's speed divided by pgvector's (rows/s for COPY, 1/time for scans): "
                      "1.00× or more means nmvec is at least as fast.\n")
        out.write("\n## Every variant\n")
        out.write("\n".join(report) + "\n")
    log(f"wrote {a.out}")


if __name__ == "__main__":
    main()

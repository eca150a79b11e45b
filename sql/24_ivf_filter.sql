-- ivf filter columns: CREATE INDEX ... USING ivf (embedding, tenant, ...)
-- stores the columns besides the vector in each list record; conditions
-- on them (=, <>, <, <=, >, >=, = ANY, IS [NOT] NULL, their ANDs,
-- cross-type integer comparisons) are scan keys the scan checks on every
-- record it reads, before any distance, and the executor does not check
-- them again: a wrong check would show as a returned row that does not
-- match. Every condition against a copy of the table without the index:
-- rows returned (k whenever k match), rows that do not match (0), and
-- whether the exact 10 nearest matching rows came back (hits). For each
-- quantizer (flat, rabitq), the vector before and after filter columns,
-- inserts (buffered, through the insert helper), deletes and VACUUM, a
-- NULL query, EXPLAIN, the planner beside B-trees, errors.
SELECT setseed(0.24);
CREATE TABLE fi (id int PRIMARY KEY, embedding vector(8), tenant int4, cat int2, big int8, flag bool,
                 d date, ts timestamptz, t2 timestamp, host text, u uuid)
  WITH (autovacuum_enabled = off);
CREATE FUNCTION fi_row(i int) RETURNS fi LANGUAGE sql AS $$
  SELECT i, (SELECT array_agg(sin(i * k * 0.37 + k) + (i % 7) * 0.3 ORDER BY k)
               FROM generate_series(1, 8) k)::real[]::vector,
         CASE WHEN i % 50 = 0 THEN NULL ELSE i % 37 END, (i % 5)::int2, i::int8 * 1000000000,
         CASE WHEN i % 11 = 0 THEN NULL ELSE i % 3 = 0 END, date '2025-01-01' + i % 100,
         timestamptz '2025-10-01 00:00+00' + i * interval '1 minute',
         timestamp '2025-10-01' + (i % 240) * interval '1 hour',
         CASE WHEN i % 50 = 1 THEN NULL ELSE 'host-' || i % 23 END, md5((i % 13)::text)::uuid $$;
INSERT INTO fi SELECT (fi_row(i)).* FROM generate_series(1, 3000) i;
CREATE TABLE fi_plain AS SELECT * FROM fi;  -- the same rows, no index
SET max_parallel_maintenance_workers = 0;
SET timezone = 'UTC';
SET jit = off;  -- enable_seqscan = off makes every plan cost past jit_above_cost
CREATE INDEX fi_flat ON fi USING ivf (embedding vector_l2_ops, tenant, cat, big, flag, d, ts, t2, host, u)
  WITH (lists = 20, quantizer = 'flat');
SET enable_seqscan = off;  -- the ivf index, whatever the planner thinks of the filter

-- One condition, k rows: returned, expected (min(k, matching)), wrong
-- (returned rows that do not match), hits (of the exact k nearest
-- matching rows; the lists are approximate, so a miss or two may happen,
-- and the output shows whether at least k - 1 came back).
CREATE FUNCTION fi_check(cond text, k int DEFAULT 10)
RETURNS TABLE (returned bigint, expected bigint, wrong bigint, hits_ok boolean) LANGUAGE plpgsql AS $$
DECLARE q vector := (fi_row(17)).embedding;
BEGIN
  RETURN QUERY EXECUTE format($f$
    WITH got AS MATERIALIZED (SELECT id FROM fi WHERE %1$s ORDER BY embedding <-> $1 LIMIT %2$s),
         exact AS (SELECT id FROM fi_plain WHERE %1$s ORDER BY embedding <-> $1, id LIMIT %2$s)
    SELECT (SELECT count(*) FROM got),
           (SELECT least(%2$s, count(*)) FROM fi_plain WHERE %1$s),
           (SELECT count(*) FROM got JOIN fi_plain p USING (id) WHERE NOT coalesce(%1$s, false)),
           (SELECT count(*) FROM got JOIN exact USING (id))
             >= (SELECT least(%2$s, count(*)) FROM fi_plain WHERE %1$s) - greatest(1, %2$s / 10)$f$,
    cond, k) USING q;
END $$;
CREATE TABLE fi_conds (n serial, cond text);
INSERT INTO fi_conds (cond) VALUES
  ('tenant = 5'), ('tenant = 5::int8'), ('tenant = 5::int2'), ('cat = 2::int4'), ('cat = 2::int8'),
  ('tenant IN (1, 2, 3)'), ('tenant = ANY (''{4, 9, NULL}''::int[])'), ('tenant <> 5 AND cat < 3'),
  ('cat >= 2 AND cat <= 3'), ('cat > 3'), ('cat < 1'), ('big > 2000000000000'), ('big <= 5000000000::int8'),
  ('big = 7000000000'), ('flag = true'), ('flag <> true'), ('flag'), ('NOT flag'),
  ('d BETWEEN ''2025-01-10'' AND ''2025-01-20'''), ('d = ''2025-01-05'''),
  ('ts >= ''2025-10-02'' AND ts < ''2025-10-02 06:00'''), ('ts > ''2025-10-03'''),
  ('t2 < ''2025-10-02'''), ('t2 >= ''2025-10-10'' AND cat = 4'),
  ('tenant IS NULL'), ('tenant IS NOT NULL AND cat = 1'), ('flag IS NULL'), ('flag IS NOT NULL'),
  ('tenant = 5 AND cat = 0'), ('tenant = 5 AND tenant = 6'), ('tenant = 999'), ('tenant < ANY (''{3, 7}'')'),
  ('tenant > ANY (''{30, 35}'')'), ('tenant <> ANY (''{1}'')'), ('tenant <> ANY (''{1, 2}'')'),
  ('tenant = ANY (''{}''::int[])'), ('tenant = 3 OR tenant = 4'), ('tenant + 0 = 5'),
  ('tenant = 1 AND cat IN (1, 2) AND flag AND ts < ''2025-10-02'''), ('embedding IS NOT NULL AND tenant = 2'),
  ('embedding IS NULL'), ('host = ''host-5'''), ('host IN (''host-1'', ''host-2'')'),
  ('host <> ''host-5'' AND cat = 1'), ('host > ''host-3'''), ('host IS NULL'), ('host = ''nowhere'''),
  ('u = md5(''3'')::uuid'), ('u = ANY (ARRAY[md5(''4'')::uuid, md5(''5'')::uuid])'), ('u < md5(''7'')::uuid'),
  ('host = ''host-7'' AND tenant < 20 AND u <> md5(''1'')::uuid'),
  ('ts > ''2025-10-03 02:00'''), ('ts >= ''2025-10-03 03:00'' AND tenant = 3');
SELECT n, cond, c.* FROM fi_conds, fi_check(cond) c ORDER BY n;
-- k = 100, more rows than the first probes hold. Where a condition is
-- not an Index Cond (an OR, an expression, = ANY on a column after the
-- first, a bare boolean column, which PostgreSQL 15 turns into `flag` and
-- matches only to its own boolean operator families, and comparisons
-- other than = on text and uuid, kept as hashes), the executor filters
-- the rows of rounds that come in relaxed order, and hits may fall short.
SELECT n, cond, c.* FROM fi_conds, fi_check(cond, 100) c WHERE n IN (1, 8, 9, 21, 26, 29, 39, 42) ORDER BY n;
CREATE FUNCTION fi_totals(k int DEFAULT 10) RETURNS TABLE (returned numeric, expected numeric, wrong numeric,
  hits_ok bigint, conds bigint) LANGUAGE sql AS $$
  SELECT sum(c.returned), sum(c.expected), sum(c.wrong), count(*) FILTER (WHERE c.hits_ok), count(*)
    FROM fi_conds, fi_check(cond, k) c $$;
-- The first probes only (ivf.probes = 1): filtered rounds widen until rows
-- pass, so nothing is short.
SET ivf.probes = 1;
SELECT * FROM fi_totals();
RESET ivf.probes;

-- Which conditions the index checks: the Index Cond.
EXPLAIN (COSTS OFF) SELECT id FROM fi WHERE tenant = 5 AND cat < 3
  ORDER BY embedding <-> '[1,1,1,1,1,1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM fi WHERE tenant = ANY ('{1,2}') AND ts IS NOT NULL
  ORDER BY embedding <-> '[1,1,1,1,1,1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM fi WHERE tenant + 0 = 5
  ORDER BY embedding <-> '[1,1,1,1,1,1,1,1]' LIMIT 5;
-- A NULL query returns the rows that match, in no order.
SELECT count(*) FROM (SELECT id FROM fi WHERE tenant = 5 ORDER BY embedding <-> NULL LIMIT 1000) s;
SELECT count(*) FROM fi_plain WHERE tenant = 5;
SELECT count(*) FROM (SELECT id FROM fi WHERE tenant = 5 AND tenant = 6 ORDER BY embedding <-> NULL) s;
DROP INDEX fi_flat;

-- RaBitQ (the default quantizer), the vector between filter columns.
CREATE INDEX fi_rq ON fi USING ivf (tenant, embedding vector_l2_ops, cat, flag, ts, host) WITH (lists = 20);
SELECT * FROM fi_totals();
SELECT n, cond, c.* FROM fi_conds, fi_check(cond, 100) c WHERE n IN (1, 8, 9, 21, 26, 29, 39, 42) ORDER BY n;
-- Inserts after the build: single rows, then a COPY-sized batch (through
-- the insert helper thread), deletes and VACUUM.
INSERT INTO fi SELECT (fi_row(i)).* FROM generate_series(3001, 3010) i;
INSERT INTO fi_plain SELECT (fi_row(i)).* FROM generate_series(3001, 3010) i;
INSERT INTO fi SELECT (fi_row(i)).* FROM generate_series(3011, 4500) i;
INSERT INTO fi_plain SELECT (fi_row(i)).* FROM generate_series(3011, 4500) i;
SELECT n, cond, c.* FROM fi_conds, fi_check(cond) c WHERE n IN (1, 6, 8, 21, 22, 25, 29, 52, 53) ORDER BY n;
DELETE FROM fi WHERE id % 4 = 1;
DELETE FROM fi_plain WHERE id % 4 = 1;
VACUUM fi;
SELECT * FROM fi_totals();
SELECT lists, records, dead, rows_added FROM nmvec_ivf_stats('fi_rq');
REINDEX INDEX fi_rq;
SELECT * FROM fi_totals();
DROP INDEX fi_rq;

-- halfvec under cosine, flat and rabitq4; an index built on an empty table.
CREATE TABLE fi2 (id int, h halfvec(8), tenant int, flag bool);
CREATE INDEX fi2_flat ON fi2 USING ivf (h halfvec_cosine_ops, tenant, flag) WITH (quantizer = 'flat');
CREATE INDEX fi2_rq4 ON fi2 USING ivf (h halfvec_cosine_ops, tenant) WITH (quantizer = 'rabitq4');
INSERT INTO fi2 SELECT id, embedding::halfvec, tenant, flag FROM fi_plain;
SELECT count(*) AS returned, count(*) FILTER (WHERE NOT (tenant = 7 AND flag)) AS wrong
  FROM (SELECT * FROM fi2 WHERE tenant = 7 AND flag ORDER BY h <=> '[1,0,1,0,1,0,1,0]' LIMIT 20) s;
SELECT count(*) FROM fi_plain WHERE tenant = 7 AND flag;
DROP INDEX fi2_flat;
SELECT count(*) AS returned, count(*) FILTER (WHERE tenant IS DISTINCT FROM 7) AS wrong
  FROM (SELECT * FROM fi2 WHERE tenant = 7 ORDER BY h <=> '[1,0,1,0,1,0,1,0]' LIMIT 200) s;
SELECT count(*) FROM fi_plain WHERE tenant = 7;
DROP TABLE fi2;

-- The planner's choice with B-trees beside a filter-column index (20,000
-- rows of 64 dims): a condition a B-tree narrows to a few rows is answered
-- exactly (the B-tree, then a sort), a wide one by the ivf index.
CREATE TABLE fp (id int, v vector(64), label int, tenant int);
INSERT INTO fp SELECT i, (SELECT array_agg(sin(i * k * 0.013 + k) + (i % 10) ORDER BY k) FROM generate_series(1, 64) k),
    i % 10, i % 1000
  FROM generate_series(1, 20000) i;
CREATE INDEX fp_v ON fp USING ivf (v vector_l2_ops, label, tenant) WITH (lists = 50);
CREATE INDEX fp_tenant ON fp (tenant);
CREATE INDEX fp_label ON fp (label);
ANALYZE fp;
RESET enable_seqscan;
-- 10 %: the ivf index (the label in its Index Cond)
EXPLAIN (COSTS OFF) SELECT id FROM fp WHERE label = 3 ORDER BY v <-> (SELECT v FROM fp WHERE id = 1) LIMIT 10;
-- 0.1 % (20 rows): a B-tree and a sort
EXPLAIN (COSTS OFF) SELECT id FROM fp WHERE tenant = 7 ORDER BY v <-> (SELECT v FROM fp WHERE id = 1) LIMIT 10;
SELECT count(*) AS returned, count(*) FILTER (WHERE label = 3) AS matching
  FROM (SELECT * FROM fp WHERE label = 3 ORDER BY v <-> (SELECT v FROM fp WHERE id = 1) LIMIT 10) s;
SET enable_seqscan = off;
DROP TABLE fp;

-- Errors: one vector column; filter columns of other types; ivfflat
-- (pgvector's name) has no filter-column operator classes: create the
-- index USING ivf.
CREATE INDEX ON fi USING ivf (tenant, cat);
CREATE INDEX ON fi USING ivf (embedding, tenant int4_ops, embedding);
CREATE INDEX ON fi USING ivf (embedding, (tenant::numeric));
CREATE INDEX ON fi USING ivf (embedding, tenant bool_ops);
CREATE INDEX ON fi USING ivfflat (embedding, tenant);
SELECT opcname FROM pg_opclass WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'ivf')
  AND opcname NOT LIKE '%vec%' ORDER BY 1;
RESET enable_seqscan;
DROP FUNCTION fi_row, fi_check, fi_totals;
DROP TABLE fi, fi_plain, fi_conds;

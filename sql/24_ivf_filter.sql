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
\getenv abs_srcdir PG_ABS_SRCDIR
\set filter_rows :abs_srcdir '/sql/include/filter_rows.sql'
-- fe, fe_row, fe_plain and fe_conds (shared with sql/24_ivf_filter and sql/22_hnsw_filter)
\i :filter_rows
SET max_parallel_maintenance_workers = 0;
SET timezone = 'UTC';
SET jit = off;  -- enable_seqscan = off makes every plan cost past jit_above_cost
CREATE INDEX fi_flat ON fe USING ivf (embedding vector_l2_ops, tenant, cat, big, flag, d, ts, t2, host, u)
  WITH (lists = 20, quantizer = 'flat');
SET enable_seqscan = off;  -- the ivf index, whatever the planner thinks of the filter

-- fe_check's answer (include/filter_rows.sql), with hits as whether at
-- least k - max(1, k / 10) of the exact k nearest matching rows came back:
-- the lists are approximate, so a miss or two may happen.
CREATE FUNCTION fi_check(cond text, k int DEFAULT 10)
RETURNS TABLE (returned bigint, expected bigint, wrong bigint, hits_ok boolean) LANGUAGE sql AS $$
  SELECT c.returned, c.expected, c.wrong, c.hits >= c.expected - greatest(1, k / 10)
    FROM fe_check(cond, k) c $$;
SELECT n, cond, c.* FROM fe_conds, fi_check(cond) c ORDER BY n;
-- k = 100, more rows than the first probes hold. Where a condition is
-- not an Index Cond (an OR, an expression, = ANY on a column after the
-- first, a bare boolean column, which PostgreSQL 15 turns into `flag` and
-- matches only to its own boolean operator families, and comparisons
-- other than = on text and uuid, kept as hashes), the executor filters
-- the rows of rounds that come in relaxed order, and hits may fall short.
SELECT n, cond, c.* FROM fe_conds, fi_check(cond, 100) c WHERE n IN (1, 8, 9, 21, 26, 29, 39, 42) ORDER BY n;
CREATE FUNCTION fi_totals(k int DEFAULT 10) RETURNS TABLE (returned numeric, expected numeric, wrong numeric,
  hits_ok bigint, conds bigint) LANGUAGE sql AS $$
  SELECT sum(c.returned), sum(c.expected), sum(c.wrong), count(*) FILTER (WHERE c.hits_ok), count(*)
    FROM fe_conds, fi_check(cond, k) c $$;
-- The first probes only (ivf.probes = 1): filtered rounds widen until rows
-- pass, so nothing is short.
SET ivf.probes = 1;
SELECT * FROM fi_totals();
RESET ivf.probes;

-- Which conditions the index checks: the Index Cond.
EXPLAIN (COSTS OFF) SELECT id FROM fe WHERE tenant = 5 AND cat < 3
  ORDER BY embedding <-> '[1,1,1,1,1,1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM fe WHERE tenant = ANY ('{1,2}') AND ts IS NOT NULL
  ORDER BY embedding <-> '[1,1,1,1,1,1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM fe WHERE tenant + 0 = 5
  ORDER BY embedding <-> '[1,1,1,1,1,1,1,1]' LIMIT 5;
-- A NULL query returns the rows that match, in no order.
SELECT count(*) FROM (SELECT id FROM fe WHERE tenant = 5 ORDER BY embedding <-> NULL LIMIT 1000) s;
SELECT count(*) FROM fe_plain WHERE tenant = 5;
SELECT count(*) FROM (SELECT id FROM fe WHERE tenant = 5 AND tenant = 6 ORDER BY embedding <-> NULL) s;
DROP INDEX fi_flat;

-- RaBitQ (the default quantizer), the vector between filter columns.
CREATE INDEX fi_rq ON fe USING ivf (tenant, embedding vector_l2_ops, cat, flag, ts, host) WITH (lists = 20);
SELECT * FROM fi_totals();
SELECT n, cond, c.* FROM fe_conds, fi_check(cond, 100) c WHERE n IN (1, 8, 9, 21, 26, 29, 39, 42) ORDER BY n;
-- Inserts after the build: single rows, then a COPY-sized batch (through
-- the insert helper thread), deletes and VACUUM.
INSERT INTO fe SELECT (fe_row(i)).* FROM generate_series(3001, 3010) i;
INSERT INTO fe_plain SELECT (fe_row(i)).* FROM generate_series(3001, 3010) i;
INSERT INTO fe SELECT (fe_row(i)).* FROM generate_series(3011, 4500) i;
INSERT INTO fe_plain SELECT (fe_row(i)).* FROM generate_series(3011, 4500) i;
SELECT n, cond, c.* FROM fe_conds, fi_check(cond) c WHERE n IN (1, 6, 8, 21, 22, 25, 29, 52, 53) ORDER BY n;
DELETE FROM fe WHERE id % 4 = 1;
DELETE FROM fe_plain WHERE id % 4 = 1;
VACUUM fe;
SELECT * FROM fi_totals();
SELECT lists, records, dead, rows_added FROM nmvec_ivf_stats('fi_rq');
REINDEX INDEX fi_rq;
SELECT * FROM fi_totals();
DROP INDEX fi_rq;

-- halfvec under cosine, flat and rabitq4; an index built on an empty table.
CREATE TABLE fi2 (id int, h halfvec(8), tenant int, flag bool);
CREATE INDEX fi2_flat ON fi2 USING ivf (h halfvec_cosine_ops, tenant, flag) WITH (quantizer = 'flat');
CREATE INDEX fi2_rq4 ON fi2 USING ivf (h halfvec_cosine_ops, tenant) WITH (quantizer = 'rabitq4');
INSERT INTO fi2 SELECT id, embedding::halfvec, tenant, flag FROM fe_plain;
SELECT count(*) AS returned, count(*) FILTER (WHERE NOT (tenant = 7 AND flag)) AS wrong
  FROM (SELECT * FROM fi2 WHERE tenant = 7 AND flag ORDER BY h <=> '[1,0,1,0,1,0,1,0]' LIMIT 20) s;
SELECT count(*) FROM fe_plain WHERE tenant = 7 AND flag;
DROP INDEX fi2_flat;
SELECT count(*) AS returned, count(*) FILTER (WHERE tenant IS DISTINCT FROM 7) AS wrong
  FROM (SELECT * FROM fi2 WHERE tenant = 7 ORDER BY h <=> '[1,0,1,0,1,0,1,0]' LIMIT 200) s;
SELECT count(*) FROM fe_plain WHERE tenant = 7;
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
CREATE INDEX ON fe USING ivf (tenant, cat);
CREATE INDEX ON fe USING ivf (embedding, tenant int4_ops, embedding);
CREATE INDEX ON fe USING ivf (embedding, (tenant::numeric));
CREATE INDEX ON fe USING ivf (embedding, tenant bool_ops);
CREATE INDEX ON fe USING ivfflat (embedding, tenant);
SELECT opcname FROM pg_opclass WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'ivf')
  AND opcname NOT LIKE '%vec%' ORDER BY 1;
RESET enable_seqscan;
DROP FUNCTION fe_row, fe_check, fi_check, fi_totals;
DROP TABLE fe, fe_plain, fe_conds;

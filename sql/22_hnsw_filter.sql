-- hnsw filter columns: CREATE INDEX ... USING hnsw (embedding, tenant, ...)
-- stores the columns besides the vector in the index; conditions on them
-- (=, <>, <, <=, >, >=, = ANY, IS [NOT] NULL, their ANDs, cross-type
-- integer comparisons) are scan keys the index checks while it walks, and
-- the executor does not check them again: a wrong check would show as a
-- returned row that does not match. Every condition below, against a copy
-- of the table without the index: rows returned (k whenever k match), rows
-- that do not match (0), and how many of the exact 10 nearest matching
-- rows were returned. The same after inserts (pending list and
-- synchronous), deletes and VACUUM; a filter column before the vector
-- (IN on it); EXPLAIN; errors.
SELECT setseed(0.22);
\getenv abs_srcdir PG_ABS_SRCDIR
\set filter_rows :abs_srcdir '/sql/include/filter_rows.sql'
-- fe, fe_row, fe_plain and fe_conds (shared with sql/24_ivf_filter and sql/22_hnsw_filter)
\i :filter_rows
SET max_parallel_maintenance_workers = 0;
SET nmvec.background_merge = off;
SET timezone = 'UTC';
SET jit = off;  -- enable_seqscan = off makes every plan cost past jit_above_cost
CREATE INDEX fe_idx ON fe USING hnsw (embedding vector_l2_ops, tenant, cat, big, flag, d, ts, t2, host, u);
SELECT pg_relation_size('fe_idx') > 0 AS built;
SET enable_seqscan = off;  -- the hnsw index, whatever the planner thinks of the filter
SET hnsw.ef_search = 100;

SELECT n, cond, c.* FROM fe_conds, fe_check(cond) c ORDER BY n;
-- The same under each way of walking (hnsw.filter_mode; auto chose the
-- exact pass for most of them at this size): totals over the conditions.
CREATE FUNCTION fe_totals(k int DEFAULT 10) RETURNS TABLE (returned numeric, expected numeric, wrong numeric,
  hits numeric) LANGUAGE sql AS $$
  SELECT sum(c.returned), sum(c.expected), sum(c.wrong), sum(c.hits) FROM fe_conds, fe_check(cond, k) c $$;
SET hnsw.filter_mode = traverse;
SELECT * FROM fe_totals();
SET hnsw.filter_mode = two_hop;
SELECT * FROM fe_totals();
SET hnsw.filter_mode = exact;
SELECT * FROM fe_totals();
RESET hnsw.filter_mode;

-- LIMIT 100 (more than ef_search): iterative scans keep going.
SELECT n, cond, c.* FROM fe_conds, fe_check(cond, 100) c WHERE n IN (1, 8, 21, 29) ORDER BY n;

-- Which conditions the index checks: the Index Cond.
EXPLAIN (COSTS OFF) SELECT id FROM fe WHERE tenant = 5 AND cat < 3
  ORDER BY embedding <-> '[1,1,1,1,1,1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM fe WHERE tenant = ANY ('{1,2}') AND ts IS NOT NULL
  ORDER BY embedding <-> '[1,1,1,1,1,1,1,1]' LIMIT 5;
EXPLAIN (COSTS OFF) SELECT id FROM fe WHERE tenant + 0 = 5
  ORDER BY embedding <-> '[1,1,1,1,1,1,1,1]' LIMIT 5;

-- Inserts after the build: the pending list (fastupdate), then
-- synchronous inserts; deletes and VACUUM.
INSERT INTO fe SELECT (fe_row(i)).* FROM generate_series(3001, 3400) i;
INSERT INTO fe_plain SELECT (fe_row(i)).* FROM generate_series(3001, 3400) i;
SELECT pending > 0 AS has_pending FROM nmvec_index_stats('fe_idx');
SELECT n, cond, c.* FROM fe_conds, fe_check(cond) c WHERE n IN (1, 6, 8, 12, 21, 25, 29, 52, 53, 54) ORDER BY n;
ALTER INDEX fe_idx SET (fastupdate = off);
INSERT INTO fe SELECT (fe_row(i)).* FROM generate_series(3401, 3600) i;
INSERT INTO fe_plain SELECT (fe_row(i)).* FROM generate_series(3401, 3600) i;
DELETE FROM fe WHERE id % 4 = 1;
DELETE FROM fe_plain WHERE id % 4 = 1;
VACUUM fe;
SELECT n, cond, c.* FROM fe_conds, fe_check(cond) c WHERE n IN (1, 6, 8, 12, 21, 25, 29, 52, 53, 54) ORDER BY n;

-- A NULL query returns the rows that match, in no order.
SELECT count(*) FROM (SELECT id FROM fe WHERE tenant = 5 ORDER BY embedding <-> NULL LIMIT 1000) s;
SELECT count(*) FROM fe_plain WHERE tenant = 5;
SELECT count(*) FROM (SELECT id FROM fe WHERE ts > '2025-10-03 02:00' ORDER BY embedding <-> NULL LIMIT 1000) s;
SELECT count(*) FROM fe_plain WHERE ts > '2025-10-03 02:00';

-- Filter columns with a quantizer, and REINDEX.
CREATE INDEX fe_rq ON fe USING hnsw (embedding vector_l2_ops, tenant, ts) WITH (quantizer = 'rabitq');
DROP INDEX fe_idx;
SELECT n, cond, c.* FROM fe_conds, fe_check(cond) c WHERE n IN (1, 8, 21, 25, 29) ORDER BY n;
REINDEX INDEX fe_rq;
SELECT n, cond, c.* FROM fe_conds, fe_check(cond) c WHERE n IN (1, 21) ORDER BY n;
DROP INDEX fe_rq;

-- An index built on an empty table, then filled.
CREATE TABLE fe2 (LIKE fe);
CREATE INDEX fe2_idx ON fe2 USING hnsw (embedding vector_cosine_ops, tenant, flag, host);
INSERT INTO fe2 SELECT * FROM fe_plain;
SELECT count(*) AS returned,
       count(*) FILTER (WHERE NOT (tenant = 7 AND flag)) AS wrong
  FROM (SELECT * FROM fe2 WHERE tenant = 7 AND flag ORDER BY embedding <=> '[1,0,1,0,1,0,1,0]' LIMIT 20) s;

-- text and uuid are kept as hashes: the executor rechecks (EXPLAIN shows
-- the Index Cond all the same).
EXPLAIN (COSTS OFF) SELECT id FROM fe2 WHERE host = 'host-5' ORDER BY embedding <=> '[1,1,1,1,1,1,1,1]' LIMIT 5;
SELECT count(*) AS returned, count(*) FILTER (WHERE host IS DISTINCT FROM 'host-5') AS wrong
  FROM (SELECT * FROM fe2 WHERE host = 'host-5' ORDER BY embedding <=> '[1,1,1,1,1,1,1,1]' LIMIT 500) s;
SELECT count(*) FROM fe_plain WHERE host = 'host-5';

-- Filter columns before the vector: PostgreSQL 15 gives an index path
-- that keeps the ORDER BY an IN list only on the leading column.
CREATE INDEX fe_lead ON fe USING hnsw (tenant, embedding vector_l2_ops, cat);
EXPLAIN (COSTS OFF) SELECT id FROM fe WHERE tenant IN (1, 2) AND cat = 3
  ORDER BY embedding <-> '[1,1,1,1,1,1,1,1]' LIMIT 5;
SELECT n, cond, c.* FROM fe_conds, fe_check(cond) c WHERE n IN (1, 2, 6, 7, 8, 25, 29, 30, 36) ORDER BY n;
INSERT INTO fe SELECT (fe_row(i)).* FROM generate_series(3601, 3700) i;
INSERT INTO fe_plain SELECT (fe_row(i)).* FROM generate_series(3601, 3700) i;
SELECT n, cond, c.* FROM fe_conds, fe_check(cond) c WHERE n IN (1, 6, 8) ORDER BY n;
DROP INDEX fe_lead;

-- The planner's choice with B-trees beside a filter-column index (20,000
-- rows of 64 dims): a condition a B-tree narrows to a few rows is answered
-- exactly (the B-tree, then a sort, or the hnsw index's exact pass,
-- whichever costs less), a wide one by the hnsw index that checks it while
-- it walks.
CREATE TABLE fp (id int, v vector(64), label int, tenant int, ts timestamptz);
INSERT INTO fp SELECT i, (SELECT array_agg(sin(i * k * 0.013 + k) + (i % 10) ORDER BY k) FROM generate_series(1, 64) k),
    i % 10, i % 100, timestamptz '2025-10-01 00:00+00' + i * interval '1 minute'
  FROM generate_series(1, 20000) i;
CREATE INDEX fp_v ON fp USING hnsw (v vector_l2_ops, label, tenant, ts);
CREATE INDEX fp_tenant ON fp (tenant);
CREATE INDEX fp_ts ON fp (ts);
CREATE INDEX fp_label ON fp (label);
ANALYZE fp;
RESET enable_seqscan;
-- 10 %: the hnsw index (the label in its Index Cond)
EXPLAIN (COSTS OFF) SELECT id FROM fp WHERE label = 3 ORDER BY v <-> (SELECT v FROM fp WHERE id = 1) LIMIT 10;
-- 1 % (200 rows): the hnsw index's exact pass, which judges most pages by
-- the copies of their zones a backend keeps (0.155 ms p50 against the
-- B-tree plan's 0.176 in a local cluster, 3 x 206 queries)
EXPLAIN (COSTS OFF) SELECT id FROM fp WHERE tenant = 7 ORDER BY v <-> (SELECT v FROM fp WHERE id = 1) LIMIT 10;
-- the latest 0.1 %: a B-tree and a sort
EXPLAIN (COSTS OFF) SELECT id FROM fp WHERE ts > '2025-10-14 21:00+00'
  ORDER BY v <-> (SELECT v FROM fp WHERE id = 1) LIMIT 10;
-- the latest 30 %: the hnsw index
EXPLAIN (COSTS OFF) SELECT id FROM fp WHERE ts > '2025-10-10 12:00+00'
  ORDER BY v <-> (SELECT v FROM fp WHERE id = 1) LIMIT 10;
-- and each answers: 10 rows, all of them matching
SELECT count(*) AS returned, count(*) FILTER (WHERE label = 3) AS matching
  FROM (SELECT * FROM fp WHERE label = 3 ORDER BY v <-> (SELECT v FROM fp WHERE id = 1) LIMIT 10) s;
SELECT count(*) AS returned, count(*) FILTER (WHERE ts > '2025-10-10 12:00+00') AS matching
  FROM (SELECT * FROM fp WHERE ts > '2025-10-10 12:00+00' ORDER BY v <-> (SELECT v FROM fp WHERE id = 1) LIMIT 10) s;
SET enable_seqscan = off;
DROP TABLE fp;

-- Errors: one vector column; filter columns of other types; a text
-- filter column under a nondeterministic collation.
CREATE INDEX ON fe USING hnsw (tenant, cat);
CREATE INDEX ON fe USING hnsw (embedding, tenant int4_ops, embedding);
CREATE INDEX ON fe USING hnsw (embedding, (tenant::text));
CREATE INDEX ON fe USING hnsw (embedding, tenant bool_ops);
CREATE INDEX ON fe USING hnsw (embedding, (tenant::numeric));
CREATE COLLATION fe_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE INDEX ON fe USING hnsw (embedding, (host COLLATE fe_ci));
CREATE INDEX fe_c ON fe USING hnsw (embedding, (host COLLATE "C"));
DROP INDEX fe_c;
DROP COLLATION fe_ci;
RESET enable_seqscan;
DROP FUNCTION fe_row, fe_check, fe_totals;
DROP TABLE fe, fe_plain, fe2, fe_conds;

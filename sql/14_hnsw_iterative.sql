-- Iterative scans: `WHERE ... ORDER BY ... LIMIT k` returns k rows whenever
-- k rows match, in both orders; strict order keeps rows in non-decreasing
-- distance, and the rare row found only after farther ones were returned
-- comes at the end instead of being dropped.
SELECT setseed(0.42);
CREATE TABLE it (id int PRIMARY KEY, tenant int, v vector(32));
INSERT INTO it SELECT i, i % 8,
    (SELECT array_agg(random())::real[] FROM generate_series(1, 32) WHERE i > 0)::vector
  FROM generate_series(1, 20000) i;
-- a sparse graph (m = 4) makes late finds common: ~300 of this tenant's rows
CREATE INDEX it_hnsw ON it USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
ANALYZE it;
SET enable_seqscan = off;
SET enable_indexscan = on;
SET enable_bitmapscan = off;
-- the plan walks the hnsw index and filters
EXPLAIN (COSTS OFF)
SELECT id FROM it WHERE tenant = 3 ORDER BY v <-> (SELECT v FROM it WHERE id = 1) LIMIT 2500;

-- A tenant of 2,500 rows asked for 2,500 gets all of them, each once.
CREATE TEMP TABLE got (pos bigint, id int, d float8);
CREATE FUNCTION fetch_tenant(q vector, lim int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE got;
  INSERT INTO got SELECT row_number() OVER (), id, d
    FROM (SELECT id, v <-> q AS d FROM it WHERE tenant = 3 ORDER BY v <-> q LIMIT lim) s;
END $$;
-- late: rows closer than a row returned before them; they must all be at the end
CREATE VIEW got_order AS
  WITH m AS (SELECT pos, d, max(d) OVER (ORDER BY pos ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev
               FROM got),
       late AS (SELECT pos FROM m WHERE d < prev)
  SELECT (SELECT count(*) FROM got) AS n,
         (SELECT count(DISTINCT id) FROM got) AS distinct_ids,
         (SELECT count(*) FROM late) > 0 AS some_late,
         coalesce((SELECT min(pos) FROM late) > (SELECT max(pos) FROM m WHERE NOT d < prev OR prev IS NULL), true)
           AS late_rows_only_at_end;

SET hnsw.iterative_scan = strict_order;
SELECT fetch_tenant((SELECT v FROM it WHERE id = 1), 2500);
SELECT * FROM got_order;
SELECT fetch_tenant((SELECT v FROM it WHERE id = 2), 3000);
SELECT * FROM got_order;
SET hnsw.iterative_scan = relaxed_order;
SELECT fetch_tenant((SELECT v FROM it WHERE id = 1), 2500);
SELECT n, distinct_ids FROM got_order;
RESET hnsw.iterative_scan;

-- A short LIMIT is served before the walk ends: in order, no late rows.
SELECT fetch_tenant((SELECT v FROM it WHERE id = 5), 10);
SELECT * FROM got_order;

-- The whole table through the index, with the sparsest graph allowed.
CREATE TABLE sparse (id int, v vector(8));
INSERT INTO sparse SELECT i, (SELECT array_agg(random())::real[] FROM generate_series(1, 8) WHERE i > 0)::vector
  FROM generate_series(1, 3000) i;
CREATE INDEX ON sparse USING hnsw (v vector_l2_ops) WITH (m = 2, ef_construction = 4);
SELECT count(*), count(DISTINCT id) FROM
  (SELECT id FROM sparse ORDER BY v <-> (SELECT v FROM sparse WHERE id = 7) LIMIT 3000) s;
SET hnsw.iterative_scan = relaxed_order;
SELECT count(*), count(DISTINCT id) FROM
  (SELECT id FROM sparse ORDER BY v <-> (SELECT v FROM sparse WHERE id = 7) LIMIT 3000) s;
RESET hnsw.iterative_scan;

-- Caps end the scan with a NOTICE naming the limit; the first round always completes.
SET hnsw.ef_search = 1;
SET hnsw.max_scan_tuples = 1000;
SELECT count(*) < 2500 AS stopped_early FROM
  (SELECT id FROM it WHERE tenant = 3 ORDER BY v <-> (SELECT v FROM it WHERE id = 1) LIMIT 2500) s;
RESET hnsw.max_scan_tuples;
SET work_mem = '64kB';
SELECT count(*) < 2500 AS stopped_early FROM
  (SELECT id FROM it WHERE tenant = 3 ORDER BY v <-> (SELECT v FROM it WHERE id = 1) LIMIT 2500) s;
SET hnsw.scan_mem_multiplier = 1000;
SELECT count(*) FROM
  (SELECT id FROM it WHERE tenant = 3 ORDER BY v <-> (SELECT v FROM it WHERE id = 1) LIMIT 2500) s;
RESET work_mem;
RESET hnsw.scan_mem_multiplier;
SET hnsw.max_scan_tuples = 1;
-- max_scan_tuples = 1: still the whole first round (ef_search = 10 here)
SET hnsw.ef_search = 10;
SELECT count(*) >= 10 AS first_round_whole FROM
  (SELECT id FROM it ORDER BY v <-> (SELECT v FROM it WHERE id = 1) LIMIT 10) s;
RESET hnsw.max_scan_tuples;
RESET hnsw.ef_search;
RESET enable_seqscan;
RESET enable_indexscan;
RESET enable_bitmapscan;
DROP VIEW got_order;
DROP FUNCTION fetch_tenant(vector, int);
DROP TABLE it, sparse;

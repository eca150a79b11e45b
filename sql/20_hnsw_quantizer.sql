-- hnsw option quantizer: the graph walk computes distances on compact codes
-- (sq8: a byte per dimension; rabitq: 4-bit RaBitQ codes relative to the
-- build's mean) and re-ranks with the exact vectors. Every
-- opclass it supports, against an exact scan: recall@10 over 20 queries at
-- the default hnsw.ef_search = 40, rows in exact distance order (the
-- executor takes the index's order as it is: a wrong order would show), the
-- same checks after inserts (pending and synchronous), on an index built
-- empty then filled, after deletes and VACUUM; iterative scans with a
-- filter; option errors.
SELECT setseed(0.20);
-- 3,000 rows around 10 centres in 32 dims (clustered, like embeddings).
CREATE TABLE qz (id int PRIMARY KEY, v vector(32), h halfvec(32))
  WITH (autovacuum_enabled = off);
CREATE TABLE qz_centres AS
  SELECT c, (SELECT array_agg(random() * 4 - 2) FROM generate_series(1, 32) WHERE c >= 0) AS x
    FROM generate_series(0, 9) c;
CREATE FUNCTION qz_point(i int) RETURNS vector LANGUAGE sql AS $$
  SELECT (SELECT array_agg(x[k] + random() - 0.5 ORDER BY k)
            FROM generate_series(1, 32) k WHERE i >= 0)::real[]::vector
    FROM qz_centres WHERE c = i % 10 $$;
INSERT INTO qz SELECT i, qz_point(i), NULL FROM generate_series(1, 3000) i;
UPDATE qz SET h = v::halfvec;
CREATE TABLE qz_queries AS SELECT i AS qid, qz_point(i) AS v FROM generate_series(1, 20) i;
SET max_parallel_maintenance_workers = 0;  -- one build thread: the same graph every run
SET nmvec.background_merge = off;

-- For the index now on qz: recall@10 of index scans against exact scans
-- over the 20 queries, whether every index scan returned its rows in
-- non-decreasing distance, and the rows it returned (200 when all fine).
CREATE FUNCTION qz_check(col text, op text, lim int DEFAULT 10, filter text DEFAULT 'true',
                         tbl text DEFAULT 'qz')
RETURNS TABLE (recall numeric, ordered bool, rows bigint) LANGUAGE plpgsql AS $$
DECLARE
  q record; got int[]; want int[]; d float8[]; hits int := 0; total int := 0; ok bool := true;
  n bigint := 0; cast_to text := CASE col WHEN 'h' THEN '::halfvec' ELSE '' END;
  -- Under cosine the index orders by its float32 distance between unit
  -- vectors (halfvec: rounded to float16), the operator computes on the raw
  -- values: near-ties may come out swapped by that rounding, as without codes.
  tol float8 := CASE WHEN op <> '<=>' THEN 0 WHEN col = 'h' THEN 1e-3 ELSE 1e-6 END;
BEGIN
  FOR q IN SELECT * FROM qz_queries ORDER BY qid LOOP
    SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexscan = on;
    EXECUTE format('SELECT array_agg(id ORDER BY pos), array_agg(d ORDER BY pos) FROM (
        SELECT row_number() OVER () AS pos, id, d FROM (
          SELECT id, %1$s %2$s %3$L%4$s AS d FROM %7$I WHERE %5$s ORDER BY %1$s %2$s %3$L%4$s LIMIT %6$s) s) t',
      col, op, q.v, cast_to, filter, lim, tbl) INTO got, d;
    SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
    EXECUTE format('SELECT array_agg(id) FROM (
          SELECT id FROM %7$I WHERE %5$s ORDER BY %1$s %2$s %3$L%4$s, id LIMIT %6$s) s',
      col, op, q.v, cast_to, filter, lim, tbl) INTO want;
    n := n + coalesce(cardinality(got), 0);
    hits := hits + (SELECT count(*) FROM unnest(got) g WHERE g = ANY (want));
    total := total + cardinality(want);
    FOR i IN 2 .. coalesce(cardinality(d), 0) LOOP
      IF d[i] < d[i - 1] - tol * (1 + abs(d[i - 1])) THEN ok := false; END IF;
    END LOOP;
  END LOOP;
  RESET enable_seqscan; RESET enable_bitmapscan; RESET enable_indexscan;
  RETURN QUERY SELECT round(hits::numeric / total, 2), ok, n;
END $$;

-- Every opclass with and without codes. Threshold 0.95: the exact walk on
-- this data finds 0.98-1.00 at ef_search = 40, and re-ranking the 40 best
-- by the codes loses at most 0.02 of it (test_hnsw.cpp, HnswRerank).
CREATE TABLE qz_opclasses (col text, opclass text, op text);
INSERT INTO qz_opclasses VALUES
  ('v', 'vector_l2_ops', '<->'), ('v', 'vector_ip_ops', '<#>'), ('v', 'vector_cosine_ops', '<=>'),
  ('h', 'halfvec_l2_ops', '<->'), ('h', 'halfvec_ip_ops', '<#>'), ('h', 'halfvec_cosine_ops', '<=>');
CREATE FUNCTION qz_all(quantizer text) RETURNS TABLE (opclass text, recall_ok bool, ordered bool, rows bigint)
LANGUAGE plpgsql AS $$
DECLARE o record; r record;
BEGIN
  FOR o IN SELECT * FROM qz_opclasses LOOP
    EXECUTE format('CREATE INDEX qz_idx ON qz USING hnsw (%s %s) WITH (quantizer = %L)', o.col, o.opclass, quantizer);
    SELECT * INTO r FROM qz_check(o.col, o.op);
    opclass := o.opclass; recall_ok := r.recall >= 0.95; ordered := r.ordered; rows := r.rows;
    IF NOT recall_ok THEN RAISE NOTICE '% %: recall %', quantizer, o.opclass, r.recall; END IF;
    RETURN NEXT;
    DROP INDEX qz_idx;
  END LOOP;
END $$;
SELECT * FROM qz_all('none');
SELECT * FROM qz_all('sq8');
SELECT * FROM qz_all('rabitq');

-- rabitq codes the direction from a centre: the mean of the rows CREATE
-- INDEX read, stored in the index's centre pages. Data far from the origin
-- (every coordinate + 20, like pixels) then codes as well as centred data.
-- An index built empty has no rows to take a mean of and codes from the
-- origin, where the codes are coarse: the scan then re-ranks more rounds
-- (the walk's frontier minus the codes' error bound must pass a row before
-- it is returned), so the recall holds, at a cost. LIMIT 100 goes beyond
-- the first round of 40.
CREATE TABLE qzs AS
  SELECT id, (SELECT array_agg(x + 20) FROM unnest(v::real[]) x)::vector(32) AS v FROM qz;
CREATE TABLE qz_queries_saved AS SELECT * FROM qz_queries;
UPDATE qz_queries SET v = (SELECT array_agg(x + 20) FROM unnest(v::real[]) x)::vector(32);
CREATE INDEX qzs_idx ON qzs USING hnsw (v vector_l2_ops) WITH (quantizer = 'rabitq');
SELECT recall >= 0.95 AS recall_ok, ordered, rows FROM qz_check('v', '<->', 10, 'true', 'qzs');
SELECT recall >= 0.95 AS recall_ok, ordered, rows FROM qz_check('v', '<->', 100, 'true', 'qzs');
DROP INDEX qzs_idx;
TRUNCATE qzs;
CREATE INDEX qzs_idx ON qzs USING hnsw (v vector_l2_ops) WITH (quantizer = 'rabitq', fastupdate = off);
INSERT INTO qzs SELECT id, (SELECT array_agg(x + 20) FROM unnest(v::real[]) x)::vector(32) FROM qz;
SELECT recall >= 0.95 AS recall_ok, ordered, rows FROM qz_check('v', '<->', 10, 'true', 'qzs');
SELECT recall >= 0.95 AS recall_ok, ordered, rows FROM qz_check('v', '<->', 100, 'true', 'qzs');
-- REINDEX takes the mean of the rows now there.
REINDEX INDEX qzs_idx;
SELECT recall >= 0.95 AS recall_ok, ordered, rows FROM qz_check('v', '<->', 100, 'true', 'qzs');
DROP TABLE qzs;
TRUNCATE qz_queries;
INSERT INTO qz_queries SELECT * FROM qz_queries_saved;
DROP TABLE qz_queries_saved;

-- The rest once per quantizer (include/hnsw_quantized.sql; qz is restored
-- after each).
\getenv abs_srcdir PG_ABS_SRCDIR
\set rest :abs_srcdir '/sql/include/hnsw_quantized.sql'
\set quant sq8
\i :rest
\set quant rabitq
\i :rest

-- rabitq and vectors too large to code (their distance from the centre
-- beyond float's range): CREATE INDEX and INSERT fail with 22003; such a
-- query (1e18) still scans.
CREATE TABLE qhuge (id int, v vector(4));
INSERT INTO qhuge VALUES (1, '[1,2,3,4]'), (2, '[3e38,-3e38,3e38,1]'), (3, '[0,0,0,0]');
CREATE INDEX qhuge_r ON qhuge USING hnsw (v) WITH (quantizer = 'rabitq');
DELETE FROM qhuge WHERE id = 2;
CREATE INDEX qhuge_r ON qhuge USING hnsw (v) WITH (quantizer = 'rabitq');
INSERT INTO qhuge VALUES (4, '[3e38,-3e38,3e38,1]');
INSERT INTO qhuge VALUES (5, '[0.5,0,0,1e-45]');
SET enable_seqscan = off;
SELECT id FROM qhuge ORDER BY v <-> '[0.1,0,0,0]' LIMIT 3;
SELECT id FROM qhuge ORDER BY v <-> '[1e18,0,0,0]' LIMIT 1;
RESET enable_seqscan;
DROP TABLE qhuge;

-- Options.
CREATE INDEX qz_bad ON qz USING hnsw (v vector_l2_ops) WITH (quantizer = 'pq');
CREATE INDEX qz_bad ON qz USING hnsw (v vector_l1_ops) WITH (quantizer = 'sq8');
CREATE INDEX qz_bad ON qz USING hnsw (h halfvec_l1_ops) WITH (quantizer = 'sq8');
CREATE INDEX qz_bad ON qz USING hnsw (v vector_l1_ops) WITH (quantizer = 'rabitq');
CREATE INDEX qz_none ON qz USING hnsw (v vector_l1_ops) WITH (quantizer = 'none');
ALTER INDEX qz_none SET (quantizer = 'rabitq');
ALTER INDEX qz_none SET (quantizer = 'sq8');
-- The stored option applies at the next build: REINDEX of an L1 index refuses it.
REINDEX INDEX qz_none;
DROP INDEX qz_none;

DROP TABLE qz, qz_centres, qz_queries, qz_opclasses;
DROP FUNCTION qz_point(int);

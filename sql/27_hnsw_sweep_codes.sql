-- Sweep codes (src/pg/hnsw_page.h): an hnsw index with filter columns and
-- 64 dimensions or more keeps a 1-bit code of each element beside its
-- filter values; a filtered scan's pass over every element (its exact
-- pass, the sweep that ends a walk) bounds each passing element's distance
-- from the code and reads the vectors of only those whose bound may put
-- them in the answer. The answers are the exact ones, under every filter
-- mode. (That the pass computes few distances is unit-tested:
-- HnswFilter.BoundedSweep*.)
\i sql/include/same_as_exact.sql
SET enable_seqscan = off;
-- 6,000 rows of 256 dims in 10 clusters away from the origin (label =
-- cluster; rows at 17 distances from their cluster's centre), 100
-- tenants, a minute apart.
CREATE FUNCTION sc_vec(i int, lab int) RETURNS vector LANGUAGE sql IMMUTABLE AS $$
  SELECT array_agg(5 + lab * 0.7 * cos(k * lab) + (0.2 + ((i * 37) % 17) * 0.15) * sin(i * 0.37 + k * 1.3)
                   ORDER BY k)::vector(256)
  FROM generate_series(1, 256) k $$;
CREATE TABLE sc (id int, v vector(256), label int, tenant int, ts timestamptz) WITH (autovacuum_enabled = off);
INSERT INTO sc SELECT i, sc_vec(i, i % 10), i % 10, (i * 7) % 100,
    timestamptz '2026-01-01 00:00+00' + i * interval '1 minute' FROM generate_series(1, 6000) i;
CREATE INDEX sc_v ON sc USING hnsw (v vector_l2_ops, label, tenant, ts);
-- The conditions, each against the query of row q (its own label is q % 10).
CREATE TABLE sc_conds (n int, q int, cond text);
INSERT INTO sc_conds VALUES
  (1, 11, 'label = 3'),                 -- 10 %, another cluster (anti-correlated)
  (2, 11, 'label = 1'),                 -- 10 %, the query's own
  (3, 23, 'label IN (5, 6)'),
  (4, 23, 'tenant = 42'),               -- 1 %
  (5, 47, 'ts >= timestamptz ''2026-01-05 00:00+00'''),  -- the latest 4 %
  (6, 47, 'ts < timestamptz ''2026-01-02 00:00+00'' AND label <> 7'),
  (7, 59, 'label = 8 AND tenant < 50');
SELECT mode, count(*) AS conds, count(*) FILTER (WHERE same_as_exact('sc', 'v', '<->', (SELECT v::text FROM sc WHERE id = c.q), c.cond, 10)
                                                 AND same_as_exact('sc', 'v', '<->', (SELECT v::text FROM sc WHERE id = c.q), c.cond, 40)) AS exact
  FROM unnest(ARRAY['auto', 'exact', 'two_hop', 'traverse']) mode, sc_conds c,
       LATERAL set_config('hnsw.filter_mode', mode, false) s
 GROUP BY mode ORDER BY mode;
RESET hnsw.filter_mode;
-- Rows inserted after the build get their codes from the insert: a new
-- label only they have, and a label they share with the built rows.
INSERT INTO sc SELECT i, sc_vec(i, 3 + i % 2), 10 + i % 2, i % 100,
    timestamptz '2026-02-01 00:00+00' + i * interval '1 minute' FROM generate_series(6001, 6600) i;
INSERT INTO sc SELECT i, sc_vec(i, 3), 3, i % 100, now() FROM generate_series(6601, 6700) i;
SELECT cond, same_as_exact('sc', 'v', '<->', (SELECT v::text FROM sc WHERE id = 11), cond, 20) AS exact
  FROM unnest(ARRAY['label = 10', 'label = 3', 'label IN (3, 11)', 'ts >= timestamptz ''2026-02-01 00:00+00''']) cond;
-- After deletes and VACUUM.
DELETE FROM sc WHERE id % 3 = 0;
VACUUM sc;
SELECT same_as_exact('sc', 'v', '<->', (SELECT v::text FROM sc WHERE id = 11), 'label = 3', 20) AS exact_after_vacuum;
-- An index built empty has codes relative to the origin (no centre yet):
-- coarse bounds, the same answers.
CREATE TABLE sc_empty (LIKE sc) WITH (autovacuum_enabled = off);
CREATE INDEX sc_empty_v ON sc_empty USING hnsw (v vector_l2_ops, label);
INSERT INTO sc_empty SELECT * FROM sc WHERE id <= 3000;
SELECT same_as_exact('sc_empty', 'v', '<->', (SELECT v::text FROM sc WHERE id = 11), 'label = 3', 10) AS exact_built_empty;
-- Cosine and inner product, float32 and halfvec, and a quantized index.
CREATE TABLE sc_h (id int, v halfvec(256), label int) WITH (autovacuum_enabled = off);
INSERT INTO sc_h SELECT id, v::halfvec(256), label FROM sc;
CREATE INDEX sc_cos ON sc USING hnsw (v vector_cosine_ops, label);
CREATE INDEX sc_h_ip ON sc_h USING hnsw (v halfvec_ip_ops, label);
SELECT same_as_exact('sc', 'v', '<=>', (SELECT v::text FROM sc WHERE id = 11), 'label = 3', 10) AS cosine,
       same_as_exact('sc_h', 'v', '<#>', (SELECT v::text FROM sc_h WHERE id = 11), 'label = 3', 10) AS halfvec_ip;
DROP INDEX sc_cos;
DROP INDEX sc_v;
CREATE INDEX sc_rq ON sc USING hnsw (v vector_l2_ops, label) WITH (quantizer = 'rabitq');
SET hnsw.filter_mode = exact;
SELECT count(*) AS returned, count(*) FILTER (WHERE label = 3) AS matching
  FROM (SELECT label FROM sc WHERE label = 3 ORDER BY v <-> (SELECT v FROM sc WHERE id = 11) LIMIT 10) s;
RESET hnsw.filter_mode;
RESET enable_seqscan;
DROP TABLE sc, sc_conds, sc_empty, sc_h;
DROP FUNCTION sc_vec, same_as_exact;

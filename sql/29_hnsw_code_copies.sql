-- Copies of sweep codes (src/pg/hnsw_storage.cpp, PageAccess::copied_run):
-- a bounded sweep (sql/27) keeps, besides the zone and the filter values
-- (sql/28), a copy of the sweep codes of each full node page it reads, and
-- sweeps such a page from its copies without pinning it. A code is written
-- with its record, so a page's codes are final once its every record is;
-- a copy of a page still being filled, or of another file of the index
-- (TRUNCATE, REINDEX), would bound distances by codes of other vectors and
-- lose rows. Each answer below is the exact one (same_as_exact: the same
-- rows in the same order as with index scans off), under the exact pass.
\i sql/include/same_as_exact.sql
SET enable_seqscan = off;
SET nmvec.background_merge = off;
SET hnsw.filter_mode = exact;
-- 3,000 rows of 256 dimensions in 10 clusters (cat = cluster; sql/27's
-- vectors).
CREATE FUNCTION cc_vec(i int) RETURNS vector LANGUAGE sql IMMUTABLE AS $$
  SELECT array_agg(5 + (i % 10) * 0.7 * cos(k * (i % 10)) + (0.2 + ((i * 37) % 17) * 0.15) * sin(i * 0.37 + k * 1.3)
                   ORDER BY k)::vector(256)
  FROM generate_series(1, 256) k $$;
CREATE TABLE cc (id int, v vector(256), cat int) WITH (autovacuum_enabled = off);
INSERT INTO cc SELECT i, cc_vec(i), i % 10 FROM generate_series(1, 3000) i;
CREATE INDEX cc_v ON cc USING hnsw (v vector_l2_ops, cat) WITH (fastupdate = off);
-- Whether the index's top k of category c nearest row q's vector are the
-- exact ones, for rows q = 13, 7 and 500 (clusters 3, 7 and 0).
CREATE FUNCTION cc_exact(c int, k int DEFAULT 10) RETURNS bool LANGUAGE sql AS $$
  SELECT bool_and(same_as_exact('cc', 'v', '<->', cc_vec(q)::text, format('cat = %s', c), k))
  FROM unnest(ARRAY[13, 7, 500]) q $$;
CREATE FUNCTION cc_reads() RETURNS bigint LANGUAGE sql AS $$
  SELECT pg_stat_get_xact_blocks_fetched('cc_v'::regclass) $$;
CREATE TEMP TABLE cc_q AS SELECT cc_vec(13) AS q;

-- The first sweep reads every node page and keeps the copies of the full
-- ones; the second sweeps those from their copies: it reads the vectors of
-- the few rows whose bounds come first, and the node page of the row it
-- returns (13 blocks against 198 when written; 89 without the copies).
BEGIN;
CREATE TEMP TABLE cc_r AS SELECT 0 AS step, cc_reads() AS reads;
SELECT count(*) FROM (SELECT id FROM cc WHERE cat = 3 ORDER BY v <-> (SELECT q FROM cc_q) LIMIT 1) s;
INSERT INTO cc_r SELECT 1, cc_reads();
SELECT count(*) FROM (SELECT id FROM cc WHERE cat = 3 ORDER BY v <-> (SELECT q FROM cc_q) LIMIT 1) s;
INSERT INTO cc_r SELECT 2, cc_reads();
SELECT one.reads - zero.reads >= 100 AS first_read_the_pages,
       4 * (two.reads - one.reads) < one.reads - zero.reads AS second_read_few
  FROM cc_r zero, cc_r one, cc_r two WHERE zero.step = 0 AND one.step = 1 AND two.step = 2;
COMMIT;
SELECT cc_exact(3) AS correlated, cc_exact(3) AS from_copies, cc_exact(5) AS anti_correlated, cc_exact(0, 40) AS k40;

-- New rows of a new category, on the page being filled and the pages
-- after it: found as they are written, then from the copies of those
-- pages once full.
INSERT INTO cc SELECT i, cc_vec(i - 3000), 99 FROM generate_series(3001, 3010) i;
SELECT cc_exact(99) AS page_being_filled;
INSERT INTO cc SELECT i, cc_vec(i - 3000), 99 FROM generate_series(3011, 3300) i;
SELECT cc_exact(99) AS filled, cc_exact(99) AS filled_from_copies, cc_exact(3) AS old_category;

-- Deletes and VACUUM: the codes and their copies still hold.
DELETE FROM cc WHERE id % 4 = 0;
VACUUM cc;
SELECT cc_exact(99) AS after_vacuum, cc_exact(7) AS after_vacuum_old;

-- TRUNCATE gives the index a new file: the same ids now hold other
-- vectors (of another cluster than their category's), and copies of the
-- old file's codes would bound them wrongly.
TRUNCATE cc;
INSERT INTO cc SELECT i, cc_vec(3001 - i), i % 10 FROM generate_series(1, 3000) i;
SELECT cc_exact(3) AS after_truncate, cc_exact(3) AS after_truncate_from_copies, cc_exact(6) AS other;
-- REINDEX: the rows in another order, again a new file.
UPDATE cc SET v = cc_vec(id) WHERE id % 2 = 0;
REINDEX INDEX cc_v;
SELECT cc_exact(3) AS after_reindex, cc_exact(3) AS after_reindex_from_copies, cc_exact(8) AS other;

RESET hnsw.filter_mode;
RESET enable_seqscan;
DROP TABLE cc;
DROP FUNCTION cc_vec, cc_exact, cc_reads, same_as_exact;

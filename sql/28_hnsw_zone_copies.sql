-- Page copies (src/core/page_copies.h): a backend keeps a copy of the zone
-- and of the filter-column values of each hnsw node page whose every record
-- is written; a pass over every element (the exact pass, a sweep) judges
-- such a page by its zone's copy, and a filtered walk checks its elements
-- by the copied values, instead of pinning it. A zone grows when a record
-- is added to its page, so a page still being filled must be read every
-- time, and a copy is good only for the index file it came from (TRUNCATE,
-- REINDEX).
-- Every answer below is checked against the table; each step would lose
-- rows if a stale copy were trusted.
SET enable_seqscan = off;
SET nmvec.background_merge = off;
CREATE TABLE zc (id int, v vector(8), cat int) WITH (autovacuum_enabled = off);
CREATE FUNCTION zc_vec(i int) RETURNS vector LANGUAGE sql IMMUTABLE AS $$
  SELECT array_agg(sin(i * 0.37 + k * 1.3) ORDER BY k)::vector(8) FROM generate_series(1, 8) k $$;
-- 1,000 rows, categories 0..9 (53 elements a node page: 18 full pages and
-- one with 46), no synchronous-insert pending list.
INSERT INTO zc SELECT i, zc_vec(i), i % 10 FROM generate_series(1, 1000) i;
CREATE INDEX zc_v ON zc USING hnsw (v vector_l2_ops, cat) WITH (fastupdate = off);
-- Rows the index returns for cat = c (up to `lim`) and how many of them
-- are wrong, against the table's count; then the same under each filter
-- mode (the exact pass judges pages by their zones; a walk checks each
-- element it meets by its filter values).
CREATE FUNCTION zc_one(c int, lim int DEFAULT 2000) RETURNS text LANGUAGE sql AS $$
  SELECT format('%s returned, %s wrong, %s in the table', count(*), count(*) FILTER (WHERE s.cat IS DISTINCT FROM c),
                (SELECT count(*) FROM zc WHERE zc.cat = c))
  FROM (SELECT * FROM zc WHERE zc.cat = c ORDER BY v <-> zc_vec(0) LIMIT lim) s $$;
CREATE FUNCTION zc_check(c int, lim int DEFAULT 2000) RETURNS TABLE (mode text, answer text) LANGUAGE sql AS $$
  SELECT m, zc_one(c, lim) FROM unnest(ARRAY['exact', 'two_hop', 'traverse']) m,
         LATERAL set_config('hnsw.filter_mode', m, false) s $$;
-- Block reads of the index in this transaction (pg_stat_get_xact_blocks_fetched).
CREATE FUNCTION zc_reads() RETURNS bigint LANGUAGE sql AS $$
  SELECT pg_stat_get_xact_blocks_fetched('zc_v'::regclass) $$;

-- A category no row has: every page ruled out. The first pass reads each
-- node page to judge its zone and keeps the copies of the full pages; the
-- second judges those by their copies and reads the last page only.
BEGIN;
SET LOCAL hnsw.filter_mode = exact;
CREATE TEMP TABLE zc_r AS SELECT 0 AS step, zc_reads() AS reads;
SELECT zc_one(42);
INSERT INTO zc_r SELECT 1, zc_reads();
SELECT zc_one(42);
INSERT INTO zc_r SELECT 2, zc_reads();
SELECT (SELECT reads FROM zc_r WHERE step = 1) - (SELECT reads FROM zc_r WHERE step = 0) >= 19 AS first_read_every_page,
       (SELECT reads FROM zc_r WHERE step = 2) - (SELECT reads FROM zc_r WHERE step = 1) <= 3 AS second_read_few;
COMMIT;

-- Rows of that category added to the page still being filled: its zone
-- and its filter values were never copied, so they are found.
INSERT INTO zc SELECT i, zc_vec(i), 42 FROM generate_series(1001, 1003) i;
SELECT * FROM zc_check(42);
-- Enough to fill that page and the next: both are judged on their pages
-- (now full, their copies kept), then by their copies.
INSERT INTO zc SELECT i, zc_vec(i), 42 FROM generate_series(1004, 1100) i;
SELECT * FROM zc_check(42);
SELECT * FROM zc_check(42);
SELECT * FROM zc_check(3);

-- Deletes and VACUUM mark elements deleted; zones and copies still hold.
DELETE FROM zc WHERE id % 3 = 0;
VACUUM zc;
SELECT * FROM zc_check(42);
SELECT * FROM zc_check(7);

-- A new file for the same index: the copies of the old one must not rule
-- out its pages (every row now has category 42 or 5).
TRUNCATE zc;
INSERT INTO zc SELECT i, zc_vec(i), CASE WHEN i % 2 = 0 THEN 42 ELSE 5 END FROM generate_series(1, 1200) i;
SELECT * FROM zc_check(42);
SELECT * FROM zc_check(5);
SELECT * FROM zc_check(3);
-- REINDEX writes the rows in another order: copies again from the new file.
UPDATE zc SET cat = 9 WHERE id <= 600;
REINDEX INDEX zc_v;
SELECT * FROM zc_check(9);
SELECT * FROM zc_check(42);
SELECT * FROM zc_check(5);

RESET hnsw.filter_mode;
RESET enable_seqscan;
DROP TABLE zc;
DROP FUNCTION zc_vec, zc_one, zc_check, zc_reads;

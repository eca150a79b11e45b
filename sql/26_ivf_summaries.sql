-- ivf list summaries: CREATE INDEX writes, per list, the zone of the pages of
-- its chain that are full (every page but the last) and those pages' own
-- zones in a row (its zone map). A filtered scan whose conditions the
-- list's zone rules out reads the list from its last built page on;
-- otherwise it reads only the built pages whose zone in the map may pass.
-- Rows appended after the build, to that page or to new ones, are still
-- found; the skips show in the index blocks a scan reads.
CREATE TABLE sm (id int PRIMARY KEY, cat int, ts timestamptz, v vector(8)) WITH (autovacuum_enabled = off);
-- 20 clusters along the first coordinate; cat is the cluster (a category
-- that clusters in the embedding space, as nm-monitor's do); ts rises with id.
INSERT INTO sm SELECT i, i % 20, timestamptz '2026-01-01' + i * interval '1 minute',
  ARRAY[(i % 20) * 10 + (i % 7) * 0.1, sin(i), cos(i), sin(i * 0.3), cos(i * 0.7), sin(i * 1.1), (i % 11) * 0.1,
        (i % 13) * 0.1]::vector(8)
  FROM generate_series(1, 80000) i;
CREATE INDEX sm_ivf ON sm USING ivf (v vector_l2_ops, cat, ts) WITH (lists = 20);
VACUUM ANALYZE sm;
-- Every list spans several pages (so a summary has pages to cover).
SELECT lists, records, empty_lists, pg_relation_size('sm_ivf') / 8192 > 20 * 4 AS pages_per_list_over_4
  FROM nmvec_ivf_stats('sm_ivf');

-- same_as_exact(tab, col, op, q, cond, k): the index scan's first k rows
-- against the exact order's (shared with sql/25_ivf_rerank).
\getenv abs_srcdir PG_ABS_SRCDIR
\set same_as_exact :abs_srcdir '/sql/include/same_as_exact.sql'
\i :same_as_exact
-- Index blocks a query reads (this transaction's counts, as ReadBuffer
-- counts them).
CREATE FUNCTION sm_blocks(q text, cond text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE before bigint; n bigint;
BEGIN
  SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off;
  before := pg_stat_get_xact_blocks_fetched('sm_ivf'::regclass);
  EXECUTE format('SELECT count(*) FROM (SELECT id FROM sm WHERE %2$s ORDER BY v <-> %1$L LIMIT 10) s', q, cond)
    INTO n;
  RETURN pg_stat_get_xact_blocks_fetched('sm_ivf'::regclass) - before;
END $$;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM sm WHERE cat = 7 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 10;
RESET enable_seqscan;

-- A category queried from the far end of the space (anti-correlated): its
-- rows lie in one list, which the scan reaches after skipping the built
-- pages of every list whose summary lacks it. A time window as narrow (a
-- row in each list) passes every list's summary (each list spans the whole
-- time range), and its zone map leaves unread every built page but the
-- window's. Right rows, and a small share of the index's blocks read (at
-- least one a list: the counts count).
SELECT same_as_exact('sm', 'v', '<->', '[0,0,0,0,0,0,0,0]', 'cat = 17') AS far_category,
       same_as_exact('sm', 'v', '<->', '[190,0,0,0,0,0,0,0]', 'cat = 0') AS far_category_2,
       same_as_exact('sm', 'v', '<->', '[95,0,0,0,0,0,0,0]', 'cat IN (1, 18)') AS two_far_categories,
       same_as_exact('sm', 'v', '<->', '[0,0,0,0,0,0,0,0]', 'cat = 17 AND ts < timestamptz ''2026-01-10''') AS category_and_window,
       same_as_exact('sm', 'v', '<->', '[0,0,0,0,0,0,0,0]',
                        'ts >= timestamptz ''2026-01-10'' AND ts < timestamptz ''2026-01-10 00:20''') AS narrow_window;
SELECT sm_blocks('[0,0,0,0,0,0,0,0]', 'cat = 17') BETWEEN 20 AND pg_relation_size('sm_ivf') / 8192 / 3
         AS category_few_blocks,
       sm_blocks('[0,0,0,0,0,0,0,0]', 'ts >= timestamptz ''2026-01-10'' AND ts < timestamptz ''2026-01-10 00:20''')
         BETWEEN 20 AND pg_relation_size('sm_ivf') / 8192 / 3 AS window_few_blocks;

-- Rows inserted after the build: a category no list held (99) in every
-- list, and 800 rows of category 17 in the list of category 3 (more than
-- its last built page holds: new pages). The summaries know none of them;
-- the scans find them all.
INSERT INTO sm SELECT 100000 + i, 99, now(), ARRAY[(i % 20) * 10 + 0.05, 0, 0, 0, 0, 0, 0, 0]::vector(8)
  FROM generate_series(0, 39) i;
INSERT INTO sm SELECT 200000 + i, 17, now(), ARRAY[30 + (i % 7) * 0.1, sin(i), cos(i), 0, 0, 0, 0, 0]::vector(8)
  FROM generate_series(0, 799) i;
SET enable_seqscan = off;
SELECT count(*) AS new_category_rows FROM (SELECT id FROM sm WHERE cat = 99 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 100) s;
RESET enable_seqscan;
SELECT same_as_exact('sm', 'v', '<->', '[0,0,0,0,0,0,0,0]', 'cat = 99', 40) AS new_category_exact,
       same_as_exact('sm', 'v', '<->', '[30,0,0,0,0,0,0,0]', 'cat = 17', 50) AS inserted_into_another_list,
       same_as_exact('sm', 'v', '<->', '[31,0,0,0,0,0,0,0]', 'cat = 17 AND id >= 200700', 10) AS on_the_new_pages;

-- Deletes and VACUUM leave the summaries as they are (they only cover more
-- than is live); REINDEX writes them anew.
DELETE FROM sm WHERE cat = 5;
VACUUM sm;
INSERT INTO sm SELECT 300000 + i, 5, now(), ARRAY[150 + (i % 7) * 0.1, 0, 0, 0, 0, 0, 0, 0]::vector(8)
  FROM generate_series(0, 19) i;
SELECT same_as_exact('sm', 'v', '<->', '[50,0,0,0,0,0,0,0]', 'cat = 5', 20) AS after_vacuum;
REINDEX INDEX sm_ivf;
SELECT same_as_exact('sm', 'v', '<->', '[0,0,0,0,0,0,0,0]', 'cat = 99', 40) AS reindexed_new_category,
       same_as_exact('sm', 'v', '<->', '[30,0,0,0,0,0,0,0]', 'cat = 17', 50) AS reindexed_17,
       same_as_exact('sm', 'v', '<->', '[50,0,0,0,0,0,0,0]', 'cat = 5', 20) AS reindexed_5;
SELECT sm_blocks('[0,0,0,0,0,0,0,0]', 'cat = 17') BETWEEN 20 AND pg_relation_size('sm_ivf') / 8192 / 3
         AS reindexed_few_blocks;

-- An index without filter columns, or built on an empty table, has no
-- summaries; its filtered scans (the conditions checked on the heap) are
-- unchanged.
CREATE INDEX sm_plain ON sm USING ivf (v vector_l2_ops) WITH (lists = 5);
DROP INDEX sm_ivf;
SELECT same_as_exact('sm', 'v', '<->', '[0,0,0,0,0,0,0,0]', 'cat = 99', 20) AS plain_index;
DROP INDEX sm_plain;
CREATE TABLE sm_empty (id int, cat int, v vector(8));
CREATE INDEX ON sm_empty USING ivf (v vector_l2_ops, cat);
INSERT INTO sm_empty SELECT i, i % 3, ARRAY[i, 0, 0, 0, 0, 0, 0, 0]::vector(8) FROM generate_series(1, 3000) i;
SET enable_seqscan = off;
SELECT array_agg(id) AS empty_built FROM (SELECT id FROM sm_empty WHERE cat = 2 ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 3) s;
RESET enable_seqscan;
DROP TABLE sm, sm_empty;
DROP FUNCTION same_as_exact, sm_blocks;

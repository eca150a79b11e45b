-- ivf's RaBitQ scans re-rank their candidates with the table's vectors. On a
-- heap table they read each row from its buffer themselves (looked up ahead,
-- pinned again without a second lookup): the vector however it is stored, the
-- visible version of an updated row; a row the scan's snapshot cannot see is
-- skipped (the executor would drop it too). Every list is probed here, so
-- the rows must be the exact order's.
CREATE TABLE rr (id int PRIMARY KEY, tag int, v vector(64), w vector(1000), z vector(1000))
  WITH (fillfactor = 50, autovacuum_enabled = off);
ALTER TABLE rr ALTER COLUMN w SET STORAGE EXTERNAL;  -- out of line, not compressed
ALTER TABLE rr ALTER COLUMN z SET STORAGE MAIN;      -- in line, compressed
INSERT INTO rr SELECT i, 0,
  (SELECT array_agg(sin(i * 0.7 + d))::real[] FROM generate_series(1, 64) d)::vector,
  (SELECT array_agg(cos(i * 0.37 * d))::real[] FROM generate_series(1, 1000) d)::vector,
  -- a pattern of 8 values repeated: pglz compresses it
  (SELECT array_agg((d % 8) * (i % 97) + i)::real[] FROM generate_series(1, 1000) d)::vector
  FROM generate_series(1, 2000) i;
-- How the vectors are stored: v in line (4-byte header), w in the TOAST
-- table, z compressed in line.
SELECT pg_column_compression(v) IS NULL AS v_plain, pg_column_compression(w) IS NULL AS w_not_compressed,
       pg_column_compression(z) IS NOT NULL AS z_compressed, pg_column_size(v) AS v_bytes
  FROM rr WHERE id = 1;
SELECT pg_relation_size(reltoastrelid) > 0 AS w_toasted FROM pg_class WHERE relname = 'rr';
CREATE INDEX rr_v ON rr USING ivf (v vector_l2_ops) WITH (lists = 10);
CREATE INDEX rr_w ON rr USING ivf (w vector_cosine_ops) WITH (lists = 10);
CREATE INDEX rr_z ON rr USING ivf (z vector_ip_ops) WITH (lists = 10);
SET ivf.probes = 10;

-- same_as_exact(tab, col, op, q, cond, k): the index scan's first k rows
-- against the exact order's (shared with sql/26_ivf_summaries).
\getenv abs_srcdir PG_ABS_SRCDIR
\set same_as_exact :abs_srcdir '/sql/include/same_as_exact.sql'
\i :same_as_exact
-- The index is used for each column.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM rr ORDER BY w <=> (SELECT w FROM rr WHERE id = 5) LIMIT 10;
RESET enable_seqscan;
SELECT bool_and(same_as_exact('rr', 'v', '<->', (SELECT v::text FROM rr WHERE id = q))) AS inline_l2,
       bool_and(same_as_exact('rr', 'w', '<=>', (SELECT w::text FROM rr WHERE id = q))) AS external_cosine,
       bool_and(same_as_exact('rr', 'z', '<#>', (SELECT z::text FROM rr WHERE id = q))) AS compressed_ip
  FROM generate_series(1, 1900, 211) q;

-- Updates: a HOT update (tag is in no index; fillfactor 50 leaves room) keeps
-- the index's TID at the chain's root; an update of the vector leaves a dead
-- version behind its old record. The scan returns each row once, with its
-- current vector.
UPDATE rr SET tag = 1 WHERE id % 3 = 0;
UPDATE rr SET v = (SELECT array_agg(sin(id * 1.3 + d))::real[] FROM generate_series(1, 64) d)::vector
  WHERE id % 5 = 0;
SELECT bool_and(same_as_exact('rr', 'v', '<->', (SELECT v::text FROM rr WHERE id = q))) AS after_updates_l2,
       bool_and(same_as_exact('rr', 'v', '<->', (SELECT v::text FROM rr WHERE id = q), 'tag = 1'))
         AS updated_rows_only
  FROM generate_series(3, 1900, 215) q;
-- The old vector of an updated row finds the row only by its new vector.
SELECT count(*) AS old_vector_hits FROM
  (SELECT id FROM rr ORDER BY v <-> (SELECT array_agg(sin(10 * 0.7 + d))::real[]
                                       FROM generate_series(1, 64) d)::vector LIMIT 1) s
  WHERE id = 10;

-- The rows read count in pg_statio as the table's blocks fetched and hit,
-- as ReadBuffer counts them (pg_statio's heap_blks_read is the difference).
SELECT pg_stat_reset_single_table_counters('rr'::regclass);
SELECT count(*) FROM (SELECT id FROM rr ORDER BY w <=> (SELECT w FROM rr WHERE id = 9) LIMIT 10) s;
SELECT pg_stat_force_next_flush();
SELECT heap_blks_read >= 0 AS reads_not_negative, heap_blks_hit >= 10 AS hits_counted
  FROM pg_statio_user_tables WHERE relname = 'rr';

-- Rows deleted in the open transaction are not seen; after ROLLBACK they are.
BEGIN;
DELETE FROM rr WHERE id % 2 = 1;
SELECT count(*) FILTER (WHERE id % 2 = 1) AS deleted_seen, count(*) AS rows FROM
  (SELECT id FROM rr ORDER BY v <-> (SELECT v FROM rr WHERE id = 8) LIMIT 50) s;
ROLLBACK;
SELECT count(*) FILTER (WHERE id % 2 = 1) > 0 AS odd_rows_back FROM
  (SELECT id FROM rr ORDER BY v <-> (SELECT v FROM rr WHERE id = 8) LIMIT 50) s;

-- A temporary table: its pages are in the backend's local buffers.
CREATE TEMP TABLE rr_tmp AS SELECT id, v FROM rr;
CREATE INDEX ON rr_tmp USING ivf (v vector_l2_ops) WITH (lists = 10);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM rr_tmp ORDER BY v <-> (SELECT v FROM rr WHERE id = 1) LIMIT 10;
SELECT bool_and(same_as_exact('rr_tmp', 'v', '<->', (SELECT v::text FROM rr WHERE id = q)))
         AS temp_table_l2
  FROM generate_series(1, 1900, 237) q;
RESET enable_seqscan;
DROP TABLE rr_tmp;

RESET ivf.probes;
DROP TABLE rr;
DROP FUNCTION same_as_exact;

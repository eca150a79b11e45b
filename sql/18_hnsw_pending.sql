-- The pending list (fastupdate, the default): inserts are findable at once,
-- by an exact pass over the elements not yet linked; nmvec_flush, VACUUM and
-- the size limit merge them into the graph; no row is returned twice or lost.
SELECT setseed(0.18);
CREATE TABLE pl (id int PRIMARY KEY, tenant int, v vector(16))
  WITH (autovacuum_enabled = off);  -- no merge by autoanalyze between the steps
INSERT INTO pl SELECT i, i % 4,
    (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 16) WHERE i > 0)::vector
  FROM generate_series(1, 2000) i;
SET max_parallel_maintenance_workers = 0;  -- one build thread: the same graph every run
CREATE INDEX pl_hnsw ON pl USING hnsw (v vector_l2_ops) WITH (m = 8, ef_construction = 32);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET hnsw.ef_search = 200;
SET nmvec.background_merge = off;  -- merges where this test can see them (background: below)
SELECT elements, pending FROM nmvec_index_stats('pl_hnsw');
-- 500 inserts: all pending
INSERT INTO pl SELECT i, i % 4,
    (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 16) WHERE i > 0)::vector
  FROM generate_series(2001, 2500) i;
SELECT elements, pending FROM nmvec_index_stats('pl_hnsw');

-- Every row comes first for its own vector: the 500 pending and 500 linked ones.
CREATE FUNCTION self_first(lo int, hi int) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM pl p
   WHERE p.id BETWEEN lo AND hi
     AND (SELECT q.id FROM pl q ORDER BY q.v <-> p.v LIMIT 1) = p.id $$;
EXPLAIN (COSTS OFF) SELECT id FROM pl ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 1;
SELECT self_first(2001, 2500) AS pending_found, self_first(1, 500) AS linked_found;

-- Every row exactly once, in non-decreasing distance, graph and pending merged.
CREATE VIEW walk AS
  WITH r AS (SELECT row_number() OVER () AS pos, id, d
               FROM (SELECT id, v <-> '[0.1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0.2]' AS d FROM pl
                      ORDER BY v <-> '[0.1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0.2]' LIMIT 5000) s)
  SELECT count(*) AS n, count(DISTINCT id) AS distinct_ids,
         count(*) FILTER (WHERE id > 2000) AS from_pending,
         (SELECT count(*) FROM (SELECT d < lag(d) OVER (ORDER BY pos) AS down FROM r) x WHERE down)
           AS out_of_order
    FROM r;
SELECT * FROM walk;
-- The ten nearest are the exact ten (small data: the graph is exact here).
CREATE FUNCTION top10(exact bool) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
  IF exact THEN SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on; END IF;
  SELECT array_agg(id) INTO r FROM (SELECT id FROM pl ORDER BY v <-> (SELECT v FROM pl WHERE id = 2100) LIMIT 10) s;
  RETURN r;
END $$;
SELECT top10(false) = top10(true) AS same_as_exact;

-- nmvec_flush links them all; the answers stay the same.
SELECT nmvec_flush('pl_hnsw');
SELECT elements, pending FROM nmvec_index_stats('pl_hnsw');
SELECT nmvec_flush('pl_hnsw');
SELECT self_first(2001, 2500) AS merged_found;
SELECT * FROM nmvec_index_check('pl_hnsw');
SELECT * FROM walk;
SELECT top10(false) = top10(true) AS same_as_exact;

-- VACUUM merges too, and dead pending rows are never returned.
INSERT INTO pl SELECT i, i % 4,
    (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 16) WHERE i > 0)::vector
  FROM generate_series(2501, 2800) i;
DELETE FROM pl WHERE id BETWEEN 2701 AND 2800;
SELECT pending FROM nmvec_index_stats('pl_hnsw');
SELECT count(*) FROM (SELECT id FROM pl ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5000) s
 WHERE id > 2700;
VACUUM pl;
SELECT elements, deleted, pending FROM nmvec_index_stats('pl_hnsw');
SELECT self_first(2501, 2700) AS vacuumed_found;
SELECT * FROM walk;

-- The limit: inserts merge the list once it passes pending_list_limit (kB);
-- 16-d elements take 64 + 80 bytes, so 64 kB holds 455 of them.
ALTER INDEX pl_hnsw SET (pending_list_limit = 64);
INSERT INTO pl SELECT i, i % 4,
    (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 16) WHERE i > 0)::vector
  FROM generate_series(3001, 4000) i;
SELECT pending < 456 AS under_limit, elements FROM nmvec_index_stats('pl_hnsw');
SELECT self_first(3001, 4000) AS found_after_limit_merges;
ALTER INDEX pl_hnsw RESET (pending_list_limit);
-- the GUC is the default limit
SET nmvec.pending_list_limit = 64;
INSERT INTO pl SELECT i, i % 4,
    (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 16) WHERE i > 0)::vector
  FROM generate_series(4001, 4600) i;
SELECT pending < 456 AS under_guc_limit FROM nmvec_index_stats('pl_hnsw');
RESET nmvec.pending_list_limit;
SET nmvec.pending_list_limit = 63;
SET nmvec.pending_list_limit = '1MB';
SHOW nmvec.pending_list_limit;
-- The nmvec. prefix is reserved: a misspelt name is an error.
SET nmvec.pending_list_limt = 100;
RESET nmvec.pending_list_limit;
ALTER INDEX pl_hnsw SET (pending_list_limit = 10);
ALTER INDEX pl_hnsw SET (fastupdate = maybe);

-- fastupdate = off: inserts link at once.
ALTER INDEX pl_hnsw SET (fastupdate = off);
SELECT nmvec_flush('pl_hnsw') >= 0 AS flushed;
INSERT INTO pl SELECT i, i % 4,
    (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 16) WHERE i > 0)::vector
  FROM generate_series(5001, 5100) i;
SELECT pending FROM nmvec_index_stats('pl_hnsw');
SELECT self_first(5001, 5100) AS sync_found;
ALTER INDEX pl_hnsw SET (fastupdate = on);
SELECT * FROM walk;

-- A long list is merged by the backend and a parallel worker
-- (max_parallel_maintenance_workers), each linking its share of the ids.
INSERT INTO pl SELECT i, i % 4,
    (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 16) WHERE i > 0)::vector
  FROM generate_series(6001, 8400) i;
SELECT pending FROM nmvec_index_stats('pl_hnsw');
SET max_parallel_maintenance_workers = 1;
SELECT nmvec_flush('pl_hnsw');
RESET max_parallel_maintenance_workers;
SELECT linked, pending, duplicate_links, self_links, links_to_unwritten, pending_below_first
  FROM nmvec_index_check('pl_hnsw');
-- (elements linked at the same time by two processes make a slightly
-- different graph each run: all but a few are found first at ef_search 200)
SELECT self_first(6001, 8400) >= 2388 AS parallel_merged_found;

-- Background merge (the default): the insert that passes the limit starts a
-- worker that merges while inserts go on; an insert merges itself only past
-- four times the limit. A limit of 160 kB (1,137 elements of 16 dims) makes
-- the worker's first round long enough (1,024 and more) for parallel
-- workers, as nmvec_flush uses. Wait (up to a minute) for it to finish.
RESET nmvec.background_merge;
ALTER INDEX pl_hnsw SET (pending_list_limit = 160);
CREATE FUNCTION wait_merged(idx regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE p bigint;
BEGIN
  FOR i IN 1..600 LOOP
    SELECT pending INTO p FROM nmvec_index_stats(idx);
    EXIT WHEN p < 1137;
    PERFORM pg_sleep(0.1);
  END LOOP;
  RETURN p;
END $$;
INSERT INTO pl SELECT i, i % 4,
    (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 16) WHERE i > 0)::vector
  FROM generate_series(9001, 12000) i;
SELECT pending <= 4 * 1137 AS within_hard_limit FROM nmvec_index_stats('pl_hnsw');
SELECT wait_merged('pl_hnsw') < 1137 AS merged_in_background;
SELECT self_first(9001, 12000) >= 2985 AS background_merged_found;
SELECT duplicate_links, self_links, links_to_unwritten, pending_below_first FROM nmvec_index_check('pl_hnsw');
ALTER INDEX pl_hnsw RESET (pending_list_limit);
SET nmvec.background_merge = off;

-- An index built empty: the first rows are all pending, there is no graph yet.
CREATE TABLE pe (id int, v halfvec(8)) WITH (autovacuum_enabled = off);
CREATE INDEX pe_hnsw ON pe USING hnsw (v halfvec_cosine_ops);
INSERT INTO pe SELECT i, (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 8) WHERE i > 0)::halfvec
  FROM generate_series(1, 300) i;
INSERT INTO pe VALUES (301, '[0,0,0,0,0,0,0,0]'), (302, NULL);  -- not indexed
SELECT elements, levels, pending FROM nmvec_index_stats('pe_hnsw');
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM pe ORDER BY v <=> '[1,2,3,4,5,6,7,8]' LIMIT 1000) s;
SELECT count(*) FROM pe p WHERE p.id <= 300 AND (SELECT q.id FROM pe q ORDER BY q.v <=> p.v LIMIT 1) = p.id;
SELECT nmvec_flush('pe_hnsw');
SELECT elements, levels > 0 AS has_levels, pending FROM nmvec_index_stats('pe_hnsw');
SELECT count(*) FROM pe p WHERE p.id <= 300 AND (SELECT q.id FROM pe q ORDER BY q.v <=> p.v LIMIT 1) = p.id;
-- a NULL query returns every indexed row, pending or not
INSERT INTO pe SELECT i, (SELECT array_agg(random() - 0.5)::real[] FROM generate_series(1, 8) WHERE i > 0)::halfvec
  FROM generate_series(401, 450) i;
SELECT count(*) FROM (SELECT id FROM pe ORDER BY v <=> NULL LIMIT 1000) s;

-- (after merges on several processes a displaced back link can leave an
-- element or two that no list names; scans still reach them by their sweep)
SELECT linked, pending, deleted, unwritten, duplicate_links, self_links, links_to_unwritten,
       pending_below_first, unreached <= 3 AS few_unreached
  FROM nmvec_index_check('pl_hnsw');
SELECT * FROM nmvec_index_check('pe_hnsw');
-- nmvec_flush and nmvec_index_check: errors.
SELECT * FROM nmvec_index_check('pl_pkey');
SELECT * FROM nmvec_index_check('pl');
SELECT nmvec_flush('pl');
SELECT nmvec_flush('pl_pkey');
SELECT nmvec_flush(0);
SELECT nmvec_flush(NULL);
BEGIN READ ONLY;
SELECT nmvec_flush('pl_hnsw');
ROLLBACK;
CREATE ROLE nmvec_pl_reader;
CREATE ROLE nmvec_pl_nobody;
GRANT SELECT ON pl TO nmvec_pl_reader;
SET ROLE nmvec_pl_reader;
SELECT nmvec_flush('pl_hnsw');
SELECT pending >= 0 FROM nmvec_index_stats('pl_hnsw');
SELECT duplicate_links FROM nmvec_index_check('pl_hnsw');
RESET ROLE;
SET ROLE nmvec_pl_nobody;
SELECT duplicate_links FROM nmvec_index_check('pl_hnsw');
RESET ROLE;
GRANT INSERT ON pl TO nmvec_pl_reader;
SET ROLE nmvec_pl_reader;
SELECT nmvec_flush('pl_hnsw') >= 0 AS flushed;
RESET ROLE;
DROP OWNED BY nmvec_pl_reader;
DROP ROLE nmvec_pl_reader;
DROP ROLE nmvec_pl_nobody;

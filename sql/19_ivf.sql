-- The ivf index: lists trained by k-means, scans probe the nearest lists and
-- then further ones while rows are asked for; quantizer rabitq (the default
-- for an index on a column: codes re-ranked with the table's vectors) and
-- flat (the vectors in the index); also under pgvector's name ivfflat
-- (flat by default).
SELECT setseed(0.19);
CREATE TABLE iv (id int PRIMARY KEY, cat int, v vector(16), h halfvec(16))
  WITH (autovacuum_enabled = off);
-- Clustered data: 20 centres, points around them.
CREATE TABLE iv_centres AS SELECT c,
    (SELECT array_agg(random() * 2 - 1)::real[] FROM generate_series(1, 16) WHERE c >= 0) AS x
  FROM generate_series(0, 19) c;
INSERT INTO iv SELECT i, i % 10, v, v::halfvec
  FROM (SELECT i, (SELECT array_agg(x[d] + (random() - 0.5) * 0.2)::real[]
                     FROM generate_series(1, 16) d)::vector AS v
          FROM generate_series(1, 3000) i JOIN iv_centres ON c = i % 20) s;
SET max_parallel_maintenance_workers = 0;
CREATE INDEX iv_l2 ON iv USING ivf (v vector_l2_ops) WITH (lists = 20);
SELECT bytes < 300000 AS rabitq_by_default FROM nmvec_ivf_stats('iv_l2');
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM iv ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5;

-- Every row comes first for its own vector (its list is the nearest to it).
CREATE FUNCTION iv_self_first(lo int, hi int) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM iv p
   WHERE p.id BETWEEN lo AND hi
     AND (SELECT q.id FROM iv q ORDER BY q.v <-> p.v LIMIT 1) = p.id $$;
SELECT iv_self_first(1, 300) AS found_of_300;

-- Probing every list gives the exact answer.
SET ivf.probes = 20;
SELECT count(*) AS same_top10 FROM iv p WHERE p.id <= 50 AND
  (SELECT array_agg(id) FROM (SELECT id FROM iv ORDER BY v <-> p.v LIMIT 10) s) =
  (SELECT array_agg(id ORDER BY d, id) FROM
     (SELECT id, v <-> p.v AS d FROM iv ORDER BY v <-> p.v LIMIT 10) e);
RESET ivf.probes;
SHOW ivf.probes;

-- A filter that few rows pass: the scan probes further lists until LIMIT
-- rows are found; a LIMIT above the table returns every row once.
SELECT count(*), count(DISTINCT id) FROM
  (SELECT id FROM iv WHERE id % 300 = 7 ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10) s;
SELECT count(*), count(DISTINCT id) FROM
  (SELECT id FROM iv ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5000) s;
-- The first round (the probed lists) comes in order of distance.
SELECT bool_and(d >= pd) AS first_round_in_order FROM
  (SELECT d, lag(d, 1, 0::float8) OVER (ORDER BY n) AS pd FROM
     (SELECT row_number() OVER () AS n, v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' AS d
        FROM (SELECT v FROM iv ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 20) a) b) c;

-- Inserts after the build are found at once; deleted rows never come back.
INSERT INTO iv SELECT i, 0, v, v::halfvec
  FROM (SELECT i, (SELECT array_agg(x[d] + (random() - 0.5) * 0.2)::real[]
                     FROM generate_series(1, 16) d)::vector AS v
          FROM generate_series(3001, 3500) i JOIN iv_centres ON c = i % 20) s;
SELECT iv_self_first(3001, 3500) AS inserted_found_of_500;
DELETE FROM iv WHERE id % 2 = 0;
VACUUM iv;
SELECT count(*) AS rows_after_delete, count(*) FILTER (WHERE id % 2 = 0) AS deleted_returned FROM
  (SELECT id FROM iv ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5000) s;
SELECT iv_self_first(1, 500) AS found_of_250_left;
-- What the index holds: 3,000 built, 500 added, half of them dead now.
SELECT lists, records, dead, empty_lists, rows_built, rows_added, round(added_share::numeric, 3) AS added_share,
       bytes > 0 AS has_bytes, dims
  FROM nmvec_ivf_stats('iv_l2');
-- The lists a scan probes first: automatic (8, fewer only with fewer
-- lists), or ivf.probes.
SELECT probes AS automatic_probes FROM nmvec_ivf_stats('iv_l2');
SET ivf.probes = 3;
SELECT probes AS set_probes FROM nmvec_ivf_stats('iv_l2');
SET ivf.probes = 1000;
SELECT probes AS capped_at_lists FROM nmvec_ivf_stats('iv_l2');
RESET ivf.probes;
SELECT nmvec_ivf_stats('iv');
CREATE INDEX iv_btree ON iv (id);
SELECT nmvec_ivf_stats('iv_btree');
DROP INDEX iv_btree;
SELECT nmvec_ivf_stats(0);
CREATE ROLE iv_reader;
SET ROLE iv_reader;
SELECT nmvec_ivf_stats('iv_l2');
RESET ROLE;
DROP ROLE iv_reader;

-- NULL vectors are not indexed; a NULL query returns every row, unordered.
INSERT INTO iv VALUES (9001, 0, NULL, NULL);
SELECT count(*) FROM (SELECT id FROM iv ORDER BY v <-> NULL LIMIT 5000) s;
-- Wrong dimensions.
INSERT INTO iv VALUES (9002, 0, '[1,2,3]', NULL);

-- Operator classes, flat: each against the exact order (every list probed).
SET ivf.probes = 20;
CREATE INDEX iv_ip ON iv USING ivf (v vector_ip_ops) WITH (lists = 20, quantizer = 'flat');
CREATE INDEX iv_cos ON iv USING ivf (v vector_cosine_ops) WITH (lists = 20, quantizer = 'flat');
CREATE INDEX iv_h ON iv USING ivf (h halfvec_l2_ops) WITH (lists = 20, quantizer = 'flat');
CREATE INDEX iv_hcos ON iv USING ivf (h halfvec_cosine_ops) WITH (lists = 20, quantizer = 'flat');
CREATE INDEX iv_hip ON iv USING ivf (h halfvec_ip_ops) WITH (lists = 20, quantizer = 'flat');
-- (Compared by the exact distances of the rows returned: halfvec cosine
-- indexes keep unit-length binary16 vectors, whose rounding may swap rows
-- whose distances tie to 3 decimals.)
CREATE FUNCTION iv_same_as_exact(col text, op text, q text) RETURNS bool LANGUAGE plpgsql AS $$
DECLARE a numeric[]; b numeric[]; query text;
BEGIN
  query := format('SELECT array_agg(round((%1$s %2$s %3$L)::numeric, 3)) FROM
                     (SELECT %1$s FROM iv ORDER BY %1$s %2$s %3$L LIMIT 10) s', col, op, q);
  SET LOCAL enable_indexscan = on;
  EXECUTE query INTO a;
  SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
  EXECUTE query INTO b;
  RETURN a = b;
END $$;
SELECT iv_same_as_exact('v', '<#>', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS ip,
       iv_same_as_exact('v', '<=>', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS cosine,
       iv_same_as_exact('h', '<->', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS half_l2,
       iv_same_as_exact('h', '<=>', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS half_cos,
       iv_same_as_exact('h', '<#>', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS half_ip;
-- RaBitQ codes (1, 4, 8 bits), re-ranked with the table's vectors: the same
-- rows as the exact order, for every operator class.
CREATE INDEX iv_r1 ON iv USING ivf (v vector_l2_ops) WITH (lists = 20, quantizer = 'rabitq');
CREATE INDEX iv_r4 ON iv USING ivf (v vector_ip_ops) WITH (lists = 20, quantizer = 'rabitq4');
CREATE INDEX iv_r8 ON iv USING ivf (v vector_cosine_ops) WITH (lists = 20, quantizer = 'rabitq8');
CREATE INDEX iv_rh ON iv USING ivf (h halfvec_l2_ops) WITH (lists = 20, quantizer = 'rabitq');
CREATE INDEX iv_rhc ON iv USING ivf (h halfvec_cosine_ops) WITH (lists = 20, quantizer = 'rabitq');
CREATE INDEX iv_rhi ON iv USING ivf (h halfvec_ip_ops) WITH (lists = 20, quantizer = 'rabitq');
DROP INDEX iv_ip, iv_cos, iv_h, iv_hcos, iv_hip;
SELECT iv_same_as_exact('v', '<->', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS rabitq_l2,
       iv_same_as_exact('v', '<#>', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS rabitq4_ip,
       iv_same_as_exact('v', '<=>', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS rabitq8_cosine,
       iv_same_as_exact('h', '<->', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS half_l2,
       iv_same_as_exact('h', '<=>', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS half_cos,
       iv_same_as_exact('h', '<#>', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS half_ip;
EXPLAIN (COSTS OFF) SELECT id FROM iv ORDER BY v <#> '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]' LIMIT 5;
-- With the automatic probes each row still comes first for its own vector.
RESET ivf.probes;
SELECT count(*) AS rabitq_self_first_of_150 FROM iv p WHERE p.id <= 300 AND
  (SELECT q.id FROM iv q ORDER BY q.v <-> p.v LIMIT 1) = p.id;
SELECT lists, records, bytes < 200000 AS compact FROM nmvec_ivf_stats('iv_r1');
-- ivf.rerank caps the rows read from the table per round of probes: past
-- the cap rows come by estimate, still every one of them exactly once; a
-- cap above the candidates changes nothing.
SHOW ivf.rerank;
SET ivf.rerank = 1;
SELECT count(*) AS returned, count(DISTINCT id) AS distinct_rows,
       count(*) = (SELECT count(*) FROM iv WHERE v IS NOT NULL) AS every_row
  FROM (SELECT id FROM iv ORDER BY v <-> '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]' LIMIT 100000) s;
SET ivf.rerank = 1000000;
SELECT iv_same_as_exact('v', '<->', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS rerank_cap_above_candidates;
RESET ivf.rerank;
-- Rows deleted after the build: the re-ranking's table fetch skips them
-- before vacuum has marked their records.
DELETE FROM iv WHERE id BETWEEN 1 AND 100;
SELECT count(*) FILTER (WHERE id <= 100) AS deleted_returned, count(*) FROM
  (SELECT id FROM iv ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5000) s;
-- RaBitQ needs a table column (it re-ranks with it), and finite codes.
CREATE INDEX ON iv USING ivf ((v::halfvec(16)) halfvec_l2_ops) WITH (quantizer = 'rabitq');
-- Not given, an index on an expression stores flat vectors.
CREATE INDEX iv_expr ON iv USING ivf ((v::halfvec(16)) halfvec_l2_ops) WITH (lists = 20);
EXPLAIN (COSTS OFF) SELECT id FROM iv ORDER BY v::halfvec(16) <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5;
SELECT count(*) FROM (SELECT id FROM iv ORDER BY v::halfvec(16) <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5) s;
DROP INDEX iv_expr;
-- Two-stage codes (rabitq2): 1-bit codes refined from a second bit plane
-- for the rows that may rank. Every list probed, each operator class gives
-- the exact order, also for rows inserted after the build, and 100 rows
-- deep (past the rows a round refines, fetched on 1-bit bounds).
DROP INDEX iv_r1, iv_r4, iv_r8, iv_rh, iv_rhc, iv_rhi;
CREATE INDEX iv_r2 ON iv USING ivf (v vector_l2_ops) WITH (lists = 20, quantizer = 'rabitq2');
CREATE INDEX iv_r2i ON iv USING ivf (v vector_ip_ops) WITH (lists = 20, quantizer = 'rabitq2');
CREATE INDEX iv_r2h ON iv USING ivf (h halfvec_cosine_ops) WITH (lists = 20, quantizer = 'rabitq2');
INSERT INTO iv SELECT 20000 + id, 0, v, h FROM iv WHERE id BETWEEN 101 AND 140 AND v IS NOT NULL;
SET ivf.probes = 20;
SELECT iv_same_as_exact('v', '<->', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS rabitq2_l2,
       iv_same_as_exact('v', '<#>', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS rabitq2_ip,
       iv_same_as_exact('h', '<=>', '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]') AS rabitq2_half_cos,
       iv_same_as_exact('v', '<->', (SELECT v::text FROM iv WHERE id = 20105)) AS rabitq2_inserted;
SELECT (SELECT array_agg(round(d::numeric, 3)) FROM (SELECT v <-> '[0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1]' AS d FROM iv
          ORDER BY v <-> '[0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1]' LIMIT 100) s) =
       (SELECT array_agg(round(d::numeric, 3) ORDER BY d) FROM (SELECT v <-> '[0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1]' AS d
          FROM iv WHERE v IS NOT NULL ORDER BY (v <-> '[0,1,0,1,0,1,0,1,0,1,0,1,0,1,0,1]') + 0 LIMIT 100) s)
         AS rabitq2_100_in_order;
SELECT lists, records FROM nmvec_ivf_stats('iv_r2');
DELETE FROM iv WHERE id > 20000;
RESET ivf.probes;
SELECT count(*) AS rabitq2_self_first_of_100 FROM iv p WHERE p.id <= 300 AND
  (SELECT q.id FROM iv q ORDER BY q.v <-> p.v LIMIT 1) = p.id;
-- RaBitQ codes must be finite.
INSERT INTO iv VALUES (9003, 0, array_fill(1e38::real, ARRAY[16])::vector, NULL);
DROP INDEX iv_r2, iv_r2i, iv_r2h;
SET ivf.probes = 20;
-- Distances are the operators' values.
SELECT round((v <#> '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]')::numeric, 4) =
       round((SELECT v <#> '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]' FROM iv ORDER BY v <#> '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]' LIMIT 1)::numeric, 4)
  AS ip_distance_matches
  FROM iv ORDER BY v <#> '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]' LIMIT 1;
-- A zero query under cosine has no distances: every row, unordered.
SELECT count(*) FROM (SELECT id FROM iv ORDER BY v <=> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5000) s;
RESET ivf.probes;

-- Under pgvector's name: ivfflat.probes steers it.
CREATE INDEX iv_flat ON iv USING ivfflat (v vector_l2_ops) WITH (lists = 20);
DROP INDEX iv_l2;
SET ivfflat.probes = 20;
SELECT count(*) AS same_top10_of_25 FROM iv p WHERE p.id BETWEEN 101 AND 150 AND
  (SELECT array_agg(id) FROM (SELECT id FROM iv ORDER BY v <-> p.v LIMIT 10) s) =
  (SELECT array_agg(id ORDER BY d, id) FROM
     (SELECT id, v <-> p.v AS d FROM iv ORDER BY v <-> p.v LIMIT 10) e);
SELECT probes AS ivfflat_probes FROM nmvec_ivf_stats('iv_flat');
SET ivfflat.probes = 1;
SET ivfflat.max_probes = 2;  -- a cap on the iterations: at most 2 lists' rows
SELECT count(*) < 1750 AS capped FROM
  (SELECT id FROM iv ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 5000) s;
RESET ivfflat.probes;
RESET ivfflat.max_probes;
DROP INDEX iv_flat;

-- Records larger than a page (3,000 dims: 12,008 bytes) span pages, at
-- build and on insert.
CREATE TABLE iv_wide (id int, v vector(3000)) WITH (autovacuum_enabled = off);
INSERT INTO iv_wide SELECT i, (SELECT array_agg(sin(i * d))::real[] FROM generate_series(1, 3000) d)::vector
  FROM generate_series(1, 60) i;
CREATE INDEX wide_ivf ON iv_wide USING ivf (v) WITH (lists = 3, quantizer = 'flat');
INSERT INTO iv_wide SELECT i, (SELECT array_agg(sin(i * d))::real[] FROM generate_series(1, 3000) d)::vector
  FROM generate_series(61, 90) i;
SELECT count(*) AS self_found FROM iv_wide p
 WHERE (SELECT q.id FROM iv_wide q ORDER BY q.v <-> p.v LIMIT 1) = p.id;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM iv_wide ORDER BY v <-> (SELECT v FROM iv_wide WHERE id = 1) LIMIT 100) s;

-- Built on an empty table without a typmod: one list, filled by inserts.
CREATE TABLE iv_late (id int, v vector);
CREATE INDEX late_ivf ON iv_late USING ivf (v);
INSERT INTO iv_late SELECT i, ARRAY[i, i * 2, 1]::real[]::vector FROM generate_series(1, 100) i;
SELECT id FROM iv_late ORDER BY v <-> '[10,20,1]' LIMIT 3;
INSERT INTO iv_late VALUES (101, '[1,2]');

-- More lists than rows: a NOTICE, and as many lists as rows.
CREATE TABLE iv_few (id int, v vector(2));
INSERT INTO iv_few VALUES (1, '[1,1]'), (2, '[2,2]'), (3, '[3,3]');
CREATE INDEX few_ivf ON iv_few USING ivf (v) WITH (lists = 10);
SELECT id FROM iv_few ORDER BY v <-> '[2.9,2.9]' LIMIT 3;

-- Options and settings.
CREATE INDEX ON iv_few USING ivf (v) WITH (lists = 0);
CREATE INDEX ON iv_few USING ivf (v) WITH (lists = 40000);
CREATE INDEX ON iv_few USING ivf (v) WITH (quantizer = 'pq');
CREATE INDEX ON iv_few USING ivf (v) WITH (quantizer = 'flat');
CREATE INDEX ON iv_few USING ivf (v vector_l1_ops);
SET ivf.probes = -1;
SET ivf.rerank = -1;
SET ivf.prob = 3;
-- maintenance_work_mem too small for the sample k-means needs.
CREATE TABLE iv_big (id int, v vector(1000));
INSERT INTO iv_big SELECT i, (SELECT array_agg(cos(i * d))::real[] FROM generate_series(1, 1000) d)::vector
  FROM generate_series(1, 500) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX ON iv_big USING ivf (v) WITH (lists = 100);
-- A table counted small (ANALYZE) and loaded since: the sample follows the
-- rows the build scan finds, not the stale count.
CREATE TABLE iv_grown (id int, v vector(16)) WITH (autovacuum_enabled = off);
INSERT INTO iv_grown SELECT i, (SELECT array_agg(sin(i * d))::real[] FROM generate_series(1, 16) d)::vector
  FROM generate_series(1, 100) i;
ANALYZE iv_grown;
INSERT INTO iv_grown SELECT i, (SELECT array_agg(sin(i * d))::real[] FROM generate_series(1, 16) d)::vector
  FROM generate_series(101, 70000) i;
CREATE INDEX iv_grown_i ON iv_grown USING ivf (v);
SELECT lists, records FROM nmvec_ivf_stats('iv_grown_i');
DROP TABLE iv_grown;
-- The hint's figure is enough (the sample may take half of it).
SET maintenance_work_mem = '4MB';
CREATE INDEX iv_big_i ON iv_big USING ivf (v) WITH (lists = 100);
SELECT lists, records FROM nmvec_ivf_stats('iv_big_i');
DROP INDEX iv_big_i;
RESET maintenance_work_mem;
-- The build spools the assigned records to a temporary file before it lays
-- the lists out (~160 bytes a row here): temp_file_limit applies to it.
SET temp_file_limit = '64kB';
CREATE INDEX iv_big_i ON iv_big USING ivf (v) WITH (lists = 10);
RESET temp_file_limit;
CREATE INDEX iv_big_i ON iv_big USING ivf (v) WITH (lists = 10);
SELECT lists, records FROM nmvec_ivf_stats('iv_big_i');
DROP INDEX iv_big_i;

-- Inserts are buffered per list in the inserting backend and written before
-- the transaction commits; the backend's own scans write them first.
CREATE TABLE iv_tx (id int, v vector(4));
INSERT INTO iv_tx SELECT i, ARRAY[i, i % 7, i % 5, 1] FROM generate_series(1, 200) i;
CREATE INDEX iv_tx_i ON iv_tx USING ivf (v) WITH (lists = 4);
BEGIN;
INSERT INTO iv_tx VALUES (1001, '[1000,0,0,1]');
SELECT id FROM iv_tx ORDER BY v <-> '[1000,0,0,1]' LIMIT 1;
ROLLBACK;
-- The scan wrote the aborted row's record: it stays (dead) until vacuum.
SELECT records FROM nmvec_ivf_stats('iv_tx_i');
-- Rolled back before anything read the index: never written.
BEGIN;
INSERT INTO iv_tx VALUES (1002, '[2000,0,0,1]');
ROLLBACK;
SELECT records FROM nmvec_ivf_stats('iv_tx_i');
-- A subtransaction rolled back: its rows are invisible, the others found.
BEGIN;
INSERT INTO iv_tx VALUES (1003, '[3000,0,0,1]');
SAVEPOINT s;
INSERT INTO iv_tx VALUES (1004, '[3001,0,0,1]');
ROLLBACK TO s;
COMMIT;
SELECT id FROM iv_tx ORDER BY v <-> '[3001,0,0,1]' LIMIT 2;
-- TRUNCATE and REINDEX after inserts in one transaction: the rebuilt index
-- holds exactly the table's rows (the buffer is dropped, not written).
BEGIN;
INSERT INTO iv_tx VALUES (1005, '[4000,0,0,1]');
TRUNCATE iv_tx;
INSERT INTO iv_tx VALUES (1006, '[5000,0,0,1]');
COMMIT;
SELECT records FROM nmvec_ivf_stats('iv_tx_i');
SELECT id FROM iv_tx ORDER BY v <-> '[4000,0,0,1]' LIMIT 5;
INSERT INTO iv_tx SELECT i, ARRAY[i, i % 7, i % 5, 1] FROM generate_series(1, 200) i;
BEGIN;
INSERT INTO iv_tx VALUES (1007, '[6000,0,0,1]');
REINDEX INDEX iv_tx_i;
INSERT INTO iv_tx VALUES (1008, '[6001,0,0,1]');
COMMIT;
SELECT records, (SELECT count(*) FROM iv_tx) AS table_rows FROM nmvec_ivf_stats('iv_tx_i');
SELECT id FROM iv_tx ORDER BY v <-> '[6000,0,0,1]' LIMIT 2;
-- Dropped after inserts in the same transaction: nothing to write.
BEGIN;
INSERT INTO iv_tx VALUES (1009, '[7000,0,0,1]');
DROP INDEX iv_tx_i;
COMMIT;
SELECT count(*) FROM iv_tx;
-- A savepoint rollback that undoes a TRUNCATE (or a REINDEX): the rows
-- inserted before it are written to the index (buffers are kept per
-- relfilenode, and only the current one's is written).
CREATE TABLE iv_sp (id int, v vector(4));
INSERT INTO iv_sp SELECT i, ARRAY[i, i % 7, i % 5, 1] FROM generate_series(1, 200) i;
CREATE INDEX iv_sp_i ON iv_sp USING ivf (v) WITH (lists = 4);
BEGIN;
INSERT INTO iv_sp VALUES (1001, '[1000,0,0,1]');
SAVEPOINT s;
TRUNCATE iv_sp;
INSERT INTO iv_sp VALUES (1002, '[2000,0,0,1]');
ROLLBACK TO s;
INSERT INTO iv_sp VALUES (1003, '[3000,0,0,1]');
SAVEPOINT s2;
REINDEX INDEX iv_sp_i;
INSERT INTO iv_sp VALUES (1004, '[4000,0,0,1]');
ROLLBACK TO s2;
COMMIT;
SELECT records, (SELECT count(*) FROM iv_sp) AS table_rows FROM nmvec_ivf_stats('iv_sp_i');
SELECT id FROM iv_sp ORDER BY v <-> '[1000,0,0,1]' LIMIT 1;
SELECT id FROM iv_sp ORDER BY v <-> '[3000,0,0,1]' LIMIT 1;
SELECT count(*) FROM (SELECT id FROM iv_sp ORDER BY v <-> '[2000,0,0,1]' LIMIT 1000) s WHERE id IN (1002, 1004);
-- Every statement sees what earlier statements of its transaction inserted,
-- also in parallel workers (which have no insert buffers of their own).
CREATE TABLE iv_par (id int, v vector(4));
INSERT INTO iv_par SELECT i, ARRAY[i, 0, 0, 1] FROM generate_series(1, 100) i;
CREATE INDEX iv_par_i ON iv_par USING ivf (v) WITH (lists = 4);
BEGIN;
INSERT INTO iv_par VALUES (5000, '[5000,0,0,1]');
SET LOCAL force_parallel_mode = on;  -- the whole query in a worker
SET LOCAL parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT id FROM iv_par ORDER BY v <-> '[5000,0,0,1]' LIMIT 1;
SELECT id FROM iv_par ORDER BY v <-> '[5000,0,0,1]' LIMIT 1;
COMMIT;
-- The type's limit, 16,000 dims: flat records span 8 pages, RaBitQ codes
-- (2,020 bytes) straddle them; both find every row by its own vector.
CREATE TABLE iv_max (id int, v vector(16000));
INSERT INTO iv_max SELECT i, (SELECT array_agg(sin(i * d * 0.001))::real[] FROM generate_series(1, 16000) d)::vector
  FROM generate_series(1, 24) i;
CREATE INDEX iv_max_flat ON iv_max USING ivf (v) WITH (lists = 3, quantizer = 'flat');
INSERT INTO iv_max SELECT i, (SELECT array_agg(cos(i * d * 0.001))::real[] FROM generate_series(1, 16000) d)::vector
  FROM generate_series(25, 30) i;
SELECT count(*) AS flat_self_found FROM iv_max p WHERE (SELECT q.id FROM iv_max q ORDER BY q.v <-> p.v LIMIT 1) = p.id;
DROP INDEX iv_max_flat;
CREATE INDEX iv_max_rabitq ON iv_max USING ivf (v) WITH (lists = 3);
INSERT INTO iv_max SELECT i, (SELECT array_agg(cos(i * d * 0.002))::real[] FROM generate_series(1, 16000) d)::vector
  FROM generate_series(31, 34) i;
SELECT count(*) AS rabitq_self_found FROM iv_max p WHERE (SELECT q.id FROM iv_max q ORDER BY q.v <-> p.v LIMIT 1) = p.id;
SELECT lists, records, dims FROM nmvec_ivf_stats('iv_max_rabitq');
-- Huge elements of both signs: inner products overflow to -Infinity and
-- NaN (inf - inf). Both quantizers return every row once and, within a
-- round (all 20 lists here), NaN distances last, as an exact ORDER BY does
-- (NaN sorts after every float8).
CREATE TABLE iv_nan (id int, v vector(16));
INSERT INTO iv_nan SELECT i, (SELECT array_agg(sin(i * d))::real[] FROM generate_series(1, 16) d)::vector
  FROM generate_series(1, 3000) i;
CREATE INDEX iv_nan_flat ON iv_nan USING ivf (v vector_ip_ops) WITH (lists = 20, quantizer = 'flat');
CREATE FUNCTION iv_nan_check() RETURNS TABLE (rows bigint, distinct_rows bigint, nan_rows bigint, nan_after_numbers bool)
LANGUAGE sql AS $$
  WITH r AS (SELECT id, v <#> '[3e38,-3e38,3e38,-3e38,3e38,-3e38,3e38,-3e38,3e38,-3e38,3e38,-3e38,3e38,-3e38,3e38,-3e38]' AS d,
                    row_number() OVER () AS pos
               FROM (SELECT id, v FROM iv_nan
                      ORDER BY v <#> '[3e38,-3e38,3e38,-3e38,3e38,-3e38,3e38,-3e38,3e38,-3e38,3e38,-3e38,3e38,-3e38,3e38,-3e38]'
                      LIMIT 5000) s)
  SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE d = 'NaN'),
         coalesce(max(pos) FILTER (WHERE d <> 'NaN') < min(pos) FILTER (WHERE d = 'NaN'), true)
    FROM r $$;
SET enable_seqscan = off;
SET ivf.probes = 20;
SELECT * FROM iv_nan_check();
DROP INDEX iv_nan_flat;
CREATE INDEX iv_nan_rabitq ON iv_nan USING ivf (v vector_ip_ops) WITH (lists = 20);
SELECT * FROM iv_nan_check();
RESET enable_seqscan;
RESET ivf.probes;
DROP TABLE iv_nan;
DROP FUNCTION iv_nan_check();

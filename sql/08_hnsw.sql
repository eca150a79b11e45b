-- hnsw index: DDL and options, empty tables, NULLs, every operator class
-- against an exact scan, iterative scans under filters, errors, planner choice.
SET client_min_messages = notice;

-- Options are validated.
CREATE TABLE h (id int, v vector(3));
CREATE INDEX ON h USING hnsw (v) WITH (m = 1);
CREATE INDEX ON h USING hnsw (v) WITH (m = 101);
CREATE INDEX ON h USING hnsw (v) WITH (ef_construction = 3);
CREATE INDEX ON h USING hnsw (v) WITH (m = 32, ef_construction = 40);
CREATE INDEX ON h USING hnsw (v) WITH (foo = 1);
SET hnsw.ef_search = 0;
SET hnsw.ef_search = 1001;
SHOW hnsw.ef_search;

-- Empty table, then inserts into the empty index, NULLs skipped.
CREATE INDEX h_idx ON h USING hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 16);
SELECT elements, levels, deleted, pending, dims FROM nmvec_index_stats('h_idx');
SET enable_seqscan = off;
SELECT * FROM h ORDER BY v <-> '[1,1,1]' LIMIT 3;
INSERT INTO h VALUES (1, '[0,0,0]'), (2, '[1,2,3]'), (3, '[1,1,1]'), (4, NULL), (5, '[1,2,4]');
SELECT id FROM h ORDER BY v <-> '[3,3,3]';
SELECT elements, dims FROM nmvec_index_stats('h_idx');
-- a NULL query returns every indexed row
SELECT count(*) FROM (SELECT id FROM h ORDER BY v <-> NULL) s;
-- wrong dims in the query
SELECT id FROM h ORDER BY v <-> '[1,2]' LIMIT 1;
-- wrong dims on insert into an index without a typmod
CREATE TABLE hf (v vector);
CREATE INDEX ON hf USING hnsw (v);
INSERT INTO hf VALUES ('[1,2]');
INSERT INTO hf VALUES ('[1,2,3]');
TRUNCATE h;
SELECT * FROM h ORDER BY v <-> '[3,3,3]';
RESET enable_seqscan;
DROP TABLE h, hf;

-- Every operator class returns the exact answer on small data at high ef.
-- (halfvec_cosine_ops stores unit vectors rounded to float16, so among
-- near-ties its order can differ from the operator on the raw values.)
-- Builds here use one thread (max_parallel_maintenance_workers = 0) so the
-- graphs, and these figures, are the same on every run; the checks compare
-- distances, not ids, so ties count as hits.
SET max_parallel_maintenance_workers = 0;
CREATE TABLE items AS
SELECT i AS id, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7) + 0.1, cos(i * 2.1)]::vector(4) AS v,
       ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7) + 0.1, cos(i * 2.1)]::halfvec(4) AS h
FROM generate_series(1, 3000) i;
CREATE INDEX items_l2 ON items USING hnsw (v vector_l2_ops);
CREATE INDEX items_ip ON items USING hnsw (v vector_ip_ops);
CREATE INDEX items_cos ON items USING hnsw (v vector_cosine_ops);
CREATE INDEX items_l1 ON items USING hnsw (v vector_l1_ops);
CREATE INDEX items_hl2 ON items USING hnsw (h halfvec_l2_ops);
CREATE INDEX items_hip ON items USING hnsw (h halfvec_ip_ops);
CREATE INDEX items_hcos ON items USING hnsw (h halfvec_cosine_ops);
CREATE INDEX items_hl1 ON items USING hnsw (h halfvec_l1_ops);
CREATE TABLE q AS SELECT j, ARRAY[cos(j), sin(j * 0.3), cos(j * 1.7), sin(j)]::vector(4) AS v FROM generate_series(1, 20) j;
SET hnsw.ef_search = 400;
-- recall@10 by distance (ties count as hits): the share of the index's top
-- 10 that lie within the exact 10th-nearest distance.
CREATE FUNCTION recall(op text, col text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE hits int := 0; r record; got float8[]; bound float8; typ text;
BEGIN
  typ := CASE WHEN col = 'h' THEN 'halfvec' ELSE 'vector' END;
  FOR r IN SELECT * FROM q LOOP
    SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
    EXECUTE format('SELECT array_agg(d) FROM (SELECT %I %s $1::%s AS d FROM items ORDER BY %I %s $1::%s LIMIT 10) s',
                   col, op, typ, col, op, typ) INTO got USING r.v;
    SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
    EXECUTE format('SELECT max(d) FROM (SELECT %I %s $1::%s AS d FROM items ORDER BY 1 LIMIT 10) s',
                   col, op, typ) INTO bound USING r.v;
    hits := hits + (SELECT count(*) FROM unnest(got) g WHERE g <= bound + 1e-6);
  END LOOP;
  RETURN round(hits / 200.0, 3);
END $$;
SELECT op, col, recall(op, col) FROM (VALUES ('<->', 'v'), ('<#>', 'v'), ('<=>', 'v'), ('<+>', 'v'),
                                             ('<->', 'h'), ('<#>', 'h'), ('<=>', 'h'), ('<+>', 'h')) t(op, col);
-- the index scan really is used, and in distance order
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v <=> '[1,0,0,0]' LIMIT 5;
SELECT count(*) FILTER (WHERE d < lag) AS out_of_order FROM (
  SELECT d, lag(d) OVER (ORDER BY rn) FROM (
    SELECT v <-> '[0.5,0.5,0.5,0.5]' AS d, row_number() OVER () AS rn
    FROM (SELECT v FROM items ORDER BY v <-> '[0.5,0.5,0.5,0.5]') s) s2) s3;
RESET enable_seqscan;
RESET hnsw.ef_search;

-- Iterative scans: a WHERE filter that rejects most rows still yields LIMIT
-- rows, and LIMIT far above ef_search returns them all, in order.
SET enable_seqscan = off;
SET hnsw.ef_search = 10;
SELECT count(*) FROM (SELECT id FROM items WHERE id % 50 = 0 ORDER BY v <-> '[0,1,0,1]' LIMIT 10) s;
SELECT count(*) FROM (SELECT id FROM items WHERE id % 1000 = 7 ORDER BY v <-> '[0,1,0,1]' LIMIT 3) s;
SELECT count(*) FROM (SELECT id FROM items ORDER BY v <-> '[0,1,0,1]' LIMIT 500) s;
-- the work cap ends a scan with a NOTICE instead of silently
SET hnsw.max_scan_tuples = 300;
SELECT count(*) BETWEEN 1 AND 99 AS some_rows FROM (SELECT id FROM items WHERE id % 10 = 0 ORDER BY v <-> '[0,1,0,1]' LIMIT 100) s;
RESET hnsw.max_scan_tuples;
RESET hnsw.ef_search;
RESET enable_seqscan;

-- Zero vectors under cosine are not indexed (their distance is undefined).
CREATE TABLE z (id int, v vector(2));
INSERT INTO z VALUES (1, '[0,0]'), (2, '[1,0]'), (3, '[0,1]');
CREATE INDEX ON z USING hnsw (v vector_cosine_ops);
INSERT INTO z VALUES (4, '[0,0]'), (5, '[1,1]');
SET enable_seqscan = off;
SELECT id FROM z ORDER BY v <=> '[1,0.1]';
RESET enable_seqscan;
DROP TABLE z;

-- Vacuum removes dead elements and keeps the graph navigable.
DELETE FROM items WHERE id % 3 = 0;
VACUUM items;
SELECT elements, deleted FROM nmvec_index_stats('items_l2');
SET enable_seqscan = off;
SET hnsw.ef_search = 400;
SELECT recall('<->', 'v') AS recall_after_vacuum;
SELECT count(*) FROM items WHERE id % 3 = 0;
RESET hnsw.ef_search;
RESET enable_seqscan;

-- REINDEX, CREATE INDEX CONCURRENTLY, partitioned tables, expression indexes.
REINDEX INDEX items_l2;
SELECT elements, deleted FROM nmvec_index_stats('items_l2');
CREATE INDEX CONCURRENTLY items_cc ON items USING hnsw (v vector_l2_ops) WITH (m = 8);
SELECT elements FROM nmvec_index_stats('items_cc');
CREATE TABLE parts (tenant int, v vector(2)) PARTITION BY LIST (tenant);
CREATE TABLE parts_1 PARTITION OF parts FOR VALUES IN (1);
CREATE TABLE parts_2 PARTITION OF parts FOR VALUES IN (2);
INSERT INTO parts SELECT 1 + i % 2, ARRAY[i, i * 2] FROM generate_series(1, 100) i;
CREATE INDEX parts_v ON parts USING hnsw (v);
SET enable_seqscan = off;
SELECT tenant, v FROM parts WHERE tenant = 2 ORDER BY v <-> '[10,20]' LIMIT 2;
CREATE INDEX items_expr ON items USING hnsw ((v::halfvec(4)) halfvec_l2_ops);
EXPLAIN (COSTS OFF) SELECT id FROM items ORDER BY v::halfvec(4) <-> '[1,0,0,0]'::halfvec LIMIT 1;
RESET enable_seqscan;
SELECT * FROM nmvec_index_stats('items');

-- The planner: the index for ORDER BY ... LIMIT; an exact scan when a
-- B-tree-indexed filter leaves few rows.
CREATE TABLE ev (id int, tenant int, v vector(8));
INSERT INTO ev SELECT i, i % 200, ARRAY(SELECT sin(i * k) FROM generate_series(1, 8) k) FROM generate_series(1, 20000) i;
CREATE INDEX ev_v ON ev USING hnsw (v);
CREATE INDEX ev_tenant ON ev (tenant);
ANALYZE ev;
EXPLAIN (COSTS OFF) SELECT id FROM ev ORDER BY v <-> '[1,0,0,0,0,0,0,0]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM ev WHERE tenant = 7 ORDER BY v <-> '[1,0,0,0,0,0,0,0]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM ev WHERE tenant < 20 ORDER BY v <-> '[1,0,0,0,0,0,0,0]' LIMIT 10;
SELECT count(*) FROM (SELECT id FROM ev WHERE tenant < 20 ORDER BY v <-> '[1,0,0,0,0,0,0,0]' LIMIT 10) s;

-- Out-of-line vectors: every distance of an exact scan first fetches its
-- value from the TOAST table. The distance functions' cost (planner support,
-- src/pg/cost.cpp) counts that and the dimensions, so a filter that keeps
-- half the rows still walks the index, while one that keeps a few rows is
-- sorted exactly. Priced at a plain function's cpu_operator_cost, the exact
-- scan would look nearly free and win both.
CREATE TABLE tv (id int, tenant int, v vector(600));
ALTER TABLE tv ALTER COLUMN v SET STORAGE external;
INSERT INTO tv SELECT i, i % 200, ARRAY(SELECT sin(i * k + k) FROM generate_series(1, 600) k)
  FROM generate_series(1, 3000) i;
CREATE INDEX tv_v ON tv USING hnsw (v);
CREATE INDEX tv_tenant ON tv (tenant);
ANALYZE tv;
SELECT pg_relation_size(reltoastrelid) > 3000 * 2400 AS vectors_in_toast FROM pg_class WHERE relname = 'tv';
EXPLAIN (COSTS OFF) SELECT id FROM tv WHERE tenant < 100 ORDER BY v <-> (SELECT v FROM tv WHERE id = 1) LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM tv WHERE tenant = 7 ORDER BY v <-> (SELECT v FROM tv WHERE id = 1) LIMIT 10;
-- (Over ev's inline 8-d vectors, above, even the 10% filter sorts exactly:
-- there a distance is as cheap as a plain function.)
SELECT count(*) FROM (SELECT id FROM tv WHERE tenant < 100 ORDER BY v <-> (SELECT v FROM tv WHERE id = 1) LIMIT 10) s;
DROP TABLE tv;
DROP TABLE ev, parts, items, q;
DROP FUNCTION recall;

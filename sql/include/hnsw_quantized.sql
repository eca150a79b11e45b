-- Included by 20_hnsw_quantizer.sql once per quantizer (psql variable
-- quant): one index on qz, scans at several ef_search, inserts pending and
-- synchronous, deletes and VACUUM, an index built empty, 16,000 dims.
-- One index of quantizer :quant for the rest.
CREATE TEMP TABLE qz_saved AS SELECT * FROM qz;
CREATE INDEX qz_q ON qz USING hnsw (v vector_l2_ops) WITH (quantizer = :'quant');
SELECT reloptions FROM pg_class WHERE relname = 'qz_q';
EXPLAIN (COSTS OFF) SELECT id FROM qz ORDER BY v <-> (SELECT v FROM qz_queries WHERE qid = 1) LIMIT 10;
SELECT * FROM qz_check('v', '<->');
-- A wider ef_search, and LIMIT beyond it (iterative scan).
SET hnsw.ef_search = 10;
SELECT recall >= 0.80 AS recall_ok, ordered, rows FROM qz_check('v', '<->');
SET hnsw.ef_search = 200;
SELECT * FROM qz_check('v', '<->');
RESET hnsw.ef_search;
SELECT recall >= 0.95 AS recall_ok, ordered, rows FROM qz_check('v', '<->', 100);
-- A filter that keeps one row in 7: still 10 rows per query, in order.
SELECT recall >= 0.95 AS recall_ok, ordered, rows FROM qz_check('v', '<->', 10, 'id % 7 = 0');
-- Walked to the end: every row once.
SET enable_seqscan = off;
SELECT count(*), count(DISTINCT id) FROM
  (SELECT id FROM qz ORDER BY v <-> (SELECT v FROM qz_queries WHERE qid = 3) LIMIT 5000) s;
RESET enable_seqscan;

-- Inserts after the build: pending (fastupdate), found by the exact pass...
INSERT INTO qz SELECT i, qz_point(i), NULL FROM generate_series(3001, 3600) i;
SELECT elements, pending FROM nmvec_index_stats('qz_q');
SELECT * FROM qz_check('v', '<->');
-- ... then merged into the graph (their codes written by the inserts).
SELECT nmvec_flush('qz_q');
SELECT elements, pending FROM nmvec_index_stats('qz_q');
SELECT * FROM qz_check('v', '<->');
-- Synchronous inserts.
ALTER INDEX qz_q SET (fastupdate = off);
INSERT INTO qz SELECT i, qz_point(i), NULL FROM generate_series(3601, 4000) i;
SELECT elements, pending FROM nmvec_index_stats('qz_q');
SELECT * FROM qz_check('v', '<->');

-- Deletes and VACUUM: deleted rows never come back, the rest is found.
DELETE FROM qz WHERE id % 3 = 0;
VACUUM qz;
SELECT * FROM qz_check('v', '<->');
SET enable_seqscan = off;
SELECT count(*) AS deleted_returned FROM
  (SELECT id FROM qz ORDER BY v <-> (SELECT v FROM qz_queries WHERE qid = 5) LIMIT 100) s WHERE id % 3 = 0;
RESET enable_seqscan;
DROP INDEX qz_q;
TRUNCATE qz;
INSERT INTO qz SELECT * FROM qz_saved;
DROP TABLE qz_saved;

-- Built empty, then filled by inserts (no typmod: the first row sets the
-- dims, and with them the code size): codes need no training.
CREATE TABLE qe (id int, v vector) WITH (autovacuum_enabled = off);
CREATE INDEX qe_idx ON qe USING hnsw (v vector_cosine_ops) WITH (quantizer = :'quant');
INSERT INTO qe SELECT id, v FROM qz;
SELECT elements, pending, dims FROM nmvec_index_stats('qe_idx');
SELECT * FROM qz_check('v', '<=>', 10, 'true', 'qe');
SELECT nmvec_flush('qe_idx');
SELECT * FROM qz_check('v', '<=>', 10, 'true', 'qe');
DROP TABLE qe;

-- The largest vectors, 16,000 dims: a record of 16,064 (sq8) or 8,064
-- (rabitq) bytes of code and 64,000 (float32) or 32,000 (halfvec) of vector
-- spans many pages, and so do some codes (and rabitq's centre: 8 pages). Built, then inserts (pending, then merged): every row
-- finds itself first.
CREATE TABLE qbig (id int, v vector(16000), h halfvec(16000)) WITH (autovacuum_enabled = off);
INSERT INTO qbig SELECT i, x::vector, x::halfvec FROM generate_series(1, 30) i,
  LATERAL (SELECT array_agg(sin(i * k * 0.01 + k) ORDER BY k)::real[] AS x FROM generate_series(1, 16000) k) a;
CREATE INDEX qbig_v ON qbig USING hnsw (v vector_l2_ops) WITH (quantizer = :'quant', m = 4, ef_construction = 8);
CREATE INDEX qbig_h ON qbig USING hnsw (h halfvec_cosine_ops) WITH (quantizer = :'quant', m = 4, ef_construction = 8);
INSERT INTO qbig SELECT i, x::vector, x::halfvec FROM generate_series(31, 45) i,
  LATERAL (SELECT array_agg(sin(i * k * 0.01 + k) ORDER BY k)::real[] AS x FROM generate_series(1, 16000) k) a;
SET enable_seqscan = off;
SELECT count(*) FILTER (WHERE (SELECT id FROM qbig b ORDER BY b.v <-> a.v LIMIT 1) = a.id) AS v_self,
       count(*) FILTER (WHERE (SELECT id FROM qbig b ORDER BY b.h <=> a.h LIMIT 1) = a.id) AS h_self
  FROM qbig a;
SELECT nmvec_flush('qbig_v') + nmvec_flush('qbig_h') AS merged;
SELECT count(*) FILTER (WHERE (SELECT id FROM qbig b ORDER BY b.v <-> a.v LIMIT 1) = a.id) AS v_self,
       count(*) FILTER (WHERE (SELECT id FROM qbig b ORDER BY b.h <=> a.h LIMIT 1) = a.id) AS h_self
  FROM qbig a;
RESET enable_seqscan;
DROP TABLE qbig;


-- pgvector's scan settings are accepted with pgvector's values, so scripts
-- and ORMs written for pgvector run unchanged (README: "Settings").
-- An application sets them first thing on a new connection, before anything
-- has loaded the library: the value is kept and checked when it loads.
\c
SET hnsw.iterative_scan = relaxed_order;
SET hnsw.ef_search = 100;
SELECT '[1,2]'::vector;
SHOW hnsw.iterative_scan;
SHOW hnsw.ef_search;
\c
SET hnsw.iterative_scan = sideways;
SELECT '[1,2]'::vector;
SHOW hnsw.iterative_scan;
\c
SELECT '[1,2]'::vector;  -- the library is loaded from here on
SHOW hnsw.iterative_scan;
SHOW hnsw.max_scan_tuples;
SHOW hnsw.scan_mem_multiplier;
SHOW ivfflat.probes;
SHOW ivfflat.iterative_scan;
SHOW ivfflat.max_probes;

CREATE TABLE t (val vector(3));
INSERT INTO t (val) VALUES ('[0,0,0]'), ('[1,2,3]'), ('[1,1,1]'), (NULL);
CREATE INDEX ON t USING hnsw (val vector_l2_ops);
SET enable_seqscan = off;
SET hnsw.ef_search = 1;
-- every mode returns every indexed row (nmvec's scans always iterate)
SET hnsw.iterative_scan = strict_order;
SELECT * FROM t ORDER BY val <-> '[3,3,3]';
SET hnsw.iterative_scan = relaxed_order;
SELECT * FROM t ORDER BY val <-> '[3,3,3]';
SET hnsw.iterative_scan = off;
SELECT * FROM t ORDER BY val <-> '[3,3,3]';
TRUNCATE t;
SELECT * FROM t ORDER BY val <-> '[3,3,3]';
RESET hnsw.iterative_scan;
RESET hnsw.ef_search;
RESET enable_seqscan;
DROP TABLE t;

-- in a transaction, SET LOCAL, and as a function setting
BEGIN;
SET LOCAL hnsw.iterative_scan = relaxed_order;
SET LOCAL hnsw.max_scan_tuples = 20000;
SET LOCAL hnsw.scan_mem_multiplier = 2;
SET LOCAL ivfflat.probes = 10;
SET LOCAL ivfflat.iterative_scan = relaxed_order;
SET LOCAL ivfflat.max_probes = 100;
SHOW hnsw.iterative_scan;
COMMIT;
SHOW hnsw.iterative_scan;
CREATE FUNCTION f() RETURNS text LANGUAGE sql SET hnsw.iterative_scan = strict_order
    AS $$ SELECT current_setting('hnsw.iterative_scan') $$;
SELECT f();
DROP FUNCTION f();

-- out of range or unknown values are errors, as in pgvector
SET hnsw.iterative_scan = on;
SET hnsw.max_scan_tuples = 0;
SET hnsw.scan_mem_multiplier = 0;
SET hnsw.scan_mem_multiplier = 1001;
SET ivfflat.probes = 0;
SET ivfflat.probes = 32769;
SET ivfflat.iterative_scan = strict_order;
SET ivfflat.max_probes = 0;
SET ivfflat.max_probes = 32769;
-- the prefixes are reserved: a misspelt name is an error, not a silent placeholder
SET hnsw.ef_serch = 10;
SET ivfflat.prob = 10;

-- pgvector's own statements that rely on how it resolves untyped literals
-- and what it accepts as an aggregate state
SELECT vector_norm('[3,4]');
SELECT l2_distance('[0,0]', '[3,4]');
SELECT vector_norm('[3,4]'::halfvec);
SELECT vector_accum('{0,0,0,0}', '[1,2,3]');
SELECT vector_avg('{0,0,0}');
SELECT vector_accum('{0,1,0,0}', '[1,2,3]');

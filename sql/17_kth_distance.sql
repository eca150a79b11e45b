-- nmvec_kth_distance: the distance to the k-th nearest row (an anomaly
-- score), through the index, equal to the exact answer; bad arguments are
-- clear errors; it runs with the caller's privileges.
SELECT setseed(0.17);
CREATE TABLE kd (id int PRIMARY KEY, v vector(8), h halfvec(8));
INSERT INTO kd SELECT i, x, x::halfvec FROM (
    SELECT i, (SELECT array_agg(random())::real[] FROM generate_series(1, 8) WHERE i > 0)::vector(8) AS x
    FROM generate_series(1, 2000) i) s;
INSERT INTO kd VALUES (2001, NULL, NULL);  -- rows without a vector do not count
-- one far outlier
UPDATE kd SET v = '[9,9,9,9,9,9,9,-9]', h = '[9,9,9,9,9,9,9,-9]' WHERE id = 77;
CREATE INDEX ON kd USING hnsw (v vector_cosine_ops);
CREATE INDEX ON kd USING hnsw (v vector_l2_ops);
CREATE INDEX ON kd USING hnsw (h halfvec_l2_ops);
ANALYZE kd;
-- exact answer: the k-th smallest distance by a full sort
CREATE FUNCTION exact_kth(q vector, k int, op text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE d float8;
BEGIN
  SET LOCAL enable_indexscan = off;
  EXECUTE format('SELECT v %s $1 FROM kd WHERE v IS NOT NULL ORDER BY 1 OFFSET $2 LIMIT 1', op) INTO d USING q, k - 1;
  RETURN d;
END $$;
SELECT op, k,
       count(*) FILTER (WHERE abs(nmvec_kth_distance('kd', 'v', v, k, op) - exact_kth(v, k, op)) < 1e-6) AS equal,
       count(*) AS queries
FROM kd, (VALUES ('<->'), ('<=>'), ('<#>'), ('<+>')) o(op), (VALUES (1), (6)) kk(k)
WHERE id <= 25 OR id = 77
GROUP BY op, k ORDER BY op, k;
-- its own row is its nearest neighbour: k = 1 gives 0 for a stored vector
SELECT nmvec_kth_distance('kd', 'v', v, 1, '<->') AS self FROM kd WHERE id = 5;
-- the outlier scores highest (k + 1 = 6: its 5th neighbour among the others)
SELECT id FROM kd WHERE id <= 200 OR id = 77
ORDER BY nmvec_kth_distance('kd', 'v', v, 6, '<->') DESC LIMIT 1;
-- the default operator is cosine, the default k 5
SELECT nmvec_kth_distance('kd', 'v', '[1,1,1,1,1,1,1,1]') = nmvec_kth_distance('kd', 'v', '[1,1,1,1,1,1,1,1]', 5, '<=>') AS defaults;
-- halfvec
SELECT abs(nmvec_kth_distance('kd', 'h', h, 3, '<->') - (SELECT h2.h <-> kd.h FROM kd h2 WHERE h2.h IS NOT NULL ORDER BY 1 OFFSET 2 LIMIT 1)) < 1e-3 AS halfvec_ok
FROM kd WHERE id = 9;
-- fewer rows than k: NULL; NULL arguments: NULL
SELECT nmvec_kth_distance('kd', 'v', '[1,1,1,1,1,1,1,1]', 2001) IS NULL AS too_few,
       nmvec_kth_distance('kd', 'v', NULL::vector) IS NULL AS null_q;
-- bad arguments
SELECT nmvec_kth_distance('kd', 'v', '[1,1,1,1,1,1,1,1]', 0);
SELECT nmvec_kth_distance('kd', 'v', '[1,1,1,1,1,1,1,1]', 100001);
SELECT nmvec_kth_distance('kd', 'v', '[1,1,1,1,1,1,1,1]', 5, '; DROP TABLE kd; --');
SELECT nmvec_kth_distance('kd', 'nope', '[1,1,1,1,1,1,1,1]');
SELECT nmvec_kth_distance('kd', 'v; DROP TABLE kd', '[1,1,1,1,1,1,1,1]');
SELECT nmvec_kth_distance('kd', 'id', '[1,1,1,1,1,1,1,1]');
SELECT nmvec_kth_distance('kd', 'v', '[1,1,1]');
SELECT nmvec_kth_distance('no_such_table', 'v', '[1,1,1,1,1,1,1,1]');
-- the shared body with a value of another type
SELECT nmvec_kth_distance_any('kd', 'v', 5, 1, '<->');
SELECT count(*) FROM kd;  -- still there
-- the caller's privileges
CREATE ROLE kd_nobody;
SET ROLE kd_nobody;
SELECT nmvec_kth_distance('kd', 'v', '[1,1,1,1,1,1,1,1]');
RESET ROLE;
DROP ROLE kd_nobody;
DROP FUNCTION exact_kth(vector, int, text);
DROP TABLE kd;

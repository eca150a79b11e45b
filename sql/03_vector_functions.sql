-- Distances, against values computed by hand.
SELECT '[1,2,3]'::vector <-> '[4,6,3]'::vector AS l2;                 -- 5
SELECT l2_distance('[0,0]'::vector, '[3,4]');                          -- 5
SELECT '[1,2,3]'::vector <#> '[4,5,6]'::vector AS neg_ip;              -- -32
SELECT inner_product('[1,2,3]'::vector, '[4,5,6]');                    -- 32
SELECT '[1,0]'::vector <=> '[0,1]'::vector AS cos_orthogonal;          -- 1
SELECT '[1,1]'::vector <=> '[2,2]'::vector AS cos_parallel;            -- 0
SELECT '[1,1]'::vector <=> '[-1,-1]'::vector AS cos_opposite;          -- 2
SELECT cosine_distance('[0,0]'::vector, '[1,1]');                      -- NaN: zero vector
SELECT '[1,2,3]'::vector <+> '[4,0,3]'::vector AS l1;                  -- 5
SELECT l1_distance('[1,-2]'::vector, '[-1,2]');                        -- 6
SELECT vector_l2_squared_distance('[1,2,3]', '[4,6,3]');               -- 25
SELECT vector_negative_inner_product('[1,2,3]', '[4,5,6]');            -- -32
-- long vectors exercise the SIMD bodies and tails: compare with SQL arithmetic
WITH v AS (
  SELECT array_agg(sin(i)::real ORDER BY i) AS a, array_agg(cos(i * 0.7)::real ORDER BY i) AS b
  FROM generate_series(1, 1037) i)
SELECT abs((a::vector <-> b::vector) - sqrt((SELECT sum((x - y)^2) FROM unnest(a, b) u(x, y)))) < 1e-4 AS l2_ok,
       abs((a::vector <#> b::vector) + (SELECT sum(x * y) FROM unnest(a, b) u(x, y))) < 1e-3 AS ip_ok,
       abs((a::vector <+> b::vector) - (SELECT sum(abs(x - y)) FROM unnest(a, b) u(x, y))) < 1e-3 AS l1_ok
FROM v;

-- Operands of different dims: the message names both.
SELECT '[1,2]'::vector <-> '[1,2,3]'::vector;
SELECT '[1,2]'::vector <=> '[1,2,3]'::vector;
SELECT '[1,2]'::vector + '[1,2,3]'::vector;

-- Other functions.
SELECT vector_dims('[1,2,3]'::vector);
SELECT vector_norm('[3,4]'::vector);
SELECT l2_normalize('[3,4]'::vector);
SELECT l2_normalize('[0,0]'::vector);
SELECT subvector('[1,2,3,4,5]'::vector, 2, 3);
SELECT subvector('[1,2,3,4,5]'::vector, 4, 100);
SELECT subvector('[1,2,3,4,5]'::vector, -1, 3);
SELECT subvector('[1,2,3,4,5]'::vector, 6, 1);
SELECT subvector('[1,2,3,4,5]'::vector, 1, 0);
SELECT '[1,2,3]'::vector + '[4,5,6]' AS add, '[1,2,3]'::vector - '[4,5,6]' AS sub, '[1,2,3]'::vector * '[4,5,6]' AS mul;
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[3e38]'::vector * '[10]';
SELECT '[1e-30]'::vector * '[1e-30]';
SELECT '[1,2]'::vector || '[3]'::vector;
SELECT vector_dims(('[' || repeat('1,', 9999) || '1]')::vector || ('[' || repeat('1,', 5999) || '1]')::vector);
SELECT vector_dims(('[' || repeat('1,', 9999) || '1]')::vector || ('[' || repeat('1,', 6000) || '1]')::vector);

-- Comparison and the btree operator class: ORDER BY, DISTINCT, unique index.
SELECT '[1,2]'::vector < '[1,3]', '[1,2]'::vector = '[1,2]', '[1,2]'::vector < '[1,2,0]', '[2]'::vector > '[1,9]';
CREATE TABLE cmp (id int, v vector);
INSERT INTO cmp VALUES (1, '[2,1]'), (2, '[1,2]'), (3, '[1,2]'), (4, '[1]'), (5, '[1,2,0]'), (6, NULL);
SELECT id, v FROM cmp ORDER BY v, id;
SELECT DISTINCT v FROM cmp ORDER BY v;
CREATE UNIQUE INDEX cmp_v ON cmp (v);
DELETE FROM cmp WHERE id = 3;
CREATE UNIQUE INDEX cmp_v ON cmp (v);
INSERT INTO cmp VALUES (7, '[2,1]');
SET enable_seqscan = off;
SELECT id FROM cmp WHERE v = '[1,2]';
RESET enable_seqscan;
DROP TABLE cmp;

-- Aggregates.
SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::vector), ('[3,4,5]'), (NULL)) t(v);
SELECT avg(v), sum(v) FROM (SELECT '[1]'::vector WHERE false) t(v);
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
-- parallel aggregation uses the combine function and gives the same answer
CREATE TABLE agg AS SELECT i, ARRAY[i % 7, i % 11, 1]::vector(3) AS v FROM generate_series(1, 100000) i;
ANALYZE agg;
SELECT avg(v) AS serial_avg, sum(v) AS serial_sum FROM agg;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM agg;
SELECT avg(v) AS parallel_avg, sum(v) AS parallel_sum FROM agg;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
DROP TABLE agg;

-- Text form: parsing, whitespace, exact round trip.
SELECT '[1,2.5,-3e-07]'::vector;
SELECT '  [ 1 , 2 ,3 ]  '::vector;
SELECT '[+1.5,-0,.5,1e-45]'::vector;
SELECT '[0.1,0.2,0.3]'::vector;
SELECT '[3.4028235e38,-3.4028235e38,1.1754944e-38]'::vector;
SELECT '[1e-50]'::vector;  -- underflow rounds to zero, as strtof does
-- round trip of every element through text is exact
SELECT count(*) AS mismatches FROM (
  SELECT v, v::text::vector AS w FROM (
    SELECT array_agg((random() * 2 - 1) * power(10, (random() * 60 - 30))::real)::vector AS v
    FROM generate_series(1, 1000) i GROUP BY i % 10) s) t
WHERE v::real[] IS DISTINCT FROM w::real[];

-- Bad text input: each a clear error with its SQLSTATE.
\set VERBOSITY sqlstate
SELECT '[NaN]'::vector;
SELECT '[1,Infinity]'::vector;
SELECT '[-inf]'::vector;
SELECT '[]'::vector;
SELECT '1,2]'::vector;
SELECT '[1,,2]'::vector;
SELECT '[1 2]'::vector;
SELECT '[1,2] x'::vector;
SELECT '[1,2'::vector;
SELECT '[1e99]'::vector;
SELECT ''::vector;
\set VERBOSITY default
SELECT '[1,,2]'::vector;
SELECT '[1e99]'::vector;
SELECT '[1,2] x'::vector;
SELECT ('[' || repeat('1,', 16000) || '1]')::vector;
SELECT vector_dims(('[' || repeat('1,', 15999) || '1]')::vector);

-- Typmod: enforced on insert and on cast.
CREATE TABLE t3 (v vector(3));
INSERT INTO t3 VALUES ('[1,2,3]');
INSERT INTO t3 VALUES ('[1,2]');
INSERT INTO t3 VALUES ('[1,2,3,4]'::vector);
SELECT '[1,2]'::vector(2);
SELECT '[1,2]'::vector(3);
SELECT '[1,2,3]'::vector::vector(2);
SELECT '[1]'::vector(0);
SELECT '[1]'::vector(16001);
SELECT '[1]'::vector(1, 2);
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't3'::regclass AND attname = 'v';
SELECT * FROM t3;
DROP TABLE t3;

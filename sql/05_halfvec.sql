-- halfvec: text form, typmod, limits.
SELECT '[1,2.5,-3e-07]'::halfvec;
SELECT '[65504,-65504,6e-08]'::halfvec;
SELECT '[0.1,0.2,0.3]'::halfvec;
SELECT '[0.1,0.2,0.3]'::halfvec::text::halfvec = '[0.1,0.2,0.3]'::halfvec AS round_trip;
SELECT '[70000]'::halfvec;
SELECT '[NaN]'::halfvec;
SELECT '[]'::halfvec;
SELECT '[1,,2]'::halfvec;
SELECT '[1,2]'::halfvec(3);
SELECT ('[' || repeat('1,', 16000) || '1]')::halfvec;
CREATE TABLE h (v halfvec(3));
INSERT INTO h VALUES ('[1,2,3]'), ('[4,5,6]');
INSERT INTO h VALUES ('[1,2]');
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'h'::regclass AND attname = 'v';

-- Distances and functions.
SELECT '[1,2,3]'::halfvec <-> '[4,6,3]'::halfvec AS l2;
SELECT '[1,2,3]'::halfvec <#> '[4,5,6]'::halfvec AS neg_ip;
SELECT inner_product('[1,2,3]'::halfvec, '[4,5,6]'::halfvec);
SELECT '[1,0]'::halfvec <=> '[0,1]'::halfvec AS cos;
SELECT '[1,2,3]'::halfvec <+> '[4,0,3]'::halfvec AS l1;
SELECT l2_distance('[1,2]'::halfvec, '[1,2,3]'::halfvec);
WITH v AS (
  SELECT array_agg(sin(i)::real ORDER BY i) AS a, array_agg(cos(i * 0.7)::real ORDER BY i) AS b
  FROM generate_series(1, 1037) i)
SELECT abs((a::halfvec <-> b::halfvec) - (a::halfvec::vector <-> b::halfvec::vector)) < 1e-3 AS l2_ok,
       abs((a::halfvec <#> b::halfvec) - (a::halfvec::vector <#> b::halfvec::vector)) < 1e-2 AS ip_ok,
       abs((a::halfvec <=> b::halfvec) - (a::halfvec::vector <=> b::halfvec::vector)) < 1e-5 AS cos_ok,
       abs((a::halfvec <+> b::halfvec) - (a::halfvec::vector <+> b::halfvec::vector)) < 1e-2 AS l1_ok
FROM v;
SELECT vector_dims('[1,2,3]'::halfvec), vector_norm('[3,4]'::halfvec), l2_normalize('[3,4]'::halfvec);
SELECT subvector('[1,2,3,4,5]'::halfvec, 2, 3);
SELECT '[1,2,3]'::halfvec + '[4,5,6]', '[1,2,3]'::halfvec - '[4,5,6]', '[1,2,3]'::halfvec * '[4,5,6]';
SELECT '[60000]'::halfvec + '[60000]';
SELECT '[1,2]'::halfvec || '[3]'::halfvec;
SELECT ARRAY[1,2,3]::halfvec, ARRAY[1.5]::real[]::halfvec, ARRAY[2.5]::float8[]::halfvec, ARRAY[3.5]::numeric[]::halfvec;
SELECT '[1,2.5]'::halfvec::real[];

-- Comparison, btree, aggregates.
SELECT v FROM h ORDER BY v DESC;
CREATE UNIQUE INDEX h_v ON h (v);
INSERT INTO h VALUES ('[1,2,3]');
SELECT avg(v), sum(v) FROM h;
DROP TABLE h;

-- Arrays to vector.
SELECT ARRAY[1,2,3]::vector;
SELECT ARRAY[1.5,2.5]::real[]::vector;
SELECT ARRAY[1.5,2.5]::double precision[]::vector;
SELECT ARRAY[1.5,2.5]::numeric[]::vector;
SELECT ARRAY[1,2,3]::vector(3);
SELECT ARRAY[1,2,3]::vector(2);
SELECT '{}'::real[]::vector;
SELECT ARRAY[[1,2],[3,4]]::vector;
SELECT ARRAY[1,NULL,3]::vector;
SELECT ARRAY['NaN']::real[]::vector;
SELECT ARRAY['Infinity']::double precision[]::vector;
SELECT ARRAY[1e300]::double precision[]::vector;
SELECT ARRAY['NaN']::numeric[]::vector;
-- assignment casts
CREATE TABLE c (v vector(2));
INSERT INTO c VALUES (ARRAY[1,2]), (ARRAY[1.5,2.5]::real[]), (ARRAY[3,4]::float8[]), (ARRAY[5,6]::numeric[]);
SELECT * FROM c;
DROP TABLE c;
-- vector to real[]
SELECT '[1,2.5,-3]'::vector::real[];
SELECT ('[1,2,3]'::vector::real[])[2];
-- vector <-> halfvec
SELECT '[1,2.5,-3]'::vector::halfvec;
SELECT '[1,2.5,-3]'::halfvec::vector;
SELECT '[0.1]'::vector::halfvec;
SELECT '[65504]'::vector::halfvec, '[65519]'::vector::halfvec;
SELECT '[65520]'::vector::halfvec;
SELECT '[1,2,3]'::vector::halfvec(3);
SELECT '[1,2,3]'::vector::halfvec(2);
SELECT '[1,2,3]'::halfvec::vector(2);

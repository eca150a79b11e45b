-- Hostile input. Any role may call any of our SQL-callable functions with any
-- argument it can build; the answer must be a clear error (or a value within
-- the type's rules), never a crash and never a stored value that breaks the
-- type (one that cannot be printed, dumped, sent or indexed).
--
-- The calls run as a role with no privileges. try(q) runs one query and
-- shows its single result (cut to 60 characters) or its SQLSTATE, message
-- and detail, so one statement can hold many cases; it is created by the
-- superuser but runs with the rights of its caller (SECURITY INVOKER).
CREATE ROLE regress_nmvec_hostile NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE FUNCTION try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; detail text;
BEGIN
  EXECUTE q INTO r;
  RETURN CASE WHEN r IS NULL THEN 'NULL' WHEN length(r) > 60 THEN left(r, 57) || '...' ELSE r END;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || SQLERRM || CASE WHEN detail <> '' THEN ' (' || detail || ')' ELSE '' END;
END $$;
SET ROLE regress_nmvec_hostile;
SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user;

-- 1. The aggregates' functions, called directly with hand-made states
-- ({count, sum_1, ..., sum_d} as float8[]). A state with 40,001 sums once
-- made a vector whose int16 dims wrapped to -25535; a distance between two
-- of them ended in signal 11 and a restart of every backend.
SELECT vector_avg(('{1,' || repeat('1,', 40000) || '1}')::float8[])
   <-> vector_avg(('{1,' || repeat('1,', 40000) || '1}')::float8[]);
SELECT q, try(q) FROM (VALUES
  ($$SELECT vector_dims(vector_avg(('{1,' || repeat('1,', 40000) || '1}')::float8[]))$$),
  ($$SELECT vector_dims(vector_sum(array_fill(1::float8, ARRAY[16002])))$$),
  ($$SELECT vector_dims(vector_sum(array_fill(1::float8, ARRAY[16001])))$$),
  ($$SELECT vector_dims(halfvec_avg(array_fill(1::float8, ARRAY[16002])))$$),
  ($$SELECT vector_avg('{-1,2,3}')$$),
  ($$SELECT vector_avg('{1.5,2,3}')$$),
  ($$SELECT vector_avg('{NaN,2,3}')$$),
  ($$SELECT vector_avg('{Infinity,2,3}')$$),
  ($$SELECT vector_avg('{1,NaN,3}')$$),
  ($$SELECT vector_sum('{1,-Infinity,3}')$$),
  ($$SELECT halfvec_sum('{1,Infinity}')$$),
  ($$SELECT vector_avg('{}')$$),
  ($$SELECT vector_avg('{0}')$$),
  ($$SELECT vector_avg('{3}')$$),
  ($$SELECT vector_avg('{0,1,2}')$$),
  ($$SELECT vector_avg('{1,NULL,2}')$$),
  ($$SELECT vector_avg('{{1,2},{3,4}}')$$),
  ($$SELECT vector_avg('[0:2]={2,4,6}')$$),
  ($$SELECT vector_sum('{1,1e300}')$$),
  ($$SELECT halfvec_sum('{1,70000}')$$),
  ($$SELECT vector_avg('{2,4,6}')$$),
  ($$SELECT halfvec_avg('{2,4,6}')$$),
  ($$SELECT vector_accum('{-5}', '[1,2]')$$),
  ($$SELECT vector_accum('{1,NaN}', '[1]')$$),
  ($$SELECT vector_accum('{1,1,2}', '[1]')$$),
  ($$SELECT vector_accum(array_fill(1::float8, ARRAY[20000]), '[1]')$$),
  ($$SELECT vector_accum('{0}', '[1,2]')$$),
  ($$SELECT vector_accum('{1,1,2}', '[1,2]')$$),
  ($$SELECT halfvec_accum('{0.5,1}', '[1]')$$),
  ($$SELECT vector_combine('{1,2}', '{Infinity,2}')$$),
  ($$SELECT vector_combine('{-1,2}', '{0}')$$),
  ($$SELECT vector_combine('{0}', array_fill(1::float8, ARRAY[40000]))$$),
  ($$SELECT vector_combine('{1,2}', '{1,2,3}')$$),
  ($$SELECT halfvec_combine('{1,2}', '{1,2,3}')$$),
  ($$SELECT vector_combine('{1,1e308}', '{1,1e308}')$$),
  ($$SELECT vector_combine('{1,2}', '{3,4}')$$),
  ($$SELECT vector_combine('{0}', '{3,4}')$$)
) t(q);
-- nothing outside the type's rules can be stored
CREATE TEMP TABLE stored (v vector);
INSERT INTO stored SELECT vector_sum(array_fill(1::float8, ARRAY[16002]));
INSERT INTO stored SELECT vector_avg('{NaN,2,3}');
INSERT INTO stored SELECT vector_avg('{1,1e300}');
SELECT count(*) FROM stored;
-- an aggregate of one's own with a made-up initial state runs the same checks
-- inside the aggregate, where the state is updated in place
CREATE AGGREGATE pg_temp.evil_avg(vector) (SFUNC = vector_accum, STYPE = float8[],
  FINALFUNC = vector_avg, INITCOND = '{-3,1,2}');
SELECT pg_temp.evil_avg(v) FROM (VALUES ('[1,2]'::vector), ('[3,4]')) t(v);
CREATE AGGREGATE pg_temp.evil_sum(vector) (SFUNC = vector_accum, STYPE = float8[],
  FINALFUNC = vector_sum, INITCOND = '{1,1e308}');
SELECT pg_temp.evil_sum(v) FROM (VALUES ('[1]'::vector), ('[3]')) t(v);
-- the aggregates' own results do not change
SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::vector), ('[3,4,5]'), (NULL)) t(v);
SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::halfvec), ('[3,4,5]'), (NULL)) t(v);
SELECT avg(v), sum(v) FROM (SELECT '[1]'::vector WHERE false) t(v);
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
SELECT sum(v) FROM (VALUES ('[60000]'::halfvec), ('[60000]')) t(v);
SELECT avg(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);

RESET ROLE;
DROP FUNCTION try(text);
DROP ROLE regress_nmvec_hostile;

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
DROP AGGREGATE pg_temp.evil_avg(vector);
DROP AGGREGATE pg_temp.evil_sum(vector);
DROP TABLE stored;
-- the aggregates' own results do not change
SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::vector), ('[3,4,5]'), (NULL)) t(v);
SELECT avg(v), sum(v) FROM (VALUES ('[1,2,3]'::halfvec), ('[3,4,5]'), (NULL)) t(v);
SELECT avg(v), sum(v) FROM (SELECT '[1]'::vector WHERE false) t(v);
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
SELECT sum(v) FROM (VALUES ('[60000]'::halfvec), ('[60000]')) t(v);
SELECT avg(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[1,2,3]')) t(v);


-- 2. Every other function, with the worst arguments SQL can build.
-- Type input called directly, with any typmod.
SELECT q, try(q) FROM (VALUES
  ($$SELECT vector_in('[1,2]', 0, 2)$$),
  ($$SELECT vector_in('[1,2]', 0, -5)$$),
  ($$SELECT vector_in('[1,2]', 0, 0)$$),
  ($$SELECT vector_in('[1,2]', 0, 99999)$$),
  ($$SELECT halfvec_in('[1,2]', 0, -2)$$),
  ($$SELECT vector_typmod_out(-5) || '|' || vector_typmod_out(0) || '|' || vector_typmod_out(2147483647)$$),
  ($$SELECT vector(vector_in('[1,2]', 0, -1), -7, true)$$),
  ($$SELECT vector(vector_in('[1,2]', 0, -1), 2, false)$$)
) t(q);
-- typmod_in with every cstring[] it can be given
SELECT q, try(q) FROM (VALUES
  ($$SELECT vector_typmod_in('{3}')$$),
  ($$SELECT vector_typmod_in('{-1}')$$),
  ($$SELECT vector_typmod_in('{0}')$$),
  ($$SELECT vector_typmod_in('{16000}')$$),
  ($$SELECT vector_typmod_in('{16001}')$$),
  ($$SELECT halfvec_typmod_in('{16001}')$$),
  ($$SELECT vector_typmod_in('{2147483648}')$$),
  ($$SELECT vector_typmod_in('{abc}')$$),
  ($$SELECT vector_typmod_in('{1.5}')$$),
  ($$SELECT vector_typmod_in('{1,2}')$$),
  ($$SELECT vector_typmod_in('{}')$$),
  ($$SELECT vector_typmod_in('{NULL}')$$),
  ($$SELECT vector_typmod_in('{{1},{2}}')$$),
  ($$SELECT '[1]'::vector('1')$$),
  ($$SELECT '[1]'::halfvec(a)$$)
) t(q);
-- casts from arrays
SELECT q, try(q) FROM (VALUES
  ($$SELECT ARRAY[[1,2],[3,4]]::vector$$),
  ($$SELECT ARRAY[[[1]]]::halfvec$$),
  ($$SELECT ARRAY[1,NULL]::vector$$),
  ($$SELECT '{}'::int[]::vector$$),
  ($$SELECT '{}'::numeric[]::halfvec$$),
  ($$SELECT '[5:6]={1,2}'::int[]::vector$$),
  ($$SELECT vector_dims(array_fill(1, ARRAY[16000])::vector)$$),
  ($$SELECT array_fill(1, ARRAY[16001])::vector$$),
  ($$SELECT array_fill(1, ARRAY[10000000])::halfvec$$),
  ($$SELECT ARRAY['NaN']::float8[]::vector$$),
  ($$SELECT ARRAY['-Infinity']::real[]::halfvec$$),
  ($$SELECT ARRAY['NaN']::numeric[]::vector$$),
  ($$SELECT ARRAY['Infinity']::numeric[]::vector$$),
  ($$SELECT ARRAY[1e39]::numeric[]::vector$$),
  ($$SELECT ARRAY[-1e39]::float8[]::vector$$),
  ($$SELECT ARRAY[65520]::numeric[]::halfvec$$),
  ($$SELECT ARRAY[2147483647]::vector$$),
  ($$SELECT array_to_vector('{1,2}'::int[], -5, true)$$),
  ($$SELECT array_to_halfvec('{1,2}'::float8[], 3, false)$$)
) t(q);
-- subvector at the int range's edges, concatenation past 16000
SELECT q, try(q) FROM (VALUES
  ($$SELECT subvector('[1,2,3]'::vector, 2147483647, 2147483647)$$),
  ($$SELECT subvector('[1,2,3]'::vector, -2147483648, 2147483647)$$),
  ($$SELECT subvector('[1,2,3]'::vector, -2147483648, 10)$$),
  ($$SELECT subvector('[1,2,3]'::vector, 1, -2147483648)$$),
  ($$SELECT subvector('[1,2,3]'::vector, 0, 2)$$),
  ($$SELECT subvector('[1,2,3]'::halfvec, 3, 2147483647)$$),
  ($$SELECT vector_dims(array_fill(1, ARRAY[16000])::vector || '[1]')$$),
  ($$SELECT vector_dims(array_fill(1, ARRAY[16000])::halfvec || array_fill(1, ARRAY[16000])::halfvec)$$),
  ($$SELECT vector_dims(array_fill(1, ARRAY[8000])::halfvec || array_fill(1, ARRAY[8000])::halfvec)$$)
) t(q);
-- l2_normalize of tiny and huge vectors, the btree order of different dims,
-- the halfvec casts at +-65504
SELECT q, try(q) FROM (VALUES
  ($$SELECT l2_normalize('[1e-45]'::vector)$$),
  ($$SELECT l2_normalize('[1e-45,1e-45]'::vector)$$),
  ($$SELECT l2_normalize('[3e38,3e38,-3e38]'::vector)$$),
  ($$SELECT l2_normalize('[6e-8,6e-8]'::halfvec)$$),
  ($$SELECT l2_normalize('[65504,65504]'::halfvec)$$),
  ($$SELECT vector_norm('[3e38,3e38]'::vector)$$),
  ($$SELECT vector_cmp('[1,2]', '[1,2,3]') || ',' || vector_cmp('[1,2,3]', '[1,2]') || ',' || vector_cmp('[2]', '[1,2,3]')$$),
  ($$SELECT halfvec_cmp('[1,2]', '[1,2,3]') || ',' || halfvec_cmp('[-0]', '[0]')$$),
  ($$SELECT '[65504,-65504]'::vector::halfvec$$),
  ($$SELECT '[65519.996]'::vector::halfvec$$),
  ($$SELECT '[65520]'::vector::halfvec$$),
  ($$SELECT '[-65520]'::vector::halfvec$$),
  ($$SELECT '[3.4e38]'::vector::halfvec$$),
  ($$SELECT '[65504]'::halfvec * '[2]'$$),
  ($$SELECT '[-65504]'::halfvec - '[65504]'$$),
  ($$SELECT '[65504]'::halfvec::vector * '[2]'$$)
) t(q);
-- Functions with an internal argument: SQL cannot make a value of type
-- internal (not even NULL casts to it), and a function returning internal
-- must take an internal argument, which no SQL or PL/pgSQL function may; so
-- none of these can be called from SQL: they are reached only by the server
-- itself (planner support, binary input, the index access method).
SELECT p.oid::regprocedure AS function, p.proisstrict AS strict
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'nmvec'
WHERE 'internal'::regtype = ANY (p.proargtypes::oid[]) ORDER BY 1::text;
SELECT q, try(q) FROM (VALUES
  ($$SELECT nmvec_distance_support(NULL)$$),
  ($$SELECT nmvec_hnsw_vector_l2(NULL)$$),
  ($$SELECT vector_recv(NULL, 0, -1)$$),
  ($$SELECT nmvec_hnsw_handler(NULL)$$),
  ($$SELECT nmvec_hnsw_handler(NULL::internal)$$),
  ($$SELECT nmvec_distance_support('x'::internal)$$),
  ($$CREATE FUNCTION pg_temp.forge(internal) RETURNS internal LANGUAGE sql AS 'SELECT $1'$$),
  ($$CREATE FUNCTION pg_temp.forge(int) RETURNS internal LANGUAGE sql AS 'SELECT NULL'$$),
  ($$CREATE FUNCTION pg_temp.forge(internal) RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END'$$),
  ($$SELECT nmvec_index_stats('pg_class')$$)
) t(q);
RESET ROLE;

-- Binary input (recv), with bytes any client can send in a bind message or
-- binary COPY. A COPY file needs server privileges, so a SECURITY DEFINER
-- function writes the payload as a bytea field (whose binary form is the raw
-- bytes) and reads it back into a vector column.
CREATE TABLE hostile_raw (b bytea);
CREATE TABLE hostile_v (v vector);
CREATE TABLE hostile_v3 (v vector(3));
CREATE TABLE hostile_h (v halfvec);
GRANT SELECT ON hostile_v, hostile_h TO regress_nmvec_hostile;
CREATE FUNCTION recv_as(payload text, target text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE f text := current_setting('data_directory') || '/nmvec_regress_hostile.copy';
BEGIN
  IF target NOT IN ('hostile_v', 'hostile_v3', 'hostile_h') THEN RAISE EXCEPTION 'bad target'; END IF;
  TRUNCATE hostile_raw;
  INSERT INTO hostile_raw VALUES (decode(payload, 'hex'));
  EXECUTE format('COPY hostile_raw TO %L (FORMAT binary)', f);
  EXECUTE format('COPY %I FROM %L (FORMAT binary)', target, f);
  RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SET ROLE regress_nmvec_hostile;
SELECT what, recv_as(payload, target) FROM (VALUES
  ('[1,2]', '000200003f80000040000000', 'hostile_v'),
  ('no bytes', '', 'hostile_v'),
  ('1 byte', '00', 'hostile_v'),
  ('dims cut', '0001', 'hostile_v'),
  ('reserved cut', '000100', 'hostile_v'),
  ('element cut', '000100003f8000', 'hostile_v'),
  ('2 dims, 1 element', '000200003f800000', 'hostile_v'),
  ('1 dim, 2 elements', '000100003f80000040000000', 'hostile_v'),
  ('0 dims', '00000000', 'hostile_v'),
  ('-1 dims', 'ffff00003f800000', 'hostile_v'),
  ('-32768 dims', '80000000', 'hostile_v'),
  ('16001 dims', '3e8100003f800000', 'hostile_v'),
  ('32767 dims', '7fff0000', 'hostile_v'),
  ('reserved 1', '000100013f800000', 'hostile_v'),
  ('reserved -1', '0001ffff3f800000', 'hostile_v'),
  ('NaN', '000100007fc00000', 'hostile_v'),
  ('signalling NaN', '000100007f800001', 'hostile_v'),
  ('-Infinity', '00010000ff800000', 'hostile_v'),
  ('subnormal 1e-45', '0001000000000001', 'hostile_v'),
  ('-0', '0001000080000000', 'hostile_v'),
  ('2 dims into vector(3)', '000200003f80000040000000', 'hostile_v3'),
  ('halfvec [1,2]', '000200003c004000', 'hostile_h'),
  ('halfvec 1 element short', '000200003c00', 'hostile_h'),
  ('halfvec NaN', '000100007e00', 'hostile_h'),
  ('halfvec Infinity', '000100007c00', 'hostile_h'),
  ('halfvec 16001 dims', '3e8100003c00', 'hostile_h'),
  ('halfvec subnormal', '000100000001', 'hostile_h')
) t(what, payload, target);
SELECT v, vector_dims(v) FROM hostile_v ORDER BY v;
SELECT v, vector_dims(v) FROM hostile_h ORDER BY v;
RESET ROLE;
DROP FUNCTION recv_as(text, text);
DROP TABLE hostile_raw, hostile_v, hostile_v3, hostile_h;

-- Values that did not come from our functions. No role without superuser
-- can make one (it takes a binary-coercible cast from bytea, or a corrupted
-- page), but a vector whose header disagrees with its size must still be
-- rejected where it is read, before anything indexes its elements by dim.
-- The bytes are the value's in-memory form (little-endian here): int16 dims,
-- int16 reserved, elements.
CREATE CAST (bytea AS vector) WITHOUT FUNCTION;
CREATE CAST (bytea AS halfvec) WITHOUT FUNCTION;
SET ROLE regress_nmvec_hostile;
SELECT f.what, g.q, try(format(g.q, quote_literal(f.bytes))) FROM (VALUES
  ('[1,2]', '\x020000000000803f00000040'),
  ('no header', '\x'),
  ('half a header', '\x0100'),
  ('-1 dims', '\xffff0000'),
  ('0 dims', '\x00000000'),
  ('3 dims, 1 element', '\x030000000000803f'),
  ('1 dim, 2 elements', '\x010000000000803f00000040'),
  ('reserved set', '\x010001000000803f')
) f(what, bytes) CROSS JOIN (VALUES
  ('SELECT %s::bytea::vector::text'),
  ('SELECT %1$s::bytea::vector <-> %1$s::bytea::vector'),
  ('SELECT avg(v) FROM (VALUES (%s::bytea::vector)) t(v)')
) g(q) ORDER BY f.what, g.q;
SELECT f.what, try(format('SELECT %1$s::bytea::halfvec::vector <=> %1$s::bytea::halfvec::vector', quote_literal(f.bytes)))
FROM (VALUES ('[1,2]', '\x02000000003c0040'), ('-1 dims', '\xffff0000'), ('30000 dims, 1 element', '\x3075000000c0'))
  f(what, bytes);
RESET ROLE;
DROP CAST (bytea AS vector);
DROP CAST (bytea AS halfvec);

-- 3. One rule for values too small for the element type (float32, or
-- float16 for halfvec): they round to the nearest subnormal or to 0 on every
-- path, as IEEE arithmetic does; only overflow is an error. Binary input
-- takes the bits as they are (a subnormal is accepted, section 2).
SET ROLE regress_nmvec_hostile;
SELECT q, try(q) FROM (VALUES
  ($$SELECT '[1e-50,-1e-50,1e-40]'::vector$$),
  ($$SELECT '[1e-9,3e-8,-2e-8]'::halfvec$$),
  ($$SELECT ARRAY[1e-50,-1e-50,1e-40]::vector$$),
  ($$SELECT ARRAY[1e-50,-1e-50,1e-40]::float8[]::vector$$),
  ($$SELECT ARRAY[1e-9,3e-8,-2e-8]::halfvec$$),
  ($$SELECT ARRAY[1e-9,3e-8,-2e-8]::float8[]::halfvec$$),
  ($$SELECT ARRAY[1e-9,3e-8,-2e-8]::real[]::halfvec$$),
  ($$SELECT '[1e-30,1e-20,-1e-45]'::vector * '[1e-30,1e-20,0.5]'$$),
  ($$SELECT '[1e-4,-1e-4,0.001]'::halfvec * '[1e-4,1e-4,0.001]'$$),
  ($$SELECT '[1e-9,-1e-9,3e-8]'::vector::halfvec$$),
  ($$SELECT l2_normalize('[1e30,1e-20]'::vector)$$),
  ($$SELECT l2_normalize('[60000,0.0001]'::halfvec)$$),
  ($$SELECT avg(v) FROM (VALUES ('[1e-45,3e-45]'::vector), ('[0,0]'), ('[0,0]')) t(v)$$),
  ($$SELECT avg(v) FROM (VALUES ('[6e-8,1.2e-7]'::halfvec), ('[0,0]'), ('[0,0]')) t(v)$$),
  ($$SELECT vector_sum('{1,1e-50,1e-40}')$$),
  ($$SELECT halfvec_sum('{1,1e-10,6e-8}')$$),
  ($$SELECT ARRAY[1e39]::vector$$),
  ($$SELECT '[1e20]'::vector * '[1e20]'$$)
) t(q);
RESET ROLE;

-- 4. Cosine distance of two non-zero vectors is finite and in [0, 2] at any
-- scale (float32 squares of 1e-30 are 0, of 1e20 infinite: such vectors once
-- gave NaN). 1 - 3/sqrt(10) = 0.051316701949...
SELECT round(('[1e-30,1e-30]'::vector <=> '[1e-30,2e-30]')::numeric, 12) AS tiny,
       round(('[1e20,1e20]'::vector <=> '[1e20,2e20]')::numeric, 12) AS huge,
       round(('[3e38,1e38]'::vector <=> '[1e38,3e38]')::numeric, 6) AS near_max,
       round(('[3e38,1e38]'::vector <=> '[1e-30,2e-30]')::numeric, 6) AS max_and_tiny,
       '[1e-45,1e-45]'::vector <=> '[-1e-45,-1e-45]' AS opposite_subnormals,
       '[1e-45,1e-45]'::vector <=> '[1e-45,1e-45]' AS same_subnormals,
       round(('[6e-8,6e-8]'::halfvec <=> '[6e-8,1.2e-7]')::numeric, 12) AS half_subnormals,
       '[0,0]'::vector <=> '[1e-30,1e-30]' AS zero;
-- the same at 1536 dimensions (the kernels' main loops, not just their tails)
SELECT round((array_fill(1e-30::real, ARRAY[1536])::vector
              <=> (array_fill(1e-30::real, ARRAY[1535]) || 2e-30::real)::vector)::numeric, 12) AS tiny_1536,
       round((array_fill(1e20::real, ARRAY[1536])::vector
              <=> (array_fill(1e20::real, ARRAY[1535]) || -1e20::real)::vector)::numeric, 12) AS huge_1536;

DROP FUNCTION try(text);
DROP ROLE regress_nmvec_hostile;

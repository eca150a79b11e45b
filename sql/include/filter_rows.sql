-- The rows and conditions sql/22_hnsw_filter and sql/24_ivf_filter check
-- filter columns with: table fe (a column of every filter-column type),
-- fe_row(i) (row i, a function of i alone), rows 1 to 3,000, fe_plain (the
-- same rows, no index), fe_conds (the conditions, numbered) and
-- fe_check(cond, k) (one condition against the exact answer).
CREATE TABLE fe (id int PRIMARY KEY, embedding vector(8), tenant int4, cat int2, big int8, flag bool,
                 d date, ts timestamptz, t2 timestamp, host text, u uuid)
  WITH (autovacuum_enabled = off);
CREATE FUNCTION fe_row(i int) RETURNS fe LANGUAGE sql AS $$
  SELECT i, (SELECT array_agg(sin(i * k * 0.37 + k) + (i % 7) * 0.3 ORDER BY k)
               FROM generate_series(1, 8) k)::real[]::vector,
         CASE WHEN i % 50 = 0 THEN NULL ELSE i % 37 END, (i % 5)::int2, i::int8 * 1000000000,
         CASE WHEN i % 11 = 0 THEN NULL ELSE i % 3 = 0 END, date '2025-01-01' + i % 100,
         timestamptz '2025-10-01 00:00+00' + i * interval '1 minute',
         timestamp '2025-10-01' + (i % 240) * interval '1 hour',
         CASE WHEN i % 50 = 1 THEN NULL ELSE 'host-' || i % 23 END, md5((i % 13)::text)::uuid $$;
INSERT INTO fe SELECT (fe_row(i)).* FROM generate_series(1, 3000) i;
CREATE TABLE fe_plain AS SELECT * FROM fe;  -- the same rows, no index
CREATE TABLE fe_conds (n serial, cond text);
INSERT INTO fe_conds (cond) VALUES
  ('tenant = 5'), ('tenant = 5::int8'), ('tenant = 5::int2'), ('cat = 2::int4'), ('cat = 2::int8'),
  ('tenant IN (1, 2, 3)'), ('tenant = ANY (''{4, 9, NULL}''::int[])'), ('tenant <> 5 AND cat < 3'),
  ('cat >= 2 AND cat <= 3'), ('cat > 3'), ('cat < 1'), ('big > 2000000000000'), ('big <= 5000000000::int8'),
  ('big = 7000000000'), ('flag = true'), ('flag <> true'), ('flag'), ('NOT flag'),
  ('d BETWEEN ''2025-01-10'' AND ''2025-01-20'''), ('d = ''2025-01-05'''),
  ('ts >= ''2025-10-02'' AND ts < ''2025-10-02 06:00'''), ('ts > ''2025-10-03'''),
  ('t2 < ''2025-10-02'''), ('t2 >= ''2025-10-10'' AND cat = 4'),
  ('tenant IS NULL'), ('tenant IS NOT NULL AND cat = 1'), ('flag IS NULL'), ('flag IS NOT NULL'),
  ('tenant = 5 AND cat = 0'), ('tenant = 5 AND tenant = 6'), ('tenant = 999'), ('tenant < ANY (''{3, 7}'')'),
  ('tenant > ANY (''{30, 35}'')'), ('tenant <> ANY (''{1}'')'), ('tenant <> ANY (''{1, 2}'')'),
  ('tenant = ANY (''{}''::int[])'), ('tenant = 3 OR tenant = 4'), ('tenant + 0 = 5'),
  ('tenant = 1 AND cat IN (1, 2) AND flag AND ts < ''2025-10-02'''), ('embedding IS NOT NULL AND tenant = 2'),
  ('embedding IS NULL'), ('host = ''host-5'''), ('host IN (''host-1'', ''host-2'')'),
  ('host <> ''host-5'' AND cat = 1'), ('host > ''host-3'''), ('host IS NULL'), ('host = ''nowhere'''),
  ('u = md5(''3'')::uuid'), ('u = ANY (ARRAY[md5(''4'')::uuid, md5(''5'')::uuid])'), ('u < md5(''7'')::uuid'),
  ('host = ''host-7'' AND tenant < 20 AND u <> md5(''1'')::uuid'),
  -- Windows at the recent end: no row before the inserts below, then only
  -- theirs (each node page's zone, widened by every insert, must keep them).
  ('ts > ''2025-10-03 02:00'''), ('ts >= ''2025-10-03 03:00'' AND tenant = 3'),
  ('ts >= ''2025-10-02 23:00'' AND ts < ''2025-10-03 05:00''');
-- One condition (SQL text on the columns), k rows: returned, expected
-- (min(k, matching)), wrong (returned rows that do not match), hits (of
-- the exact k nearest matching rows). The query vector is row 17's (the
-- row itself is deleted below).
CREATE FUNCTION fe_check(cond text, k int DEFAULT 10)
RETURNS TABLE (returned bigint, expected bigint, wrong bigint, hits bigint) LANGUAGE plpgsql AS $$
DECLARE q vector := (fe_row(17)).embedding;
BEGIN
  RETURN QUERY EXECUTE format($f$
    WITH got AS MATERIALIZED (SELECT id FROM fe WHERE %1$s ORDER BY embedding <-> $1 LIMIT %2$s),
         exact AS (SELECT id FROM fe_plain WHERE %1$s ORDER BY embedding <-> $1, id LIMIT %2$s)
    SELECT (SELECT count(*) FROM got),
           (SELECT least(%2$s, count(*)) FROM fe_plain WHERE %1$s),
           (SELECT count(*) FROM got JOIN fe_plain p USING (id) WHERE NOT coalesce(%1$s, false)),
           (SELECT count(*) FROM got JOIN exact USING (id))$f$, cond, k) USING q;
END $$;

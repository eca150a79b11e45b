-- hnsw at the dimensions where a vector's bytes meet page boundaries. Vector
-- pages hold one byte stream cut into slices of 8,064 bytes (kSliceBytes in
-- src/pg/hnsw_page.h), vector i at byte i * vec_bytes, so around 2,016 / 4,032
-- / 6,048 float32 dims (4,032 / 8,064 / 12,096 halfvec dims) a vector goes
-- from one page to two, three, four; 16,000 (the types' limit) spans 8 or 9
-- float32 pages. For each size, both ways of writing the pages (CREATE INDEX,
-- then more rows inserted into the built index; rows inserted one by one
-- into an index created on the empty table) and all four operator classes:
--  * self_*: rows whose nearest neighbour under the index is themselves
--    (L2, cosine, L1; inner product has no such property);
--  * topk_ok: for three other query vectors and every operator class, the
--    index's top 10 carry the exact top 10's distances, in order.
-- A few dozen rows per size: their vectors start at varied offsets in their
-- first page, and rows added later land in new extents.
SET max_parallel_maintenance_workers = 0;
SET hnsw.ef_search = 200;  -- above every table's row count: searches are exhaustive

CREATE FUNCTION dims_rows(typ text, d int, lo int, hi int) RETURNS text LANGUAGE sql AS $$
  SELECT format('INSERT INTO dt SELECT i, ARRAY(SELECT random() * 2 - 1 + 0 * i FROM generate_series(1, %s))::%s(%s) '
                'FROM generate_series(%s, %s) i', d, typ, d, lo, hi)
$$;

CREATE FUNCTION dims_case(typ text, d int, built bool,
  OUT rows bigint, OUT self_l2 bigint, OUT self_cos bigint, OUT self_l1 bigint, OUT topk_ok bool)
LANGUAGE plpgsql AS $$
DECLARE
  op text; oc text; q text; got float8[]; want float8[];
  ops text[] := ARRAY['<->', '<=>', '<+>', '<#>'];
  ocs text[] := ARRAY['l2', 'cosine', 'l1', 'ip'];
  selfs bigint[] := '{}';
BEGIN
  PERFORM setseed(d / 100000.0 + CASE WHEN built THEN 0.5 ELSE 0 END);
  EXECUTE format('CREATE TABLE dt (id int, v %s(%s))', typ, d);
  ALTER TABLE dt ALTER COLUMN v SET STORAGE external;  -- no compression work
  IF built THEN
    EXECUTE dims_rows(typ, d, 1, 20);
  END IF;
  FOR i IN 1..4 LOOP
    EXECUTE format('CREATE INDEX ON dt USING hnsw (v %s_%s_ops)', typ, ocs[i]);
  END LOOP;
  IF built THEN
    EXECUTE dims_rows(typ, d, 21, 35);  -- into the built index, one by one
  ELSE
    EXECUTE dims_rows(typ, d, 1, 30);
  END IF;
  SELECT count(*) INTO rows FROM dt;

  SET LOCAL enable_seqscan = off;
  FOR i IN 1..3 LOOP
    EXECUTE format('SELECT count(*) FROM dt o WHERE (SELECT n.id FROM dt n ORDER BY n.v %s o.v LIMIT 1) = o.id', ops[i])
      INTO q;
    selfs := selfs || q::bigint;
  END LOOP;
  self_l2 := selfs[1]; self_cos := selfs[2]; self_l1 := selfs[3];

  topk_ok := true;
  FOR j IN 1..3 LOOP
    q := format('(SELECT ARRAY(SELECT random() * 2 - 1 FROM generate_series(1, %s))::%s(%s))', d, typ, d);
    EXECUTE 'SELECT ' || q INTO q;
    FOREACH op IN ARRAY ops LOOP
      SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;
      EXECUTE format('SELECT array_agg(d) FROM (SELECT v %s $1::%s AS d FROM dt ORDER BY v %s $1::%s LIMIT 10) s',
                     op, typ, op, typ) INTO got USING q;
      SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
      EXECUTE format('SELECT array_agg(d) FROM (SELECT v %s $1::%s AS d FROM dt ORDER BY 1 LIMIT 10) s',
                     op, typ) INTO want USING q;
      -- equal up to rounding: the index sums in another order (and stores
      -- halfvec cosine vectors normalised, rounded to float16)
      IF cardinality(got) IS DISTINCT FROM 10 OR EXISTS (
           SELECT 1 FROM unnest(got, want) u(g, w)
           WHERE abs(g - w) > CASE WHEN typ = 'halfvec' AND op = '<=>' THEN 1e-3 ELSE 1e-5 * (1 + abs(w)) END) THEN
        RAISE NOTICE '% %(%) %: index top 10 % differ from exact %', CASE WHEN built THEN 'built' ELSE 'inserted' END,
          typ, d, op, got, want;
        topk_ok := false;
      END IF;
    END LOOP;
  END LOOP;
  DROP TABLE dt;
END $$;

-- The index answers these queries (not an exact scan).
CREATE TABLE dt (id int, v vector(2017));
CREATE INDEX ON dt USING hnsw (v vector_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM dt o WHERE (SELECT n.id FROM dt n ORDER BY n.v <-> o.v LIMIT 1) = o.id;
RESET enable_seqscan;
DROP TABLE dt;

SELECT typ, d AS dims, CASE WHEN built THEN 'build+insert' ELSE 'insert' END AS path, r.*
FROM (VALUES ('vector', 2015), ('vector', 2016), ('vector', 2017), ('vector', 4031), ('vector', 4032),
             ('vector', 4033), ('vector', 6048), ('vector', 6049), ('vector', 16000),
             ('halfvec', 4031), ('halfvec', 4032), ('halfvec', 4033), ('halfvec', 8064), ('halfvec', 8065),
             ('halfvec', 12097), ('halfvec', 16000)) s(typ, d),
     (VALUES (true), (false)) b(built),
     LATERAL dims_case(typ, d, built) r
ORDER BY typ DESC, d, built DESC;

DROP FUNCTION dims_case, dims_rows;
RESET hnsw.ef_search;
RESET max_parallel_maintenance_workers;

-- Multi-tenant search (issue 13): 1,000 tenants of Zipf sizes (5,000 rows
-- down to 1; most have fewer than 10), in two layouts:
--   tn_one:  one table, USING hnsw (tenant, embedding vector_l2_ops, cat);
--   tn_part: PARTITION BY HASH (tenant) into 8 partitions, the hnsw index
--            created on the parent (one per partition).
-- A tenant-scoped ANN query must return exactly min(k, rows of the tenant),
-- never another tenant's row, and find the exact nearest rows (checked
-- against tn_plain, the same rows without any index, scanned exactly);
-- tn_one narrows the walk with an Index Cond, tn_part prunes partitions
-- (at plan time, and at run time for a generic plan). Row-level security:
-- one non-superuser role per tenant, a policy mapping the role to its
-- tenant; the policy's condition reaches the index scan as an Index Cond
-- (which the executor does not check again), so a wrong check would show
-- here as another tenant's row. hnsw.ef_search stays at its default.
SET max_parallel_maintenance_workers = 0;
SET nmvec.background_merge = off;
SET jit = off;  -- the checks' estimates are high; compiling them took most of the time

-- Tenant t has floor(5000 / t^1.2) rows, at least 1. Vectors (12-d,
-- coordinates in [-1, 1)) are hashes of the row id (md5: the same on every
-- platform), unrelated to the tenant, so a tenant's rows are spread over
-- the whole space and the global nearest rows are mostly other tenants'.
CREATE FUNCTION tn_size(t int) RETURNS int IMMUTABLE LANGUAGE sql AS $$
  SELECT greatest(1, floor(5000 / power(t::numeric, 1.2)))::int $$;
CREATE FUNCTION tn_vec(i int) RETURNS vector IMMUTABLE LANGUAGE sql AS $$
  SELECT (SELECT array_agg(('x' || substr(md5(i || ':' || k), 1, 8))::bit(32)::int / 2147483648.0 ORDER BY k)
            FROM generate_series(1, 12) k)::real[]::vector $$;
-- Query vectors: not rows of the table.
CREATE FUNCTION tn_query(q int) RETURNS vector IMMUTABLE LANGUAGE sql AS $$ SELECT tn_vec(1000000 + 7 * q) $$;
CREATE TABLE tn_plain (id int, tenant int, cat int2, embedding vector(12)) WITH (autovacuum_enabled = off);
INSERT INTO tn_plain
  SELECT id, t, ((t + j) % 4)::int2, tn_vec(id)
    FROM (SELECT row_number() OVER (ORDER BY t, j)::int AS id, t, j
            FROM generate_series(1, 1000) t, generate_series(1, tn_size(t)) j) s;
SELECT (SELECT count(*) FROM tn_plain) AS rows, count(*) AS tenants, max(n) AS largest, min(n) AS smallest,
       count(*) FILTER (WHERE n < 10) AS under_10_rows, count(*) FILTER (WHERE n = 1) AS of_1_row,
       bool_and(n = tn_size(tenant)) AS sizes_as_defined
  FROM (SELECT tenant, count(*) AS n FROM tn_plain GROUP BY tenant) c;

-- Layout 1: one table, the tenant as the index's leading column (IN lists
-- on it are Index Conds too), cat a second filter column.
CREATE TABLE tn_one (id int NOT NULL, tenant int NOT NULL, cat int2, embedding vector(12))
  WITH (autovacuum_enabled = off);
INSERT INTO tn_one SELECT * FROM tn_plain ORDER BY id;
CREATE INDEX tn_one_idx ON tn_one USING hnsw (tenant, embedding vector_l2_ops, cat);

-- Layout 2: hash partitions, the index created on the parent.
CREATE TABLE tn_part (id int NOT NULL, tenant int NOT NULL, cat int2, embedding vector(12))
  PARTITION BY HASH (tenant);
DO $$ BEGIN
  FOR r IN 0..7 LOOP
    EXECUTE format('CREATE TABLE tn_p%s PARTITION OF tn_part FOR VALUES WITH (MODULUS 8, REMAINDER %s)
                      WITH (autovacuum_enabled = off)', r, r);
  END LOOP;
END $$;
INSERT INTO tn_part SELECT * FROM tn_plain ORDER BY id;
CREATE INDEX tn_part_idx ON tn_part USING hnsw (tenant, embedding vector_l2_ops);
-- Every partition has its own valid hnsw index, attached to the parent's.
SELECT c.relname AS partition, i.relname AS index, am.amname, x.indisvalid,
       (SELECT count(*) FROM tn_part p WHERE p.tableoid = c.oid) AS rows,
       (SELECT count(DISTINCT tenant) FROM tn_part p WHERE p.tableoid = c.oid) AS tenants
  FROM pg_inherits ih JOIN pg_class i ON i.oid = ih.inhrelid JOIN pg_index x ON x.indexrelid = i.oid
  JOIN pg_class c ON c.oid = x.indrelid JOIN pg_am am ON am.oid = i.relam
 WHERE ih.inhparent = 'tn_part_idx'::regclass ORDER BY c.relname;
SELECT indisvalid FROM pg_index WHERE indexrelid = 'tn_part_idx'::regclass;
ANALYZE tn_one, tn_part, tn_plain;

-- Only the hnsw index can give the ORDER BY: no B-tree on tenant, and
-- neither a sequential scan nor a sort (nor a bitmap scan) is allowed.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET enable_sort = off;

-- tn_run(tbl, cond, k) runs, as the current role, for query vectors 1..3:
--   SELECT id FROM tbl WHERE cond ORDER BY embedding <-> $1 LIMIT k
-- and records the rows in order (tn_got), whether RLS applied to the role
-- on the table, and the plan: 'index' (an hnsw Index Scan, no Seq Scan,
-- Sort or Bitmap scan on a tenant table), 'none' (every partition pruned)
-- or 'other'.
CREATE TABLE tn_runs (n serial PRIMARY KEY, who text, tbl text, cond text, k int, rls bool, plan text);
CREATE TABLE tn_got (run int, q int, rank int, id int);
CREATE FUNCTION tn_record(tbl text, cond text, k int, plan text) RETURNS int LANGUAGE sql AS $$
  INSERT INTO tn_runs (who, tbl, cond, k, rls, plan)
  SELECT CASE WHEN rolsuper THEN 'superuser' ELSE rolname::text END, tbl, cond, k,
         row_security_active(split_part(tbl, ' ', 1)), plan
    FROM pg_roles WHERE rolname = current_user
  RETURNING n $$;
CREATE FUNCTION tn_run(tbl text, cond text, k int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  sel text := format('SELECT id FROM %I WHERE %s ORDER BY embedding <-> $1 LIMIT %s', tbl, cond, k);
  line text; idx bool := false; bad bool := false; run int; rank int; r record;
BEGIN
  FOR q IN 1..3 LOOP
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || sel USING tn_query(q) LOOP
      idx := idx OR line ~ 'Index Scan using (tn_one_idx|tn_p\d_tenant_embedding_idx) on tn_';
      bad := bad OR line ~ '^\s*(->\s*)?(Sort|Incremental Sort)\s*$' OR line ~ '(Seq Scan|Bitmap Heap Scan) on tn_(one|p\d)';
    END LOOP;
  END LOOP;
  run := tn_record(tbl, cond, k, CASE WHEN bad THEN 'other' WHEN idx THEN 'index' ELSE 'none' END);
  FOR q IN 1..3 LOOP
    rank := 0;
    FOR r IN EXECUTE sel USING tn_query(q) LOOP
      rank := rank + 1;
      INSERT INTO tn_got VALUES (run, q, rank, r.id);
    END LOOP;
  END LOOP;
END $$;
-- The same through a generic plan (plpgsql caches the statement's plan;
-- with plan_cache_mode = force_generic_plan the tenant is a parameter):
-- tn_part prunes at run time.
CREATE FUNCTION tn_run_generic(tbl text, p_tenant int, k int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE run int; rank int; r record;
BEGIN
  run := tn_record(tbl || ' (generic)', 'tenant = ' || p_tenant, k, NULL);
  FOR q IN 1..3 LOOP
    rank := 0;
    IF tbl = 'tn_one' THEN
      FOR r IN SELECT id FROM tn_one WHERE tenant = p_tenant ORDER BY embedding <-> tn_query(q) LIMIT k LOOP
        rank := rank + 1;
        INSERT INTO tn_got VALUES (run, q, rank, r.id);
      END LOOP;
    ELSE
      FOR r IN SELECT id FROM tn_part WHERE tenant = p_tenant ORDER BY embedding <-> tn_query(q) LIMIT k LOOP
        rank := rank + 1;
        INSERT INTO tn_got VALUES (run, q, rank, r.id);
      END LOOP;
    END IF;
  END LOOP;
END $$;
-- tn_result(run), against tn_plain scanned exactly (index scans off),
-- over the 3 queries:
-- returned; expected = min(k, rows the role may see that match cond) per
-- query; wrong = returned rows that do not match cond or that the role may
-- not see (another tenant's); dups; hits = returned rows among the exact k
-- nearest; unordered = rows closer than the row before them.
CREATE TABLE tn_roles (rolname name PRIMARY KEY, tenant int NOT NULL);
CREATE TABLE tn_q AS SELECT q, tn_query(q) AS v FROM generate_series(1, 3) q;
CREATE FUNCTION tn_result(p_run int)
RETURNS TABLE (returned bigint, expected bigint, wrong bigint, dups bigint, hits bigint, unordered bigint)
LANGUAGE plpgsql SET enable_indexscan = off SET enable_seqscan = on SET enable_sort = on AS $$
DECLARE r tn_runs; vis text;
BEGIN
  SELECT * INTO r FROM tn_runs WHERE n = p_run;
  vis := CASE WHEN r.rls THEN format('p.tenant = (SELECT tenant FROM tn_roles WHERE rolname = %L)', r.who)
              ELSE 'true' END;
  RETURN QUERY EXECUTE format($f$
    WITH got AS (SELECT g.q, g.rank, g.id, p.embedding <-> tn_q.v AS d,
                        coalesce(p.id IS NOT NULL AND %1$s AND %2$s, false) AS ok
                   FROM tn_got g JOIN tn_q USING (q) LEFT JOIN tn_plain p USING (id) WHERE g.run = $1),
         exact AS (SELECT tn_q.q, e.id FROM tn_q,
                     LATERAL (SELECT p.id FROM tn_plain p WHERE %1$s AND %2$s
                               ORDER BY p.embedding <-> tn_q.v, p.id LIMIT %3$s) e)
    SELECT (SELECT count(*) FROM got), (SELECT count(*) FROM exact), (SELECT count(*) FROM got WHERE NOT ok),
           (SELECT count(*) - count(DISTINCT (q, id)) FROM got), (SELECT count(DISTINCT (q, id)) FROM got JOIN exact USING (q, id)),
           (SELECT count(*) FROM (SELECT d < lag(d) OVER (PARTITION BY q ORDER BY rank) - 1e-5 AS back FROM got) s
             WHERE back)$f$, vis, r.cond, r.k) USING p_run;
END $$;

-- Tenants: the largest (1: 5,000 rows, 23 % of the table), large (2, 3),
-- mid (10, 50), small (150), under 10 rows (200, 300, 500), 1 row (700,
-- 999, 1000), none (0, 1001, -5); IN lists, some across partitions; with
-- the second filter column.
CREATE TABLE tn_conds (n serial, cond text);
INSERT INTO tn_conds (cond) VALUES
  ('tenant = 1'), ('tenant = 2'), ('tenant = 3'), ('tenant = 10'), ('tenant = 50'), ('tenant = 150'),
  ('tenant = 200'), ('tenant = 300'), ('tenant = 500'), ('tenant = 700'), ('tenant = 999'), ('tenant = 1000'),
  ('tenant = 0'), ('tenant = 1001'), ('tenant = -5'),
  ('tenant IN (1, 500)'), ('tenant IN (10, 11)'), ('tenant IN (700, 999, 1001)'), ('tenant = ANY (''{2,3,4}'')'),
  ('tenant = 1 AND cat = 2'), ('tenant = 10 AND cat = 2'), ('tenant IN (300, 301) AND cat < 2');
SELECT count(*) AS runs FROM (VALUES ('tn_one'), ('tn_part')) t(tbl), tn_conds c, (VALUES (10), (100)) k(k),
  LATERAL tn_run(tbl, c.cond, k.k);
-- Rows of the tenants named; then every run: k whenever k rows match,
-- none wrong, through the hnsw index.
SELECT t AS tenant, count(p.id) AS rows FROM unnest('{1,2,3,4,10,11,50,150,200,300,301,500,700,999,1000,0,1001,-5}'::int[]) t
  LEFT JOIN tn_plain p ON p.tenant = t GROUP BY t ORDER BY t;
SELECT r.tbl, r.cond, r.k, r.plan, s.* FROM tn_runs r, tn_result(r.n) s ORDER BY r.k, r.tbl, r.n;

-- The plans: tn_one's walk is narrowed by the tenant (Index Cond), tn_part
-- scans one partition.
EXPLAIN (COSTS OFF) SELECT id FROM tn_one WHERE tenant = 10
  ORDER BY embedding <-> '[0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM tn_one WHERE tenant IN (1, 500) AND cat = 2
  ORDER BY embedding <-> '[0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM tn_part WHERE tenant = 10
  ORDER BY embedding <-> '[0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM tn_part WHERE tenant = 1001
  ORDER BY embedding <-> '[0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM tn_part WHERE tenant IN (1, 500)
  ORDER BY embedding <-> '[0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
-- A generic plan: the tenant is a parameter; tn_part's partitions are
-- pruned when the executor starts (Subplans Removed).
SET plan_cache_mode = force_generic_plan;
PREPARE tn_one_q(int) AS SELECT id FROM tn_one WHERE tenant = $1
  ORDER BY embedding <-> '[0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
PREPARE tn_part_q(int) AS SELECT id FROM tn_part WHERE tenant = $1
  ORDER BY embedding <-> '[0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
EXPLAIN (COSTS OFF) EXECUTE tn_one_q(10);
EXPLAIN (COSTS OFF) EXECUTE tn_part_q(10);
CREATE TEMP TABLE tn_prep1 AS EXECUTE tn_one_q(10);
CREATE TEMP TABLE tn_prep2 AS EXECUTE tn_part_q(300);
SELECT count(*) AS returned, count(*) FILTER (WHERE p.tenant <> 10) AS wrong,
       (SELECT least(10, count(*)) FROM tn_plain WHERE tenant = 10) AS expected
  FROM tn_prep1 JOIN tn_plain p USING (id);
SELECT count(*) AS returned, count(*) FILTER (WHERE p.tenant <> 300) AS wrong,
       (SELECT least(10, count(*)) FROM tn_plain WHERE tenant = 300) AS expected
  FROM tn_prep2 JOIN tn_plain p USING (id);
DROP TABLE tn_prep1, tn_prep2;
DEALLOCATE tn_one_q;
DEALLOCATE tn_part_q;
SELECT count(*) AS runs FROM (VALUES ('tn_one'), ('tn_part')) t(tbl), (VALUES (1), (10), (300), (1000), (1001)) x(t),
  (VALUES (10), (100)) k(k), LATERAL tn_run_generic(tbl, x.t, k.k);
SELECT r.tbl, r.cond, r.k, s.* FROM tn_runs r, tn_result(r.n) s WHERE r.tbl LIKE '%generic%' ORDER BY r.k, r.tbl, r.n;
RESET plan_cache_mode;
TRUNCATE tn_runs, tn_got;

-- Row-level security. One role per tenant (and one with no tenant), the
-- mapping in tn_roles. tn_one's policy reads it with a subquery (an
-- InitPlan: the Index Cond compares with its result); tn_part's calls a
-- SECURITY DEFINER function, stable, so partitions are pruned when the
-- executor starts. FORCE: the owner (a role of its own, no tenant) is
-- subject to the policy too.
CREATE ROLE regress_tn_owner;
CREATE ROLE regress_tn_1;
CREATE ROLE regress_tn_10;
CREATE ROLE regress_tn_300;
CREATE ROLE regress_tn_1000;
CREATE ROLE regress_tn_nobody;
INSERT INTO tn_roles VALUES ('regress_tn_1', 1), ('regress_tn_10', 10), ('regress_tn_300', 300),
  ('regress_tn_1000', 1000);
CREATE FUNCTION tn_tenant_of(r name) RETURNS int STABLE SECURITY DEFINER SET search_path = public
  LANGUAGE sql AS $$ SELECT tenant FROM tn_roles WHERE rolname = r $$;
ALTER TABLE tn_one OWNER TO regress_tn_owner;
ALTER TABLE tn_part OWNER TO regress_tn_owner;
ALTER TABLE tn_one ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE tn_part ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
CREATE POLICY tn_one_tenant ON tn_one USING (tenant = (SELECT r.tenant FROM tn_roles r WHERE r.rolname = current_user));
CREATE POLICY tn_part_tenant ON tn_part USING (tenant = tn_tenant_of(current_user));
GRANT SELECT, INSERT, UPDATE ON tn_one, tn_part TO regress_tn_1, regress_tn_10, regress_tn_300, regress_tn_1000,
  regress_tn_nobody;
GRANT SELECT ON tn_roles TO regress_tn_1, regress_tn_10, regress_tn_300, regress_tn_1000, regress_tn_nobody,
  regress_tn_owner;
GRANT SELECT, INSERT ON tn_runs, tn_got TO regress_tn_1, regress_tn_10, regress_tn_300, regress_tn_1000, regress_tn_nobody,
  regress_tn_owner;
GRANT USAGE ON SEQUENCE tn_runs_n_seq TO regress_tn_1, regress_tn_10, regress_tn_300, regress_tn_1000,
  regress_tn_nobody, regress_tn_owner;

-- As each role: no tenant condition, its own tenant, another tenant, IN
-- lists and ranges mixing both, the other filter column; LIMIT 10 and 100.
CREATE TABLE tn_rconds (cond text);
INSERT INTO tn_rconds VALUES ('true'), ('tenant = 1'), ('tenant = 10'), ('tenant = 500'), ('tenant IN (1, 300, 1000)'),
  ('tenant <> 300'), ('tenant > 5'), ('cat = 2');
GRANT SELECT ON tn_rconds TO regress_tn_1, regress_tn_10, regress_tn_300, regress_tn_1000, regress_tn_nobody,
  regress_tn_owner;
CREATE FUNCTION tn_run_role() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM (VALUES ('tn_one'), ('tn_part')) t(tbl), tn_rconds c, (VALUES (10), (100)) k(k),
    LATERAL tn_run(tbl, c.cond, k.k) $$;
SET ROLE regress_tn_1;
SELECT tn_run_role() AS runs;
SET ROLE regress_tn_10;
SELECT tn_run_role() AS runs;
-- What the role's queries look like.
EXPLAIN (COSTS OFF) SELECT id FROM tn_one ORDER BY embedding <-> '[0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM tn_one WHERE tenant = 1 ORDER BY embedding <-> '[0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM tn_part ORDER BY embedding <-> '[0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM tn_part WHERE tenant = 500 ORDER BY embedding <-> '[0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
-- The partitions themselves are not granted.
SELECT count(*) FROM tn_p0;
RESET ROLE;
-- A condition that is not leakproof (volatile: it records each row it is
-- called for) is evaluated after the policy's, so it sees the role's rows
-- only: the index checked the policy.
CREATE TABLE tn_seen (tenant int);
GRANT INSERT ON tn_seen TO regress_tn_10;
CREATE FUNCTION tn_peek(t int) RETURNS bool VOLATILE COST 0.0000001 LANGUAGE plpgsql AS $$
  BEGIN INSERT INTO tn_seen VALUES (t); RETURN true; END $$;
SET ROLE regress_tn_10;
EXPLAIN (COSTS OFF) SELECT id FROM tn_one WHERE tn_peek(tenant) ORDER BY embedding <-> '[0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 10;
SELECT count(*) FROM (SELECT id FROM tn_one WHERE tn_peek(tenant) ORDER BY embedding <-> tn_query(1) LIMIT 10) s;
SELECT count(*) FROM (SELECT id FROM tn_part WHERE tn_peek(tenant) ORDER BY embedding <-> tn_query(1) LIMIT 10) s;
RESET ROLE;
SELECT count(*) AS seen, count(*) FILTER (WHERE tenant <> 10) AS others_seen FROM tn_seen;
SET ROLE regress_tn_300;
SELECT tn_run_role() AS runs;
SET ROLE regress_tn_1000;
SELECT tn_run_role() AS runs;
SET ROLE regress_tn_nobody;
SELECT tn_run_role() AS runs;
SET ROLE regress_tn_owner;
SELECT tn_run_role() AS runs;
RESET ROLE;
-- Per role and layout, over its 16 runs (8 conditions, k = 10 and 100, 3
-- queries each): RLS applied, every plan the hnsw index, returned =
-- expected, nothing wrong.
CREATE VIEW tn_per_role AS
SELECT r.who, r.tbl, bool_and(r.rls) AS rls, string_agg(DISTINCT r.plan, ',') AS plans, count(*) AS runs,
       sum(s.returned) AS returned, sum(s.expected) AS expected, sum(s.wrong) AS wrong, sum(s.dups) AS dups,
       sum(s.hits) AS hits, sum(s.unordered) AS unordered
  FROM tn_runs r, tn_result(r.n) s GROUP BY r.who, r.tbl;
SELECT * FROM tn_per_role ORDER BY who, tbl;
-- No condition: min(k, own rows) per query.
SELECT r.who, r.tbl, r.k, (SELECT count(*) FROM tn_plain p JOIN tn_roles m USING (tenant) WHERE m.rolname = r.who)
       AS own_rows, s.returned, s.expected, s.wrong
  FROM tn_runs r, tn_result(r.n) s WHERE r.cond = 'true' ORDER BY r.who, r.tbl, r.k;
-- Without FORCE the owner bypasses the policy: every tenant's rows.
ALTER TABLE tn_one NO FORCE ROW LEVEL SECURITY;
ALTER TABLE tn_part NO FORCE ROW LEVEL SECURITY;
TRUNCATE tn_runs, tn_got;
SET ROLE regress_tn_owner;
SELECT tn_run_role() AS runs;
RESET ROLE;
SELECT * FROM tn_per_role ORDER BY who, tbl;
ALTER TABLE tn_one FORCE ROW LEVEL SECURITY;
ALTER TABLE tn_part FORCE ROW LEVEL SECURITY;

-- Writes under the policy (WITH CHECK is the USING expression): a row of
-- another tenant is refused, inserted or moved there; a row of one's own
-- goes in (the index's pending list) and is found at once, by its own
-- tenant only.
SET ROLE regress_tn_10;
INSERT INTO tn_one VALUES (100001, 11, 0, tn_query(1));
INSERT INTO tn_part VALUES (100001, 11, 0, tn_query(1));
INSERT INTO tn_one VALUES (100002, 10, 0, tn_query(1));
INSERT INTO tn_part VALUES (100002, 10, 0, tn_query(1));
UPDATE tn_one SET tenant = 1 WHERE id = 100002;
UPDATE tn_part SET tenant = 1 WHERE id = 100002;
UPDATE tn_one SET tenant = 11 WHERE tenant = 1;  -- not its rows: nothing to update
UPDATE tn_part SET tenant = 11 WHERE tenant = 1;
RESET ROLE;
SELECT (SELECT count(*) FROM tn_one WHERE tenant = 1) AS tn_one_1, (SELECT count(*) FROM tn_part WHERE tenant = 1) AS tn_part_1;
INSERT INTO tn_plain VALUES (100002, 10, 0, tn_query(1));
SELECT tenant, count(*) FROM tn_one WHERE id > 100000 GROUP BY tenant;
SELECT tenant, count(*) FROM tn_part WHERE id > 100000 GROUP BY tenant;
SELECT pending > 0 AS has_pending FROM nmvec_index_stats('tn_one_idx');
TRUNCATE tn_runs, tn_got;
SET ROLE regress_tn_10;
SELECT tn_run_role() AS runs;
SELECT count(*) AS returned, count(*) FILTER (WHERE id = 100002) AS new_row_first
  FROM (SELECT id FROM tn_part ORDER BY embedding <-> tn_query(1) LIMIT 1) s;
SET ROLE regress_tn_1;
SELECT tn_run_role() AS runs;
SELECT count(*) AS new_row_seen FROM (SELECT id FROM tn_one ORDER BY embedding <-> tn_query(1) LIMIT 100) s
 WHERE id = 100002;
RESET ROLE;
SELECT * FROM tn_per_role ORDER BY who, tbl;

RESET enable_seqscan;
RESET enable_bitmapscan;
RESET enable_sort;
DROP VIEW tn_per_role;
DROP TABLE tn_one, tn_part, tn_plain, tn_q, tn_runs, tn_got, tn_roles, tn_conds, tn_rconds, tn_seen;
DROP FUNCTION tn_size, tn_vec, tn_query, tn_record, tn_run, tn_run_generic, tn_result, tn_tenant_of, tn_run_role, tn_peek;
DROP OWNED BY regress_tn_owner, regress_tn_1, regress_tn_10, regress_tn_300, regress_tn_1000, regress_tn_nobody;
DROP ROLE regress_tn_owner, regress_tn_1, regress_tn_10, regress_tn_300, regress_tn_1000, regress_tn_nobody;

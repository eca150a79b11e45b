-- nmvec_index_stats reads every node page of an index and so reveals exact
-- counts of a table's live and deleted rows: like pgstattuple it needs the
-- privileges of pg_stat_scan_tables, or else SELECT on the indexed table.
CREATE TABLE stats_secret (id int, v vector(3));
INSERT INTO stats_secret SELECT i, ARRAY[i, i % 7, 1] FROM generate_series(1, 50) i;
CREATE INDEX stats_secret_v ON stats_secret USING hnsw (v);
DELETE FROM stats_secret WHERE id <= 10;
VACUUM stats_secret;
CREATE ROLE regress_nmvec_stats;

-- neither: refused, before the index is even locked
SET ROLE regress_nmvec_stats;
SELECT elements, deleted FROM nmvec_index_stats('stats_secret_v');
DO $$ BEGIN
  PERFORM nmvec_index_stats('stats_secret_v');
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'SQLSTATE %', SQLSTATE;
END $$;
RESET ROLE;

-- SELECT on the table
GRANT SELECT ON stats_secret TO regress_nmvec_stats;
SET ROLE regress_nmvec_stats;
SELECT elements, deleted FROM nmvec_index_stats('stats_secret_v');
RESET ROLE;
REVOKE SELECT ON stats_secret FROM regress_nmvec_stats;

-- SELECT on a column is not enough
GRANT SELECT (id) ON stats_secret TO regress_nmvec_stats;
SET ROLE regress_nmvec_stats;
SELECT elements, deleted FROM nmvec_index_stats('stats_secret_v');
RESET ROLE;
REVOKE SELECT (id) ON stats_secret FROM regress_nmvec_stats;

-- the privileges of pg_stat_scan_tables
GRANT pg_stat_scan_tables TO regress_nmvec_stats;
SET ROLE regress_nmvec_stats;
SELECT elements, deleted FROM nmvec_index_stats('stats_secret_v');
-- still only for hnsw indexes
SELECT * FROM nmvec_index_stats('stats_secret');
RESET ROLE;

DROP TABLE stats_secret;
DROP ROLE regress_nmvec_stats;

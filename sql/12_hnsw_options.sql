-- hnsw options are checked together: ef_construction must be at least twice
-- m, with the default (m 16, ef_construction 64) for the one not given, at
-- CREATE INDEX and at ALTER INDEX SET/RESET, so no accepted option set makes
-- the next REINDEX fail.
CREATE TABLE ho (id int, v vector(3));
INSERT INTO ho SELECT i, ARRAY[i, i % 5, 1] FROM generate_series(1, 20) i;
CREATE INDEX ho_bad ON ho USING hnsw (v) WITH (m = 50);
CREATE INDEX ho_bad ON ho USING hnsw (v) WITH (ef_construction = 20);
CREATE INDEX ho_bad ON ho USING hnsw (v) WITH (m = 32, ef_construction = 40);
DO $$ BEGIN
  CREATE INDEX ho_bad ON ho USING hnsw (v) WITH (m = 50);
EXCEPTION WHEN invalid_parameter_value THEN
  RAISE NOTICE 'SQLSTATE %', SQLSTATE;
END $$;
-- exactly twice m is fine
CREATE INDEX ho_v ON ho USING hnsw (v) WITH (m = 8, ef_construction = 16);
ALTER INDEX ho_v SET (m = 50);
ALTER INDEX ho_v SET (ef_construction = 10);
ALTER INDEX ho_v SET (m = 50, ef_construction = 100);
ALTER INDEX ho_v RESET (ef_construction);
SELECT reloptions FROM pg_class WHERE relname = 'ho_v';
-- whatever was accepted rebuilds
REINDEX INDEX ho_v;
SELECT elements FROM nmvec_index_stats('ho_v');
ALTER INDEX ho_v RESET (m, ef_construction);
SELECT reloptions FROM pg_class WHERE relname = 'ho_v';
REINDEX INDEX ho_v;
DROP TABLE ho;

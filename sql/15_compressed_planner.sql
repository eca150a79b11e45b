-- Compressible vectors (mostly zeros and repeats, like pixel data or
-- quantized, sparse-ish embeddings) stored compressed in the row: an exact
-- scan decompresses every value it computes a distance for. The distance
-- functions' cost (src/pg/cost.cpp) reads from the column statistics how the
-- values are stored (the average stored width against the raw size) and
-- charges the decompression, so a 10 % filter walks the hnsw index while a
-- B-tree filter that leaves a few hundred rows is still sorted exactly.
CREATE TABLE cz (id int, label int, tenant int, v vector(784));
ALTER TABLE cz ALTER COLUMN v SET STORAGE main;
ALTER TABLE cz ALTER COLUMN v SET COMPRESSION pglz;
INSERT INTO cz SELECT i, i % 10, i % 30,
    (SELECT array_agg(CASE WHEN k % 7 = i % 7 THEN (i * k) % 256 ELSE 0 END) FROM generate_series(1, 784) k)::vector
  FROM generate_series(1, 6000) i;
CREATE INDEX cz_v ON cz USING hnsw (v);
CREATE INDEX cz_tenant ON cz (tenant);
CREATE INDEX cz_label ON cz (label);
ANALYZE cz;
-- stored compressed in the row: every value (the statistics see it too)
SELECT count(*) FILTER (WHERE pg_column_compression(v) = 'pglz') AS compressed, count(*) AS all_rows FROM cz;
SELECT avg_width < 3144 / 2 AS stored_under_half_size FROM pg_stats WHERE tablename = 'cz' AND attname = 'v';
EXPLAIN (COSTS OFF) SELECT id FROM cz WHERE label = 3 ORDER BY v <-> (SELECT v FROM cz WHERE id = 1) LIMIT 10;
EXPLAIN (COSTS OFF) SELECT id FROM cz WHERE tenant = 7 ORDER BY v <-> (SELECT v FROM cz WHERE id = 1) LIMIT 10;
-- 10 % filter: the index; 200 rows through the B-tree: sorted exactly
SELECT count(*) FROM (SELECT id FROM cz WHERE label = 3 ORDER BY v <-> (SELECT v FROM cz WHERE id = 1) LIMIT 10) s;
-- A compressed argument that repeats (a query vector read from the table)
-- is decompressed once per call site and reused; one that changes is not
-- mistaken for it: distances equal those of the decompressed values, with
-- each side repeating for runs of rows and then changing.
SELECT count(*) AS pairs, count(*) FILTER (WHERE a.v <-> b.v = a.v::real[]::vector <-> b.v::real[]::vector
                                           AND b.v <=> a.v = b.v::real[]::vector <=> a.v::real[]::vector) AS equal
  FROM cz a JOIN cz b ON b.id = a.id / 10 + 1 WHERE a.id <= 2000;
SELECT count(*) FILTER (WHERE d = e) AS equal, count(*) AS all_rows FROM
  (SELECT v <-> (SELECT v FROM cz WHERE id = 77) AS d, v::real[]::vector <-> (SELECT v::real[]::vector FROM cz WHERE id = 77) AS e
     FROM cz) s;
DROP TABLE cz;

-- ivf.insert_helper: a RaBitQ index's inserts in full batches (1,024 rows
-- of this width) get their lists and codes from a helper thread of the
-- backend, up to 3 batches queued. The
-- index must hold exactly what inline inserts give, be whole at every
-- statement, and lose nothing a rollback keeps out.
SET client_min_messages = warning;
CREATE TABLE ih (id int PRIMARY KEY, v vector(16));
SHOW ivf.insert_helper;
-- Trained on 2,000 rows.
INSERT INTO ih SELECT i, ARRAY(SELECT sin(i * 0.37 + j * 1.7 + (i % 13) * j) FROM generate_series(1, 16) j)::vector
  FROM generate_series(1, 2000) i;
CREATE INDEX ih_v ON ih USING ivf (v vector_l2_ops) WITH (lists = 20);
-- 6,000 new rows through the helper (5 full batches, more than the queue
-- holds, and 880 computed inline), then their twins (same vectors, id +
-- 100000) with the helper off.
INSERT INTO ih SELECT i, ARRAY(SELECT sin(i * 0.37 + j * 1.7 + (i % 13) * j) FROM generate_series(1, 16) j)::vector
  FROM generate_series(2001, 8000) i;
SET ivf.insert_helper = off;
INSERT INTO ih SELECT id + 100000, v FROM ih WHERE id BETWEEN 2001 AND 8000;
RESET ivf.insert_helper;
SELECT lists, records FROM nmvec_ivf_stats('ih_v');
-- Each new row and its twin are in the same list: a scan of one list (the
-- nearest to the row's own vector, where both must be) finds both at
-- distance 0.
SET enable_seqscan = off;
SET ivf.probes = 1;
SELECT count(*) AS rows_with_twin_in_same_list
  FROM ih a
 WHERE a.id BETWEEN 2001 AND 8000
   AND (SELECT count(*) FROM (SELECT b.id FROM ih b ORDER BY b.v <-> a.v LIMIT 2) t
         WHERE t.id IN (a.id, a.id + 100000)) = 2;
-- A transaction rolled back: what it handed to the helper is dropped with
-- its buffers, nothing reaches the index.
BEGIN;
INSERT INTO ih SELECT i, ARRAY(SELECT cos(i * 0.07 + j) FROM generate_series(1, 16) j)::vector
  FROM generate_series(20001, 22500) i;
ROLLBACK;
SELECT records FROM nmvec_ivf_stats('ih_v');
-- Inside a transaction the next statement sees every row (the batch still
-- with the helper, and the one not yet full, are collected and written
-- first; after the rollback those records point to dead rows, which scans
-- skip and vacuum removes).
BEGIN;
INSERT INTO ih SELECT i, ARRAY(SELECT cos(i * 0.11 + j) FROM generate_series(1, 16) j)::vector
  FROM generate_series(30001, 32500) i;
SELECT count(*) AS found_by_index
  FROM ih a WHERE a.id BETWEEN 30001 AND 32500
   AND (SELECT b.id FROM ih b ORDER BY b.v <-> a.v LIMIT 1) = a.id;
ROLLBACK;
SELECT records FROM nmvec_ivf_stats('ih_v');
SELECT count(*) AS rolled_back_rows_returned
  FROM (SELECT b.id FROM ih b ORDER BY b.v <-> (SELECT ARRAY(SELECT cos(31000 * 0.11 + j) FROM generate_series(1, 16) j)::vector) LIMIT 50) t
 WHERE t.id BETWEEN 30001 AND 32500;
-- A savepoint rolled back: the rows before it stay, the ones after it are
-- not returned.
BEGIN;
INSERT INTO ih SELECT i, ARRAY(SELECT cos(i * 0.13 + j) FROM generate_series(1, 16) j)::vector
  FROM generate_series(40001, 41500) i;
SAVEPOINT s;
INSERT INTO ih SELECT i, ARRAY(SELECT cos(i * 0.17 + j) FROM generate_series(1, 16) j)::vector
  FROM generate_series(50001, 51500) i;
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT records FROM nmvec_ivf_stats('ih_v');
SELECT count(*) AS kept_rows_found
  FROM ih a WHERE a.id BETWEEN 40001 AND 41500
   AND (SELECT b.id FROM ih b ORDER BY b.v <-> a.v LIMIT 1) = a.id;
SELECT count(*) AS undone_rows_returned
  FROM (SELECT b.id FROM ih b ORDER BY b.v <-> (SELECT ARRAY(SELECT cos(51000 * 0.17 + j) FROM generate_series(1, 16) j)::vector) LIMIT 50) t
 WHERE t.id BETWEEN 50001 AND 51500;
-- COPY: same path.
COPY ih FROM STDIN;
8001	[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]
8002	[16,15,14,13,12,11,10,9,8,7,6,5,4,3,2,1]
\.
SELECT id FROM ih ORDER BY v <-> '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]' LIMIT 1;
-- Many statements in one transaction, each bigger than a batch.
BEGIN;
INSERT INTO ih SELECT i, ARRAY(SELECT sin(i * 0.05 + j * 0.3) FROM generate_series(1, 16) j)::vector
  FROM generate_series(60001, 61500) i;
INSERT INTO ih SELECT i, ARRAY(SELECT sin(i * 0.05 + j * 0.3) FROM generate_series(1, 16) j)::vector
  FROM generate_series(61501, 63000) i;
COMMIT;
SELECT records FROM nmvec_ivf_stats('ih_v');
SELECT count(*) AS all_rows_found
  FROM ih a WHERE a.id BETWEEN 60001 AND 63000
   AND (SELECT b.id FROM ih b ORDER BY b.v <-> a.v LIMIT 1) = a.id;
-- Other opclasses: halfvec under cosine (rows normalised, halves widened
-- before the helper sees them) and vector under inner product, each with
-- 3,000 rows through the helper and their twins inline (lists of ~700
-- rows: a one-list scan's first 10 rows all come from that list).
CREATE TABLE ih_h (id int PRIMARY KEY, v halfvec(24));
INSERT INTO ih_h SELECT i, ARRAY(SELECT cos(i * 0.29 + j * 0.9) + 0.2 FROM generate_series(1, 24) j)::halfvec
  FROM generate_series(1, 1000) i;
CREATE INDEX ih_h_v ON ih_h USING ivf (v halfvec_cosine_ops) WITH (lists = 10);
INSERT INTO ih_h SELECT i, ARRAY(SELECT cos(i * 0.29 + j * 0.9) + 0.2 FROM generate_series(1, 24) j)::halfvec
  FROM generate_series(1001, 4000) i;
SET ivf.insert_helper = off;
INSERT INTO ih_h SELECT id + 100000, v FROM ih_h WHERE id BETWEEN 1001 AND 4000;
RESET ivf.insert_helper;
-- (Half precision makes some rows exact duplicates of others: both twins
-- among the first 10 of the one-list scan, which are all from that list.)
SELECT count(*) AS halfvec_cosine_twins_in_same_list
  FROM ih_h a
 WHERE a.id BETWEEN 1001 AND 4000
   AND (SELECT count(*) FROM (SELECT b.id FROM ih_h b ORDER BY b.v <=> a.v LIMIT 10) t
         WHERE t.id IN (a.id, a.id + 100000)) = 2;
CREATE TABLE ih_ip (id int PRIMARY KEY, v vector(24));
INSERT INTO ih_ip SELECT i, l2_normalize(ARRAY(SELECT sin(i * 0.31 + j * 1.3) FROM generate_series(1, 24) j)::vector)
  FROM generate_series(1, 1000) i;
CREATE INDEX ih_ip_v ON ih_ip USING ivf (v vector_ip_ops) WITH (lists = 10);
INSERT INTO ih_ip SELECT i, l2_normalize(ARRAY(SELECT sin(i * 0.31 + j * 1.3) FROM generate_series(1, 24) j)::vector)
  FROM generate_series(1001, 4000) i;
SET ivf.insert_helper = off;
INSERT INTO ih_ip SELECT id + 100000, v FROM ih_ip WHERE id BETWEEN 1001 AND 4000;
RESET ivf.insert_helper;
-- (Unit vectors, so a row is its own nearest under inner product too.)
SELECT count(*) AS ip_twins_in_same_list
  FROM ih_ip a
 WHERE a.id BETWEEN 1001 AND 4000
   AND (SELECT count(*) FROM (SELECT b.id FROM ih_ip b ORDER BY b.v <#> a.v LIMIT 10) t
         WHERE t.id IN (a.id, a.id + 100000)) = 2;
SELECT (SELECT records FROM nmvec_ivf_stats('ih_h_v')) AS halfvec_records,
       (SELECT records FROM nmvec_ivf_stats('ih_ip_v')) AS ip_records;
-- Zero vectors under cosine in the helper's batches (which normalise the
-- rows): a third of 3,000 rows, not indexed; the other 2,000 are, and a
-- zero vector never comes back from a scan.
INSERT INTO ih_h SELECT i, CASE WHEN i % 3 = 0 THEN array_fill(0, ARRAY[24])::halfvec
                           ELSE ARRAY(SELECT cos(i * 0.29 + j * 0.9) + 0.2 FROM generate_series(1, 24) j)::halfvec END
  FROM generate_series(200001, 203000) i;
SELECT (SELECT records FROM nmvec_ivf_stats('ih_h_v')) AS halfvec_records_with_zeros;
SET ivf.probes = 10;
SET enable_seqscan = off;
SELECT count(*) AS rows_returned, count(*) FILTER (WHERE t.id % 3 = 0 AND t.id > 200000) AS zero_rows_returned
  FROM (SELECT id FROM ih_h ORDER BY v <=> (SELECT v FROM ih_h WHERE id = 200002) LIMIT 9500) t;
RESET enable_seqscan;
RESET ivf.probes;
DROP TABLE ih_h, ih_ip;
-- The dimension limit: 16,000-d rows, 256 lists (the coded centroid search
-- starts there), batches of 32 rows (2 MB of vectors): 100 rows through
-- the helper and their twins inline, in the same lists.
CREATE TABLE ih_w (id int PRIMARY KEY, v vector(16000));
INSERT INTO ih_w SELECT i, ARRAY(SELECT sin(i * 0.7 + j * 0.013) FROM generate_series(1, 16000) j)::vector
  FROM generate_series(1, 300) i;
CREATE INDEX ih_w_v ON ih_w USING ivf (v vector_l2_ops) WITH (lists = 256);
INSERT INTO ih_w SELECT i, ARRAY(SELECT sin(i * 0.7 + j * 0.013) FROM generate_series(1, 16000) j)::vector
  FROM generate_series(301, 400) i;
SET ivf.insert_helper = off;
INSERT INTO ih_w SELECT id + 100000, v FROM ih_w WHERE id BETWEEN 301 AND 400;
RESET ivf.insert_helper;
SELECT count(*) AS wide_twins_in_same_list
  FROM ih_w a
 WHERE a.id BETWEEN 301 AND 400
   AND (SELECT count(*) FROM (SELECT b.id FROM ih_w b ORDER BY b.v <-> a.v LIMIT 2) t
         WHERE t.id IN (a.id, a.id + 100000)) = 2;
SELECT lists, records FROM nmvec_ivf_stats('ih_w_v');
DROP TABLE ih_w;
-- VACUUM removes the dead records.
VACUUM ih;
SELECT records FROM nmvec_ivf_stats('ih_v');
DROP TABLE ih;

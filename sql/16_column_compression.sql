-- New vector and halfvec columns compress with lz4, and go out of line
-- uncompressed when wider than a page (event trigger nmvec_column_storage,
-- src/sql/50_column_compression.sql): pglz made COPY of compressible vectors
-- several times slower (README, Storage).
CREATE TABLE cc (id int, v vector(3), h halfvec, w vector(4) COMPRESSION pglz, t text,
                 big vector(3000), hbig halfvec(3000), hhuge halfvec(5000), edge vector(2038), edge1 vector(2039));
ALTER TABLE cc ADD COLUMN z vector(8);
CREATE TABLE cc_as AS SELECT * FROM cc;
SELECT * INTO cc_into FROM cc;
CREATE TABLE cc_part (id int, v vector(3)) PARTITION BY RANGE (id);
CREATE TABLE cc_part1 PARTITION OF cc_part FOR VALUES FROM (0) TO (10);
CREATE MATERIALIZED VIEW cc_mv AS SELECT id, v FROM cc;
CREATE TABLE cc_like (LIKE cc);
SELECT attrelid::regclass AS rel, attname, attstorage, attcompression
  FROM pg_attribute
 WHERE attrelid IN ('cc'::regclass, 'cc_as'::regclass, 'cc_into'::regclass, 'cc_part'::regclass,
                    'cc_part1'::regclass, 'cc_mv'::regclass, 'cc_like'::regclass)
   AND attnum > 0 AND NOT attisdropped
 ORDER BY attrelid::regclass::text, attnum;
-- the rows a COPY writes are compressed with it
COPY cc (id, v, h, z) FROM stdin;
1	[1,2,3]	[1,2]	[0,0,0,0,0,0,0,1]
\.
INSERT INTO cc (id, z) SELECT i, array_fill(0, ARRAY[8])::vector FROM generate_series(2, 3) i;
CREATE TABLE cc_wide (id int, v vector(2000));
INSERT INTO cc_wide SELECT i, array_fill(i % 3, ARRAY[2000])::vector FROM generate_series(1, 5) i;
SELECT pg_column_compression(v) AS method, count(*) FROM cc_wide GROUP BY 1;
-- a method or storage chosen later is left alone, and so is every column a
-- command did not add
ALTER TABLE cc_wide ALTER COLUMN v SET COMPRESSION pglz;
ALTER TABLE cc_wide ADD COLUMN e vector(3), ADD COLUMN f vector(3000), ADD COLUMN g int;
SELECT attname, attstorage, attcompression FROM pg_attribute WHERE attrelid = 'cc_wide'::regclass AND attnum > 1 ORDER BY attnum;
ALTER TABLE cc_wide ALTER COLUMN e SET COMPRESSION default;
ALTER TABLE cc_wide ALTER COLUMN f SET STORAGE main;
ALTER TABLE cc_wide RENAME COLUMN g TO g2;
ALTER TABLE cc_wide RENAME TO cc_wide2;
ALTER TABLE cc_wide2 RENAME TO cc_wide;
SELECT attname, attstorage, attcompression FROM pg_attribute WHERE attrelid = 'cc_wide'::regclass AND attnum > 1 ORDER BY attnum;
-- an unprivileged role's tables get it too (the trigger runs as the table's owner)
CREATE ROLE cc_user;
GRANT CREATE ON SCHEMA public TO cc_user;
SET ROLE cc_user;
CREATE TABLE cc_user_t (v vector(3));
SELECT attcompression FROM pg_attribute WHERE attrelid = 'cc_user_t'::regclass AND attname = 'v';
DROP TABLE cc_user_t;
RESET ROLE;
REVOKE CREATE ON SCHEMA public FROM cc_user;
DROP ROLE cc_user;
-- it can be switched off
ALTER EVENT TRIGGER nmvec_column_storage DISABLE;
CREATE TABLE cc_off (v vector(3));
SELECT attcompression = '' AS no_method_set FROM pg_attribute WHERE attrelid = 'cc_off'::regclass AND attname = 'v';
ALTER EVENT TRIGGER nmvec_column_storage ENABLE;
-- and it is part of the extension: not droppable alone
DROP EVENT TRIGGER nmvec_column_storage;
-- its helper takes only what pg_event_trigger_ddl_commands() gives
SELECT nmvec_new_columns(NULL);
SELECT nmvec_new_columns('x'::pg_ddl_command);
DROP TABLE cc, cc_as, cc_into, cc_part, cc_like, cc_wide, cc_off CASCADE;

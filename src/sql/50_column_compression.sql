-- ---------------------------------------------------------------------------
-- column storage of new vector and halfvec columns: lz4, or out of line when wide
-- ---------------------------------------------------------------------------
-- The types keep STORAGE = main: a vector stays in its row (an exact scan
-- reads it in place; TOASTed vectors scan ~4x slower) and leaves it only when
-- the row cannot fit a page. A row over ~2 kB is offered to compression
-- first. Embedding-like floats do not compress, but pixel data and quantized
-- or sparse-ish vectors do, and pglz, Postgres's default method, cut COPY of
-- such vectors to 0.2-0.6x pgvector's and made every read decompress slowly.
-- lz4 compresses and decompresses many times faster. A type cannot choose
-- its compression method; a column can. So this event trigger gives every
-- vector or halfvec column that a command creates (CREATE TABLE, CREATE
-- TABLE AS, SELECT INTO, CREATE MATERIALIZED VIEW, ALTER TABLE ... ADD
-- COLUMN) and for which the command chose no method:
--   * STORAGE external when its declared dimensions make a value wider than a
--     page (vector above 2038 dims, halfvec above 4076): such a value cannot
--     stay in the row uncompressed, and out of line, uncompressed, it scans
--     faster than compressed in a row that then fills a page by itself;
--   * otherwise COMPRESSION lz4 (unless the server was built without lz4).
-- The figures: bench/storage/run.sh, README "Storage". It runs as the user
-- who ran the command (the new column's table owner) and never touches a
-- column that already existed, so `ALTER TABLE ... ALTER COLUMN v SET
-- COMPRESSION pglz` (or `default`, or any STORAGE) afterwards stays.
-- `ALTER EVENT TRIGGER nmvec_column_storage DISABLE` turns it off.
CREATE FUNCTION nmvec_new_columns(pg_ddl_command) RETURNS smallint[]
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION nmvec_new_columns(pg_ddl_command) IS
    'columns a DDL command added (NULL: all of its relation''s), for the nmvec_column_storage event trigger';

CREATE FUNCTION nmvec_column_storage() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cmd record;
    col record;
    fn regprocedure;
    added smallint[];
    lz4 boolean;
    kind text;
BEGIN
    lz4 := EXISTS (SELECT FROM pg_settings
                    WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals));
    FOR cmd IN SELECT c.objid, c.command, r.relkind
                 FROM pg_event_trigger_ddl_commands() c
                 JOIN pg_class r ON c.classid = 'pg_class'::regclass AND r.oid = c.objid
                WHERE r.relkind IN ('r', 'p', 'm') AND c.object_type IN ('table', 'materialized view')
    LOOP
        added := NULL;
        fn := NULL;
        FOR col IN
            SELECT a.attnum, a.attname, a.atttypmod, a.attstorage, a.attcompression, t.typname
              FROM pg_attribute a
              JOIN pg_type t ON t.oid = a.atttypid
             WHERE a.attrelid = cmd.objid AND a.attnum > 0 AND NOT a.attisdropped
               AND a.attcompression = '' AND a.attstorage = 'm'
               AND a.atttypid IN (SELECT d.objid FROM pg_depend d
                                    JOIN pg_extension e ON e.oid = d.refobjid
                                   WHERE e.extname = 'nmvec' AND d.classid = 'pg_type'::regclass
                                     AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')
        LOOP
            IF fn IS NULL THEN
                -- only now (a vector column is there) is the library needed
                fn := (SELECT p.oid FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid
                         JOIN pg_extension e ON e.oid = d.refobjid
                        WHERE e.extname = 'nmvec' AND p.proname = 'nmvec_new_columns'
                          AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e');
                EXECUTE format('SELECT %s($1)', fn::oid::regproc) INTO added USING cmd.command;
                IF added IS NULL THEN
                    added := ARRAY(SELECT attnum FROM pg_attribute WHERE attrelid = cmd.objid AND attnum > 0);
                END IF;
            END IF;
            CONTINUE WHEN NOT col.attnum = ANY (added);
            kind := CASE cmd.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END;
            IF col.atttypmod > 0 AND
               8 + col.atttypmod * (CASE col.typname WHEN 'halfvec' THEN 2 ELSE 4 END) > 8160 THEN
                EXECUTE format('ALTER %s %s ALTER COLUMN %I SET STORAGE external',
                               kind, cmd.objid::regclass, col.attname);
            ELSIF lz4 THEN
                EXECUTE format('ALTER %s %s ALTER COLUMN %I SET COMPRESSION lz4',
                               kind, cmd.objid::regclass, col.attname);
            END IF;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION nmvec_column_storage() IS
    'event trigger: new vector and halfvec columns get lz4, or STORAGE external when wider than a page (README, Storage)';
CREATE EVENT TRIGGER nmvec_column_storage ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'CREATE MATERIALIZED VIEW', 'ALTER TABLE')
    EXECUTE FUNCTION nmvec_column_storage();

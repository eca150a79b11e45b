-- ---------------------------------------------------------------------------
-- column compression: lz4 for vector and halfvec columns
-- ---------------------------------------------------------------------------
-- The types keep STORAGE = main: a vector stays in its row (an exact scan
-- reads it in place; TOASTed vectors scan ~4x slower) and leaves it only when
-- the row cannot fit a page. A row over ~2 kB is offered to compression
-- first. Embedding-like floats do not compress, but pixel data and quantized
-- or sparse-ish vectors do, and pglz, Postgres's default method, costs COPY
-- about half its speed on them and every read a slow decompression. lz4
-- compresses and decompresses many times faster (bench/storage/run.sh, README
-- "Storage"). A type cannot choose its compression method, a column can: this
-- event trigger gives every new vector or halfvec column of a table,
-- partitioned table or materialized view lz4, unless the command chose a
-- method (COMPRESSION clause) or the server was built without lz4. It runs
-- after CREATE TABLE, CREATE TABLE AS, SELECT INTO, CREATE MATERIALIZED VIEW
-- and ALTER TABLE (ADD COLUMN), as the user who ran the command (who owns the
-- table). `ALTER TABLE ... ALTER COLUMN v SET COMPRESSION pglz` (or default)
-- undoes it for one column; `ALTER EXTENSION nmvec ...` cannot remove it
-- alone, `DROP EVENT TRIGGER` is refused for extension members, but
-- `ALTER EVENT TRIGGER nmvec_column_compression DISABLE` turns it off.
CREATE FUNCTION nmvec_column_compression() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col record;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_settings
                    WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        RETURN;  -- a server built without lz4
    END IF;
    FOR col IN
        SELECT DISTINCT r.oid AS rel, r.relkind, a.attname
          FROM pg_event_trigger_ddl_commands() c
          JOIN pg_class r ON c.classid = 'pg_class'::regclass AND r.oid = c.objid
          JOIN pg_attribute a ON a.attrelid = r.oid
         WHERE r.relkind IN ('r', 'p', 'm')
           AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attcompression = '' AND a.attstorage IN ('m', 'x')
           AND a.atttypid IN (SELECT d.objid FROM pg_depend d
                                JOIN pg_extension e ON e.oid = d.refobjid
                               WHERE e.extname = 'nmvec' AND d.classid = 'pg_type'::regclass
                                 AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER %s %s ALTER COLUMN %I SET COMPRESSION lz4',
                       CASE col.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                       col.rel::regclass, col.attname);
    END LOOP;
END
$$;
COMMENT ON FUNCTION nmvec_column_compression() IS
    'event trigger: new vector and halfvec columns compress with lz4 (README, Storage)';
CREATE EVENT TRIGGER nmvec_column_compression ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO', 'CREATE MATERIALIZED VIEW', 'ALTER TABLE')
    EXECUTE FUNCTION nmvec_column_compression();

-- ---------------------------------------------------------------------------
-- ivf filter columns: the same operator classes as hnsw's (42_hnsw_filter.sql),
-- made from them so the two access methods cannot drift apart: every
-- operator family of hnsw without support functions (the filter families),
-- its operator classes, and its cross-type operators, under ivf. Objects
-- created here belong to the extension like any other.
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    hnsw oid := (SELECT oid FROM pg_am WHERE amname = 'hnsw');
    fam record;
    cls record;
    ops text;
    op record;
BEGIN
    FOR fam IN
        SELECT f.oid, f.opfname FROM pg_opfamily f
        WHERE f.opfmethod = hnsw
          AND f.opfnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
          AND NOT EXISTS (SELECT 1 FROM pg_amproc p WHERE p.amprocfamily = f.oid)
        ORDER BY f.opfname
    LOOP
        EXECUTE format('CREATE OPERATOR FAMILY %I USING ivf', fam.opfname);
        FOR cls IN
            SELECT c.opcname, c.opcintype, c.opcdefault FROM pg_opclass c
            WHERE c.opcfamily = fam.oid ORDER BY c.opcname
        LOOP
            SELECT string_agg(format('OPERATOR %s %s', a.amopstrategy, o.oprname), ', '
                              ORDER BY a.amopstrategy)
              INTO ops
              FROM pg_amop a JOIN pg_operator o ON o.oid = a.amopopr
             WHERE a.amopfamily = fam.oid AND a.amoplefttype = cls.opcintype
               AND a.amoprighttype = cls.opcintype;
            EXECUTE format('CREATE OPERATOR CLASS %I %s FOR TYPE %s USING ivf FAMILY %I AS %s',
                           cls.opcname, CASE WHEN cls.opcdefault THEN 'DEFAULT' ELSE '' END,
                           cls.opcintype::regtype, fam.opfname, ops);
        END LOOP;
        FOR op IN
            SELECT a.amopstrategy, o.oprname AS name, a.amoplefttype::regtype AS l,
                   a.amoprighttype::regtype AS r
              FROM pg_amop a JOIN pg_operator o ON o.oid = a.amopopr
             WHERE a.amopfamily = fam.oid AND a.amoplefttype <> a.amoprighttype
             ORDER BY 3, 4, 1
        LOOP
            EXECUTE format('ALTER OPERATOR FAMILY %I USING ivf ADD OPERATOR %s %s (%s, %s)',
                           fam.opfname, op.amopstrategy, op.name, op.l, op.r);
        END LOOP;
    END LOOP;
END
$$;

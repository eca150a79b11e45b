
-- ---------------------------------------------------------------------------
-- nmvec_kth_distance: the distance from a vector to its k-th nearest row of a
-- table, the usual anomaly score ("how far is this event from its k-th
-- neighbour"). One ORDER BY col <op> q OFFSET k-1 LIMIT 1 query, so an hnsw
-- (or any ordering) index on the column answers it. Runs with the caller's
-- privileges. The row q came from counts if it is in the table: for a stored
-- event, its k-th neighbour among the other rows is k + 1 here.
-- ---------------------------------------------------------------------------
-- The work, for either type; the two typed functions below are the
-- documented interface.
CREATE FUNCTION nmvec_kth_distance_any(tbl regclass, col name, q anyelement, k integer, op text)
RETURNS double precision
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
AS $$
DECLARE
    d double precision;
BEGIN
    IF tbl IS NULL OR col IS NULL OR q IS NULL OR k IS NULL OR op IS NULL THEN
        RETURN NULL;
    END IF;
    IF k < 1 OR k > 100000 THEN
        RAISE EXCEPTION 'k must be between 1 and 100000, not %', k USING ERRCODE = '22023';
    END IF;
    IF op NOT IN ('<->', '<#>', '<=>', '<+>') THEN
        RAISE EXCEPTION 'unknown distance operator "%"', op USING ERRCODE = '22023',
            HINT = 'Use <-> (L2), <#> (negative inner product), <=> (cosine) or <+> (L1).';
    END IF;
    EXECUTE format('SELECT %1$I %2$s $1 FROM %3$s WHERE %1$I IS NOT NULL ORDER BY %1$I %2$s $1 OFFSET $2 LIMIT 1',
                   col, op, tbl)
        INTO d USING q, k - 1;
    RETURN d;
END
$$;
COMMENT ON FUNCTION nmvec_kth_distance_any(regclass, name, anyelement, integer, text) IS
    'the body of nmvec_kth_distance(vector) and nmvec_kth_distance(halfvec)';

CREATE FUNCTION nmvec_kth_distance(tbl regclass, col name, q vector, k integer DEFAULT 5, op text DEFAULT '<=>')
RETURNS double precision LANGUAGE sql STABLE PARALLEL RESTRICTED
AS 'SELECT nmvec_kth_distance_any(tbl, col, q, k, op)';
COMMENT ON FUNCTION nmvec_kth_distance(regclass, name, vector, integer, text) IS
    'distance from q to its k-th nearest row of tbl by op (an anomaly score); NULL if the table has fewer rows';

CREATE FUNCTION nmvec_kth_distance(tbl regclass, col name, q halfvec, k integer DEFAULT 5, op text DEFAULT '<=>')
RETURNS double precision LANGUAGE sql STABLE PARALLEL RESTRICTED
AS 'SELECT nmvec_kth_distance_any(tbl, col, q, k, op)';
COMMENT ON FUNCTION nmvec_kth_distance(regclass, name, halfvec, integer, text) IS
    'distance from q to its k-th nearest row of tbl by op (an anomaly score); NULL if the table has fewer rows';

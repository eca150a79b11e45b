-- same_as_exact(tab, col, op, q, cond, k): whether an index scan's first k
-- rows of `SELECT id FROM tab WHERE cond ORDER BY col op q LIMIT k` are the
-- exact order's (the same plan with index scans off; distances compared
-- rounded, since ties may come in either order), k of them, all distinct.
-- Shared by sql/25_ivf_rerank and sql/26_ivf_summaries.
CREATE FUNCTION same_as_exact(tab text, col text, op text, q text, cond text DEFAULT 'true', k int DEFAULT 10)
RETURNS bool LANGUAGE plpgsql AS $$
DECLARE a numeric[]; b numeric[]; ids int[]; query text;
BEGIN
  query := format('SELECT array_agg(round((%1$s %2$s %3$L)::numeric, 3)), array_agg(id) FROM
                     (SELECT id, %1$s FROM %5$I WHERE %4$s ORDER BY %1$s %2$s %3$L LIMIT %6$s) s',
                  col, op, q, cond, tab, k);
  SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexscan = on;
  EXECUTE query INTO a, ids;
  IF coalesce(array_length(ids, 1), 0) <> k OR (SELECT count(DISTINCT x) FROM unnest(ids) x) <> k THEN
    RETURN false;
  END IF;
  SET LOCAL enable_indexscan = off; SET LOCAL enable_seqscan = on;
  EXECUTE query INTO b;
  RETURN a = b;
END $$;

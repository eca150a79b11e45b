-- ---------------------------------------------------------------------------
-- hnsw index access method
-- ---------------------------------------------------------------------------
CREATE FUNCTION nmvec_hnsw_handler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME' LANGUAGE C;
CREATE ACCESS METHOD hnsw TYPE INDEX HANDLER nmvec_hnsw_handler;
COMMENT ON ACCESS METHOD hnsw IS 'nmvec hierarchical navigable small world index';

-- Support function 1 of each operator class tells the index its metric and
-- element type (not callable from SQL: internal argument).
CREATE FUNCTION nmvec_hnsw_vector_l2(internal) RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT;
CREATE FUNCTION nmvec_hnsw_vector_ip(internal) RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT;
CREATE FUNCTION nmvec_hnsw_vector_cosine(internal) RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT;
CREATE FUNCTION nmvec_hnsw_vector_l1(internal) RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT;
CREATE FUNCTION nmvec_hnsw_halfvec_l2(internal) RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT;
CREATE FUNCTION nmvec_hnsw_halfvec_ip(internal) RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT;
CREATE FUNCTION nmvec_hnsw_halfvec_cosine(internal) RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT;
CREATE FUNCTION nmvec_hnsw_halfvec_l1(internal) RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT;

CREATE OPERATOR CLASS vector_l2_ops DEFAULT FOR TYPE vector USING hnsw AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_vector_l2(internal);
CREATE OPERATOR CLASS vector_ip_ops FOR TYPE vector USING hnsw AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_vector_ip(internal);
CREATE OPERATOR CLASS vector_cosine_ops FOR TYPE vector USING hnsw AS
    OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_vector_cosine(internal);
CREATE OPERATOR CLASS vector_l1_ops FOR TYPE vector USING hnsw AS
    OPERATOR 1 <+> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_vector_l1(internal);
CREATE OPERATOR CLASS halfvec_l2_ops DEFAULT FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_halfvec_l2(internal);
CREATE OPERATOR CLASS halfvec_ip_ops FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_halfvec_ip(internal);
CREATE OPERATOR CLASS halfvec_cosine_ops FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_halfvec_cosine(internal);
CREATE OPERATOR CLASS halfvec_l1_ops FOR TYPE halfvec USING hnsw AS
    OPERATOR 1 <+> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_halfvec_l1(internal);

CREATE FUNCTION nmvec_index_stats(index regclass,
    OUT elements bigint, OUT levels integer, OUT pages bigint, OUT deleted bigint,
    OUT pending bigint, OUT bytes bigint, OUT dims integer)
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
COMMENT ON FUNCTION nmvec_index_stats(regclass) IS 'elements, levels, pages, deleted and pending elements, bytes of an hnsw index';

CREATE FUNCTION nmvec_flush(index regclass) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION nmvec_flush(regclass) IS 'merge the pending list of an hnsw index into its graph now; returns the elements linked';

CREATE FUNCTION nmvec_index_check(index regclass,
    OUT linked bigint, OUT pending bigint, OUT deleted bigint, OUT unwritten bigint,
    OUT duplicate_links bigint, OUT self_links bigint, OUT links_to_unwritten bigint,
    OUT pending_below_first bigint, OUT unreached bigint)
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
COMMENT ON FUNCTION nmvec_index_check(regclass) IS 'elements of an hnsw index by state, neighbour-list faults (zero in a sound index), and linked elements no level-0 list names';

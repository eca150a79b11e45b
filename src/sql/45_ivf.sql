-- ---------------------------------------------------------------------------
-- ivf index access method, also as ivfflat (pgvector's name, options and
-- settings). The operator classes reuse hnsw's support functions, which
-- only name the metric and element type.
-- ---------------------------------------------------------------------------
CREATE FUNCTION nmvec_ivf_handler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME' LANGUAGE C;
CREATE ACCESS METHOD ivf TYPE INDEX HANDLER nmvec_ivf_handler;
COMMENT ON ACCESS METHOD ivf IS 'nmvec inverted-file index (k-means lists)';
CREATE FUNCTION nmvec_ivfflat_handler(internal) RETURNS index_am_handler
    AS 'MODULE_PATHNAME' LANGUAGE C;
CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER nmvec_ivfflat_handler;
COMMENT ON ACCESS METHOD ivfflat IS 'nmvec inverted-file index under pgvector''s name and settings';

CREATE OPERATOR CLASS vector_l2_ops DEFAULT FOR TYPE vector USING ivf AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_vector_l2(internal);
CREATE OPERATOR CLASS vector_ip_ops FOR TYPE vector USING ivf AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_vector_ip(internal);
CREATE OPERATOR CLASS vector_cosine_ops FOR TYPE vector USING ivf AS
    OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_vector_cosine(internal);
CREATE OPERATOR CLASS halfvec_l2_ops DEFAULT FOR TYPE halfvec USING ivf AS
    OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_halfvec_l2(internal);
CREATE OPERATOR CLASS halfvec_ip_ops FOR TYPE halfvec USING ivf AS
    OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_halfvec_ip(internal);
CREATE OPERATOR CLASS halfvec_cosine_ops FOR TYPE halfvec USING ivf AS
    OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_halfvec_cosine(internal);

CREATE OPERATOR CLASS vector_l2_ops DEFAULT FOR TYPE vector USING ivfflat AS
    OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_vector_l2(internal);
CREATE OPERATOR CLASS vector_ip_ops FOR TYPE vector USING ivfflat AS
    OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_vector_ip(internal);
CREATE OPERATOR CLASS vector_cosine_ops FOR TYPE vector USING ivfflat AS
    OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_vector_cosine(internal);
CREATE OPERATOR CLASS halfvec_l2_ops DEFAULT FOR TYPE halfvec USING ivfflat AS
    OPERATOR 1 <-> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_halfvec_l2(internal);
CREATE OPERATOR CLASS halfvec_ip_ops FOR TYPE halfvec USING ivfflat AS
    OPERATOR 1 <#> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_halfvec_ip(internal);
CREATE OPERATOR CLASS halfvec_cosine_ops FOR TYPE halfvec USING ivfflat AS
    OPERATOR 1 <=> (halfvec, halfvec) FOR ORDER BY float_ops,
    FUNCTION 1 nmvec_hnsw_halfvec_cosine(internal);

CREATE FUNCTION nmvec_ivf_stats(index regclass,
    OUT lists integer, OUT records bigint, OUT dead bigint, OUT empty_lists integer,
    OUT largest_list bigint, OUT rows_built bigint, OUT rows_added bigint,
    OUT added_share double precision, OUT bytes bigint, OUT dims integer, OUT probes integer)
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
COMMENT ON FUNCTION nmvec_ivf_stats(regclass) IS 'lists, live and dead records, the share added since the centroids were trained, and the lists a scan probes first, of an ivf index';

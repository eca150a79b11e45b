#!/bin/sh
# Not run by the build: documents how 10_vector.sql and 20_halfvec.sql were
# written from one template (kept checked in so the install script stays
# readable). Re-run after editing the template: sh src/sql/gen_types.sh
set -e
cd "$(dirname "$0")"
gen() {  # $1 = type name, $2 = storage, $3 = preferred in the category
sed -e "s/@T@/$1/g" -e "s/@STORAGE@/$2/g" -e "s/@PREFERRED@/$3/g" <<'TEMPLATE'
-- ---------------------------------------------------------------------------
-- type @T@
-- ---------------------------------------------------------------------------
CREATE TYPE @T@;

CREATE FUNCTION @T@_in(cstring, oid, integer) RETURNS @T@
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_out(@T@) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_typmod_in(cstring[]) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_typmod_out(integer) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_recv(internal, oid, integer) RETURNS @T@
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_send(@T@) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @T@ (
    INPUT     = @T@_in,
    OUTPUT    = @T@_out,
    TYPMOD_IN = @T@_typmod_in,
    TYPMOD_OUT = @T@_typmod_out,
    RECEIVE   = @T@_recv,
    SEND      = @T@_send,
    STORAGE   = @STORAGE@,
    -- one category for vector and halfvec, vector preferred: a function
    -- overloaded on both takes an untyped literal as a vector, so
    -- vector_norm('[3,4]') works as in pgvector instead of being ambiguous
    CATEGORY  = 'W',
    PREFERRED = @PREFERRED@
);

-- length coercion: enforces the typmod on assignment and cast
CREATE FUNCTION @T@(@T@, integer, boolean) RETURNS @T@
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (@T@ AS @T@) WITH FUNCTION @T@(@T@, integer, boolean) AS IMPLICIT;

-- casts from arrays (all share one C function that switches on the element type)
CREATE FUNCTION array_to_@T@(integer[], integer, boolean) RETURNS @T@
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_@T@(real[], integer, boolean) RETURNS @T@
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_@T@(double precision[], integer, boolean) RETURNS @T@
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_@T@(numeric[], integer, boolean) RETURNS @T@
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (integer[] AS @T@) WITH FUNCTION array_to_@T@(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS @T@) WITH FUNCTION array_to_@T@(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS @T@) WITH FUNCTION array_to_@T@(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS @T@) WITH FUNCTION array_to_@T@(numeric[], integer, boolean) AS ASSIGNMENT;

CREATE FUNCTION @T@_to_float4(@T@, integer, boolean) RETURNS real[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (@T@ AS real[]) WITH FUNCTION @T@_to_float4(@T@, integer, boolean) AS IMPLICIT;

-- distances
CREATE FUNCTION l2_distance(@T@, @T@) RETURNS float8
    AS 'MODULE_PATHNAME', '@T@_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT nmvec_distance_support;
CREATE FUNCTION inner_product(@T@, @T@) RETURNS float8
    AS 'MODULE_PATHNAME', '@T@_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT nmvec_distance_support;
CREATE FUNCTION cosine_distance(@T@, @T@) RETURNS float8
    AS 'MODULE_PATHNAME', '@T@_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT nmvec_distance_support;
CREATE FUNCTION l1_distance(@T@, @T@) RETURNS float8
    AS 'MODULE_PATHNAME', '@T@_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT nmvec_distance_support;
CREATE FUNCTION @T@_l2_squared_distance(@T@, @T@) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT nmvec_distance_support;
CREATE FUNCTION @T@_negative_inner_product(@T@, @T@) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT nmvec_distance_support;

-- other functions
CREATE FUNCTION vector_dims(@T@) RETURNS integer
    AS 'MODULE_PATHNAME', '@T@_dims' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_norm(@T@) RETURNS float8
    AS 'MODULE_PATHNAME', '@T@_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l2_norm(@T@) RETURNS float8
    AS 'MODULE_PATHNAME', '@T@_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l2_normalize(@T@) RETURNS @T@
    AS 'MODULE_PATHNAME', '@T@_l2_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION subvector(@T@, integer, integer) RETURNS @T@
    AS 'MODULE_PATHNAME', '@T@_subvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_add(@T@, @T@) RETURNS @T@
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_sub(@T@, @T@) RETURNS @T@
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_mul(@T@, @T@) RETURNS @T@
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_concat(@T@, @T@) RETURNS @T@
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- comparison (btree support)
CREATE FUNCTION @T@_lt(@T@, @T@) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_le(@T@, @T@) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_eq(@T@, @T@) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_ne(@T@, @T@) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_ge(@T@, @T@) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_gt(@T@, @T@) RETURNS bool
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_cmp(@T@, @T@) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- aggregates: state {count, sum_1, ..., sum_d} as float8[]
CREATE FUNCTION @T@_accum(double precision[], @T@) RETURNS double precision[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_combine(double precision[], double precision[]) RETURNS double precision[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_avg(double precision[]) RETURNS @T@
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @T@_sum(double precision[]) RETURNS @T@
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE avg(@T@) (
    SFUNC = @T@_accum, STYPE = double precision[], FINALFUNC = @T@_avg,
    COMBINEFUNC = @T@_combine, INITCOND = '{0}', PARALLEL = SAFE
);
CREATE AGGREGATE sum(@T@) (
    SFUNC = @T@_accum, STYPE = double precision[], FINALFUNC = @T@_sum,
    COMBINEFUNC = @T@_combine, INITCOND = '{0}', PARALLEL = SAFE
);

-- operators
CREATE OPERATOR <-> (LEFTARG = @T@, RIGHTARG = @T@, FUNCTION = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = @T@, RIGHTARG = @T@, FUNCTION = @T@_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = @T@, RIGHTARG = @T@, FUNCTION = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = @T@, RIGHTARG = @T@, FUNCTION = l1_distance, COMMUTATOR = '<+>');
CREATE OPERATOR + (LEFTARG = @T@, RIGHTARG = @T@, FUNCTION = @T@_add, COMMUTATOR = +);
CREATE OPERATOR - (LEFTARG = @T@, RIGHTARG = @T@, FUNCTION = @T@_sub);
CREATE OPERATOR * (LEFTARG = @T@, RIGHTARG = @T@, FUNCTION = @T@_mul, COMMUTATOR = *);
CREATE OPERATOR || (LEFTARG = @T@, RIGHTARG = @T@, FUNCTION = @T@_concat);

CREATE OPERATOR < (LEFTARG = @T@, RIGHTARG = @T@, FUNCTION = @T@_lt, COMMUTATOR = >, NEGATOR = >=,
    RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = @T@, RIGHTARG = @T@, FUNCTION = @T@_le, COMMUTATOR = >=, NEGATOR = >,
    RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR = (LEFTARG = @T@, RIGHTARG = @T@, FUNCTION = @T@_eq, COMMUTATOR = =, NEGATOR = <>,
    RESTRICT = eqsel, JOIN = eqjoinsel);
CREATE OPERATOR <> (LEFTARG = @T@, RIGHTARG = @T@, FUNCTION = @T@_ne, COMMUTATOR = <>, NEGATOR = =,
    RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR >= (LEFTARG = @T@, RIGHTARG = @T@, FUNCTION = @T@_ge, COMMUTATOR = <=, NEGATOR = <,
    RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR > (LEFTARG = @T@, RIGHTARG = @T@, FUNCTION = @T@_gt, COMMUTATOR = <, NEGATOR = <=,
    RESTRICT = scalargtsel, JOIN = scalargtjoinsel);

CREATE OPERATOR CLASS @T@_ops DEFAULT FOR TYPE @T@ USING btree AS
    OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
    FUNCTION 1 @T@_cmp(@T@, @T@);

TEMPLATE
}
gen vector main true > 10_vector.sql
gen halfvec main false > 20_halfvec.sql

-- Planner support of the distance functions: their cost grows with the
-- dimensions and with TOAST fetches of out-of-line vectors (src/pg/cost.cpp).
CREATE FUNCTION nmvec_distance_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT;


-- The module loads (every C symbol resolved at CREATE EXTENSION), FAISS is
-- linked in, and the kernels were chosen from CPUID.
CREATE EXTENSION nmvec;
SELECT extname, extversion FROM pg_extension WHERE extname = 'nmvec';
SELECT nmvec_build_info() ~ '^nmvec 0\.1\.0; kernels: (scalar|avx2|avx512|avx512fp16); faiss 1\.' AS build_info_ok;
-- drop and re-create in the same session
DROP EXTENSION nmvec;
CREATE EXTENSION nmvec;
SELECT count(*) > 0 AS has_functions FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid
  JOIN pg_extension e ON e.oid = d.refobjid WHERE e.extname = 'nmvec';
-- storage chosen by measurement (see README, "Storage"): inline up to ~8 kB
SELECT typname, typstorage, typlen, typalign FROM pg_type WHERE typname IN ('vector', 'halfvec') ORDER BY 1;

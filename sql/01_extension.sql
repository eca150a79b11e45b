-- The module loads (every C symbol resolved at CREATE EXTENSION), FAISS
-- resolves in its own module, and the kernels were chosen from CPUID.
CREATE EXTENSION nmvec;
SELECT extname, extversion FROM pg_extension WHERE extname = 'nmvec';
-- A new session that uses vectors loads nmvec.so only: FAISS and the
-- libraries it needs (OpenMP, BLAS) are not loaded until something uses
-- FAISS (loading them cost each new connection ~10 ms and a spinning thread).
\c
SELECT '[1,2]'::vector <-> '[3,4]' AS l2;
SELECT pg_read_file('/proc/' || pg_backend_pid() || '/maps') ~ '/nmvec\.so' AS nmvec_loaded,
       pg_read_file('/proc/' || pg_backend_pid() || '/maps') ~ 'nmvec_faiss|libgomp|libblas|libopenblas|liblapack' AS faiss_loaded;
SELECT nmvec_build_info() ~ '^nmvec 0\.1\.0; kernels: (scalar|avx2|avx512|avx512fp16); faiss 1\.' AS build_info_ok;
SELECT pg_read_file('/proc/' || pg_backend_pid() || '/maps') ~ 'nmvec_faiss' AS faiss_loaded;
-- drop and re-create in the same session
DROP EXTENSION nmvec;
CREATE EXTENSION nmvec;
SELECT count(*) > 0 AS has_functions FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid
  JOIN pg_extension e ON e.oid = d.refobjid WHERE e.extname = 'nmvec';
-- storage chosen by measurement (see README, "Storage"): inline up to ~8 kB
SELECT typname, typstorage, typlen, typalign FROM pg_type WHERE typname IN ('vector', 'halfvec') ORDER BY 1;

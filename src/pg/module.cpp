// module.cpp — module magic, load-time setup and build information.
#include "../core/build_info.h"
#include "../core/distance.h"
#include "guard.h"
#include "hnsw_am.h"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
}

void _PG_init(void) {
    // Pick the distance kernels now, once, from CPUID.
    (void)nmvec::active_kernels();
    nmvec::pg::hnsw::register_hnsw();
}

/// nmvec_build_info(): the kernels in use and how FAISS was built, proving
/// the statically linked FAISS resolved inside the backend.
NMVEC_FUNCTION(nmvec_build_info) {
    char buf[2048];
    nmvec::build_info(buf, sizeof(buf));
    PG_RETURN_TEXT_P(cstring_to_text(buf));
}

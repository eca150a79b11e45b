// module.cpp — module magic, load-time setup and build information.
#include <malloc.h>

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
    // Every WAL-logged page change goes through GenericXLogStart, which
    // pallocs a ~65 kB state and frees it at the end. With glibc's default
    // trim threshold (128 kB) that memory goes back to the kernel and is
    // faulted in again on the next change: half of an index insert's time
    // was page faults. Keep up to 16 MB of freed heap in the process.
    mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
}

/// nmvec_build_info(): the kernels in use and how FAISS was built, proving
/// the statically linked FAISS resolved inside the backend.
NMVEC_FUNCTION(nmvec_build_info) {
    char buf[2048];
    nmvec::build_info(buf, sizeof(buf));
    PG_RETURN_TEXT_P(cstring_to_text(buf));
}

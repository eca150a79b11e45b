// module.cpp — module magic, load-time setup and build information.
#include <malloc.h>

#include "../core/build_info.h"
#include "../core/distance.h"
#include "guard.h"
#include "hnsw_am.h"
#include "ivf_am.h"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
}

void _PG_init(void) {
    // Pick the distance kernels now, once, from CPUID.
    (void)nmvec::active_kernels();
    nmvec::pg::hnsw::register_hnsw();
    nmvec::pg::ivf::register_ivf();
    // Every WAL-logged page change goes through GenericXLogStart, which
    // pallocs a ~65 kB state and frees it at the end. With glibc's default
    // trim threshold (128 kB) that memory goes back to the kernel and is
    // faulted in again on the next change: half of an index insert's time
    // was page faults. Keep up to 16 MB of freed heap in the process.
    mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
}

/// nmvec_build_info(): the kernels in use and how FAISS was built. FAISS
/// lives in nmvec_faiss.so (src/faiss/nmvec_faiss.cpp says why), loaded here
/// on first call: this also proves that it resolves inside a backend.
NMVEC_FUNCTION(nmvec_build_info) {
    using InfoFn = int (*)(char*, size_t);
    char core[512];
    char faiss[1024];
    nmvec::build_info(core, sizeof(core));
    auto info = reinterpret_cast<InfoFn>(
        load_external_function("$libdir/nmvec_faiss", "nmvec_faiss_info", true, nullptr));
    info(faiss, sizeof(faiss));
    PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s; %s", core, faiss)));
}

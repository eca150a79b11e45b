// ivf_build.cpp — CREATE INDEX for ivf.
//
// Phases (reported in pg_stat_progress_create_index):
//  1. sampling: one heap scan draws a uniform sample of the vectors
//     (reservoir sampling, seeded: the same table gives the same sample) of
//     at most kSamplePerList per list, and at most half of
//     maintenance_work_mem (the sample grows by doubling, so a growth step
//     holds the old and the new copy at once: at most the whole of it); it
//     also counts the rows, from which `lists` is derived when the option
//     is not given (auto_lists).
//  2. training centroids: k-means on the sample by FAISS (nmvec_faiss.so),
//     on max_parallel_maintenance_workers + 1 threads (capped by the cores);
//     spherical (unit-length centroids) under cosine. Threads never call
//     Postgres; a cancel stops FAISS at its next check.
//  3. assigning rows: a second heap scan; each vector goes to its nearest
//     centroid's list, its record spooled to a temporary file (BufFile) and
//     counted.
//  4. writing pages: each list's pages, as many as its records fill, are
//     laid out one list after another, in list order; the spooled records
//     are appended to their lists (in table order, so zones of an
//     append-only column stay narrow) through shared buffers; then the
//     directory and meta page, and one log_newpage_range over the whole
//     index.
//
// Why the spool: appended as rows came, the lists' pages interleaved, so
// reading one list touched pages scattered over the index, and the
// backend's block-indexed page hints (hnsw::block_hint, block_next) with
// them; each page's first touch then cost a walk of the page tables. A
// list's pages in a row are read in order (the operating system's
// read-ahead too), and its hints are neighbours. Reading 8 KB pages whole
// in runs of 41 was 2.3x faster than the same pages scattered over 1 GB on
// these VMs (395 against 890 ns a page). Pages that inserts add after the
// build go at the end of the index, as before.
#include <algorithm>
#include <thread>

#include "ivf_am.h"

extern "C" {
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "storage/buffile.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "optimizer/plancat.h"
#include "utils/backend_progress.h"
#include "../faiss/nmvec_faiss_api.h"
}

namespace nmvec::pg::ivf {
namespace {

constexpr int kPhaseSample = 1, kPhaseTrain = 2, kPhaseAssign = 3, kPhaseWrite = 4;
/// Sample points per list k-means trains on (FAISS's default cap).
constexpr uint64 kSamplePerList = 256;
/// Fewest sample points per list below which training is refused as
/// meaningless (when the table has more rows than that).
constexpr uint64 kMinSamplePerList = 4;
constexpr int kKmeansIterations = 10;
/// Rows assigned to lists at a time (FAISS on the build threads).
constexpr size_t kAssignBatch = 4096;
/// The RaBitQ codec's rotation seed (stored in the meta page).
constexpr uint64 kRabitqSeed = 0x6e6d766563ull;

/// Where one list's build-time chain ends.
struct ListTail {
    BlockNumber head = InvalidBlockNumber, tail = InvalidBlockNumber;
    uint32 tail_slice = 0, count = 0;
};

struct BuildState {
    Relation heap = nullptr, index = nullptr;
    Metric metric = Metric::L2;
    ElemKind kind = kFloat32;
    Quantizer quantizer = kFlat;
    uint32 bits = 0;
    std::shared_ptr<const nmvec::RabitqCodec> codec;  // kRabitq
    uint32 dims = 0;
    int vcol = 0;                       // the vector's key column
    nmvec::filter::RecordLayout attrs;  // the filter columns (the other key columns)
    uint32 zone_bytes = 0;              // a list page's zone (ivf_page.h)
    uint32 slice = kSliceBytes;         // stream bytes a list page holds
    uint32 attr_offset = 0;             // where a record's filter values start
    double heap_tuples = 0, index_tuples = 0;
    // phase 1
    uint64 sample_cap = 0;  // vectors
    uint64 seen = 0;        // vectors offered to the reservoir
    uint64 rng = 0x9e3779b97f4a7c15ull;
    std::vector<float> sample;
    std::vector<float> tmp;
    // phase 2-3
    uint32 n_lists = 1;
    bool trained = false;
    std::vector<float> centroids;
    std::vector<ListTail> tails;
    // phase 3-4: the spooled records (list number, then the record), how
    // many each list got, and the first block of each list's pages.
    BufFile* spool = nullptr;
    std::vector<uint32> counts;
    std::vector<BlockNumber> first_block;
    std::vector<float> batch;  // rows waiting for their lists
    std::vector<ItemPointerData> batch_tids;
    std::vector<uint8_t> batch_attrs;  // their filter values, attrs.bytes each
    std::vector<int32_t> labels;
    uint32 rec_bytes = 0;
    std::vector<char> rec;
    AlignedBytes code;
};

/// Bytes the sample may take: half of maintenance_work_mem (see the file
/// comment).
uint64 sample_bytes() { return static_cast<uint64>(maintenance_work_mem) * 1024 / 2; }

uint64 next_random(uint64& s) {
    // splitmix64
    uint64 z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/// Float copy of a vector/halfvec datum into bs.tmp; sets/checks dims.
/// False when the vector cannot be indexed (zero under cosine).
bool load_vector(BuildState& bs, Datum value) {
    struct varlena* raw = PG_DETOAST_DATUM(value);
    const uint32 dim = static_cast<uint32>(reinterpret_cast<const Vector*>(raw)->dim);
    if (bs.dims == 0) {
        bs.dims = dim;
    } else if (dim != bs.dims) {
        ereport(ERROR,
                (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected %u dimensions, not %u", bs.dims, dim),
                 errdetail("Every vector in an ivf index must have the same dimensions."),
                 errhint("Give the column a type with dimensions, such as vector(%u).", bs.dims)));
    }
    bs.tmp.resize(dim);
    if (bs.kind == kFloat32)
        memcpy(bs.tmp.data(), reinterpret_cast<const Vector*>(raw)->x, sizeof(float) * dim);
    else
        halfs_to_floats(reinterpret_cast<const HalfVector*>(raw)->x, bs.tmp.data(), dim);
    if (reinterpret_cast<Pointer>(raw) != DatumGetPointer(value)) pfree(raw);
    return nmvec::hnsw::normalize_for(bs.metric, bs.tmp.data(), dim);
}

void sample_callback(Relation /*index*/, ItemPointer /*tid*/, Datum* values, bool* isnull, bool /*alive*/,
                     void* state) {
    BuildState& bs = *static_cast<BuildState*>(state);
    bs.heap_tuples += 1;
    if (isnull[bs.vcol] || !load_vector(bs, values[bs.vcol])) return;
    bs.index_tuples += 1;
    if (bs.sample_cap == 0) {
        // First vector: now the dims are known, so is the memory a sample may take.
        bs.sample_cap = std::max<uint64>(1, sample_bytes() / (sizeof(float) * bs.dims));
        const int lists = lists_option(bs.index);
        // Without the option the lists follow the rows this scan counts
        // (pg_class.reltuples may be stale): room for the most lists.
        const uint64 want = lists > 0 ? static_cast<uint64>(lists) * kSamplePerList
                                      : static_cast<uint64>(kMaxLists) * kSamplePerList;
        bs.sample_cap = std::min(bs.sample_cap, want);
    }
    const uint64 i = bs.seen++;
    uint64 slot;
    if (i < bs.sample_cap) {
        slot = i;
        bs.sample.resize((i + 1) * bs.dims);
    } else {
        slot = next_random(bs.rng) % (i + 1);
        if (slot >= bs.sample_cap) return;
    }
    memcpy(bs.sample.data() + slot * bs.dims, bs.tmp.data(), sizeof(float) * bs.dims);
    if (static_cast<int64>(bs.index_tuples) % 4096 == 0)
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64>(bs.index_tuples));
}

int build_threads() {
    int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return std::max(1, std::min(max_parallel_maintenance_workers + 1, cores));
}

/// Reads InterruptPending, which a signal handler sets: safe from any thread.
int interrupted(void* /*arg*/) { return InterruptPending ? 1 : 0; }

/// k-means of the sample into bs.centroids (k lists), by FAISS.
void train(BuildState& bs, uint32 k, uint64 n) {
    static nmvec_faiss_kmeans_fn kmeans = nullptr;
    if (kmeans == nullptr)
        kmeans = reinterpret_cast<nmvec_faiss_kmeans_fn>(
            load_external_function("$libdir/nmvec_faiss", NMVEC_FAISS_KMEANS_SYMBOL, true, nullptr));
    bs.centroids.assign(static_cast<size_t>(k) * bs.dims, 0.0f);
    nmvec_kmeans_args args;
    memset(&args, 0, sizeof(args));
    args.x = bs.sample.data();
    args.n = static_cast<int64_t>(n);
    args.d = bs.dims;
    args.k = k;
    args.iterations = kKmeansIterations;
    args.threads = build_threads();
    args.seed = 1234;
    args.spherical = bs.metric == Metric::Cosine ? 1 : 0;
    args.max_points_per_centroid = 0;  // the sample is already drawn
    args.centroids = bs.centroids.data();
    args.interrupted = interrupted;
    args.interrupt_arg = nullptr;
    char err[512] = "";
    int rc = kmeans(&args, err, sizeof(err));
    if (rc == NMVEC_FAISS_INTERRUPTED) {
        CHECK_FOR_INTERRUPTS();  // raises the cancel or termination
        elog(ERROR, "ivf k-means was interrupted");
    }
    if (rc == NMVEC_FAISS_OUT_OF_MEMORY)
        ereport(ERROR,
                (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory while training ivf centroids")));
    if (rc != NMVEC_FAISS_OK)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("ivf k-means failed: %s", err)));
    if (bs.metric == Metric::Cosine)
        for (uint32 i = 0; i < k; ++i)
            nmvec::hnsw::normalize_for(Metric::Cosine, bs.centroids.data() + static_cast<size_t>(i) * bs.dims,
                                       bs.dims);
}

Buffer new_page(Relation index, PageKind kind, uint32 zone_bytes) {
    Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    init_page(BufferGetPage(buf), kind, zone_bytes);
    return buf;
}

void finish_page(Buffer buf) {
    MarkBufferDirty(buf);
    UnlockReleaseBuffer(buf);
}

/// Pages list `list` needs for `count` records.
uint64 list_pages(const BuildState& bs, uint64 count) {
    return (count * bs.rec_bytes + bs.slice - 1) / bs.slice;
}

/// The page of slice s of list `list`, from the run laid out for it,
/// locked exclusively.
Buffer list_page(BuildState& bs, uint32 list, uint32 s) {
    if (s >= list_pages(bs, bs.counts[list])) elog(ERROR, "ivf build: list %u outgrew its pages", list);
    Buffer buf = ReadBuffer(bs.index, bs.first_block[list] + s);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    return buf;
}

/// Append bs.rec to list `list` (build time: through shared buffers, no WAL
/// record per change; log_newpage_range covers the index at the end).
void build_append(BuildState& bs, uint32 list) {
    ListTail& t = bs.tails[list];
    const uint32 rb = bs.rec_bytes;
    const uint32 slice = bs.slice;
    const uint64 pos = static_cast<uint64>(t.count) * rb;
    uint64 done = 0;
    while (done < rb) {
        const uint64 at = pos + done;
        const uint32 s = static_cast<uint32>(at / slice);
        Buffer buf;
        if (t.head == InvalidBlockNumber) {
            buf = list_page(bs, list, 0);
            t.head = t.tail = BufferGetBlockNumber(buf);
            t.tail_slice = 0;
        } else if (s > t.tail_slice) {
            Buffer nb = list_page(bs, list, s);
            const BlockNumber nblk = BufferGetBlockNumber(nb);
            Buffer ob = ReadBuffer(bs.index, t.tail);
            LockBuffer(ob, BUFFER_LOCK_EXCLUSIVE);
            page_opaque(BufferGetPage(ob))->next = nblk;
            finish_page(ob);
            t.tail = nblk;
            t.tail_slice = s;
            buf = nb;
        } else {
            buf = ReadBuffer(bs.index, t.tail);
            LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        }
        Page page = BufferGetPage(buf);
        const uint32 off = static_cast<uint32>(at - static_cast<uint64>(s) * slice);
        const uint32 n = static_cast<uint32>(std::min<uint64>(rb - done, slice - off));
        memcpy(stream_data(page) + off, bs.rec.data() + done, n);
        cover_written(page, off + n);
        if (bs.zone_bytes > 0)  // the page's zone covers every record with a byte on it
            nmvec::filter::ZoneLayout::add(page_zone(page), bs.attrs,
                                           reinterpret_cast<const uint8_t*>(bs.rec.data()) + bs.attr_offset);
        finish_page(buf);
        done += n;
    }
    ++t.count;
}

/// Encode (or copy) bs.batch row i into bs.rec.
void make_record(BuildState& bs, size_t i, uint32 list) {
    const float* v = bs.batch.data() + i * bs.dims;
    RecordHeader h{};
    h.heap_tid = bs.batch_tids[i];
    memcpy(bs.rec.data(), &h, sizeof(h));
    char* code = bs.rec.data() + sizeof(h);
    if (bs.quantizer == kRabitq) {
        // No exception may cross the heap scan's C frames: caught here,
        // raised once the C++ frame is gone.
        const float* c = bs.trained ? bs.centroids.data() + static_cast<size_t>(list) * bs.dims : nullptr;
        char msg[256] = "";
        try {
            bs.codec->encode(v, c, reinterpret_cast<uint8_t*>(code));
        } catch (const std::exception& e) {
            snprintf(msg, sizeof(msg), "%s", e.what());
        }
        if (msg[0] != '\0')
            ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                            errmsg("cannot encode a vector for ivf index \"%s\": %s",
                                   RelationGetRelationName(bs.index), msg)));
    } else if (bs.kind == kFloat32) {
        memcpy(code, v, sizeof(float) * bs.dims);
    } else {
        floats_to_halfs(v, reinterpret_cast<uint16_t*>(code), bs.dims);
    }
    if (bs.attrs.bytes > 0)
        memcpy(bs.rec.data() + bs.attr_offset, bs.batch_attrs.data() + i * bs.attrs.bytes, bs.attrs.bytes);
}

/// Assign the batched rows to their nearest centroids (FAISS, on the build
/// threads) and append their records.
void flush_batch(BuildState& bs) {
    const size_t n = bs.batch_tids.size();
    if (n == 0) return;
    bs.labels.assign(n, 0);
    if (bs.trained) {
        static nmvec_faiss_assign_fn assign = nullptr;
        if (assign == nullptr)
            assign = reinterpret_cast<nmvec_faiss_assign_fn>(
                load_external_function("$libdir/nmvec_faiss", NMVEC_FAISS_ASSIGN_SYMBOL, true, nullptr));
        nmvec_assign_args args;
        memset(&args, 0, sizeof(args));
        args.centroids = bs.centroids.data();
        args.k = bs.n_lists;
        args.d = bs.dims;
        args.x = bs.batch.data();
        args.n = static_cast<int64_t>(n);
        args.metric = bs.metric == Metric::L2 ? NMVEC_FAISS_METRIC_L2 : NMVEC_FAISS_METRIC_INNER_PRODUCT;
        args.threads = build_threads();
        args.labels = bs.labels.data();
        args.interrupted = interrupted;
        char err[512] = "";
        const int rc = assign(&args, err, sizeof(err));
        if (rc == NMVEC_FAISS_INTERRUPTED) {
            CHECK_FOR_INTERRUPTS();
            elog(ERROR, "ivf assignment was interrupted");
        }
        if (rc == NMVEC_FAISS_OUT_OF_MEMORY)
            ereport(ERROR,
                    (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory while assigning ivf lists")));
        if (rc != NMVEC_FAISS_OK)
            ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("ivf assignment failed: %s", err)));
    }
    for (size_t i = 0; i < n; ++i) {
        const int32_t list = bs.labels[i];
        if (list < 0 || static_cast<uint32>(list) >= bs.n_lists) elog(ERROR, "ivf assignment out of range");
        make_record(bs, i, static_cast<uint32>(list));
        uint32 l = static_cast<uint32>(list);
        BufFileWrite(bs.spool, &l, sizeof l);
        BufFileWrite(bs.spool, bs.rec.data(), bs.rec_bytes);
        ++bs.counts[l];
    }
    bs.index_tuples += static_cast<double>(n);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64>(bs.index_tuples));
    bs.batch.clear();
    bs.batch_tids.clear();
    bs.batch_attrs.clear();
}

void assign_callback(Relation index, ItemPointer tid, Datum* values, bool* isnull, bool /*alive*/,
                     void* state) {
    BuildState& bs = *static_cast<BuildState*>(state);
    bs.heap_tuples += 1;
    if (isnull[bs.vcol] || !load_vector(bs, values[bs.vcol])) return;
    bs.batch.insert(bs.batch.end(), bs.tmp.begin(), bs.tmp.end());
    bs.batch_tids.push_back(*tid);
    if (bs.attrs.bytes > 0) {
        const size_t at = bs.batch_attrs.size();
        bs.batch_attrs.resize(at + bs.attrs.bytes);
        encode_filter_columns(bs.attrs, index, bs.vcol, values, isnull, bs.batch_attrs.data() + at);
    }
    if (bs.batch_tids.size() >= kAssignBatch) flush_batch(bs);
}

/// Phase 4's list pages: each list's run of pages after the fixed pages,
/// list after list, initialised empty; then the spooled records appended
/// to them in the order they were spooled.
void write_lists(BuildState& bs) {
    BlockNumber next = RelationGetNumberOfBlocks(bs.index);
    bs.first_block.assign(bs.n_lists, InvalidBlockNumber);
    for (uint32 l = 0; l < bs.n_lists; ++l) {
        const uint64 pages = list_pages(bs, bs.counts[l]);
        if (pages == 0) continue;
        if (static_cast<uint64>(next) + pages >= MaxBlockNumber)
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                            errmsg("ivf index \"%s\" would exceed the largest relation size",
                                   RelationGetRelationName(bs.index))));
        bs.first_block[l] = next;
        for (uint64 p = 0; p < pages; ++p, ++next) {
            Buffer buf = new_page(bs.index, kListPage, bs.zone_bytes);
            if (BufferGetBlockNumber(buf) != next) elog(ERROR, "ivf build: list pages are not contiguous");
            finish_page(buf);
            if ((next & 1023) == 0) CHECK_FOR_INTERRUPTS();
        }
    }
    if (BufFileSeek(bs.spool, 0, 0, SEEK_SET) != 0)
        ereport(ERROR, (errcode_for_file_access(), errmsg("could not rewind the ivf build's spool file")));
    for (uint64 i = 0; i < static_cast<uint64>(bs.index_tuples); ++i) {
        uint32 l;
        if (BufFileRead(bs.spool, &l, sizeof l) != sizeof l ||
            BufFileRead(bs.spool, bs.rec.data(), bs.rec_bytes) != bs.rec_bytes)
            ereport(ERROR, (errcode_for_file_access(), errmsg("could not read the ivf build's spool file")));
        if (l >= bs.n_lists) elog(ERROR, "ivf build: spooled list %u out of range", l);
        build_append(bs, l);
        if ((i & 4095) == 0) CHECK_FOR_INTERRUPTS();
    }
    BufFileClose(bs.spool);
    bs.spool = nullptr;
}

/// The zone maps (the zones of each list's built pages but the last, copied
/// from those pages, list after list) on pages after the lists, then the
/// list summaries (ivf_page.h), each the union of its list's zones in the
/// map.
void write_summaries(BuildState& bs, BlockNumber* sum_start, uint32* sum_pages, BlockNumber* map_start,
                     uint32* map_pages) {
    const uint32 zb = bs.zone_bytes;
    std::vector<ListSummary> sums(bs.n_lists);
    std::vector<uint8_t> zones(static_cast<size_t>(bs.n_lists) * zb, 0);
    // The zone maps: a byte stream of zones, kSliceBytes a page.
    *map_start = InvalidBlockNumber;
    Buffer out = InvalidBuffer;
    uint64 pos = 0;  // stream byte
    auto put = [&](const uint8_t* bytes, uint32 len) {
        while (len > 0) {
            const uint32 off = static_cast<uint32>(pos % kSliceBytes);
            if (off == 0) {
                if (out != InvalidBuffer) finish_page(out);
                out = new_page(bs.index, kZoneMapPage, 0);
                if (*map_start == InvalidBlockNumber) *map_start = BufferGetBlockNumber(out);
            }
            const uint32 n = std::min(len, kSliceBytes - off);
            memcpy(stream_data(BufferGetPage(out)) + off, bytes, n);
            cover_written(BufferGetPage(out), off + n);
            bytes += n;
            len -= n;
            pos += n;
        }
    };
    std::vector<uint8_t> zone(zb);
    uint64 map_first = 0;
    for (uint32 list = 0; list < bs.n_lists; ++list) {
        const uint64 lp = list_pages(bs, bs.counts[list]);
        ListSummary& sum = sums[list];
        sum.covered = lp > 1 ? static_cast<uint32>(lp - 1) : 0u;
        sum.resume = sum.covered > 0 ? bs.first_block[list] + sum.covered : InvalidBlockNumber;
        sum.map_first = map_first;
        map_first += sum.covered;
        for (uint32 i = 0; i < sum.covered; ++i) {
            Buffer buf = ReadBuffer(bs.index, bs.first_block[list] + i);
            LockBuffer(buf, BUFFER_LOCK_SHARE);
            memcpy(zone.data(), page_zone(BufferGetPage(buf)), zb);
            UnlockReleaseBuffer(buf);
            put(zone.data(), zb);
            nmvec::filter::ZoneLayout::merge(zones.data() + static_cast<size_t>(list) * zb, bs.attrs,
                                             zone.data());
        }
        if ((list & 255) == 0) CHECK_FOR_INTERRUPTS();
    }
    if (out != InvalidBuffer) finish_page(out);
    *map_pages = static_cast<uint32>((pos + kSliceBytes - 1) / kSliceBytes);
    // The summaries, a whole number to a page.
    const uint32 per = summaries_per_page(zb);
    const uint32 sb = summary_bytes(zb);
    *sum_pages = (bs.n_lists + per - 1) / per;
    *sum_start = InvalidBlockNumber;
    for (uint32 p = 0; p < *sum_pages; ++p) {
        Buffer buf = new_page(bs.index, kSummaryPage, 0);
        if (p == 0) *sum_start = BufferGetBlockNumber(buf);
        Page page = BufferGetPage(buf);
        const uint32 n = std::min(per, bs.n_lists - p * per);
        for (uint32 i = 0; i < n; ++i) {
            const uint32 list = p * per + i;
            char* at = stream_data(page) + static_cast<size_t>(i) * sb;
            memcpy(at, &sums[list], sizeof(ListSummary));
            memcpy(at + sizeof(ListSummary), zones.data() + static_cast<size_t>(list) * zb, zb);
        }
        cover_written(page, n * sb);
        finish_page(buf);
    }
}

/// Meta page contents.
void fill_meta(Page page, const BuildState& bs, BlockNumber cstart, uint32 cpages, BlockNumber dstart,
               uint32 dpages, uint64 rows) {
    Meta* m = page_meta(page);
    memset(m, 0, sizeof(Meta));
    m->magic = kMagic;
    m->version = kFormatVersion;
    m->dims = bs.dims;
    m->metric = static_cast<uint8>(bs.metric);
    m->elem_kind = bs.kind;
    m->quantizer = bs.quantizer;
    m->bits = static_cast<uint8>(bs.bits);
    m->seed = kRabitqSeed;
    m->trained = bs.trained ? 1 : 0;
    m->n_lists = bs.n_lists;
    m->attr_columns = static_cast<uint8>(bs.attrs.columns());
    m->attr_bytes = static_cast<uint16>(bs.attrs.bytes);
    m->rec_bytes = bs.dims > 0 ? record_bytes(bs.dims, bs.kind, bs.quantizer, bs.bits, bs.attrs.bytes) : 0;
    m->centroid_start = cstart;
    m->centroid_pages = cpages;
    m->dir_start = dstart;
    m->dir_pages = dpages;
    m->rows_built = rows;
}

/// Meta page, centroid pages and directory pages (entries empty), in that
/// order from block 0; returns the first directory block.
BlockNumber write_fixed_pages(Relation index, const BuildState& bs, ForkNumber fork) {
    auto page_in = [&](PageKind kind) {
        Buffer buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, nullptr);
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        init_page(BufferGetPage(buf), kind);
        return buf;
    };
    Buffer meta = page_in(kMetaPage);
    const uint64 cbytes = bs.trained ? static_cast<uint64>(bs.n_lists) * centroid_bytes(bs.dims) : 0;
    const uint32 cpages = static_cast<uint32>((cbytes + kSliceBytes - 1) / kSliceBytes);
    BlockNumber cstart = InvalidBlockNumber;
    for (uint32 p = 0; p < cpages; ++p) {
        Buffer buf = page_in(kCentroidPage);
        if (p == 0) cstart = BufferGetBlockNumber(buf);
        const uint64 at = static_cast<uint64>(p) * kSliceBytes;
        const uint32 n = static_cast<uint32>(std::min<uint64>(kSliceBytes, cbytes - at));
        memcpy(stream_data(BufferGetPage(buf)), reinterpret_cast<const char*>(bs.centroids.data()) + at, n);
        cover_written(BufferGetPage(buf), n);
        finish_page(buf);
    }
    const uint32 dpages = (bs.n_lists + kListsPerDirPage - 1) / kListsPerDirPage;
    BlockNumber dstart = InvalidBlockNumber;
    for (uint32 p = 0; p < dpages; ++p) {
        Buffer buf = page_in(kDirPage);
        if (p == 0) dstart = BufferGetBlockNumber(buf);
        Page page = BufferGetPage(buf);
        const uint32 n = std::min(kListsPerDirPage, bs.n_lists - p * kListsPerDirPage);
        ListEntry* e = dir_entries(page);
        for (uint32 i = 0; i < n; ++i) {
            e[i].head = e[i].tail = InvalidBlockNumber;
            e[i].tail_slice = e[i].unused = e[i].built = 0;
        }
        cover_written(page, n * sizeof(ListEntry));
        finish_page(buf);
    }
    fill_meta(BufferGetPage(meta), bs, cstart, cpages, dstart, dpages, 0);
    finish_page(meta);
    return dstart;
}

}  // namespace

IndexBuildResult* build(Relation heap, Relation index, IndexInfo* info) {
    if (RelationGetNumberOfBlocks(index) != 0)
        elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
    BuildState* bsp = new_in_context<BuildState>(CurrentMemoryContext, "nmvec ivf build");
    BuildState& bs = *bsp;
    bs.heap = heap;
    bs.index = index;
    bs.vcol = vector_column(index);
    bs.attrs = filter_layout(index);
    bs.zone_bytes = bs.attrs.columns() > 0 ? nmvec::filter::ZoneLayout::bytes(bs.attrs) : 0;
    bs.slice = list_slice(bs.zone_bytes);
    opclass_info(index, &bs.metric, &bs.kind);
    quantizer_option(index, info->ii_IndexAttrNumbers[bs.vcol] != 0, &bs.quantizer, &bs.bits);
    if (bs.quantizer == kRabitq && info->ii_IndexAttrNumbers[bs.vcol] == 0)
        ereport(ERROR,
                (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                 errmsg("ivf quantizer \"rabitq\" needs an index on a table column, not an expression"),
                 errdetail("Scans re-rank the codes' candidates with the column's exact vectors."),
                 errhint("Index the column itself, or use quantizer = 'flat'.")));
    int32 typmod = TupleDescAttr(RelationGetDescr(index), bs.vcol)->atttypmod;
    bs.dims = typmod > 0 ? static_cast<uint32>(typmod) : 0;

    // 1. Sample.
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseSample);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL,
                                 static_cast<int64>(heap->rd_rel->reltuples));
    table_index_build_scan(heap, index, info, true, true, sample_callback, &bs, nullptr);
    const uint64 rows = static_cast<uint64>(bs.index_tuples);
    const uint64 n_sample = std::min(bs.seen, bs.sample_cap);

    // 2. Train.
    if (rows > 0) {
        const int opt = lists_option(index);
        uint64 k = opt > 0 ? static_cast<uint64>(opt) : auto_lists(static_cast<double>(rows));
        if (k > rows) {
            ereport(NOTICE,
                    (errmsg("ivf index \"%s\" has %llu lists for %llu rows; using %llu lists",
                            RelationGetRelationName(index), static_cast<unsigned long long>(k),
                            static_cast<unsigned long long>(rows), static_cast<unsigned long long>(rows)),
                     errhint("Create ivf indexes once the table holds its data, or REINDEX later.")));
            k = rows;
        }
        if (n_sample < std::min(rows, k * kMinSamplePerList)) {
            const double need_mb =
                static_cast<double>(k * kMinSamplePerList * bs.dims * sizeof(float)) / 1048576.0;
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                            errmsg("maintenance_work_mem is too small to train %llu ivf lists",
                                   static_cast<unsigned long long>(k)),
                            errdetail("It holds a sample of %llu vectors of %u dimensions; training needs at "
                                      "least %llu.",
                                      static_cast<unsigned long long>(n_sample), bs.dims,
                                      static_cast<unsigned long long>(k * kMinSamplePerList)),
                            errhint("Raise maintenance_work_mem to at least %.0f MB, or use fewer lists.",
                                    2 * need_mb + 1)));
        }
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseTrain);
        bs.n_lists = static_cast<uint32>(k);
        if (n_sample > k * kSamplePerList) {
            // More sample than training uses (a lists option smaller than the
            // sample was sized for): keep a prefix, the reservoir is unordered.
            bs.sample.resize(k * kSamplePerList * bs.dims);
        }
        train(bs, bs.n_lists, std::min<uint64>(n_sample, k * kSamplePerList));
        bs.trained = true;
    }
    bs.sample.clear();
    bs.sample.shrink_to_fit();

    // 3. Assign: meta, centroid and directory pages first, then the lists.
    write_fixed_pages(index, bs, MAIN_FORKNUM);
    bs.tails.assign(bs.n_lists, ListTail{});
    if (rows > 0) {
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseAssign);
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, static_cast<int64>(rows));
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
        bs.rec_bytes = record_bytes(bs.dims, bs.kind, bs.quantizer, bs.bits, bs.attrs.bytes);
        bs.attr_offset = sizeof(RecordHeader) + code_bytes(bs.dims, bs.kind, bs.quantizer, bs.bits);
        if (bs.quantizer == kRabitq) bs.codec = codec_for(bs.dims, bs.bits, kRabitqSeed);
        bs.rec.assign(bs.rec_bytes, 0);
        bs.index_tuples = 0;
        bs.heap_tuples = 0;
        bs.counts.assign(bs.n_lists, 0);
        bs.spool = BufFileCreateTemp(false);
        table_index_build_scan(heap, index, info, true, true, assign_callback, &bs, nullptr);
        flush_batch(bs);
    }

    // 4. List pages, directory and meta.
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseWrite);
    BlockNumber summary_start = InvalidBlockNumber, map_start = InvalidBlockNumber;
    uint32 summary_pages = 0, map_pages = 0;
    if (bs.spool != nullptr) {
        write_lists(bs);
        if (bs.zone_bytes > 0) write_summaries(bs, &summary_start, &summary_pages, &map_start, &map_pages);
    }
    {
        Buffer mbuf = ReadBuffer(index, kMetaBlock);
        LockBuffer(mbuf, BUFFER_LOCK_EXCLUSIVE);
        Meta* m = page_meta(BufferGetPage(mbuf));
        m->rows_built = static_cast<uint64>(bs.index_tuples);
        m->summary_start = summary_start;
        m->summary_pages = summary_pages;
        m->map_start = map_start;
        m->map_pages = map_pages;
        m->dims = bs.dims;
        m->rec_bytes =
            bs.dims > 0 ? record_bytes(bs.dims, bs.kind, bs.quantizer, bs.bits, bs.attrs.bytes) : 0;
        const BlockNumber dstart = m->dir_start;
        finish_page(mbuf);
        for (uint32 i = 0; i < bs.n_lists; ++i) {
            Buffer buf = ReadBuffer(index, dstart + i / kListsPerDirPage);
            LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
            ListEntry& e = dir_entries(BufferGetPage(buf))[i % kListsPerDirPage];
            const ListTail& t = bs.tails[i];
            e.head = t.head;
            e.tail = t.tail;
            e.tail_slice = t.tail_slice;
            e.unused = 0;
            e.built = t.count;
            finish_page(buf);
        }
    }
    if (RelationNeedsWAL(index))
        log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);

    IndexBuildResult* result = static_cast<IndexBuildResult*>(palloc(sizeof(IndexBuildResult)));
    result->heap_tuples = bs.heap_tuples > 0 ? bs.heap_tuples : static_cast<double>(rows);
    result->index_tuples = bs.index_tuples;
    MemoryContextDelete(GetMemoryChunkContext(bsp));
    return result;
}

void buildempty(Relation index) {
    // The init fork of an unlogged index: meta and one empty list's directory.
    BuildState bs;
    bs.vcol = vector_column(index);
    bs.attrs = filter_layout(index);
    opclass_info(index, &bs.metric, &bs.kind);
    quantizer_option(index, index->rd_index->indkey.values[bs.vcol] != 0, &bs.quantizer, &bs.bits);
    int32 typmod = TupleDescAttr(RelationGetDescr(index), bs.vcol)->atttypmod;
    bs.dims = typmod > 0 ? static_cast<uint32>(typmod) : 0;
    write_fixed_pages(index, bs, INIT_FORKNUM);
    log_newpage_range(index, INIT_FORKNUM, 0, RelationGetNumberOfBlocksInFork(index, INIT_FORKNUM), true);
}

}  // namespace nmvec::pg::ivf

extern "C" IndexBuildResult* nmvec_ivf_build(Relation heap, Relation index, IndexInfo* info) {
    IndexBuildResult* result = nullptr;
    nmvec::pg::guarded([&]() -> Datum {
        result = nmvec::pg::ivf::build(heap, index, info);
        return 0;
    });
    return result;
}

extern "C" void nmvec_ivf_buildempty(Relation index) {
    nmvec::pg::guarded([&]() -> Datum {
        nmvec::pg::ivf::buildempty(index);
        return 0;
    });
}

// hnsw_build.cpp — CREATE INDEX for hnsw.
//
// Phases (reported in pg_stat_progress_create_index):
//  1. loading tuples: one heap scan; vectors are converted to float32 (and
//     normalised under cosine) into one flat buffer, which the graph adopts.
//  2. building graph: the core's Graph::insert on several threads (the
//     count: max_parallel_maintenance_workers + 1, capped by the cores). The
//     count depends on the rows being indexed, not on the heap's size: a
//     heap of TOASTed vectors looks small but is not. Threads never call
//     Postgres; this backend's thread waits for them, reports progress and
//     checks for interrupts (cancel stops the workers, then raises).
//  3. writing pages: meta, upper pages, node pages, vector pages, in that
//     order, through shared buffers, then one log_newpage_range.
//  4. inserting overflow: when the graph would exceed maintenance_work_mem,
//     the rows that did not fit were written to a temporary file during the
//     heap scan; they are inserted one by one into the finished index (a
//     NOTICE says so). The index is complete either way, only slower to build.
#include <thread>

#include "../core/memory.h"
#include "filter_columns.h"
#include "hnsw_am.h"

extern "C" {
#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "optimizer/plancat.h"
#include "storage/buffile.h"
#include "utils/backend_progress.h"
#include "utils/timestamp.h"
}

namespace nmvec::pg::hnsw {
namespace {

constexpr int kPhaseLoad = 1, kPhaseGraph = 2, kPhaseWrite = 3, kPhaseOverflow = 4;

struct BuildState {
    Relation index = nullptr;
    Relation heap = nullptr;
    nmvec::hnsw::Metric metric = nmvec::hnsw::Metric::L2;
    ElemKind kind = kFloat32;
    uint8 quantizer = kQuantNone;
    int dims = 0;
    nmvec::hnsw::Params params;
    size_t mem_limit = 0;
    AlignedFloats vectors;
    std::vector<ItemPointerData> tids;
    // Filter columns: their layout, and each loaded row's values (attrs.bytes each).
    nmvec::filter::RecordLayout attrs;
    int vcol = 0;  // the vector column (filter_columns.h)
    std::vector<uint8_t> attr_data;
    std::vector<uint8_t> attr_tmp;
    std::vector<float> tmp;
    std::vector<float> code_tmp;  // write_code_of_elem's
    std::vector<float> centre;    // rabitq or sweep codes: the loaded vectors' mean (empty: origin)
    BufFile* spill = nullptr;
    uint64 spilled = 0;
    double heap_tuples = 0;
    double index_tuples = 0;
    // Owned here, not on the stack: an error while they are alive unwinds
    // through Postgres (longjmp), and the build context's callback frees them.
    std::unique_ptr<nmvec::hnsw::Graph> graph;
    std::vector<ItemPointerData> upper;
    std::vector<uint32> tuple;
    std::vector<char> elem;
};

/// Float copy of a vector/halfvec datum into bs.tmp; sets/checks dims.
/// False when the vector cannot be indexed (zero under cosine).
bool load_vector(BuildState& bs, Datum value) {
    struct varlena* raw = PG_DETOAST_DATUM(value);
    int dim = reinterpret_cast<const Vector*>(raw)->dim;
    if (bs.dims == 0) {
        bs.dims = dim;
    } else if (dim != bs.dims) {
        ereport(ERROR,
                (errcode(ERRCODE_DATA_EXCEPTION), errmsg("expected %d dimensions, not %d", bs.dims, dim),
                 errdetail("Every vector in an hnsw index must have the same dimensions."),
                 errhint("Give the column a type with dimensions, such as vector(%d).", bs.dims)));
    }
    bs.tmp.resize(static_cast<size_t>(dim));
    if (bs.kind == kFloat32)
        memcpy(bs.tmp.data(), reinterpret_cast<const Vector*>(raw)->x, sizeof(float) * dim);
    else
        halfs_to_floats(reinterpret_cast<const HalfVector*>(raw)->x, bs.tmp.data(), dim);
    if (reinterpret_cast<Pointer>(raw) != DatumGetPointer(value)) pfree(raw);
    return nmvec::hnsw::normalize_for(bs.metric, bs.tmp.data(), static_cast<size_t>(dim));
}

/// Room for the vectors of the whole heap (the planner's row estimate, capped
/// by maintenance_work_mem) in one allocation, on huge pages where the kernel
/// allows: growing the buffer row by row copied it ~log2(n) times and took a
/// page fault every 4 KiB, which cost more than the heap scan itself.
void reserve_vectors(BuildState& bs) {
    BlockNumber pages;
    double tuples = 0, allvisfrac;
    estimate_rel_size(bs.heap, nullptr, &pages, &tuples, &allvisfrac);
    if (bs.heap->rd_rel->reltuples > tuples) tuples = bs.heap->rd_rel->reltuples;
    const size_t row = sizeof(float) * static_cast<size_t>(bs.dims);
    size_t rows = static_cast<size_t>(std::max(tuples, 0.0) * 1.02) + 64;
    rows = std::min(rows, std::max<size_t>(bs.mem_limit / row, 64));
    bs.vectors.reserve(rows * static_cast<size_t>(bs.dims));
    advise_huge_pages(bs.vectors.data(), bs.vectors.capacity() * sizeof(float));
}

void build_callback(Relation /*index*/, ItemPointer tid, Datum* values, bool* isnull, bool /*alive*/,
                    void* state) {
    BuildState& bs = *static_cast<BuildState*>(state);
    bs.heap_tuples += 1;
    if (isnull[bs.vcol]) return;
    if (!load_vector(bs, values[bs.vcol])) return;
    if (bs.attrs.bytes > 0)
        encode_filter_columns(bs.attrs, bs.index, bs.vcol, values, isnull, bs.attr_tmp.data());
    size_t n = bs.tids.size();
    if (bs.spill == nullptr &&
        nmvec::hnsw::Graph::estimate_bytes(n + 1, static_cast<size_t>(bs.dims), bs.params) > bs.mem_limit) {
        ereport(
            NOTICE,
            (errmsg("hnsw graph no longer fits in maintenance_work_mem after %zu rows", n),
             errdetail(
                 "The remaining rows are inserted one by one after the graph is written, which is slower."),
             errhint("Raise maintenance_work_mem to build the whole graph in memory.")));
        bs.spill = BufFileCreateTemp(false);
    }
    if (bs.spill != nullptr) {
        BufFileWrite(bs.spill, tid, sizeof(ItemPointerData));
        BufFileWrite(bs.spill, bs.tmp.data(), sizeof(float) * bs.tmp.size());
        if (bs.attrs.bytes > 0) BufFileWrite(bs.spill, bs.attr_tmp.data(), bs.attrs.bytes);
        bs.spilled++;
    } else {
        bool ok = true;
        try {
            if (bs.vectors.capacity() == 0) reserve_vectors(bs);
            bs.vectors.insert(bs.vectors.end(), bs.tmp.begin(), bs.tmp.end());
            bs.tids.push_back(*tid);
            bs.attr_data.insert(bs.attr_data.end(), bs.attr_tmp.begin(), bs.attr_tmp.end());
        } catch (const std::bad_alloc&) {
            ok = false;
        }
        if (!ok)
            ereport(ERROR,
                    (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory while loading hnsw vectors")));
    }
    bs.index_tuples += 1;
    if (static_cast<int64>(bs.index_tuples) % 1024 == 0)
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64>(bs.index_tuples));
}

/// Convert one float vector to the element kind into out (vec_bytes).
void to_elem(const float* v, int dims, ElemKind kind, char* out) {
    if (kind == kFloat32)
        memcpy(out, v, sizeof(float) * dims);
    else
        floats_to_halfs(v, reinterpret_cast<uint16_t*>(out), static_cast<size_t>(dims));
}

Buffer new_page(Relation index, PageKind kind);
void finish_page(Buffer buf);

/// The code of the record rec whose vector part (after the code) is set:
/// coded from that vector as stored (a halfvec rounded to binary16).
void write_code_of_elem(BuildState& bs, char* rec) {
    if (bs.quantizer == kQuantNone) return;
    std::vector<float>& f = bs.code_tmp;
    f.resize(static_cast<size_t>(bs.dims));
    stored_floats(bs.kind, static_cast<uint32>(bs.dims), rec + code_bytes(bs.dims, bs.quantizer), f.data());
    write_code(bs.quantizer, bs.dims, bs.centre.empty() ? nullptr : bs.centre.data(), f.data(), rec);
}

/// Whether the index gets sweep codes (hnsw_page.h): with filter columns,
/// under a metric RaBitQ estimates, from kSweepMinDims dimensions.
bool has_sweep_codes(const BuildState& bs) {
    return bs.attrs.bytes > 0 && bs.metric != nmvec::hnsw::Metric::L1 &&
           static_cast<uint32>(bs.dims) >= kSweepMinDims;
}

/// quantizer = 'rabitq' or sweep codes: the centre of the codes, the mean of the loaded
/// vectors (as the graph holds them: normalised under cosine). RaBitQ codes
/// the direction from the centre, so a centre inside the data matters: data
/// far from the origin (pixels, all positive) coded from the origin would
/// all point one way.
void compute_centre(BuildState& bs, const nmvec::hnsw::Graph& g, size_t n) {
    bs.centre.clear();
    if ((bs.quantizer != kQuantRabitq && !has_sweep_codes(bs)) || n == 0) return;
    const size_t d = static_cast<size_t>(bs.dims);
    std::vector<double> sum(d, 0.0);
    for (size_t i = 0; i < n; ++i) {
        const float* v = g.vector(static_cast<uint32>(i));
        for (size_t j = 0; j < d; ++j) sum[j] += v[j];
    }
    bs.centre.resize(d);
    // A mean of finite floats is a finite float.
    for (size_t j = 0; j < d; ++j) bs.centre[j] = static_cast<float>(sum[j] / static_cast<double>(n));
}

/// The centre pages (hnsw_page.h), consecutive from the next block; returns
/// the first.
BlockNumber write_centre(Relation index, const BuildState& bs) {
    const uint32 pages = centre_pages(static_cast<uint32>(bs.dims));
    const char* src = reinterpret_cast<const char*>(bs.centre.data());
    uint32 left = static_cast<uint32>(bs.dims) * 4u;
    BlockNumber start = InvalidBlockNumber;
    for (uint32 p = 0; p < pages; ++p) {
        Buffer buf = new_page(index, kCentrePage);
        if (p == 0) start = BufferGetBlockNumber(buf);
        if (BufferGetBlockNumber(buf) != start + p) elog(ERROR, "hnsw centre pages are not contiguous");
        const uint32 n = std::min(left, kSliceBytes);
        memcpy(stream_data(BufferGetPage(buf)), src, n);
        src += n;
        left -= n;
        finish_page(buf);
    }
    return start;
}

/// A new page at the end of the index, exclusively locked, initialised.
Buffer new_page(Relation index, PageKind kind) {
    Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    init_page(BufferGetPage(buf), kind);
    return buf;
}

void finish_page(Buffer buf) {
    MarkBufferDirty(buf);
    UnlockReleaseBuffer(buf);
}

void write_meta(Page page, const BuildState& bs, const nmvec::hnsw::Graph* g, uint32 n,
                BlockNumber upper_last, Extent nodes, Extent vecs, BlockNumber centre = InvalidBlockNumber) {
    Meta* meta = page_meta(page);
    memset(meta, 0, sizeof(Meta));
    meta->magic = kMagic;
    meta->version = kFormatVersion;
    meta->dims = static_cast<uint32>(bs.dims);
    meta->m = static_cast<uint16>(bs.params.m);
    meta->ef_construction = static_cast<uint16>(bs.params.ef_construction);
    meta->metric = static_cast<uint8>(bs.metric);
    meta->elem_kind = bs.kind;
    meta->quantizer = bs.quantizer;
    meta->n_elements = n;
    meta->pending_marker = kPendingMarker;
    meta->first_pending = n;
    meta->entry = (g && n > 0) ? g->entry_point() : kNoEntry;
    meta->max_level = (g && n > 0) ? g->max_level() : -1;
    meta->upper_last = upper_last;
    if (bs.attrs.bytes > 0) {
        meta->attr_marker = kAttrMarker;
        meta->attr_bytes = static_cast<uint16>(bs.attrs.bytes);
        meta->attr_columns = static_cast<uint16>(bs.attrs.columns());
        meta->zone_marker = kZoneMarker;
        meta->zone_bytes = nmvec::filter::ZoneLayout::bytes(bs.attrs);
    }
    if (has_sweep_codes(bs)) {
        meta->sweep_marker = kSweepMarker;
        meta->sweep_bytes = sweep_code_bytes(static_cast<uint32>(bs.dims));
    }
    if (centre != InvalidBlockNumber) {
        meta->centre_marker = kCentreMarker;
        meta->centre_start = centre;
    }
    if (nodes.pages > 0) {
        meta->n_node_extents = 1;
        meta->node_extents[0] = nodes;
    }
    if (vecs.pages > 0) {
        meta->n_vector_extents = 1;
        meta->vector_extents[0] = vecs;
    }
}

/// Phase 3: all pages of the graph.
void write_graph(Relation index, BuildState& bs, const nmvec::hnsw::Graph& g) {
    const uint32 n = static_cast<uint32>(bs.tids.size());
    const int m = bs.params.m;
    Buffer meta_buf = new_page(index, kMetaPage);  // block 0; filled last
    const BlockNumber centre = bs.centre.empty() ? InvalidBlockNumber : write_centre(index, bs);

    // Upper pages, so node records can point at their tuples.
    std::vector<ItemPointerData>& upper = bs.upper;
    upper.resize(n);
    std::vector<uint32>& tuple = bs.tuple;
    Buffer ubuf = InvalidBuffer;
    BlockNumber upper_last = InvalidBlockNumber;
    for (uint32 id = 0; id < n; ++id) {
        ItemPointerSetInvalid(&upper[id]);
        int level = g.level(id);
        if (level == 0) continue;
        tuple.assign(upper_bytes(level, m) / sizeof(uint32), 0);
        for (int l = 1; l <= level; ++l) {
            uint32 cnt;
            const uint32* ids = g.links(id, l, &cnt);
            uint32* list = tuple.data() + static_cast<size_t>(l - 1) * (1 + m);
            list[0] = cnt;
            memcpy(list + 1, ids, cnt * sizeof(uint32));
        }
        Size len = tuple.size() * sizeof(uint32);
        if (!BufferIsValid(ubuf) || PageGetFreeSpace(BufferGetPage(ubuf)) < MAXALIGN(len)) {
            if (BufferIsValid(ubuf)) finish_page(ubuf);
            ubuf = new_page(index, kUpperPage);
            upper_last = BufferGetBlockNumber(ubuf);
        }
        OffsetNumber off = PageAddItem(BufferGetPage(ubuf), reinterpret_cast<Item>(tuple.data()), len,
                                       InvalidOffsetNumber, false, false);
        if (off == InvalidOffsetNumber) elog(ERROR, "could not add hnsw upper tuple");
        ItemPointerSet(&upper[id], upper_last, off);
    }
    if (BufferIsValid(ubuf)) finish_page(ubuf);

    // Node pages.
    // Each page's data: its zone, its elements' filter-column values, their
    // sweep codes, their node records (hnsw_page.h).
    const uint32 ab = bs.attrs.bytes, zb = ab > 0 ? nmvec::filter::ZoneLayout::bytes(bs.attrs) : 0,
                 sb = has_sweep_codes(bs) ? sweep_code_bytes(static_cast<uint32>(bs.dims)) : 0,
                 nb = node_bytes(m);
    const NodePageGeometry geo = node_page_geometry(m, ab, zb, sb);
    const uint32 npp = geo.nodes_per_page, records_at = geo.records_at;
    const float* code_centre = bs.centre.empty() ? nullptr : bs.centre.data();
    std::vector<char> stored(vec_bytes(bs.dims, bs.kind));
    Extent nodes{InvalidBlockNumber, 0};
    Buffer buf = InvalidBuffer;
    for (uint32 id = 0; id < n; ++id) {
        if (id % npp == 0) {
            if (BufferIsValid(buf)) finish_page(buf);
            buf = new_page(index, kNodePage);
            if (nodes.pages++ == 0) nodes.start = BufferGetBlockNumber(buf);
        }
        char* data = stream_data(BufferGetPage(buf));
        char* rec = data + records_at + (id % npp) * nb;
        memset(rec, 0, nb);
        NodeHeader* h = reinterpret_cast<NodeHeader*>(rec);
        h->heap_tid = bs.tids[id];
        h->level = static_cast<uint8>(g.level(id));
        h->flags = 0;
        h->upper_tid = upper[id];
        uint32 cnt;
        const uint32* ids = g.links(id, 0, &cnt);
        h->count0 = static_cast<uint16>(cnt);
        memcpy(rec + sizeof(NodeHeader), ids, cnt * sizeof(uint32));
        if (ab > 0) {
            const uint8_t* attrs = bs.attr_data.data() + static_cast<size_t>(id) * ab;
            memcpy(data + geo.attrs_at + (id % npp) * ab, attrs, ab);
            nmvec::filter::ZoneLayout::add(reinterpret_cast<uint8_t*>(data), bs.attrs, attrs);
        }
        // The code of the vector as the vector pages will hold it (a
        // halfvec rounded to binary16).
        if (sb > 0) {
            to_elem(g.vector(id), bs.dims, bs.kind, stored.data());
            bs.code_tmp.resize(static_cast<size_t>(bs.dims));
            stored_floats(bs.kind, static_cast<uint32>(bs.dims), stored.data(), bs.code_tmp.data());
            write_sweep_code(static_cast<uint32>(bs.dims), code_centre, bs.code_tmp.data(),
                             reinterpret_cast<uint8_t*>(data + geo.codes_at + (id % npp) * sb));
        }
        if (id % 4096 == 0) CHECK_FOR_INTERRUPTS();
    }
    if (BufferIsValid(buf)) finish_page(buf);

    // Vector pages: one byte stream cut into slices, each vector in the
    // pieces its span gives (hnsw_page.h), pages created in stream order.
    // With a quantizer each record is the vector's code, then the vector.
    const uint32 cb = code_bytes(bs.dims, bs.quantizer);
    const uint32 vb = record_bytes(bs.dims, bs.kind, bs.quantizer);
    Extent vecs{InvalidBlockNumber, 0};
    std::vector<char>& elem = bs.elem;
    elem.assign(vb, 0);
    buf = InvalidBuffer;
    for (uint32 id = 0; id < n; ++id) {
        to_elem(g.vector(id), bs.dims, bs.kind, elem.data() + cb);
        write_code_of_elem(bs, elem.data());
        const StreamSpan span(id, vb, kSliceBytes);
        for (uint32 p = 0; p < span.pieces(); ++p) {
            const SpanPiece pc = span.piece(p);
            while (vecs.pages <= pc.slice) {  // the piece's page is the next one of the stream
                if (BufferIsValid(buf)) finish_page(buf);
                buf = new_page(index, kVectorPage);
                if (vecs.pages++ == 0) vecs.start = BufferGetBlockNumber(buf);
            }
            memcpy(stream_data(BufferGetPage(buf)) + pc.offset, elem.data() + pc.at, pc.bytes);
        }
        if (id % 4096 == 0) CHECK_FOR_INTERRUPTS();  // all state lives in the build context
    }
    if (BufferIsValid(buf)) finish_page(buf);

    write_meta(BufferGetPage(meta_buf), bs, &g, n, upper_last, nodes, vecs, centre);
    finish_page(meta_buf);
}

/// Phase 4: rows that did not fit in memory, inserted on disk.
void insert_overflow(Relation index, BuildState& bs) {
    if (bs.spill == nullptr) return;
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseOverflow);
    if (BufFileSeek(bs.spill, 0, 0, SEEK_SET) != 0) elog(ERROR, "could not rewind hnsw overflow file");
    InsertState* st = insert_state(index, nullptr);
    read_layout(index, &st->layout);
    st->access = std::make_unique<PageAccess>(index, &st->layout);
    std::vector<float>& v = bs.tmp;
    v.resize(static_cast<size_t>(bs.dims));
    std::vector<char>& elem = bs.elem;
    elem.assign(st->layout.vec_bytes, 0);
    const uint32 ab = bs.attrs.bytes;
    for (uint64 i = 0; i < bs.spilled; ++i) {
        ItemPointerData tid;
        if (BufFileRead(bs.spill, &tid, sizeof(tid)) != sizeof(tid) ||
            BufFileRead(bs.spill, v.data(), sizeof(float) * v.size()) != sizeof(float) * v.size() ||
            (ab > 0 && BufFileRead(bs.spill, bs.attr_tmp.data(), ab) != ab))
            elog(ERROR, "could not read hnsw overflow file");
        to_elem(v.data(), bs.dims, bs.kind, elem.data() + st->layout.code_bytes);
        write_code_of_elem(bs, elem.data());
        insert_element(index, &tid, elem.data(), ab > 0 ? bs.attr_tmp.data() : nullptr, *st);
        if (i % 256 == 0)
            pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
                                         static_cast<int64>(bs.tids.size() + i));
    }
    BufFileClose(bs.spill);
    bs.spill = nullptr;
}

int build_threads(size_t n) {
    if (n < 2000) return 1;  // not worth a thread
    int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return std::max(1, std::min(max_parallel_maintenance_workers + 1, cores));
}

}  // namespace

IndexBuildResult* build(Relation heap, Relation index, IndexInfo* info) {
    if (RelationGetNumberOfBlocks(index) != 0)
        elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
    BuildState* bsp = new_in_context<BuildState>(CurrentMemoryContext, "nmvec hnsw build");
    BuildState& bs = *bsp;
    bs.index = index;
    bs.heap = heap;
    opclass_info(index, &bs.metric, &bs.kind);
    bs.quantizer = quantizer_for_build(index, bs.metric);
    bs.attrs = filter_layout(index);
    bs.attr_tmp.assign(bs.attrs.bytes, 0);
    bs.vcol = vector_column(index);
    const Options* opts = reinterpret_cast<const Options*>(index->rd_options);
    if (opts) {
        bs.params.m = opts->m;
        bs.params.ef_construction = opts->ef_construction;
    }
    bs.params.seed = kLevelSeed;
    bs.params.check();  // throws: m and ef_construction must agree
    int32 typmod = TupleDescAttr(RelationGetDescr(index), vector_column(index))->atttypmod;
    bs.dims = typmod > 0 ? typmod : 0;
    bs.mem_limit = static_cast<size_t>(maintenance_work_mem) * 1024;

    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseLoad);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL,
                                 static_cast<int64>(heap->rd_rel->reltuples));
    TimestampTz t_start = GetCurrentTimestamp();
    table_index_build_scan(heap, index, info, true, true, build_callback, &bs, nullptr);
    TimestampTz t_loaded = GetCurrentTimestamp(), t_graph = t_loaded, t_written = t_loaded;
    size_t relinked = 0;  // elements the build had to relink to keep them reachable

    const size_t n = bs.tids.size();
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseGraph);
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, static_cast<int64>(bs.index_tuples));
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
    if (n == 0) {
        Buffer meta_buf = new_page(index, kMetaPage);
        write_meta(BufferGetPage(meta_buf), bs, nullptr, 0, InvalidBlockNumber, {InvalidBlockNumber, 0},
                   {InvalidBlockNumber, 0});
        finish_page(meta_buf);
    } else {
        bs.graph = std::make_unique<nmvec::hnsw::Graph>(bs.metric, static_cast<size_t>(bs.dims), bs.params, n,
                                                        &bs.vectors);
        nmvec::hnsw::Graph& graph = *bs.graph;
        {
            nmvec::hnsw::ParallelBuild pb(graph, static_cast<uint32>(n), build_threads(n));
            while (!pb.wait_for(50)) {
                pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, pb.done());
                // A cancel raises here as a C++ exception; unwinding joins the
                // workers before the error reaches Postgres.
                pg_call([] { CHECK_FOR_INTERRUPTS(); });
            }
            relinked = pb.relinked();
        }
        pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64>(n));
        pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseWrite);
        t_graph = GetCurrentTimestamp();
        compute_centre(bs, graph, n);
        write_graph(index, bs, graph);
        bs.graph.reset();  // free the graph before the overflow inserts
        t_written = GetCurrentTimestamp();
    }
    if (RelationNeedsWAL(index))
        log_newpage_range(index, MAIN_FORKNUM, 0, RelationGetNumberOfBlocks(index), true);
    TimestampTz t_logged = GetCurrentTimestamp();
    auto ms = [](TimestampTz a, TimestampTz b) { return static_cast<double>(b - a) / 1000.0; };
    elog(DEBUG1,
         "hnsw build of \"%s\": %zu vectors; load %.0f ms, graph %.0f ms on %d thread(s) "
         "(%zu relinked), pages %.0f ms, WAL %.0f ms",
         RelationGetRelationName(index), n, ms(t_start, t_loaded), ms(t_loaded, t_graph),
         n ? build_threads(n) : 0, relinked, ms(t_graph, t_written), ms(t_written, t_logged));
    insert_overflow(index, bs);

    IndexBuildResult* result = static_cast<IndexBuildResult*>(palloc(sizeof(IndexBuildResult)));
    result->heap_tuples = bs.heap_tuples;
    result->index_tuples = bs.index_tuples;
    MemoryContextDelete(GetMemoryChunkContext(bsp));
    return result;
}

void buildempty(Relation index) {
    // The init fork of an unlogged index: just a meta page.
    BuildState bs;
    opclass_info(index, &bs.metric, &bs.kind);
    bs.quantizer = quantizer_for_build(index, bs.metric);
    bs.attrs = filter_layout(index);
    const Options* opts = reinterpret_cast<const Options*>(index->rd_options);
    if (opts) {
        bs.params.m = opts->m;
        bs.params.ef_construction = opts->ef_construction;
    }
    int32 typmod = TupleDescAttr(RelationGetDescr(index), vector_column(index))->atttypmod;
    bs.dims = typmod > 0 ? typmod : 0;
    Buffer buf = ReadBufferExtended(index, INIT_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    GenericXLogState* st = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(st, buf, GENERIC_XLOG_FULL_IMAGE);
    init_page(page, kMetaPage);
    write_meta(page, bs, nullptr, 0, InvalidBlockNumber, {InvalidBlockNumber, 0}, {InvalidBlockNumber, 0});
    GenericXLogFinish(st);
    UnlockReleaseBuffer(buf);
}

}  // namespace nmvec::pg::hnsw

extern "C" IndexBuildResult* nmvec_hnsw_build(Relation heap, Relation index, IndexInfo* info) {
    IndexBuildResult* result = nullptr;
    nmvec::pg::guarded([&]() -> Datum {
        result = nmvec::pg::hnsw::build(heap, index, info);
        return 0;
    });
    return result;
}

extern "C" void nmvec_hnsw_buildempty(Relation index) {
    nmvec::pg::guarded([&]() -> Datum {
        nmvec::pg::hnsw::buildempty(index);
        return 0;
    });
}

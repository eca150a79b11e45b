// hnsw_storage.cpp — see hnsw_storage.h.
#include "filter_columns.h"
#include "hnsw_storage.h"

#include <cmath>

#include "../core/half.h"
#include "../core/vector_text.h"

extern "C" {
#include "pgstat.h"
#include "storage/buf_internals.h"
#include "storage/lmgr.h"
#include "utils/inval.h"
}

namespace nmvec::pg::hnsw {

void init_page(Page page, PageKind kind) {
    PageInit(page, BLCKSZ, sizeof(PageOpaque));
    PageOpaque* op = page_opaque(page);
    op->kind = kind;
    op->unused1 = op->unused2 = 0;
    op->page_id = kPageId;
    if (kind != kUpperPage) {
        // Stream and meta pages hold raw data after the header: no hole.
        reinterpret_cast<PageHeader>(page)->pd_lower = reinterpret_cast<PageHeader>(page)->pd_upper;
    }
}

void init_empty_stream_page(Page page, PageKind kind) {
    PageInit(page, BLCKSZ, sizeof(PageOpaque));
    PageOpaque* op = page_opaque(page);
    op->kind = kind;
    op->unused1 = op->unused2 = 0;
    op->page_id = kPageId;
    reinterpret_cast<PageHeader>(page)->pd_lower = kStreamOffset;
}

bool page_is(Page page, PageKind kind) {
    // pd_special first: the special space is only where it says when it
    // says the right thing.
    if (PageIsNew(page) ||
        reinterpret_cast<PageHeader>(page)->pd_special != BLCKSZ - MAXALIGN(sizeof(PageOpaque)))
        return false;
    const PageOpaque* op = page_opaque(page);
    return op->page_id == kPageId && op->kind == kind;
}

void report_bad_page(Relation index, BlockNumber blk, PageKind kind) {
    static const char* const kNames[] = {"", "meta", "node", "vector", "upper", "centre"};
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                    errmsg("hnsw index \"%s\" has a corrupted page at block %u",
                           RelationGetRelationName(index), blk),
                    errdetail("Its header or special space is not that of an hnsw %s page.", kNames[kind]),
                    errhint("REINDEX the index.")));
    pg_unreachable();
}

void report_corrupt(Relation index, const char* fmt, ...) {
    char detail[256];
    va_list args;
    va_start(args, fmt);
    vsnprintf(detail, sizeof(detail), fmt, args);
    va_end(args);
    ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                    errmsg("hnsw index \"%s\" is corrupted", RelationGetRelationName(index)),
                    errdetail_internal("%s", detail), errhint("REINDEX the index.")));
    pg_unreachable();
}

namespace {

/// Check one extent directory; returns the pages it covers.
uint64 check_extents(Relation index, const char* what, const Extent* ex, uint32 n, BlockNumber nblocks) {
    if (n > static_cast<uint32>(kMaxExtents))
        report_corrupt(index, "The meta page lists %u %s extents, more than the %d it holds.", n, what,
                       kMaxExtents);
    uint64 pages = 0;
    for (uint32 i = 0; i < n; ++i) {
        if (ex[i].start == kMetaBlock || ex[i].pages == 0 ||
            static_cast<uint64>(ex[i].start) + ex[i].pages > nblocks)
            report_corrupt(index,
                           "The meta page's %s extent %u (start block %u, length %u) is not within the "
                           "index's blocks 1 to %u.",
                           what, i, ex[i].start, ex[i].pages, nblocks - 1);
        pages += ex[i].pages;
    }
    return pages;
}

}  // namespace

void check_meta(Relation index, const Meta& meta, BlockNumber nblocks) {
    if (meta.magic != kMagic)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" is not an nmvec hnsw index", RelationGetRelationName(index)),
                        errdetail("Its meta page has the magic number 0x%08x instead of 0x%08x.", meta.magic,
                                  kMagic),
                        errhint("REINDEX the index.")));
    if (meta.version != kFormatVersion)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("hnsw index \"%s\" has format version %u, this build reads %u",
                               RelationGetRelationName(index), meta.version, kFormatVersion),
                        errhint("REINDEX the index.")));
    using nmvec::hnsw::Metric;
    if (meta.metric < static_cast<uint8>(Metric::L2) || meta.metric > static_cast<uint8>(Metric::L1))
        report_corrupt(index, "The meta page names metric %u, which does not exist.", meta.metric);
    if (meta.elem_kind != kFloat32 && meta.elem_kind != kFloat16)
        report_corrupt(index, "The meta page names element kind %u, which does not exist.", meta.elem_kind);
    if (meta.quantizer > kQuantMax ||
        (meta.quantizer != kQuantNone && meta.metric == static_cast<uint8>(Metric::L1)))
        report_corrupt(index, "The meta page names quantizer %u, which does not exist for metric %u.",
                       meta.quantizer, meta.metric);
    if (meta.m < nmvec::hnsw::kMinM || meta.m > nmvec::hnsw::kMaxM)
        report_corrupt(index, "The meta page has m = %u, outside %d to %d.", meta.m, nmvec::hnsw::kMinM,
                       nmvec::hnsw::kMaxM);
    if (meta.ef_construction < nmvec::hnsw::kMinEfConstruction ||
        meta.ef_construction > nmvec::hnsw::kMaxEfConstruction)
        report_corrupt(index, "The meta page has ef_construction = %u, outside %d to %d.",
                       meta.ef_construction, nmvec::hnsw::kMinEfConstruction,
                       nmvec::hnsw::kMaxEfConstruction);
    if (meta.dims > static_cast<uint32>(nmvec::kMaxDims) || (meta.dims == 0 && meta.n_elements > 0))
        report_corrupt(index, "The meta page has %u dimensions for %u elements.", meta.dims, meta.n_elements);
    const uint64 node_pages = check_extents(index, "node", meta.node_extents, meta.n_node_extents, nblocks);
    const uint64 vector_pages =
        check_extents(index, "vector", meta.vector_extents, meta.n_vector_extents, nblocks);
    const uint32 vb =
        record_bytes(static_cast<int>(meta.dims), static_cast<ElemKind>(meta.elem_kind), meta.quantizer);
    if (meta.attr_marker == kAttrMarker && meta.zone_marker != kZoneMarker)
        ereport(
            ERROR,
            (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
             errmsg("hnsw index \"%s\" keeps its filter columns in a layout this build does not read",
                    RelationGetRelationName(index)),
             errdetail("It was built by a development version of nmvec."), errhint("REINDEX the index.")));
    if (meta.attr_marker == kAttrMarker &&
        (meta.attr_bytes > kMaxAttrBytes || meta.attr_columns == 0 || meta.attr_columns > 32 ||
         meta.attr_bytes < (meta.attr_columns + 7u) / 8u + meta.attr_columns))
        report_corrupt(index, "The meta page has %u filter columns in %u bytes a node.", meta.attr_columns,
                       meta.attr_bytes);
    // A zone: 8 bytes and 48 per filter column (ZoneLayout::bytes), and
    // room for a node record after it.
    if (meta_zone_bytes(meta) != 0 &&
        (meta_zone_bytes(meta) !=
             nmvec::filter::ZoneLayout::kHeader + nmvec::filter::ZoneLayout::kPerColumn * meta.attr_columns ||
         meta_nodes_per_page(meta) == 0))
        report_corrupt(index, "The meta page has %u bytes of zone for %u filter columns.", meta.zone_bytes,
                       meta.attr_columns);
    // Sweep codes: the 1-bit code of the index's dimensions, under a metric
    // RaBitQ estimates (not L1), with room for a node record after them.
    if (meta_sweep_bytes(meta) != 0 &&
        (meta.dims < kSweepMinDims || meta.sweep_bytes != sweep_code_bytes(meta.dims) ||
         meta.metric == static_cast<uint8>(nmvec::hnsw::Metric::L1) || meta_nodes_per_page(meta) == 0))
        report_corrupt(index, "The meta page has %u bytes of sweep code for %u dimensions.", meta.sweep_bytes,
                       meta.dims);
    if (meta.n_elements > node_pages * meta_nodes_per_page(meta) ||
        stream_slices(meta.n_elements, vb, kSliceBytes) > vector_pages)
        report_corrupt(index,
                       "The meta page counts %u elements, more than its node and vector extents (%llu and "
                       "%llu pages) hold.",
                       meta.n_elements, static_cast<unsigned long long>(node_pages),
                       static_cast<unsigned long long>(vector_pages));
    if (meta.pending_marker == kPendingMarker && meta.first_pending > meta.n_elements)
        report_corrupt(index, "The meta page's pending list starts at element %u, beyond its %u elements.",
                       meta.first_pending, meta.n_elements);
    if (meta.n_deleted > meta.n_elements)
        report_corrupt(index, "The meta page counts %u deleted of %u elements.", meta.n_deleted,
                       meta.n_elements);
    if (meta_has_centre(meta) && (meta.dims == 0 || meta.centre_start == kMetaBlock ||
                                  static_cast<uint64>(meta.centre_start) + centre_pages(meta.dims) > nblocks))
        report_corrupt(index,
                       "The meta page's centre (start block %u, %u pages) is not within the index's blocks 1 "
                       "to %u.",
                       meta.centre_start, centre_pages(meta.dims), nblocks - 1);
    const bool no_entry = meta.entry == kNoEntry && meta.max_level == -1;
    if (!no_entry &&
        (meta.entry >= meta.n_elements || meta.max_level < 0 || meta.max_level > nmvec::hnsw::kMaxLevel))
        report_corrupt(index, "The meta page's entry point is element %u on level %d, of %u elements.",
                       meta.entry, meta.max_level, meta.n_elements);
    if (meta.upper_last != InvalidBlockNumber &&
        (meta.upper_last == kMetaBlock || meta.upper_last >= nblocks))
        report_corrupt(index,
                       "The meta page's last upper page is block %u, outside the index's blocks 1 to %u.",
                       meta.upper_last, nblocks - 1);
}

void read_meta(Relation index, Meta* out, BlockNumber* nblocks_out) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    const bool page_ok = page_is(page, kMetaPage);
    if (page_ok) memcpy(out, page_meta(page), sizeof(Meta));
    UnlockReleaseBuffer(buf);
    if (!page_ok) report_bad_page(index, kMetaBlock, kMetaPage);
    // Indexes only grow, and the pages an extent names are added before the
    // meta page lists it: the size read now covers every block in the copy.
    const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
    check_meta(index, *out, nblocks);
    if (nblocks_out) *nblocks_out = nblocks;
}

void Layout::load(const Meta* meta) {
    dims = meta->dims;
    m = meta->m;
    ef_construction = meta->ef_construction;
    metric = static_cast<nmvec::hnsw::Metric>(meta->metric);
    elem_kind = static_cast<ElemKind>(meta->elem_kind);
    attr_bytes = meta_attr_bytes(*meta);
    attr_columns = meta_attr_columns(*meta);
    zone_bytes = meta_zone_bytes(*meta);
    sweep_bytes = meta_sweep_bytes(*meta);
    node_bytes = hnsw::node_bytes(m);
    const NodePageGeometry g = meta_node_geometry(*meta);
    nodes_per_page = g.nodes_per_page;
    attrs_at = g.attrs_at;
    codes_at = g.codes_at;
    records_at = g.records_at;
    quantizer = meta->quantizer;
    code_bytes = hnsw::code_bytes(static_cast<int>(dims), quantizer);
    code_used = hnsw::code_used_bytes(static_cast<int>(dims), quantizer);
    centre_start = meta_has_centre(*meta) ? meta->centre_start : InvalidBlockNumber;
    elem_bytes = hnsw::vec_bytes(static_cast<int>(dims), elem_kind);
    vec_bytes = code_bytes + elem_bytes;
    n_elements = meta->n_elements;
    first_pending = meta_first_pending(*meta);
    entry = meta->entry;
    max_level = meta->max_level;
    node_extents.assign(meta->node_extents, meta->node_extents + meta->n_node_extents);
    vector_extents.assign(meta->vector_extents, meta->vector_extents + meta->n_vector_extents);
    node_pages = vector_pages = 0;
    for (const Extent& e : node_extents) node_pages += e.pages;
    for (const Extent& e : vector_extents) vector_pages += e.pages;
}

BlockNumber Layout::block_of(const std::vector<Extent>& ex, uint32 index) {
    for (const Extent& e : ex) {
        if (index < e.pages) return e.start + index;
        index -= e.pages;
    }
    return InvalidBlockNumber;
}

void read_layout(Relation index, Layout* layout) {
    // The meta page is copied (6 KiB) so that it is checked, and the layout
    // filled, with no buffer lock held.
    Meta meta;
    read_meta(index, &meta, &layout->nblocks);
    layout->load(&meta);
    // Node pages hold the filter columns' values: their size comes from the
    // meta page, and must be what the index's columns take (a wrong one would
    // read every value and record at the wrong place). Written with the index, never
    // changed: checked once per Layout, for every reader.
    if (!layout->attrs_checked) {
        layout->attrs = nmvec::pg::filter_layout(index);
        const uint32 want = layout->attrs.bytes;
        if (layout->attr_bytes != want)
            report_corrupt(index,
                           "The meta page has %u bytes of filter columns a node, the index's columns %u.",
                           layout->attr_bytes, want);
        layout->attrs_checked = true;
    }
    // The centre is written with the index and never changes: read once.
    if ((layout->quantizer == kQuantRabitq || layout->sweep_bytes > 0) && !layout->centre_read) {
        read_centre(index, *layout, &layout->centre);
        layout->centre_read = true;
    }
}

void read_centre(Relation index, const Layout& layout, std::vector<float>* out) {
    out->clear();
    if (layout.centre_start == InvalidBlockNumber) return;  // built empty: the origin
    const uint32 pages = centre_pages(layout.dims);
    out->resize(layout.dims);
    char* dst = reinterpret_cast<char*>(out->data());
    uint32 left = layout.dims * 4u;
    for (uint32 p = 0; p < pages; ++p) {
        const BlockNumber blk = layout.centre_start + p;
        Buffer buf = ReadBuffer(index, blk);
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buf);
        const bool ok = page_is(page, kCentrePage);
        const uint32 n = std::min(left, kSliceBytes);
        if (ok) memcpy(dst, stream_data(page), n);
        UnlockReleaseBuffer(buf);
        if (!ok) report_bad_page(index, blk, kCentrePage);
        dst += n;
        left -= n;
    }
    for (float f : *out)
        if (!std::isfinite(f)) report_corrupt(index, "The index's centre has a non-finite element.");
}

namespace {

/// Building a rotation costs O(dims): each codec is kept for the backend's
/// last dimension (scans and inserts of one index reuse it).
const nmvec::RabitqCodec& kept_codec(std::unique_ptr<nmvec::RabitqCodec>* last, uint32 dims, uint32 bits,
                                     uint64 seed) {
    if (!*last || (*last)->dim() != dims) *last = std::make_unique<nmvec::RabitqCodec>(dims, bits, seed);
    return **last;
}

}  // namespace

const nmvec::RabitqCodec& rabitq_codec(uint32 dims) {
    static std::unique_ptr<nmvec::RabitqCodec> last;
    return kept_codec(&last, dims, kRabitqBits, kRabitqSeed);
}

const nmvec::RabitqCodec& sweep_codec(uint32 dims) {
    static std::unique_ptr<nmvec::RabitqCodec> last;
    return kept_codec(&last, dims, 1, kSweepSeed);
}

void write_sweep_code(uint32 dims, const float* centre, const float* v, uint8_t* out) {
    memset(out, 0, sweep_code_bytes(dims));
    sweep_codec(dims).encode(v, centre, out);
}

void stored_floats(ElemKind kind, uint32 dims, const void* vec, float* out) {
    if (kind == kFloat32)
        memcpy(out, vec, dims * sizeof(float));
    else
        halfs_to_floats(static_cast<const uint16_t*>(vec), out, dims);
}

double sql_distance(nmvec::hnsw::Metric metric, float d) {
    switch (metric) {
        case nmvec::hnsw::Metric::L2:
            return std::sqrt(static_cast<double>(std::max(d, 0.0f)));
        default:
            return d;  // -dot, 1 - dot and L1 are what the operators return
    }
}

// ---- reading ---------------------------------------------------------------------------------

/// What a backend keeps of one index's node pages from one scan to the
/// next, and what it was read from: copies are good for the relation file
/// and page geometry they came from (REINDEX and TRUNCATE give the index a
/// new file). Only what can no longer change is kept: the zones of pages
/// whose every record is written, their filter-column values and their
/// sweep codes (page_copies.h), and the filter-column records of a scan's
/// selectivity sample (records are written once).
struct IndexCopies {
    RelFileNode node;
    uint32 nodes_per_page;
    uint32 attr_bytes;
    nmvec::filter::PageCopies zones;    // a full page's zone
    nmvec::filter::PageCopies records;  // a full page's filter-column values (nodes_per_page records)
    nmvec::filter::PageCopies codes;    // a full page's sweep codes (nodes_per_page codes)
    /// The sample's records (sample_count of attr_bytes), taken when the
    /// index had sample_n elements; sample_count 0: none kept.
    uint32 sample_n = 0, sample_count = 0;
    std::vector<uint8_t> sample_recs;
};

namespace {

/// read_block's hints, one chunk in rd_amcache (which PostgreSQL pfrees on
/// a relcache flush): for n blocks, where each was last found (hint); once
/// swap_block_next is first called (ivf list pages), also the successor
/// each had when read (n block numbers after the hints; 0, the meta block,
/// for none known).
struct BlockHints {
    uint32 n;
    bool with_next;
    Buffer hint[FLEXIBLE_ARRAY_MEMBER];
};
static_assert(sizeof(Buffer) == sizeof(BlockNumber), "the successors follow the hints in one chunk");
inline BlockNumber* next_blocks(BlockHints* h) { return reinterpret_cast<BlockNumber*>(h->hint + h->n); }

/// A new chunk for n blocks (with successors or not), holding what `old`
/// held (freed); set as the index's rd_amcache.
BlockHints* new_hints(Relation index, BlockHints* old, uint32 n, bool with_next) {
    auto* h = static_cast<BlockHints*>(MemoryContextAllocZero(
        index->rd_indexcxt, offsetof(BlockHints, hint) + (with_next ? 2 : 1) * sizeof(Buffer) * n));
    h->n = n;
    h->with_next = with_next;
    if (old != nullptr) {
        memcpy(h->hint, old->hint, sizeof(Buffer) * old->n);
        if (old->with_next && with_next)
            memcpy(next_blocks(h), next_blocks(old), sizeof(BlockNumber) * old->n);
        pfree(old);
    }
    index->rd_amcache = h;
    return h;
}

/// How much of each vector (or code) PageAccess::prefetch hints.
constexpr uint32 kPrefetchBytes = 512;
/// How many node pages ahead a pass over every element hints the filter
/// values of (PageAccess::filter_page).
constexpr uint32 kFilterReadAhead = 2;
/// How many zones a scan reads before it stops when most of them passed
/// (PageAccess::zone_may_pass).
constexpr uint32 kZoneTrial = 32;

/// The backend's copies by index OID, and the bytes their zones take in
/// all. A relcache invalidation of an index drops its copies
/// (forget_copies); the generation then moves on, and PageAccess looks its
/// copies up again.
std::unordered_map<Oid, IndexCopies>* all_copies = nullptr;
size_t zone_bytes_kept = 0;  // zones and values, within kZoneCacheBytes
size_t code_bytes_kept = 0;  // sweep codes, within kCodeCacheBytes
uint64_t copies_generation = 1;

void forget_copies(Datum, Oid relid) {
    if (all_copies == nullptr) return;
    if (relid == InvalidOid) {
        all_copies->clear();
        zone_bytes_kept = 0;
        code_bytes_kept = 0;
    } else {
        auto it = all_copies->find(relid);
        if (it == all_copies->end()) return;
        zone_bytes_kept -= it->second.zones.bytes() + it->second.records.bytes();
        code_bytes_kept -= it->second.codes.bytes();
        all_copies->erase(it);
    }
    ++copies_generation;
}

/// The copies of `index` (a new, empty set when it has none for its file
/// and geometry), or nullptr when memory ran out.
IndexCopies* index_copies(Relation index, const Layout& layout) {
    try {
        if (all_copies == nullptr) {
            all_copies = new std::unordered_map<Oid, IndexCopies>();
            CacheRegisterRelcacheCallback(forget_copies, static_cast<Datum>(0));
        }
        auto it = all_copies->find(RelationGetRelid(index));
        if (it != all_copies->end()) {
            const IndexCopies& c = it->second;
            if (RelFileNodeEquals(c.node, index->rd_node) && c.nodes_per_page == layout.nodes_per_page &&
                c.zones.page_bytes() == layout.zone_bytes && c.attr_bytes == layout.attr_bytes &&
                c.codes.page_bytes() == layout.nodes_per_page * layout.sweep_bytes)
                return &it->second;
            forget_copies(static_cast<Datum>(0), RelationGetRelid(index));
        }
        IndexCopies fresh{index->rd_node,
                          layout.nodes_per_page,
                          layout.attr_bytes,
                          nmvec::filter::PageCopies(layout.zone_bytes),
                          nmvec::filter::PageCopies(layout.nodes_per_page * layout.attr_bytes),
                          nmvec::filter::PageCopies(layout.nodes_per_page * layout.sweep_bytes)};
        return &all_copies->emplace(RelationGetRelid(index), std::move(fresh)).first->second;
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}

}  // namespace

Buffer read_buffer_hinted(Relation rel, BlockNumber blk, Buffer hint) {
    if (BufferIsValid(hint) && ReadRecentBuffer(rel->rd_node, MAIN_FORKNUM, blk, hint)) {
        pgstat_count_buffer_read(rel);
        pgstat_count_buffer_hit(rel);
        return hint;
    }
    return ReadBuffer(rel, blk);
}

Buffer read_block(Relation index, BlockNumber blk) {
    auto* h = static_cast<BlockHints*>(index->rd_amcache);
    if (h == nullptr || blk >= h->n) {
        uint32 n = std::max<uint32>(blk + 1, RelationGetNumberOfBlocks(index));
        n += n / 4 + 64;
        h = new_hints(index, h, n, h != nullptr && h->with_next);
    }
    return h->hint[blk] = read_buffer_hinted(index, blk, h->hint[blk]);
}

Buffer block_hint(Relation index, BlockNumber blk) {
    const auto* h = static_cast<const BlockHints*>(index->rd_amcache);
    return h != nullptr && blk < h->n ? h->hint[blk] : InvalidBuffer;
}

BlockNumber swap_block_next(Relation index, BlockNumber blk, BlockNumber next) {
    auto* h = static_cast<BlockHints*>(index->rd_amcache);
    if (h == nullptr || blk >= h->n) return InvalidBlockNumber;
    if (!h->with_next) h = new_hints(index, h, h->n, true);
    const BlockNumber old = next_blocks(h)[blk];
    next_blocks(h)[blk] = next == InvalidBlockNumber ? 0 : next;
    return old == 0 ? InvalidBlockNumber : old;
}

BlockNumber block_next(Relation index, BlockNumber blk) {
    auto* h = static_cast<BlockHints*>(index->rd_amcache);
    const BlockNumber next = h != nullptr && h->with_next && blk < h->n ? next_blocks(h)[blk] : 0;
    return next == 0 ? InvalidBlockNumber : next;
}

PageAccess::PageAccess(Relation index, Layout* layout)
    : index_(index),
      layout_(layout),
      dist_{layout->metric, layout->elem_kind, layout->dims, &active_kernels()},
      nbuf_(2 * nmvec::hnsw::kMaxM + 1),
      scratch_a_(layout->vec_bytes + 8),
      scratch_b_(layout->vec_bytes + 8) {
    ItemPointerSetInvalid(&last_tid_);
}

Buffer PageAccess::pin(BlockNumber blk, bool* held) {
    if (hold_) {
        if (blk < held_.size() && held_[blk] != InvalidBuffer) {
            *held = true;
            return held_[blk];
        }
        if (n_held_ < max_held_) {
            Buffer b = read_block(index_, blk);
            if (blk >= held_.size()) held_.resize(std::max<size_t>(blk + 1, held_.size() * 2), InvalidBuffer);
            held_[blk] = b;
            held_list_.push_back(blk);
            ++n_held_;
            *held = true;
            return b;
        }
    }
    *held = false;
    return read_block(index_, blk);
}

void PageAccess::hold_pins(bool on, int share) {
    release_filter_page();
    if (!on) {
        for (BlockNumber blk : held_list_) {
            ReleaseBuffer(held_[blk]);
            held_[blk] = InvalidBuffer;
        }
        held_list_.clear();
        n_held_ = 0;
    }
    hold_ = on;
    // Pinned buffers cannot be evicted: leave most of shared buffers to others.
    max_held_ = static_cast<uint32>(std::max(0, NBuffers / std::max(share, 1)));
}

void PageAccess::check_id(uint32 id, uint32 from) {
    // Elements added by a concurrent insert after we read the meta page.
    read_layout(index_, layout_);
    if (id < layout_->n_elements) return;
    if (from == kNoEntry)
        report_corrupt(index_, "Element %u was asked for, beyond the index's %u elements.", id,
                       layout_->n_elements);
    report_corrupt(index_, "Element %u has a neighbour %u, beyond the index's %u elements.", from, id,
                   layout_->n_elements);
}

BlockNumber PageAccess::node_block_checked(uint32 id, uint32* off) {
    if (unlikely(id >= layout_->n_elements)) check_id(id, kNoEntry);
    return layout_->node_block(id, off);
}

BlockNumber PageAccess::vector_block_checked(uint32 id, uint32* off) {
    if (unlikely(id >= layout_->n_elements)) check_id(id, kNoEntry);
    return layout_->vector_block(id, off);  // within the streams for every checked meta page
}

// Vector bytes never change once written (hnsw_storage.h), and an element is
// only reached through a neighbour list written after its vector, so vector
// pages are read with a pin and no content lock.
const void* PageAccess::vector_ptr(uint32 id, Buffer* buf, AlignedBytes& scratch) {
    uint32 off;
    BlockNumber blk = vector_block_checked(id, &off);
    uint32 len = layout_->vec_bytes;
    bool held;
    *buf = pin(blk, &held);
    const char* data = stream_data(BufferGetPage(*buf));
    if (off + len <= kSliceBytes) {
        if (held) *buf = InvalidBuffer;  // stays pinned by the hold
        return data + off;               // caller releases a valid *buf
    }
    // Spans pages: copy the pieces.
    const StreamSpan span = layout_->vector_span(id);
    memcpy(scratch.data(), data + off, span.piece(0).bytes);
    unpin(*buf, held);
    for (uint32 p = 1; p < span.pieces(); ++p) {
        const SpanPiece pc = span.piece(p);
        *buf = pin(layout_->vector_slice_block(pc.slice), &held);
        memcpy(scratch.data() + pc.at, stream_data(BufferGetPage(*buf)), pc.bytes);
        unpin(*buf, held);
    }
    *buf = InvalidBuffer;
    return scratch.data();
}

void PageAccess::prefetch(const uint32* ids, size_t n) const {
    auto* h = static_cast<const BlockHints*>(index_->rd_amcache);
    if (h == nullptr) return;
    // The part distance() reads (the code, or the vector after it), but only
    // its first kPrefetchBytes: the hardware prefetcher follows a distance
    // that streams through the rest. Hinting every line of every neighbour
    // (49 lines of a 784-d float32 vector, ~30 neighbours) filled the
    // core's queue of outstanding misses, and the prefetch instructions
    // then stalled the walk instead of overlapping its distances: a third
    // of a fashion-mnist query's samples sat on them (perf), and with 512
    // bytes the same queries ran 5-10 % faster (ef_search 20 and 40, and
    // the filtered sweeps; 64, 256 and 512 bytes within noise of each other).
    const uint32 len = std::min(codes_on_ ? layout_->code_bytes : layout_->elem_bytes, kPrefetchBytes);
    for (size_t i = 0; i < n; ++i) {
        const StreamSpan span = codes_on_ ? layout_->code_span(ids[i]) : layout_->elem_span(ids[i]);
        // The pieces that hold the part's first len bytes: one, or two
        // when it straddles a page boundary.
        for (uint32 s = 0; s < span.pieces(); ++s) {
            const SpanPiece pc = span.piece(s);
            if (pc.at >= len) break;
            const BlockNumber blk = layout_->vector_slice_block(pc.slice);
            if (blk == InvalidBlockNumber || blk >= h->n) break;
            const Buffer b = h->hint[blk];
            if (b <= 0) break;
            // Addresses only: no pin is taken and nothing is read here.
            // With write intent: pinning changes the descriptor's state word.
            __builtin_prefetch(GetBufferDescriptor(b - 1), 1);
            const char* p = static_cast<const char*>(BufferGetBlock(b)) + kStreamOffset + pc.offset;
            const uint32 bytes = std::min(pc.bytes, len - pc.at);
            for (uint32 k = 0; k < bytes; k += 64) __builtin_prefetch(p + k);
        }
    }
}

const void* PageAccess::cached(uint32 id) {
    auto it = cache_index_.find(id);
    if (it != cache_index_.end()) return it->second;
    // Blocks of about 1 MiB (256 vectors up to 4 KiB, fewer of larger ones:
    // 16 of 16,000 float32 dims), allocated once per insert state.
    const size_t per_block = std::clamp<size_t>((size_t{1} << 20) / layout_->vec_bytes, 16, 256);
    size_t block = arena_used_ / per_block, slot = arena_used_ % per_block;
    // Blocks start on a cache line, like vectors in pages (hnsw_page.h).
    if (block == arena_.size()) arena_.emplace_back(per_block * layout_->vec_bytes);
    char* dst = arena_[block].data() + slot * layout_->vec_bytes;
    ++arena_used_;
    read_vector(id, dst);
    cache_index_.emplace(id, dst);
    return dst;
}

void PageAccess::use_codes(const float* q) {
    if (layout_->quantizer == kQuantRabitq) {
        rq_codec_ = &rabitq_codec(layout_->dims);
        rq_codec_->prepare(q, layout_->centre_or_null(), rq_, nmvec::kRabitqScanEpsilon);
    } else {
        q8_.prepare(q, layout_->dims);
        k8_ = &nmvec::sq8::active_kernels();
    }
    codes_on_ = layout_->quantizer != kQuantNone;
}

namespace {

/// The confidence of the bound bounded re-ranking waits for (rabitq.h's
/// epsilon0): one standard deviation of the estimate's error, taken at the
/// largest of the re-ranked rows'. Measured on fashion-mnist (784-d, 200
/// queries): LIMIT 10 at ef_search 10 / 20 re-ranked 28.7 / 27.4 rows a
/// query at 2.5 and 20.6 / 20.4 at 1.0, recall@10 the same (0.9285 /
/// 0.9785); an anti-correlated filter (10 % of rows) 0.9625 at both, 0.9495
/// without bounded mode.
constexpr float kRerankEpsilon = 1.0f;

}  // namespace

float PageAccess::code_error(uint32 id) {
    if (!codes_on_ || layout_->quantizer != kQuantRabitq) return 0.0f;
    float err;
    code_distance(id, &err);
    return err * (kRerankEpsilon / nmvec::kRabitqScanEpsilon);
}

float PageAccess::code_distance(uint32 id, float* error) {
    if (unlikely(id >= layout_->n_elements)) check_id(id, kNoEntry);
    const StreamSpan span = layout_->code_span(id);
    const uint32 used = layout_->code_used;
    bool held;
    Buffer buf = pin(layout_->vector_slice_block(span.first_slice()), &held);
    const uint8_t* code = reinterpret_cast<const uint8_t*>(stream_data(BufferGetPage(buf)) + span.offset());
    if (span.offset() + used > kSliceBytes) {  // the code straddles pages: copy its pieces
        for (uint32 p = 0; p < span.pieces(); ++p) {
            const SpanPiece pc = span.piece(p);
            if (p > 0) {
                unpin(buf, held);
                buf = pin(layout_->vector_slice_block(pc.slice), &held);
            }
            memcpy(scratch_a_.data() + pc.at, stream_data(BufferGetPage(buf)) + pc.offset, pc.bytes);
        }
        code = reinterpret_cast<const uint8_t*>(scratch_a_.data());
    }
    using nmvec::hnsw::Metric;
    double d;
    if (layout_->quantizer == kQuantRabitq) {
        const bool l2 = layout_->metric == Metric::L2;
        nmvec::RabitqEstimate e;
        rq_codec_->estimate_batch(
            rq_, code, 1, used, l2 ? nmvec::RabitqMetric::L2Squared : nmvec::RabitqMetric::InnerProduct, &e);
        unpin(buf, held);
        if (error) *error = e.upper - e.value;  // the bound is symmetric; L2's lower one is clamped at 0
        if (l2) return e.value;
        return layout_->metric == Metric::InnerProduct ? -e.value : 1.0f - e.value;
    }
    switch (layout_->metric) {
        case Metric::L2:
            d = q8_.l2sq(code, *k8_);
            break;
        case Metric::InnerProduct:
            d = -q8_.dot(code, *k8_);
            break;
        default:  // Cosine (L1 has no codes: check_meta)
            d = 1.0 - q8_.dot(code, *k8_);
            break;
    }
    unpin(buf, held);
    return static_cast<float>(d);
}

float PageAccess::exact_distance(uint32 id) {
    const uint32 cb = layout_->code_bytes;
    if (cache_on_) {
        // The search computes one distance per visited element: read it in
        // place. Only the elements neighbour selection compares pairwise
        // (pair_distance) are copied into the cache.
        auto it = cache_index_.find(id);
        if (it != cache_index_.end()) return dist_(it->second + cb, query_);
    }
    if (unlikely(id >= layout_->n_elements)) check_id(id, kNoEntry);
    const StreamSpan span = layout_->elem_span(id);
    const uint32 off = span.offset();
    const BlockNumber blk = layout_->vector_slice_block(span.first_slice());
    const uint32 len = layout_->elem_bytes;
    bool held;
    Buffer buf = pin(blk, &held);
    const char* data = stream_data(BufferGetPage(buf)) + off;
    if (off + len <= kSliceBytes) {
        float d = dist_(data, query_);
        unpin(buf, held);
        return d;
    }
    // Spans pages: the distances of the pieces, added (no copy). Pieces
    // hold whole elements (StreamSpan: sizes and offsets are multiples of 4).
    const size_t esize = dist_.elem_size(), dims = layout_->dims;
    const char* q = static_cast<const char*>(query_);
    size_t done = std::min<size_t>((kSliceBytes - off) / esize, dims);
    float sum = dist_.partial(data, q, done);
    unpin(buf, held);
    for (uint32 p = 1; p < span.pieces() && done < dims; ++p) {  // a halfvec's last piece may be padding only
        const SpanPiece pc = span.piece(p);
        const size_t n = std::min<size_t>(pc.bytes / esize, dims - done);
        buf = pin(layout_->vector_slice_block(pc.slice), &held);
        sum += dist_.partial(stream_data(BufferGetPage(buf)), q + done * esize, n);
        unpin(buf, held);
        done += n;
    }
    return dist_.finish(sum);
}

float PageAccess::pair_distance(uint32 a, uint32 b) {
    const uint32 cb = layout_->code_bytes;
    if (cache_on_) {
        const char* va = static_cast<const char*>(cached(a));
        return dist_(va + cb, static_cast<const char*>(cached(b)) + cb);
    }
    read_vector(a, scratch_b_.data());
    Buffer buf;
    const char* v = static_cast<const char*>(vector_ptr(b, &buf, scratch_a_));
    float d = dist_(v + cb, scratch_b_.data() + cb);
    if (BufferIsValid(buf)) ReleaseBuffer(buf);
    return d;
}

void PageAccess::read_vector(uint32 id, void* out) {
    Buffer buf;
    const void* v = vector_ptr(id, &buf, scratch_a_);
    if (v != out) memcpy(out, v, layout_->vec_bytes);
    if (BufferIsValid(buf)) ReleaseBuffer(buf);
}

namespace {

/// What can be wrong with an upper tuple named by a node record.
enum class UpperFault { kNone, kPage, kItem, kLength };

/// Element's list on `level` (>= 1) in its upper tuple `tid` on `page`
/// (locked), or nullptr when the page is no upper page, the tuple is not
/// there or is too short for that level (*fault says which).
uint32* upper_list(Page page, const ItemPointerData& tid, int level, int m, UpperFault* fault) {
    const OffsetNumber off = ItemPointerGetOffsetNumber(&tid);
    *fault = UpperFault::kNone;
    if (!page_is(page, kUpperPage))
        *fault = UpperFault::kPage;
    else if (off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page) ||
             !ItemIdIsNormal(PageGetItemId(page, off)))
        *fault = UpperFault::kItem;
    else if (ItemIdGetLength(PageGetItemId(page, off)) < upper_bytes(level, m))
        *fault = UpperFault::kLength;
    if (*fault != UpperFault::kNone) return nullptr;
    return reinterpret_cast<uint32*>(PageGetItem(page, PageGetItemId(page, off))) +
           static_cast<size_t>(level - 1) * (1 + m);
}

/// Raise XX002 unless a node's level is possible.
void check_level(Relation index, uint32 id, uint8 level) {
    if (unlikely(level > nmvec::hnsw::kMaxLevel))
        report_corrupt(index, "Element %u has level %u, above the highest, %d.", id, level,
                       nmvec::hnsw::kMaxLevel);
}

/// Raise XX002 unless the upper tuple's block is in the relation (re-read
/// its size when the block is past what `known` covers).
void check_upper_block(Relation index, BlockNumber* known, uint32 id, const ItemPointerData& tid) {
    const BlockNumber blk = ItemPointerGetBlockNumber(&tid);
    if (likely(blk != kMetaBlock && blk < *known)) return;
    *known = RelationGetNumberOfBlocks(index);
    if (blk == kMetaBlock || blk >= *known)
        report_corrupt(index, "Element %u has its upper tuple at block %u, outside the index's %u blocks.",
                       id, blk, *known);
}

/// Raise the error for upper_list's fault (after the caller let go of the page).
[[noreturn]] void report_upper(Relation index, uint32 id, const ItemPointerData& tid, int level,
                               UpperFault fault) {
    if (fault == UpperFault::kPage) report_bad_page(index, ItemPointerGetBlockNumber(&tid), kUpperPage);
    report_corrupt(index, "Element %u's upper tuple (%u,%u) is %s for level %d.", id,
                   ItemPointerGetBlockNumber(&tid), ItemPointerGetOffsetNumber(&tid),
                   fault == UpperFault::kItem ? "not on its page" : "too short", level);
}

}  // namespace

uint32 PageAccess::read_neighbors(uint32 id, int level) {
    CHECK_FOR_INTERRUPTS();  // callers keep their state in memory-context-owned objects
    uint32 off;
    BlockNumber blk = node_block_checked(id, &off);
    bool held;
    Buffer buf = pin(blk, &held);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    const char* rec = stream_data(BufferGetPage(buf)) + off;
    const NodeHeader* h = reinterpret_cast<const NodeHeader*>(rec);
    uint32 n = 0;
    if (level == 0) {
        n = std::min<uint32>(h->count0, 2u * layout_->m);
        memcpy(nbuf_.data(), rec + sizeof(NodeHeader), n * sizeof(uint32));
        unlock_unpin(buf, held);
        check_neighbors(id, n);
        return n;
    }
    const uint8 node_level = h->level;
    if (level > node_level || !ItemPointerIsValid(&h->upper_tid)) {
        unlock_unpin(buf, held);
        check_level(index_, id, node_level);
        return 0;
    }
    ItemPointerData upper = h->upper_tid;
    unlock_unpin(buf, held);
    check_level(index_, id, node_level);
    check_upper_block(index_, &layout_->nblocks, id, upper);
    buf = pin(ItemPointerGetBlockNumber(&upper), &held);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    UpperFault fault;
    const uint32* list = upper_list(BufferGetPage(buf), upper, level, layout_->m, &fault);
    if (list == nullptr) {
        unlock_unpin(buf, held);
        report_upper(index_, id, upper, level, fault);
    }
    n = std::min<uint32>(list[0], static_cast<uint32>(layout_->m));
    memcpy(nbuf_.data(), list + 1, n * sizeof(uint32));
    unlock_unpin(buf, held);
    check_neighbors(id, n);
    return n;
}

bool PageAccess::live(uint32 id) {
    uint32 off;
    BlockNumber blk = node_block_checked(id, &off);
    bool held;
    Buffer buf = pin(blk, &held);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    const NodeHeader* h = reinterpret_cast<const NodeHeader*>(stream_data(BufferGetPage(buf)) + off);
    bool ok = ItemPointerIsValid(&h->heap_tid) && !(h->flags & kNodeDeleted);
    if (exclude_pending_ && ok) {
        ok =
            !(h->flags & kNodePending) && !(id >= excluded_base_ && id - excluded_base_ < excluded_->size() &&
                                            (*excluded_)[id - excluded_base_]);
    }
    last_tid_ = h->heap_tid;
    unlock_unpin(buf, held);
    return ok;
}

const char* PageAccess::filter_page(uint32 id) {
    // Ids of the pinned page compare without a division (an exact pass
    // asks for every id of a page in turn).
    const uint32 npp = layout_->nodes_per_page;
    if (id - attr_first_ >= npp || attr_buf_ == InvalidBuffer) {
        const bool next = attr_buf_ != InvalidBuffer && id - attr_first_ < 2 * npp;
        if (ahead_buf_ != InvalidBuffer && id - ahead_first_ < npp) {
            // The page passing_run pinned ahead.
            if (attr_buf_ != InvalidBuffer && !attr_held_) ReleaseBuffer(attr_buf_);
            attr_buf_ = ahead_buf_;
            attr_held_ = ahead_held_;
            attr_first_ = ahead_first_;
            ahead_buf_ = InvalidBuffer;
        } else {
            release_filter_page();
            uint32 off;
            attr_buf_ = pin(node_block_checked(id, &off), &attr_held_);
            attr_first_ = id - id % npp;
        }
        // A pass over every element moves to the next page: read the filter
        // values kFilterReadAhead pages ahead into the CPU cache, so that
        // they are there when the pass gets to them.
        if (next) prefetch_filter_values(attr_first_ + kFilterReadAhead * npp);
    }
    return stream_data(BufferGetPage(attr_buf_));
}

namespace {
/// The data of block blk where this backend last found it in shared
/// buffers, its descriptor hinted with write intent (pinning changes its
/// state word); nullptr when unknown. Addresses only, as prefetch(): no
/// pin, nothing read.
const char* hinted_data(Relation index, BlockNumber blk) {
    const Buffer b = blk == InvalidBlockNumber ? InvalidBuffer : block_hint(index, blk);
    if (b <= 0) return nullptr;
    __builtin_prefetch(GetBufferDescriptor(b - 1), 1);
    return static_cast<const char*>(BufferGetBlock(b)) + kStreamOffset;
}
}  // namespace

void PageAccess::prefetch_filter_values(uint32 id) const {
    if (id >= layout_->n_elements) return;
    uint32 off;
    const char* data = hinted_data(index_, layout_->node_block(id, &off));
    if (data == nullptr) return;
    for (uint32 at = 0; at < layout_->codes_at; at += 64) __builtin_prefetch(data + at);
}

void PageAccess::prefetch_filter(uint32 id) const {
    if (filter_ == nullptr || id >= layout_->n_elements) return;
    if (copies_ != nullptr && copies_gen_ == copies_generation) {
        const uint32 npp = layout_->nodes_per_page;
        if (const uint8_t* recs = copies_->records.find(id / npp)) {
            __builtin_prefetch(recs + static_cast<size_t>(id % npp) * layout_->attr_bytes);
            return;
        }
    }
    uint32 off;
    const char* data = hinted_data(index_, layout_->node_block(id, &off));
    if (data != nullptr) __builtin_prefetch(data + layout_->attr_offset(id));
}

void PageAccess::prefetch_links(uint32 id) const {
    if (id >= layout_->n_elements) return;
    uint32 off;
    const char* data = hinted_data(index_, layout_->node_block(id, &off));
    if (data == nullptr) return;
    for (uint32 at = 0; at < layout_->node_bytes; at += 64) __builtin_prefetch(data + off + at);
}

void PageAccess::release_filter_page() {
    if (attr_buf_ != InvalidBuffer && !attr_held_) ReleaseBuffer(attr_buf_);
    attr_buf_ = InvalidBuffer;
    if (ahead_buf_ != InvalidBuffer && !ahead_held_) ReleaseBuffer(ahead_buf_);
    ahead_buf_ = InvalidBuffer;
    ahead_mask_id_ = UINT32_MAX;
}

bool PageAccess::zone_may_pass(uint32 id) {
    if (filter_ == nullptr || layout_->zone_bytes == 0 || zones_off_) return true;
    const uint32 npp = layout_->nodes_per_page;
    if (zone_first_ != UINT32_MAX && id - zone_first_ < npp) return zone_ok_;
    const uint32 page = id / npp;
    if (const uint8_t* kept = known_zone(page)) {
        // A final zone copied before: the page is judged without a pin.
        zone_ok_ = filter_->zone_may_pass(kept);
        if (zone_ok_) prefetch_filter_values(id);
    } else {
        const char* data = filter_page(id);
        // Inserts widen the zone under an exclusive lock.
        LockBuffer(attr_buf_, BUFFER_LOCK_SHARE);
        zone_ok_ = filter_->zone_may_pass(reinterpret_cast<const uint8_t*>(data));
        if (worth_keeping(page)) keep_page_if_final(page, data);
        LockBuffer(attr_buf_, BUFFER_LOCK_UNLOCK);
        // A pass is about to check the page's filter values (13 cache lines
        // for 49 elements of 17 bytes): fetched together, not one miss after
        // another (not the sweep codes after them: it reads those of the few
        // elements that pass).
        if (zone_ok_)
            for (uint32 at = layout_->attrs_at; at < layout_->codes_at; at += 64)
                __builtin_prefetch(data + at);
    }
    zone_first_ = page * npp;
    // Judging a zone on its page costs a pin and a lock, about what reading
    // the page's filter values costs; a kept copy costs much less, but the
    // filter's test, for every page, is still wasted where nearly every
    // page passes. When the first kZoneTrial zones of a scan rule out fewer
    // than half of their pages (a label on most pages: 10 labels, 27
    // elements a page, 6 % of pages lack one), the rest are not judged; a
    // time window or a tenant rules out most pages.
    ++zones_read_;
    zones_passed_ += zone_ok_ ? 1 : 0;
    zones_off_ = zones_read_ == kZoneTrial && 2 * zones_passed_ > zones_read_;
    return zone_ok_;
}

IndexCopies* PageAccess::copies() {
    if (copies_gen_ != copies_generation) {
        copies_ = index_copies(index_, *layout_);
        copies_gen_ = copies_generation;
    }
    return copies_;
}

const uint8_t* PageAccess::known_zone(uint32 page) {
    IndexCopies* c = copies();
    return c != nullptr && layout_->zone_bytes > 0 ? c->zones.find(page) : nullptr;
}

const uint8_t* PageAccess::known_records(uint32 page) {
    IndexCopies* c = copies();
    return c != nullptr ? c->records.find(page) : nullptr;
}

const uint8_t* PageAccess::known_codes(uint32 page) {
    IndexCopies* c = copies();
    return c != nullptr && layout_->sweep_bytes > 0 ? c->codes.find(page) : nullptr;
}

namespace {
/// Bytes of node-page copies each kind may take: the values take five
/// times a zone's bytes and stop at three quarters of the budget, so that
/// the zones of larger indexes still fit beside them.
constexpr size_t kZoneBudget = kZoneCacheBytes, kRecordBudget = kZoneCacheBytes / 4 * 3;
size_t room_in(size_t budget) { return budget > zone_bytes_kept ? budget - zone_bytes_kept : 0; }
size_t code_room() { return kCodeCacheBytes > code_bytes_kept ? kCodeCacheBytes - code_bytes_kept : 0; }
}  // namespace

uint32 PageAccess::copy_pages() const {
    // Arrays for the pages there are now and a quarter more, at once.
    const uint32 pages = layout_->n_elements / layout_->nodes_per_page;
    return pages + pages / 4 + 16;
}

bool PageAccess::worth_keeping(uint32 page, bool codes) {
    if (copies_left_ == 0 || static_cast<uint64>(page + 1) * layout_->nodes_per_page > layout_->n_elements)
        return false;
    IndexCopies* c = copies();
    if (c == nullptr) return false;
    const bool zone = layout_->zone_bytes > 0 && c->zones.find(page) == nullptr &&
                      c->zones.fits(page, room_in(kZoneBudget), copy_pages());
    const bool records =
        c->records.find(page) == nullptr && c->records.fits(page, room_in(kRecordBudget), copy_pages());
    const bool code = codes && layout_->sweep_bytes > 0 && c->codes.find(page) == nullptr &&
                      c->codes.fits(page, code_room(), copy_pages());
    return zone || records || code;
}

void PageAccess::offer_page(uint32 page, const char* data, bool codes, uint32* tried) {
    if (page == *tried) return;
    *tried = page;
    if (!worth_keeping(page, codes)) return;
    LockBuffer(attr_buf_, BUFFER_LOCK_SHARE);
    keep_page_if_final(page, data, codes);
    LockBuffer(attr_buf_, BUFFER_LOCK_UNLOCK);
}

void PageAccess::keep_page_if_final(uint32 page, const char* data, bool codes) {
    --copies_left_;
    // Every record written (an allocated id whose insert failed or is still
    // under way has none): no record can be added to the page any more, so
    // its zone, which only an added record widens, is final, and so are
    // the records' filter values, written once. (The heap TIDs lie a node
    // record apart: fetched together first.)
    const uint32 npp = layout_->nodes_per_page;
    for (uint32 i = 0; i < npp; ++i) __builtin_prefetch(data + layout_->records_at + i * layout_->node_bytes);
    for (uint32 i = 0; i < npp; ++i) {
        const auto* h =
            reinterpret_cast<const NodeHeader*>(data + layout_->records_at + i * layout_->node_bytes);
        if (!ItemPointerIsValid(&h->heap_tid)) return;
    }
    IndexCopies* c = copies();
    auto keep = [&](nmvec::filter::PageCopies& copies, const char* from, size_t room, size_t* kept) {
        if (copies.find(page) != nullptr) return;
        const size_t before = copies.bytes();
        try {
            if (copies.put(page, reinterpret_cast<const uint8_t*>(from), room, copy_pages()))
                *kept += copies.bytes() - before;
        } catch (const std::bad_alloc&) {
            // Not kept: the page is read next time.
        }
    };
    if (layout_->zone_bytes > 0) keep(c->zones, data, room_in(kZoneBudget), &zone_bytes_kept);
    keep(c->records, data + layout_->attrs_at, room_in(kRecordBudget), &zone_bytes_kept);
    // The sweep codes are written with the record, in the same WAL record.
    if (codes && layout_->sweep_bytes > 0)
        keep(c->codes, data + layout_->codes_at, code_room(), &code_bytes_kept);
}

double PageAccess::estimate_selectivity(uint32 most, double* pages) {
    *pages = 1.0;
    const uint32 n = layout_->n_elements;
    if (n == 0 || filter_ == nullptr) return 1.0;
    const uint32 samples = std::min(n, most), ab = layout_->attr_bytes;
    // The records of the sample taken when the index had sample_n elements,
    // while fewer than one sample's spacing were added since: what they
    // tell differs from a new sample's by about one sample.
    IndexCopies* c = copies();
    uint32 taken_at = n;
    const uint8_t* recs;
    if (c != nullptr && c->sample_count == samples && n >= c->sample_n &&
        n - c->sample_n <= c->sample_n / samples) {
        taken_at = c->sample_n;
        recs = c->sample_recs.data();
    } else {
        sample_.resize(static_cast<size_t>(samples) * ab);
        bool written = true;
        for (uint32 i = 0; i < samples; ++i) {
            const uint32 id = nmvec::hnsw::spread_id(i, samples, n);
            const char* data = filter_page(id);
            // Under the lock: the record and its heap TID are written
            // together, and a copy is kept only of written ones.
            LockBuffer(attr_buf_, BUFFER_LOCK_SHARE);
            memcpy(sample_.data() + static_cast<size_t>(i) * ab, data + layout_->attr_offset(id), ab);
            uint32 off;
            (void)layout_->node_block(id, &off);
            written =
                written && ItemPointerIsValid(&reinterpret_cast<const NodeHeader*>(data + off)->heap_tid);
            LockBuffer(attr_buf_, BUFFER_LOCK_UNLOCK);
        }
        recs = sample_.data();
        c = copies();  // (no invalidation is taken in between; looked up again all the same)
        if (written && c != nullptr) {
            try {
                c->sample_recs = sample_;
                c->sample_n = n;
                c->sample_count = samples;
            } catch (const std::bad_alloc&) {
                c->sample_count = 0;  // not kept
            }
        }
    }
    uint32 hits = 0, candidates = 0;
    for (uint32 i = 0; i < samples; ++i) {
        hits += filter_->passes(recs + static_cast<size_t>(i) * ab) ? 1 : 0;
        candidates += zone_may_pass(nmvec::hnsw::spread_id(i, samples, taken_at)) ? 1 : 0;
    }
    *pages = std::max(0.5, static_cast<double>(candidates)) / samples;
    return std::max(0.5, static_cast<double>(hits)) / samples;
}

bool PageAccess::known_ruled_out(uint32 id) {
    if (filter_ == nullptr || layout_->zone_bytes == 0 || zones_off_) return false;
    const uint8_t* kept = known_zone(id / layout_->nodes_per_page);
    return kept != nullptr && !filter_->zone_may_pass(kept);
}

uint32 PageAccess::next_candidate(uint32 id) {
    if (filter_ == nullptr || layout_->zone_bytes == 0) return id;
    const uint32 npp = layout_->nodes_per_page, n = layout_->n_elements;
    for (; id < n; id = (id / npp + 1) * npp)
        if (zone_may_pass(id)) return id;
    return n;
}

void PageAccess::use_sweep_codes(const float* q) {
    if (layout_->sweep_bytes == 0 || layout_->metric == nmvec::hnsw::Metric::L1) return;
    sweep_codec_ = &sweep_codec(layout_->dims);
    sweep_codec_->prepare(q, layout_->centre_or_null(), sweep_q_, nmvec::kRabitqScanEpsilon);
    stage_.assign(static_cast<size_t>(kSweepStage) * layout_->sweep_bytes, 0);
    staged_ = 0;
    for (CodesAhead& slot : codes_ahead_) slot.page = UINT32_MAX;
}

void PageAccess::stage_sweep_code(uint32 id) {
    if (staged_ == kSweepStage) elog(ERROR, "hnsw: more than %u sweep codes staged", kSweepStage);
    const size_t sb = layout_->sweep_bytes;
    const char* from;
    if (run_codes_ != nullptr && id - run_first_ < layout_->nodes_per_page) {
        // The copy copied_run judged the run from.
        from = reinterpret_cast<const char*>(run_codes_) + (id - run_first_) * sb;
    } else {
        // The page passing_run or passes() just read for id, pinned.
        const char* data = filter_page(id);
        from = data + layout_->codes_at + (id - attr_first_) * sb;
    }
    memcpy(stage_.data() + static_cast<size_t>(staged_) * sb, from, sb);
    ++staged_;
}

void PageAccess::staged_sweep_lowers(float* out) {
    using nmvec::hnsw::Metric;
    const bool l2 = layout_->metric == Metric::L2;
    nmvec::RabitqEstimate est[kSweepStage];
    sweep_codec_->estimate_batch(
        sweep_q_, reinterpret_cast<const uint8_t*>(stage_.data()), staged_, layout_->sweep_bytes,
        l2 ? nmvec::RabitqMetric::L2Squared : nmvec::RabitqMetric::InnerProduct, est);
    for (uint32 i = 0; i < staged_; ++i) {
        const nmvec::RabitqEstimate& e = est[i];
        // The graph distance's lower bound: L2 squared; -<q, x> for inner
        // product; 1 - <q, x> for cosine (unit vectors).
        const float lower =
            l2 ? e.lower : (layout_->metric == Metric::InnerProduct ? -e.upper : 1.0f - e.upper);
        // A code being written as this is read (an id allocated, its node
        // not yet written): no bound, the exact distance decides.
        out[i] = std::isnan(lower) ? -std::numeric_limits<float>::infinity() : lower;
    }
    staged_ = 0;
}

bool PageAccess::passes(uint32 id) {
    if (filter_ == nullptr) return true;
    const uint32 npp = layout_->nodes_per_page, page = id / npp;
    // A full page's values, copied before: no pin (a filtered walk checks
    // neighbours on pages all over the index).
    if (const uint8_t* recs = known_records(page))
        return filter_->passes(recs + static_cast<size_t>(id % npp) * layout_->attr_bytes);
    // The page stays pinned until another is needed: an exact pass reads
    // the records of a page one after another.
    const char* data = filter_page(id);
    // Once a page (an exact pass checks its ids one after another).
    offer_page(page, data, false, &tried_page_);
    return filter_->passes(reinterpret_cast<const uint8_t*>(data + layout_->attrs_at +
                                                            (id - attr_first_) * layout_->attr_bytes));
}

bool PageAccess::copied_run(uint32 id, uint32 run, uint64_t* mask) {
    // One look-up of the backend's copies for this page and the one ahead.
    IndexCopies* c = copies();
    if (c == nullptr || layout_->sweep_bytes == 0) return false;
    const uint32 npp = layout_->nodes_per_page, page = id / npp;
    const uint8_t* codes = c->codes.find(page);
    const uint8_t* recs = codes != nullptr ? c->records.find(page) : nullptr;
    if (recs == nullptr) return false;
    const uint32 first = id - page * npp;
    const uint32 ab = layout_->attr_bytes;
    const size_t sb = layout_->sweep_bytes;
    auto hint_codes = [sb](const uint8_t* from, uint64_t m) {
        for (; m != 0; m &= m - 1) {
            const uint8_t* c = from + static_cast<size_t>(__builtin_ctzll(m)) * sb;
            for (size_t at = 0; at < sb; at += 64) __builtin_prefetch(c + at);
        }
    };
    run_codes_ = codes;
    run_first_ = page * npp;
    if (first != 0 || run != npp) {
        // A page of several runs (or the last, not full): its codes hinted
        // as each run is judged.
        *mask = filter_->pass_mask(recs + static_cast<size_t>(first) * ab, ab, run);
        hint_codes(codes + first * sb, *mask);
        return true;
    }
    // A page of one run: its mask was judged kCodesAhead pages before, when
    // the codes of those that pass were hinted (the sweep stages them at
    // once: hinted just before, a quarter of its time waited for them).
    CodesAhead& slot = codes_ahead_[page % kCodesAhead];
    *mask = slot.page == page ? slot.mask : filter_->pass_mask(recs, ab, run);
    const uint32 later = page + kCodesAhead;
    const uint8_t* later_codes = c->codes.find(later);
    const uint8_t* later_recs = later_codes != nullptr ? c->records.find(later) : nullptr;
    if (later_recs != nullptr) {
        slot.page = later;
        slot.mask = filter_->pass_mask(later_recs, ab, npp);
        hint_codes(later_codes, slot.mask);
    } else {
        slot.page = UINT32_MAX;
    }
    return true;
}

uint32 PageAccess::passing_run(uint32 id, uint64_t* mask) {
    const uint32 n = layout_->n_elements, npp = layout_->nodes_per_page;
    if (filter_ == nullptr || id >= n) {
        *mask = id < n ? 1 : 0;
        return 1;
    }
    // A bounded sweep over a full page whose values and codes are copied:
    // no pin (a sweep reads every page the zones leave: 2,200 pages of
    // fashion-mnist for its anti-correlated label).
    if (sweep_codec_ != nullptr) {
        const uint32 run = std::min({64u, npp - id % npp, n - id});
        if (copied_run(id, run, mask)) return run;
        run_codes_ = nullptr;
    }
    const char* data = filter_page(id);
    const uint32 first = id - attr_first_;
    const uint32 run = std::min({64u, npp - first, n - id});
    // Once a page: its values and sweep codes.
    if (sweep_codec_ != nullptr) offer_page(id / npp, data, true, &tried_codes_page_);
    if (ahead_mask_id_ == id && ahead_mask_run_ == run) {
        // Computed when the page was pinned ahead, its codes hinted then.
        *mask = ahead_mask_;
        ahead_mask_id_ = UINT32_MAX;
    } else {
        *mask = run_mask(data, first, run);
        // The sweep stages the code of each that passes next: their codes
        // are fetched together (a third of a sweep's time went to waiting
        // for them one at a time).
        if (sweep_codec_ != nullptr) prefetch_sweep_codes(data, first, *mask);
    }
    // A bounded sweep pins the next page now, takes its run's mask and
    // hints the codes of those that pass: they arrive while this page's
    // are bounded (the copies waited for them: 8 % of a sweep).
    const uint32 next = attr_first_ + npp;
    if (sweep_codec_ != nullptr && first + run == npp && next < n && ahead_buf_ == InvalidBuffer &&
        !known_ruled_out(next) && known_codes(next / npp) == nullptr) {
        uint32 off;
        ahead_buf_ = pin(node_block_checked(next, &off), &ahead_held_);
        ahead_first_ = next;
        const char* ahead = stream_data(BufferGetPage(ahead_buf_));
        ahead_mask_run_ = std::min({64u, npp, n - next});
        ahead_mask_ = run_mask(ahead, 0, ahead_mask_run_);
        ahead_mask_id_ = next;
        prefetch_sweep_codes(ahead, 0, ahead_mask_);
    }
    return run;
}

uint64_t PageAccess::run_mask(const char* data, uint32 first, uint32 run) const {
    return filter_->pass_mask(
        reinterpret_cast<const uint8_t*>(data + layout_->attrs_at + first * layout_->attr_bytes),
        layout_->attr_bytes, run);
}

void PageAccess::prefetch_sweep_codes(const char* data, uint32 first, uint64_t mask) const {
    const char* codes = data + layout_->codes_at + first * layout_->sweep_bytes;
    for (uint64_t m = mask; m != 0; m &= m - 1) {
        const char* c = codes + static_cast<size_t>(__builtin_ctzll(m)) * layout_->sweep_bytes;
        for (uint32 at = 0; at < layout_->sweep_bytes; at += 64) __builtin_prefetch(c + at);
    }
}

// ---- writing ---------------------------------------------------------------------------------

void write_code(uint8 quantizer, int dims, const float* centre, const float* v, char* rec) {
    const uint32 cb = code_bytes(dims, quantizer);
    if (cb == 0) return;
    memset(rec, 0, cb);
    if (quantizer == kQuantRabitq)
        rabitq_codec(static_cast<uint32>(dims)).encode(v, centre, reinterpret_cast<uint8_t*>(rec));
    else
        nmvec::sq8::encode(v, static_cast<size_t>(dims), reinterpret_cast<uint8_t*>(rec));
}

namespace {

/// Append an extent of `pages` initialised pages of `kind`; returns its start.
BlockNumber add_pages(Relation index, uint32 pages, PageKind kind) {
    LockRelationForExtension(index, ExclusiveLock);
    BlockNumber start = InvalidBlockNumber;
    for (uint32 i = 0; i < pages; ++i) {
        Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
        LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
        if (i == 0) start = BufferGetBlockNumber(buf);
        if (BufferGetBlockNumber(buf) != start + i) elog(ERROR, "hnsw extent is not contiguous");
        GenericXLogState* st = GenericXLogStart(index);
        Page page = GenericXLogRegisterBuffer(st, buf, GENERIC_XLOG_FULL_IMAGE);
        if (kind == kUpperPage)
            init_page(page, kind);
        else
            init_empty_stream_page(page, kind);
        GenericXLogFinish(st);
        UnlockReleaseBuffer(buf);
    }
    UnlockRelationForExtension(index, ExclusiveLock);
    return start;
}

uint32 stream_pages(const Meta* meta, bool vectors) {
    uint32 total = 0;
    const Extent* ex = vectors ? meta->vector_extents : meta->node_extents;
    uint32 n = vectors ? meta->n_vector_extents : meta->n_node_extents;
    for (uint32 i = 0; i < n; ++i) total += ex[i].pages;
    return total;
}

/// Grow a stream to at least `need` pages with one new extent (about a
/// quarter of the stream's size, at least 8 pages). Meta is locked by the caller.
void grow_stream(Relation index, GenericXLogState* st, Meta* meta, bool vectors, uint32 need) {
    uint32 have = stream_pages(meta, vectors);
    if (have >= need) return;
    uint32& n = vectors ? meta->n_vector_extents : meta->n_node_extents;
    if (n >= static_cast<uint32>(kMaxExtents))
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("hnsw index \"%s\" cannot grow further", RelationGetRelationName(index)),
                        errhint("REINDEX the index to compact its storage.")));
    uint32 pages = std::max<uint32>({need - have, 8u, have / 4});
    (void)st;
    BlockNumber start = add_pages(index, pages, vectors ? kVectorPage : kNodePage);
    Extent* ex = vectors ? meta->vector_extents : meta->node_extents;
    ex[n].start = start;
    ex[n].pages = pages;
    ++n;
}

}  // namespace

uint32 allocate_element(Relation index, Layout* layout) { return allocate_elements(index, layout, 1); }

uint32 allocate_elements(Relation index, Layout* layout, uint32 count) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    // Checked again under this lock: the fields size the streams' growth.
    if (!page_is(BufferGetPage(buf), kMetaPage)) {
        UnlockReleaseBuffer(buf);
        report_bad_page(index, kMetaBlock, kMetaPage);
    }
    check_meta(index, *page_meta(BufferGetPage(buf)), RelationGetNumberOfBlocks(index));
    GenericXLogState* st = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(st, buf, 0);
    Meta* meta = page_meta(page);
    uint32 id = meta->n_elements;
    if (count == 0 || uint64{id} + count >= kNoEntry)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("hnsw index \"%s\" has too many elements", RelationGetRelationName(index))));
    uint32 npp = meta_nodes_per_page(*meta);
    uint32 vb =
        record_bytes(static_cast<int>(meta->dims), static_cast<ElemKind>(meta->elem_kind), meta->quantizer);
    const uint32 last = id + count - 1;
    grow_stream(index, st, meta, false, last / npp + 1);
    grow_stream(index, st, meta, true, static_cast<uint32>(stream_slices(uint64{last} + 1, vb, kSliceBytes)));
    if (meta->pending_marker != kPendingMarker) {  // an index built before the pending list
        meta->pending_marker = kPendingMarker;
        meta->first_pending = id;
    }
    meta->n_elements = id + count;
    layout->load(meta);
    layout->nblocks = RelationGetNumberOfBlocks(index);
    GenericXLogFinish(st);
    UnlockReleaseBuffer(buf);
    return id;
}

// A vector of up to kSliceBytes lies in one page or two and is written in
// one WAL record. A larger one spans up to 9 pages, more than one generic WAL
// record can register (MAX_GENERIC_XLOG_PAGES, 4), so it is written in
// several records, each over a run of its pages in stream (= block) order.
// That is crash-safe because nothing refers to the element yet: its node
// record is written after the whole vector (write_new_node), and only then
// can a neighbour list name it. A crash between two of these records leaves
// an element whose node record still has no heap TID, which every reader
// skips (scans, vacuum and nmvec_index_stats treat it as never written), so
// its partly written vector is never read.
void write_vector(Relation index, const Layout& layout, uint32 id, const void* data) {
    const StreamSpan span = layout.vector_span(id);
    const char* src = static_cast<const char*>(data);
    for (uint32 first = 0; first < span.pieces(); first += MAX_GENERIC_XLOG_PAGES) {
        const uint32 count = std::min<uint32>(span.pieces() - first, MAX_GENERIC_XLOG_PAGES);
        Buffer bufs[MAX_GENERIC_XLOG_PAGES];
        for (uint32 i = 0; i < count; ++i) {
            BlockNumber blk = layout.vector_slice_block(span.piece(first + i).slice);
            if (blk == InvalidBlockNumber) elog(ERROR, "hnsw vector %u is beyond the index", id);
            bufs[i] = ReadBuffer(index, blk);
            LockBuffer(bufs[i], BUFFER_LOCK_EXCLUSIVE);  // stream order is block order: no deadlock
        }
        GenericXLogState* st = GenericXLogStart(index);
        for (uint32 i = 0; i < count; ++i) {
            const SpanPiece pc = span.piece(first + i);
            Page page = GenericXLogRegisterBuffer(st, bufs[i], 0);
            memcpy(stream_data(page) + pc.offset, src + pc.at, pc.bytes);
            cover_written(page, pc.offset + pc.bytes);
        }
        GenericXLogFinish(st);
        for (uint32 i = 0; i < count; ++i) UnlockReleaseBuffer(bufs[i]);
    }
}

namespace {

/// Add an upper tuple of `len` zero bytes; returns its location.
ItemPointerData add_upper_tuple(Relation index, uint32 len) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        // Try the last upper page.
        Buffer mbuf = ReadBuffer(index, kMetaBlock);
        LockBuffer(mbuf, BUFFER_LOCK_SHARE);
        BlockNumber last = page_meta(BufferGetPage(mbuf))->upper_last;
        UnlockReleaseBuffer(mbuf);
        if (last != InvalidBlockNumber) {
            if (last == kMetaBlock || last >= RelationGetNumberOfBlocks(index))
                report_corrupt(index, "The meta page's last upper page is block %u, outside the index.",
                               last);
            Buffer buf = ReadBuffer(index, last);
            LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
            if (!page_is(BufferGetPage(buf), kUpperPage)) {
                UnlockReleaseBuffer(buf);
                report_bad_page(index, last, kUpperPage);
            }
            if (PageGetFreeSpace(BufferGetPage(buf)) >= MAXALIGN(len)) {
                GenericXLogState* st = GenericXLogStart(index);
                Page page = GenericXLogRegisterBuffer(st, buf, 0);
                std::vector<char> zero(len, 0);
                OffsetNumber off = PageAddItem(page, zero.data(), len, InvalidOffsetNumber, false, false);
                if (off == InvalidOffsetNumber) elog(ERROR, "could not add hnsw upper tuple");
                GenericXLogFinish(st);
                UnlockReleaseBuffer(buf);
                ItemPointerData tid;
                ItemPointerSet(&tid, last, off);
                return tid;
            }
            UnlockReleaseBuffer(buf);
        }
        // Start a new upper page and make it the last one.
        BlockNumber blk = add_pages(index, 1, kUpperPage);
        mbuf = ReadBuffer(index, kMetaBlock);
        LockBuffer(mbuf, BUFFER_LOCK_EXCLUSIVE);
        GenericXLogState* st = GenericXLogStart(index);
        page_meta(GenericXLogRegisterBuffer(st, mbuf, 0))->upper_last = blk;
        GenericXLogFinish(st);
        UnlockReleaseBuffer(mbuf);
    }
    elog(ERROR, "could not place hnsw upper tuple");
    pg_unreachable();
}

}  // namespace

void write_new_node(Relation index, Layout* layout, uint32 id, ItemPointer heap_tid, int level, uint8 flags,
                    const uint8_t* attrs, const void* record) {
    // The sweep code, from the vector as stored (a halfvec rounded to
    // binary16), coded before any page is locked.
    std::vector<uint8_t> sweep;
    if (layout->sweep_bytes > 0 && attrs != nullptr) {
        if (record == nullptr) elog(ERROR, "hnsw: no vector for the sweep code");
        std::vector<float> f(layout->dims);
        stored_floats(layout->elem_kind, layout->dims, static_cast<const char*>(record) + layout->code_bytes,
                      f.data());
        sweep.resize(layout->sweep_bytes);
        write_sweep_code(layout->dims, layout->centre_or_null(), f.data(), sweep.data());
    }
    ItemPointerData upper;
    ItemPointerSetInvalid(&upper);
    if (level >= 1) upper = add_upper_tuple(index, upper_bytes(level, layout->m));
    uint32 off;
    BlockNumber blk = layout->node_block(id, &off);
    Buffer buf = ReadBuffer(index, blk);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    GenericXLogState* st = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(st, buf, 0);
    char* rec = stream_data(page) + off;
    cover_written(page, off + layout->node_bytes);
    memset(rec, 0, layout->node_bytes);
    NodeHeader* h = reinterpret_cast<NodeHeader*>(rec);
    h->heap_tid = *heap_tid;
    h->level = static_cast<uint8>(level);
    h->flags = flags;
    h->upper_tid = upper;
    h->count0 = 0;
    if (attrs != nullptr && layout->attr_bytes > 0) {
        if (layout->attrs.bytes != layout->attr_bytes) elog(ERROR, "hnsw: filter columns not read");
        memcpy(stream_data(page) + layout->attr_offset(id), attrs, layout->attr_bytes);
        if (!sweep.empty()) memcpy(stream_data(page) + layout->sweep_offset(id), sweep.data(), sweep.size());
        // The page's zone covers the record in the same WAL record: a scan
        // that skips the page by its zone can never miss the element.
        if (layout->zone_bytes > 0)
            nmvec::filter::ZoneLayout::add(reinterpret_cast<uint8_t*>(stream_data(page)), layout->attrs,
                                           attrs);
    }
    GenericXLogFinish(st);
    UnlockReleaseBuffer(buf);
}

namespace {

/// One neighbour list, its page locked exclusively: the count (uint16
/// count0 in the node record on level 0, a uint32 in the upper tuple
/// above) and the ids.
struct ListRef {
    Buffer buf;
    GenericXLogState* st;  // null until begin_write
    uint16* count0;        // level 0
    uint32* count;         // levels >= 1
    uint32* ids;
    uint32 cap;
    int level, m;
    uint32 off;             // level 0: the node record's offset in its page
    ItemPointerData upper;  // levels >= 1: the upper tuple
};

/// Point r's count and ids into `page` (the buffer's page or its
/// GenericXLog copy).
void point_list(ListRef* r, Page page) {
    if (r->level == 0) {
        char* rec = stream_data(page) + r->off;
        r->count0 = &reinterpret_cast<NodeHeader*>(rec)->count0;
        r->ids = reinterpret_cast<uint32*>(rec + sizeof(NodeHeader));
        return;
    }
    UpperFault fault;
    uint32* list = upper_list(page, r->upper, r->level, r->m, &fault);  // checked in open_list
    r->count = list;
    r->ids = list + 1;
}

/// Lock the page holding id's list on `level` exclusively and point r at
/// it, read-only: begin_write before changing it. False (nothing locked)
/// when id has no list on that level.
bool open_list(Relation index, const Layout& layout, uint32 id, int level, ListRef* r) {
    uint32 off;
    const BlockNumber blk = checked_node_block(index, layout, id, &off);
    r->buf = ReadBuffer(index, blk);
    LockBuffer(r->buf, BUFFER_LOCK_EXCLUSIVE);
    r->st = nullptr;
    r->count0 = nullptr;
    r->count = nullptr;
    r->level = level;
    r->m = layout.m;
    r->off = off;
    const NodeHeader* h = reinterpret_cast<const NodeHeader*>(stream_data(BufferGetPage(r->buf)) + off);
    if (level == 0) {
        r->cap = 2u * layout.m;
        point_list(r, BufferGetPage(r->buf));
        return true;
    }
    const uint8 node_level = h->level;
    if (level > node_level || !ItemPointerIsValid(&h->upper_tid)) {
        UnlockReleaseBuffer(r->buf);
        check_level(index, id, node_level);
        return false;
    }
    r->upper = h->upper_tid;
    UnlockReleaseBuffer(r->buf);
    check_level(index, id, node_level);
    BlockNumber known = layout.nblocks;
    check_upper_block(index, &known, id, r->upper);
    r->buf = ReadBuffer(index, ItemPointerGetBlockNumber(&r->upper));
    LockBuffer(r->buf, BUFFER_LOCK_EXCLUSIVE);
    UpperFault fault;
    if (upper_list(BufferGetPage(r->buf), r->upper, level, layout.m, &fault) == nullptr) {
        UnlockReleaseBuffer(r->buf);
        report_upper(index, id, r->upper, level, fault);
    }
    r->cap = static_cast<uint32>(layout.m);
    point_list(r, BufferGetPage(r->buf));
    return true;
}

/// From here on r points into the GenericXLog copy of its page: changes
/// are WAL-logged by close_list(r, true). Reading the list before needs no
/// copy of the page (most back links find a full list and change nothing).
void begin_write(Relation index, ListRef* r) {
    r->st = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(r->st, r->buf, 0);
    if (r->level == 0) cover_written(page, r->off + node_bytes(r->m));
    point_list(r, page);
}

/// The list's count, bounded by its capacity (a corrupted count above it
/// reads as a full list).
uint32 list_count(const ListRef& r) { return std::min<uint32>(r.count0 ? *r.count0 : *r.count, r.cap); }
void set_list_count(ListRef& r, uint32 n) {
    if (r.count0)
        *r.count0 = static_cast<uint16>(n);
    else
        *r.count = n;
}
void close_list(ListRef& r, bool changed) {
    if (r.st != nullptr) {
        if (changed)
            GenericXLogFinish(r.st);
        else
            GenericXLogAbort(r.st);
    }
    UnlockReleaseBuffer(r.buf);
}

}  // namespace

void set_neighbors(Relation index, const Layout& layout, uint32 id, int level, const uint32* ids, uint32 n) {
    ListRef r;
    if (!open_list(index, layout, id, level, &r)) return;
    begin_write(index, &r);
    n = std::min(n, r.cap);
    memcpy(r.ids, ids, n * sizeof(uint32));
    set_list_count(r, n);
    close_list(r, true);
}

bool try_append_neighbor(Relation index, const Layout& layout, uint32 nb, int level, uint32 id) {
    ListRef r;
    if (!open_list(index, layout, nb, level, &r)) return true;  // nothing to link on that level
    uint32 n = list_count(r);
    for (uint32 i = 0; i < n; ++i) {
        if (r.ids[i] == id) {
            close_list(r, false);
            return true;
        }
    }
    if (n >= r.cap) {
        close_list(r, false);
        return false;
    }
    begin_write(index, &r);
    r.ids[n] = id;
    set_list_count(r, n + 1);
    close_list(r, true);
    return true;
}

bool replace_neighbors_if(Relation index, const Layout& layout, uint32 nb, int level, const uint32* old,
                          uint32 n_old, const uint32* ids, uint32 n) {
    ListRef r;
    if (!open_list(index, layout, nb, level, &r)) return true;
    if (list_count(r) != n_old || memcmp(r.ids, old, n_old * sizeof(uint32)) != 0) {
        close_list(r, false);
        return false;
    }
    begin_write(index, &r);
    n = std::min(n, r.cap);
    memcpy(r.ids, ids, n * sizeof(uint32));
    set_list_count(r, n);
    close_list(r, true);
    return true;
}

BlockNumber checked_node_block(Relation index, const Layout& layout, uint32 id, uint32* off) {
    const BlockNumber blk = layout.node_block(id, off);
    if (id >= layout.n_elements || blk == InvalidBlockNumber)
        report_corrupt(index, "Element %u was asked for, beyond the index's %u elements.", id,
                       layout.n_elements);
    return blk;
}

void read_node_header(Relation index, const Layout& layout, uint32 id, NodeHeader* out) {
    uint32 off;
    const BlockNumber blk = checked_node_block(index, layout, id, &off);
    Buffer buf = read_block(index, blk);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    memcpy(out, stream_data(BufferGetPage(buf)) + off, sizeof(NodeHeader));
    UnlockReleaseBuffer(buf);
}

void read_node_headers(Relation index, const Layout& layout, uint32 first, uint32 end,
                       std::vector<NodeHeader>* out) {
    out->resize(end > first ? end - first : 0);
    uint32 id = first;
    while (id < end) {
        uint32 off;
        const BlockNumber blk = checked_node_block(index, layout, id, &off);
        const uint32 page_end = std::min(end, (id / layout.nodes_per_page + 1) * layout.nodes_per_page);
        Buffer buf = read_block(index, blk);
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        const char* data = stream_data(BufferGetPage(buf));
        for (; id < page_end; ++id, off += layout.node_bytes)
            memcpy(&(*out)[id - first], data + off, sizeof(NodeHeader));
        UnlockReleaseBuffer(buf);
    }
}

void clear_pending(Relation index, const Layout& layout, uint32 id) {
    uint32 off;
    const BlockNumber blk = checked_node_block(index, layout, id, &off);
    Buffer buf = ReadBuffer(index, blk);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    if (reinterpret_cast<const NodeHeader*>(stream_data(BufferGetPage(buf)) + off)->flags & kNodePending) {
        GenericXLogState* st = GenericXLogStart(index);
        Page page = GenericXLogRegisterBuffer(st, buf, 0);
        reinterpret_cast<NodeHeader*>(stream_data(page) + off)->flags &= static_cast<uint8>(~kNodePending);
        GenericXLogFinish(st);
    }
    UnlockReleaseBuffer(buf);
}

uint32 read_first_pending(Relation index, uint32* n_elements) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    const Meta* meta = page_meta(BufferGetPage(buf));
    *n_elements = meta->n_elements;
    uint32 fp = meta_first_pending(*meta);
    UnlockReleaseBuffer(buf);
    return fp;
}

void advance_first_pending(Relation index, const Layout& layout, uint32 target,
                           const std::vector<uint32>& skipped) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    // Lock order meta -> node page: nobody waits for the meta page while
    // holding a node page lock.
    for (uint32 id : skipped) {
        if (id >= target) break;
        NodeHeader h;
        read_node_header(index, layout, id, &h);
        if (is_pending(h)) {
            target = id;
            break;
        }
    }
    Meta* cur = page_meta(BufferGetPage(buf));
    const uint32 fp = meta_first_pending(*cur);
    if (target > fp && target <= cur->n_elements) {
        GenericXLogState* st = GenericXLogStart(index);
        Meta* meta = page_meta(GenericXLogRegisterBuffer(st, buf, 0));
        meta->pending_marker = kPendingMarker;
        meta->first_pending = target;
        GenericXLogFinish(st);
    }
    UnlockReleaseBuffer(buf);
}

void maybe_set_entry(Relation index, Layout* layout, uint32 id, int level) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    Meta* cur = page_meta(BufferGetPage(buf));
    if (cur->entry != kNoEntry && level <= cur->max_level) {
        layout->entry = cur->entry;
        layout->max_level = cur->max_level;
        UnlockReleaseBuffer(buf);
        return;
    }
    GenericXLogState* st = GenericXLogStart(index);
    Meta* meta = page_meta(GenericXLogRegisterBuffer(st, buf, 0));
    meta->entry = id;
    meta->max_level = level;
    GenericXLogFinish(st);
    layout->entry = id;
    layout->max_level = level;
    UnlockReleaseBuffer(buf);
}

}  // namespace nmvec::pg::hnsw

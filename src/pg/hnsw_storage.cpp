// hnsw_storage.cpp — see hnsw_storage.h.
#include "hnsw_storage.h"

extern "C" {
#include "storage/buf_internals.h"
#include "storage/lmgr.h"
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

void Layout::load(const Meta* meta) {
    dims = meta->dims;
    m = meta->m;
    ef_construction = meta->ef_construction;
    metric = static_cast<nmvec::hnsw::Metric>(meta->metric);
    elem_kind = static_cast<ElemKind>(meta->elem_kind);
    node_bytes = hnsw::node_bytes(m);
    nodes_per_page = hnsw::nodes_per_page(m);
    vec_bytes = hnsw::vec_bytes(static_cast<int>(dims), elem_kind);
    n_elements = meta->n_elements;
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
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    const Meta* meta = page_meta(page);
    if (PageIsNew(page) || page_opaque(page)->page_id != kPageId || meta->magic != kMagic)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("index \"%s\" is not an nmvec hnsw index", RelationGetRelationName(index))));
    if (meta->version != kFormatVersion)
        ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                        errmsg("hnsw index \"%s\" has format version %u, this build reads %u",
                               RelationGetRelationName(index), meta->version, kFormatVersion),
                        errhint("REINDEX the index.")));
    layout->load(meta);
    UnlockReleaseBuffer(buf);
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

namespace {

struct BlockHints {
    uint32 n;
    Buffer hint[FLEXIBLE_ARRAY_MEMBER];
};

}  // namespace

Buffer read_block(Relation index, BlockNumber blk) {
    auto* h = static_cast<BlockHints*>(index->rd_amcache);
    if (h == nullptr || blk >= h->n) {
        uint32 n = std::max<uint32>(blk + 1, RelationGetNumberOfBlocks(index));
        n += n / 4 + 64;
        auto* nh = static_cast<BlockHints*>(
            MemoryContextAllocZero(index->rd_indexcxt, offsetof(BlockHints, hint) + sizeof(Buffer) * n));
        nh->n = n;
        if (h) {
            memcpy(nh->hint, h->hint, sizeof(Buffer) * h->n);
            pfree(h);
        }
        index->rd_amcache = h = nh;
    }
    Buffer b = h->hint[blk];
    if (b != InvalidBuffer && ReadRecentBuffer(index->rd_node, MAIN_FORKNUM, blk, b)) return b;
    b = ReadBuffer(index, blk);
    h->hint[blk] = b;
    return b;
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

BlockNumber PageAccess::node_block_checked(uint32 id, uint32* off) {
    BlockNumber blk = layout_->node_block(id, off);
    if (blk == InvalidBlockNumber) {  // added by a concurrent insert after we read the meta page
        read_layout(index_, layout_);
        blk = layout_->node_block(id, off);
        if (blk == InvalidBlockNumber) elog(ERROR, "hnsw element %u is beyond the index", id);
    }
    return blk;
}

BlockNumber PageAccess::vector_block_checked(uint32 id, uint32* off) {
    BlockNumber blk = layout_->vector_block(id, off);
    if (id >= layout_->n_elements || blk == InvalidBlockNumber) {
        read_layout(index_, layout_);  // added by a concurrent insert after we read the meta page
        blk = layout_->vector_block(id, off);
        if (id >= layout_->n_elements || blk == InvalidBlockNumber)
            elog(ERROR, "hnsw vector %u is beyond the index", id);
    }
    return blk;
}

// Vector bytes never change once written (hnsw_storage.h), and an element is
// only reached through a neighbour list written after its vector, so vector
// pages are read with a pin and no content lock.
const void* PageAccess::vector_ptr(uint32 id, Buffer* buf, AlignedBytes& scratch) {
    uint32 off;
    BlockNumber blk = vector_block_checked(id, &off);
    uint32 len = layout_->vec_bytes;
    *buf = read_block(index_, blk);
    const char* data = stream_data(BufferGetPage(*buf));
    if (off + len <= kSliceBytes) return data + off;  // caller releases *buf
    // Spans pages: copy the pieces.
    const StreamSpan span = layout_->vector_span(id);
    memcpy(scratch.data(), data + off, span.piece(0).bytes);
    ReleaseBuffer(*buf);
    for (uint32 p = 1; p < span.pieces(); ++p) {
        const SpanPiece pc = span.piece(p);
        *buf = read_block(index_, layout_->vector_slice_block(pc.slice));
        memcpy(scratch.data() + pc.at, stream_data(BufferGetPage(*buf)), pc.bytes);
        ReleaseBuffer(*buf);
    }
    *buf = InvalidBuffer;
    return scratch.data();
}

void PageAccess::prefetch(const uint32* ids, size_t n) const {
    auto* h = static_cast<const BlockHints*>(index_->rd_amcache);
    if (h == nullptr) return;
    const uint32 len = layout_->vec_bytes;
    for (size_t i = 0; i < n; ++i) {
        uint32 off;
        BlockNumber blk = layout_->vector_block(ids[i], &off);
        if (blk == InvalidBlockNumber || blk >= h->n) continue;
        Buffer b = h->hint[blk];
        if (b <= 0) continue;
        // Addresses only: no pin is taken and nothing is read here.
        // With write intent: pinning changes the descriptor's state word.
        __builtin_prefetch(GetBufferDescriptor(b - 1), 1);
        const char* p = static_cast<const char*>(BufferGetBlock(b)) + kStreamOffset + off;
        for (uint32 k = 0; k < len && off + k < kSliceBytes; k += 64) __builtin_prefetch(p + k);
        if (off + len <= kSliceBytes) continue;
        // The vector goes on into the following pages of the stream: their
        // descriptors, and the lines of its first kSliceBytes bytes (all of
        // a vector that straddles two pages; the hardware prefetcher follows
        // a longer one once the distance streams through it).
        const StreamSpan span = layout_->vector_span(ids[i]);
        for (uint32 s = 1; s < span.pieces(); ++s) {
            const SpanPiece pc = span.piece(s);
            BlockNumber nblk = layout_->vector_slice_block(pc.slice);
            if (nblk == InvalidBlockNumber || nblk >= h->n) break;
            Buffer nb = h->hint[nblk];
            if (nb <= 0) break;
            __builtin_prefetch(GetBufferDescriptor(nb - 1), 1);
            if (pc.at >= kSliceBytes) continue;
            const char* q = static_cast<const char*>(BufferGetBlock(nb)) + kStreamOffset;
            const uint32 lines = std::min(pc.bytes, kSliceBytes - pc.at);
            for (uint32 k = 0; k < lines; k += 64) __builtin_prefetch(q + k);
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

float PageAccess::distance(uint32 id) {
    if (cache_on_) return dist_(cached(id), query_);
    uint32 off;
    BlockNumber blk = vector_block_checked(id, &off);
    const uint32 len = layout_->vec_bytes;
    Buffer buf = read_block(index_, blk);
    const char* data = stream_data(BufferGetPage(buf)) + off;
    if (off + len <= kSliceBytes) {
        float d = dist_(data, query_);
        ReleaseBuffer(buf);
        return d;
    }
    // Spans pages: the distances of the pieces, added (no copy). Pieces
    // hold whole elements (StreamSpan: sizes and offsets are multiples of 4).
    const size_t esize = dist_.elem_size(), dims = layout_->dims;
    const char* q = static_cast<const char*>(query_);
    size_t done = std::min<size_t>((kSliceBytes - off) / esize, dims);
    float sum = dist_.partial(data, q, done);
    ReleaseBuffer(buf);
    const StreamSpan span = layout_->vector_span(id);
    for (uint32 p = 1; p < span.pieces() && done < dims; ++p) {  // a halfvec's last piece may be padding only
        const SpanPiece pc = span.piece(p);
        const size_t n = std::min<size_t>(pc.bytes / esize, dims - done);
        buf = read_block(index_, layout_->vector_slice_block(pc.slice));
        sum += dist_.partial(stream_data(BufferGetPage(buf)), q + done * esize, n);
        ReleaseBuffer(buf);
        done += n;
    }
    return dist_.finish(sum);
}

float PageAccess::pair_distance(uint32 a, uint32 b) {
    if (cache_on_) {
        const void* va = cached(a);
        return dist_(va, cached(b));
    }
    read_vector(a, scratch_b_.data());
    Buffer buf;
    const void* v = vector_ptr(b, &buf, scratch_a_);
    float d = dist_(v, scratch_b_.data());
    if (BufferIsValid(buf)) ReleaseBuffer(buf);
    return d;
}

void PageAccess::read_vector(uint32 id, void* out) {
    Buffer buf;
    const void* v = vector_ptr(id, &buf, scratch_a_);
    if (v != out) memcpy(out, v, layout_->vec_bytes);
    if (BufferIsValid(buf)) ReleaseBuffer(buf);
}

uint32 PageAccess::read_neighbors(uint32 id, int level) {
    CHECK_FOR_INTERRUPTS();  // callers keep their state in memory-context-owned objects
    uint32 off;
    BlockNumber blk = node_block_checked(id, &off);
    Buffer buf = read_block(index_, blk);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    const char* rec = stream_data(BufferGetPage(buf)) + off;
    const NodeHeader* h = reinterpret_cast<const NodeHeader*>(rec);
    uint32 n = 0;
    if (level == 0) {
        n = std::min<uint32>(h->count0, 2u * layout_->m);
        memcpy(nbuf_.data(), rec + sizeof(NodeHeader), n * sizeof(uint32));
        UnlockReleaseBuffer(buf);
        return n;
    }
    if (level > h->level || !ItemPointerIsValid(&h->upper_tid)) {
        UnlockReleaseBuffer(buf);
        return 0;
    }
    ItemPointerData upper = h->upper_tid;
    UnlockReleaseBuffer(buf);
    buf = read_block(index_, ItemPointerGetBlockNumber(&upper));
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    ItemId item = PageGetItemId(page, ItemPointerGetOffsetNumber(&upper));
    const uint32* lists = reinterpret_cast<const uint32*>(PageGetItem(page, item));
    const uint32* list = lists + static_cast<size_t>(level - 1) * (1 + layout_->m);
    n = std::min<uint32>(list[0], static_cast<uint32>(layout_->m));
    memcpy(nbuf_.data(), list + 1, n * sizeof(uint32));
    UnlockReleaseBuffer(buf);
    return n;
}

bool PageAccess::live(uint32 id) {
    uint32 off;
    BlockNumber blk = node_block_checked(id, &off);
    Buffer buf = read_block(index_, blk);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    const NodeHeader* h = reinterpret_cast<const NodeHeader*>(stream_data(BufferGetPage(buf)) + off);
    bool ok = ItemPointerIsValid(&h->heap_tid) && !(h->flags & kNodeDeleted);
    last_tid_ = h->heap_tid;
    UnlockReleaseBuffer(buf);
    return ok;
}

// ---- writing ---------------------------------------------------------------------------------

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
        init_page(page, kind);
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

uint32 allocate_element(Relation index, Layout* layout) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    GenericXLogState* st = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(st, buf, 0);
    Meta* meta = page_meta(page);
    uint32 id = meta->n_elements;
    if (id == kNoEntry - 1)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                        errmsg("hnsw index \"%s\" has too many elements", RelationGetRelationName(index))));
    uint32 npp = nodes_per_page(meta->m);
    uint32 vb = vec_bytes(static_cast<int>(meta->dims), static_cast<ElemKind>(meta->elem_kind));
    grow_stream(index, st, meta, false, id / npp + 1);
    grow_stream(index, st, meta, true, static_cast<uint32>(stream_slices(uint64{id} + 1, vb, kSliceBytes)));
    meta->n_elements = id + 1;
    layout->load(meta);
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
            Buffer buf = ReadBuffer(index, last);
            LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
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

void write_new_node(Relation index, Layout* layout, uint32 id, ItemPointer heap_tid, int level) {
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
    memset(rec, 0, layout->node_bytes);
    NodeHeader* h = reinterpret_cast<NodeHeader*>(rec);
    h->heap_tid = *heap_tid;
    h->level = static_cast<uint8>(level);
    h->flags = 0;
    h->upper_tid = upper;
    h->count0 = 0;
    GenericXLogFinish(st);
    UnlockReleaseBuffer(buf);
}

namespace {

/// Lock the page holding id's list on level exclusively and return a
/// pointer to that list's count (uint32 for upper levels; for level 0 the
/// node's count0 is uint16 and handled by the caller through *count0).
struct ListRef {
    Buffer buf;
    GenericXLogState* st;
    uint16* count0;  // level 0
    uint32* count;   // levels >= 1
    uint32* ids;
    uint32 cap;
};

bool open_list(Relation index, const Layout& layout, uint32 id, int level, ListRef* r) {
    uint32 off;
    BlockNumber blk = layout.node_block(id, &off);
    r->buf = ReadBuffer(index, blk);
    LockBuffer(r->buf, BUFFER_LOCK_EXCLUSIVE);
    r->count0 = nullptr;
    r->count = nullptr;
    char* rec = stream_data(BufferGetPage(r->buf)) + off;
    NodeHeader* h = reinterpret_cast<NodeHeader*>(rec);
    if (level == 0) {
        r->st = GenericXLogStart(index);
        rec = stream_data(GenericXLogRegisterBuffer(r->st, r->buf, 0)) + off;
        h = reinterpret_cast<NodeHeader*>(rec);
        r->count0 = &h->count0;
        r->ids = reinterpret_cast<uint32*>(rec + sizeof(NodeHeader));
        r->cap = 2u * layout.m;
        return true;
    }
    if (level > h->level || !ItemPointerIsValid(&h->upper_tid)) {
        UnlockReleaseBuffer(r->buf);
        return false;
    }
    ItemPointerData upper = h->upper_tid;
    UnlockReleaseBuffer(r->buf);
    r->buf = ReadBuffer(index, ItemPointerGetBlockNumber(&upper));
    LockBuffer(r->buf, BUFFER_LOCK_EXCLUSIVE);
    r->st = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(r->st, r->buf, 0);
    uint32* lists =
        reinterpret_cast<uint32*>(PageGetItem(page, PageGetItemId(page, ItemPointerGetOffsetNumber(&upper))));
    uint32* list = lists + static_cast<size_t>(level - 1) * (1 + layout.m);
    r->count = list;
    r->ids = list + 1;
    r->cap = static_cast<uint32>(layout.m);
    return true;
}

uint32 list_count(const ListRef& r) { return r.count0 ? *r.count0 : *r.count; }
void set_list_count(ListRef& r, uint32 n) {
    if (r.count0)
        *r.count0 = static_cast<uint16>(n);
    else
        *r.count = n;
}
void close_list(ListRef& r, bool changed) {
    if (changed)
        GenericXLogFinish(r.st);
    else
        GenericXLogAbort(r.st);
    UnlockReleaseBuffer(r.buf);
}

}  // namespace

void set_neighbors(Relation index, const Layout& layout, uint32 id, int level, const uint32* ids, uint32 n) {
    ListRef r;
    if (!open_list(index, layout, id, level, &r)) return;
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
    n = std::min(n, r.cap);
    memcpy(r.ids, ids, n * sizeof(uint32));
    set_list_count(r, n);
    close_list(r, true);
    return true;
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

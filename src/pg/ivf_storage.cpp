// ivf_storage.cpp — reading and changing ivf index pages (layout in
// ivf_page.h).
//
// Locking:
//  * The meta, centroid pages and directory layout never change after
//    CREATE INDEX, except the meta page's dims, set once by the first insert
//    into an index built empty without a typmod.
//  * A directory entry is read under a share lock on its page and changed
//    under an exclusive one, held while the insert writes its list's pages:
//    inserts into lists of one directory page are serialised.
//  * List pages are locked one at a time (share to read, exclusive to
//    append or mark). Lock order: directory page, then list pages; readers
//    and vacuum never hold a list page while waiting for a directory page.
#include <cmath>

#include "../core/ivf.h"
#include "ivf_am.h"

extern "C" {
#include "commands/vacuum.h"
#include "storage/buf_internals.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
}

namespace nmvec::pg::ivf {

void init_page(Page page, PageKind kind, uint32 zone_bytes) {
    PageInit(page, BLCKSZ, kind == kListPage ? list_special_bytes(zone_bytes) : sizeof(IvfOpaque));
    IvfOpaque* op = page_opaque(page);
    op->next = InvalidBlockNumber;
    op->kind = kind;
    op->page_id = kPageId;
    auto* ph = reinterpret_cast<PageHeader>(page);
    // The meta page holds raw data after the header (no hole); stream pages
    // start with their data area as the hole.
    ph->pd_lower = kind == kMetaPage ? ph->pd_upper : kStreamOffset;
}

bool page_is(Page page, PageKind kind) {
    // List pages may have a zone before the 8 bytes (read_list_page checks
    // its size against the index's); other pages have those 8 bytes alone.
    const uint32 special = reinterpret_cast<PageHeader>(page)->pd_special;
    if (PageIsNew(page) || special > BLCKSZ - MAXALIGN(sizeof(IvfOpaque)) ||
        special < BLCKSZ - list_special_bytes(kMaxZoneBytes) ||
        (kind != kListPage && special != BLCKSZ - MAXALIGN(sizeof(IvfOpaque))))
        return false;
    const IvfOpaque* op = page_opaque(page);
    return op->page_id == kPageId && op->kind == kind;
}

void report_bad_page(Relation index, BlockNumber blk, PageKind kind) {
    const char* name = kind == kMetaPage       ? "meta"
                       : kind == kCentroidPage ? "centroid"
                       : kind == kDirPage      ? "directory"
                       : kind == kSummaryPage  ? "summary"
                       : kind == kZoneMapPage  ? "zone map"
                                               : "list";
    ereport(ERROR,
            (errcode(ERRCODE_DATA_CORRUPTED),
             errmsg("ivf index \"%s\" has a corrupted page at block %u", RelationGetRelationName(index), blk),
             errdetail("Its header or special space is not that of an ivf %s page.", name),
             errhint("REINDEX the index.")));
    pg_unreachable();
}

namespace {

[[noreturn]] void report_corrupt(Relation index, const char* detail) {
    ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                    errmsg("ivf index \"%s\" is corrupted", RelationGetRelationName(index)),
                    errdetail_internal("%s", detail), errhint("REINDEX the index.")));
    pg_unreachable();
}

/// Whether blk is a block of the relation: the size read at the meta page,
/// or (for pages an insert added since) the current size.
bool block_exists(Relation index, const Layout& layout, BlockNumber blk) {
    if (blk == InvalidBlockNumber || blk == kMetaBlock) return false;
    return blk < layout.nblocks || blk < RelationGetNumberOfBlocks(index);
}

}  // namespace

void read_layout(Relation index, Layout* l) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    const bool ok = page_is(page, kMetaPage);
    Meta meta;
    if (ok) memcpy(&meta, page_meta(page), sizeof(Meta));
    UnlockReleaseBuffer(buf);
    if (!ok) report_bad_page(index, kMetaBlock, kMetaPage);
    if (meta.magic != kMagic) report_corrupt(index, "The meta page does not carry the ivf magic number.");
    if (meta.version != kFormatVersion)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("ivf index \"%s\" has format version %u; this nmvec reads version %u",
                               RelationGetRelationName(index), meta.version, kFormatVersion),
                        errhint("REINDEX the index.")));
    const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
    const auto metric = static_cast<Metric>(meta.metric);
    const auto quantizer = static_cast<Quantizer>(meta.quantizer);
    if ((metric != Metric::L2 && metric != Metric::InnerProduct && metric != Metric::Cosine) ||
        (meta.elem_kind != kFloat32 && meta.elem_kind != kFloat16) ||
        (quantizer != kFlat && quantizer != kRabitq) ||
        (quantizer == kRabitq && meta.bits != 1 && meta.bits != 2 && meta.bits != 4 && meta.bits != 8) ||
        meta.dims > static_cast<uint32>(nmvec::kMaxDims) || meta.trained > 1)
        report_corrupt(index,
                       "The meta page's metric, element kind, quantizer or dimensions are out of range.");
    if (meta.n_lists < 1 || meta.n_lists > static_cast<uint32>(kMaxLists) ||
        (!meta.trained && meta.n_lists != 1))
        report_corrupt(index, "The meta page's list count is out of range.");
    const ElemKind kind = static_cast<ElemKind>(meta.elem_kind);
    // The filter columns the catalog gives the index must be those its
    // records were written with.
    nmvec::filter::RecordLayout attrs = filter_layout(index);
    if (meta.attr_columns != attrs.columns() || meta.attr_bytes != attrs.bytes)
        report_corrupt(index, "The meta page's filter columns do not match the index's columns.");
    if (meta.dims > 0 &&
        meta.rec_bytes != record_bytes(meta.dims, kind, quantizer, meta.bits, meta.attr_bytes))
        report_corrupt(index, "The meta page's record size does not match its dimensions.");
    const uint64 dir_need = (meta.n_lists + kListsPerDirPage - 1) / kListsPerDirPage;
    const uint64 cent_need =
        meta.trained ? nmvec::stream_slices(meta.n_lists, centroid_bytes(meta.dims), kSliceBytes) : 0;
    if (meta.dir_pages != dir_need || meta.centroid_pages != cent_need || meta.dir_start == kMetaBlock ||
        static_cast<uint64>(meta.dir_start) + meta.dir_pages > nblocks ||
        (cent_need > 0 && (meta.centroid_start == kMetaBlock ||
                           static_cast<uint64>(meta.centroid_start) + cent_need > nblocks)))
        report_corrupt(index, "The meta page's centroid or directory pages lie outside the index.");
    l->dims = meta.dims;
    l->metric = metric;
    l->elem_kind = kind;
    l->quantizer = quantizer;
    l->bits = quantizer == kRabitq ? meta.bits : 0;
    l->seed = meta.seed;
    l->codec.reset();
    if (quantizer == kRabitq && meta.dims > 0) {
        l->codec = codec_for(meta.dims, meta.bits, meta.seed);
        if (l->codec->code_bytes() != l->code_bytes())
            elog(ERROR, "ivf RaBitQ code size %zu differs from the layout's %u", l->codec->code_bytes(),
                 l->code_bytes());
    }
    l->trained = meta.trained != 0;
    l->n_lists = meta.n_lists;
    l->rec_bytes = meta.rec_bytes;
    l->centroid_start = meta.centroid_start;
    l->centroid_pages = meta.centroid_pages;
    l->dir_start = meta.dir_start;
    l->dir_pages = meta.dir_pages;
    l->rows_built = meta.rows_built;
    l->nblocks = nblocks;
    l->attrs = std::move(attrs);
    l->vcol = vector_column(index);
    l->zone_bytes = l->attrs.columns() > 0 ? nmvec::filter::ZoneLayout::bytes(l->attrs) : 0;
    l->slice = list_slice(l->zone_bytes);
    l->summary_start = InvalidBlockNumber;
    l->summary_pages = 0;
    if (meta.summary_pages > 0) {
        const uint32 per = l->zone_bytes > 0 ? summaries_per_page(l->zone_bytes) : 0;
        if (per == 0 || meta.summary_pages != (meta.n_lists + per - 1) / per ||
            meta.summary_start <= kMetaBlock ||
            static_cast<uint64>(meta.summary_start) + meta.summary_pages > nblocks)
            report_corrupt(index, "The meta page's list summaries lie outside the index.");
        if (meta.map_pages > 0 &&
            (meta.map_start <= kMetaBlock || static_cast<uint64>(meta.map_start) + meta.map_pages > nblocks))
            report_corrupt(index, "The meta page's zone maps lie outside the index.");
        l->summary_start = meta.summary_start;
        l->summary_pages = meta.summary_pages;
        l->map_start = meta.map_start;
        l->map_pages = meta.map_pages;
    }
}

bool prepare_vector(const Layout& layout, Datum value, AlignedBytes& out, std::vector<float>& f32,
                    bool normalize) {
    struct varlena* raw = PG_DETOAST_DATUM(value);
    const auto* hdr = reinterpret_cast<const Vector*>(raw);  // dim at the same offset in both types
    if (static_cast<uint32>(hdr->dim) != layout.dims)
        ereport(ERROR, (errcode(ERRCODE_DATA_EXCEPTION),
                        errmsg("expected %u dimensions, not %d", layout.dims, static_cast<int>(hdr->dim)),
                        errdetail("Every vector in an ivf index has the dimensions of the index.")));
    const size_t dims = layout.dims;
    f32.resize(dims);
    if (layout.elem_kind == kFloat32)
        memcpy(f32.data(), reinterpret_cast<const Vector*>(raw)->x, dims * sizeof(float));
    else
        halfs_to_floats(reinterpret_cast<const HalfVector*>(raw)->x, f32.data(), dims);
    if (!normalize) return true;  // the caller normalises (the insert helper's batches)
    if (!nmvec::hnsw::normalize_for(layout.metric, f32.data(), dims)) return false;
    if (layout.quantizer != kFlat) return true;
    out.resize(layout.code_bytes());
    if (layout.elem_kind == kFloat32)
        memcpy(out.data(), f32.data(), dims * sizeof(float));
    else if (layout.metric == Metric::Cosine)
        floats_to_halfs(f32.data(), reinterpret_cast<uint16_t*>(out.data()), dims);
    else  // keep the exact bit patterns
        memcpy(out.data(), reinterpret_cast<const HalfVector*>(raw)->x, dims * sizeof(uint16_t));
    return true;
}

std::shared_ptr<const nmvec::RabitqCodec> codec_for(uint32 dims, uint32 bits, uint64 seed) {
    // The last few codecs of this backend: building one costs O(dims).
    static std::vector<std::shared_ptr<const nmvec::RabitqCodec>> cache;
    for (const auto& c : cache)
        if (c->dim() == dims && c->bits() == bits && c->seed() == seed) return c;
    auto c = std::make_shared<const nmvec::RabitqCodec>(dims, bits, seed);
    if (cache.size() >= 8) cache.erase(cache.begin());
    cache.push_back(c);
    return c;
}

void read_centroid(Relation index, const Layout& layout, uint32 list, float* out) {
    const uint32 cb = centroid_bytes(layout.dims);
    const nmvec::StreamSpan span(list, cb, kSliceBytes);
    for (uint32 p = 0; p < span.pieces(); ++p) {
        const nmvec::SpanPiece piece = span.piece(p);
        const BlockNumber blk = layout.centroid_start + piece.slice;
        Buffer buf = ReadBuffer(index, blk);
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        if (!page_is(BufferGetPage(buf), kCentroidPage)) {
            UnlockReleaseBuffer(buf);
            report_bad_page(index, blk, kCentroidPage);
        }
        memcpy(reinterpret_cast<char*>(out) + piece.at, stream_data(BufferGetPage(buf)) + piece.offset,
               piece.bytes);
        UnlockReleaseBuffer(buf);
    }
}

void rabitq_encode(Relation index, const Layout& layout, uint32 list, const float* f32, const float* centroid,
                   AlignedBytes& out) {
    out.resize(layout.code_bytes());
    float* tmp = nullptr;  // palloc: read_centroid may raise, which a std::vector would leak
    if (layout.trained && centroid == nullptr) {
        tmp = static_cast<float*>(palloc(sizeof(float) * layout.dims));
        read_centroid(index, layout, list, tmp);
        centroid = tmp;
    }
    layout.codec->encode(f32, layout.trained ? centroid : nullptr, reinterpret_cast<uint8_t*>(out.data()));
    if (tmp != nullptr) pfree(tmp);
}

namespace {

/// What this backend keeps of the indexes it used lately, keyed by index
/// and relfilenode (what CREATE INDEX writes never changes until REINDEX
/// or TRUNCATE, which give the index a new one): at most 8 indexes, the
/// oldest dropped first.
template <typename T>
class NodeCache {
 public:
    /// The value kept for the index, if ok(value) says it still fits.
    template <typename Ok>
    std::shared_ptr<const T> find(Relation index, Ok&& ok) const {
        for (const Entry& e : entries_)
            if (e.index == RelationGetRelid(index) && same_node(e.node, index->rd_node) && ok(*e.value))
                return e.value;
        return nullptr;
    }
    /// Keep value for the index (in place of what was kept for it).
    void put(Relation index, std::shared_ptr<const T> value) {
        for (auto it = entries_.begin(); it != entries_.end(); ++it)
            if (it->index == RelationGetRelid(index)) {
                entries_.erase(it);
                break;
            }
        if (entries_.size() >= kEntries) entries_.erase(entries_.begin());
        entries_.push_back({RelationGetRelid(index), index->rd_node, std::move(value)});
    }

 private:
    static constexpr size_t kEntries = 8;
    struct Entry {
        Oid index;
        RelFileNode node;
        std::shared_ptr<const T> value;
    };
    std::vector<Entry> entries_;
};

/// The centroids, for inserts (the nearest list) and scans (the order of
/// the lists, RaBitQ's residuals). Building them costs milliseconds; a
/// backend doing one-row inserts pays it once per index, not once per
/// statement.
NodeCache<nmvec::CentroidSearch>& centroid_cache() {
    static NodeCache<nmvec::CentroidSearch> cache;
    return cache;
}
constexpr size_t kCentroidCacheBytes = 64u << 20;

/// Copy every centroid (the stream pages in order) into out.
void load_centroids(Relation index, const Layout& l, std::vector<float>& out) {
    const uint64 bytes = static_cast<uint64>(l.n_lists) * centroid_bytes(l.dims);
    out.resize(static_cast<size_t>(l.n_lists) * l.dims);
    char* dst = reinterpret_cast<char*>(out.data());
    for (uint32 p = 0; p < l.centroid_pages; ++p) {
        const BlockNumber blk = l.centroid_start + p;
        Buffer buf = ReadBuffer(index, blk);
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        if (!page_is(BufferGetPage(buf), kCentroidPage)) {
            UnlockReleaseBuffer(buf);
            report_bad_page(index, blk, kCentroidPage);
        }
        const uint64 at = static_cast<uint64>(p) * kSliceBytes;
        memcpy(dst + at, stream_data(BufferGetPage(buf)), std::min<uint64>(kSliceBytes, bytes - at));
        UnlockReleaseBuffer(buf);
    }
}

}  // namespace

/// The cached centroids of a trained index (null when they are too big).
std::shared_ptr<const nmvec::CentroidSearch> cached_centroids(Relation index, const Layout& l,
                                                              std::vector<float>& tmp) {
    if (static_cast<size_t>(l.n_lists) * centroid_bytes(l.dims) > kCentroidCacheBytes) return nullptr;
    if (auto kept = centroid_cache().find(index, [&](const nmvec::CentroidSearch& c) {
            return c.dim() == l.dims && c.size() == l.n_lists;
        }))
        return kept;
    load_centroids(index, l, tmp);
    auto search = std::make_shared<const nmvec::CentroidSearch>(l.metric, l.dims, tmp.data(), l.n_lists);
    tmp.clear();
    tmp.shrink_to_fit();
    centroid_cache().put(index, search);
    return search;
}

void centroid_distances(Relation index, const Layout& layout, const float* q, std::vector<float>& out) {
    if (!layout.trained) {
        out.assign(1, 0.0f);
        return;
    }
    const uint32 cb = centroid_bytes(layout.dims);
    const nmvec::hnsw::Distance dist(layout.metric, layout.dims);
    out.resize(layout.n_lists);
    std::vector<float> tmp;
    Buffer buf = InvalidBuffer;
    uint32 buf_slice = UINT32_MAX;
    auto slice_data = [&](uint32 slice) -> const char* {
        if (slice != buf_slice) {
            if (BufferIsValid(buf)) UnlockReleaseBuffer(buf);
            const BlockNumber blk = layout.centroid_start + slice;
            buf = ReadBuffer(index, blk);
            LockBuffer(buf, BUFFER_LOCK_SHARE);
            if (!page_is(BufferGetPage(buf), kCentroidPage)) {
                UnlockReleaseBuffer(buf);
                report_bad_page(index, blk, kCentroidPage);
            }
            buf_slice = slice;
        }
        return stream_data(BufferGetPage(buf));
    };
    for (uint32 i = 0; i < layout.n_lists; ++i) {
        const nmvec::StreamSpan span(i, cb, kSliceBytes);
        if (span.within_one()) {
            out[i] = dist(reinterpret_cast<const float*>(slice_data(span.first_slice()) + span.offset()), q);
            continue;
        }
        tmp.resize(layout.dims);
        for (uint32 p = 0; p < span.pieces(); ++p) {
            const nmvec::SpanPiece piece = span.piece(p);
            memcpy(reinterpret_cast<char*>(tmp.data()) + piece.at, slice_data(piece.slice) + piece.offset,
                   piece.bytes);
        }
        out[i] = dist(tmp.data(), q);
    }
    if (BufferIsValid(buf)) UnlockReleaseBuffer(buf);
}

namespace {

Buffer lock_entry_page(Relation index, const Layout& layout, uint32 list, int lock, uint32* slot) {
    if (list >= layout.n_lists) elog(ERROR, "ivf list %u out of range", list);
    const BlockNumber blk = layout.dir_start + list / kListsPerDirPage;
    *slot = list % kListsPerDirPage;
    Buffer buf = hnsw::read_block(index, blk);
    LockBuffer(buf, lock);
    if (!page_is(BufferGetPage(buf), kDirPage)) {
        UnlockReleaseBuffer(buf);
        report_bad_page(index, blk, kDirPage);
    }
    return buf;
}

void check_entry(Relation index, const Layout& layout, const ListEntry& e) {
    if (e.head == InvalidBlockNumber) return;
    if (!block_exists(index, layout, e.head) || !block_exists(index, layout, e.tail))
        report_corrupt(index, "A list's directory entry names pages outside the index.");
}

}  // namespace

ListEntry read_entry(Relation index, const Layout& layout, uint32 list) {
    uint32 slot;
    Buffer buf = lock_entry_page(index, layout, list, BUFFER_LOCK_SHARE, &slot);
    ListEntry e = dir_entries(BufferGetPage(buf))[slot];
    UnlockReleaseBuffer(buf);
    check_entry(index, layout, e);
    return e;
}

namespace {
constexpr size_t kSummaryCacheBytes = 8u << 20;
NodeCache<Summaries>& summary_cache() {
    static NodeCache<Summaries> cache;
    return cache;
}
}  // namespace

std::shared_ptr<const Summaries> cached_summaries(Relation index, const Layout& layout) {
    if (layout.summary_pages == 0) return nullptr;
    if (auto kept = summary_cache().find(index, [&](const Summaries& c) {
            return c.lists.size() == layout.n_lists && c.zone_bytes == layout.zone_bytes;
        }))
        return kept;
    const uint32 zb = layout.zone_bytes, per = summaries_per_page(zb);
    auto sums = std::make_shared<Summaries>();
    sums->zone_bytes = zb;
    sums->lists.resize(layout.n_lists);
    sums->zones.resize(static_cast<size_t>(layout.n_lists) * zb);
    for (uint32 p = 0; p < layout.summary_pages; ++p) {
        const BlockNumber blk = layout.summary_start + p;
        Buffer buf = hnsw::read_block(index, blk);
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buf);
        if (!page_is(page, kSummaryPage)) {
            UnlockReleaseBuffer(buf);
            report_bad_page(index, blk, kSummaryPage);
        }
        const uint32 first = p * per, n = std::min(per, layout.n_lists - first);
        for (uint32 i = 0; i < n; ++i) {
            const char* at = stream_data(page) + static_cast<size_t>(i) * summary_bytes(zb);
            memcpy(&sums->lists[first + i], at, sizeof(ListSummary));
            memcpy(sums->zones.data() + static_cast<size_t>(first + i) * zb, at + sizeof(ListSummary), zb);
        }
        UnlockReleaseBuffer(buf);
    }
    // Every summary names pages within the index and zones within the maps.
    const uint64 map_zones = static_cast<uint64>(layout.map_pages) * kSliceBytes / zb;
    for (const ListSummary& sum : sums->lists)
        if (sum.covered > 0 && (!block_exists(index, layout, sum.resume) || sum.resume < sum.covered ||
                                sum.map_first > map_zones || sum.covered > map_zones - sum.map_first))
            report_corrupt(index, "A list's summary names pages outside the index.");
    // Kept only when small (at most 8 MB: 32,768 lists of three filter
    // columns take 5.5 MB), so a backend keeps at most 64 MB of them; a
    // bigger set is read again by each scan (a page pin per list).
    if (sums->zones.size() + sums->lists.size() * sizeof(ListSummary) <= kSummaryCacheBytes)
        summary_cache().put(index, sums);
    return sums;
}

void read_zone_map(Relation index, const Layout& layout, const ListSummary& sum, uint8_t* out) {
    const uint64 begin = sum.map_first * layout.zone_bytes;
    const uint64 end = begin + static_cast<uint64>(sum.covered) * layout.zone_bytes;
    for (uint64 pos = begin; pos < end;) {
        const BlockNumber blk = layout.map_start + static_cast<BlockNumber>(pos / kSliceBytes);
        const uint32 off = static_cast<uint32>(pos % kSliceBytes);
        const uint32 n = static_cast<uint32>(std::min<uint64>(end - pos, kSliceBytes - off));
        Buffer buf = hnsw::read_block(index, blk);
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buf);
        if (!page_is(page, kZoneMapPage) || written_bytes(page) < off + n) {
            UnlockReleaseBuffer(buf);
            report_bad_page(index, blk, kZoneMapPage);
        }
        memcpy(out + (pos - begin), stream_data(page) + off, n);
        UnlockReleaseBuffer(buf);
        pos += n;
    }
}

Buffer read_list_page(Relation index, const Layout& layout, BlockNumber blk, int lock) {
    if (!block_exists(index, layout, blk)) report_bad_page(index, blk, kListPage);
    Buffer buf = hnsw::read_block(index, blk);  // through this backend's hint of where it is
    LockBuffer(buf, lock);
    Page page = BufferGetPage(buf);
    if (!page_is(page, kListPage) ||
        reinterpret_cast<PageHeader>(page)->pd_special != BLCKSZ - list_special_bytes(layout.zone_bytes)) {
        UnlockReleaseBuffer(buf);
        report_bad_page(index, blk, kListPage);
    }
    return buf;
}

void prefetch_list_page(Relation index, BlockNumber blk, uint32 zone_bytes, bool records) {
    const Buffer buf = hnsw::block_hint(index, blk);
    if (buf == InvalidBuffer) return;
    const char* page = static_cast<const char*>(BufferGetPage(buf));
    // The header and the first records, or every record; then the special
    // space: the zone, then the next-page link.
    const uint32 special = BLCKSZ - list_special_bytes(zone_bytes);
    for (uint32 at = 0; at < (records ? special : 128u); at += 64) __builtin_prefetch(page + at);
    for (uint32 at = special & ~63u; at < BLCKSZ; at += 64) __builtin_prefetch(page + at);
    if (!BufferIsLocal(buf)) __builtin_prefetch(GetBufferDescriptor(buf - 1), 1);  // ReadRecentBuffer pins it
}

namespace {

/// A new list page, extended under the relation extension lock, returned
/// locked exclusively and initialised (not yet WAL-logged).
Buffer new_list_page(Relation index) {
    LockRelationForExtension(index, ExclusiveLock);
    Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, nullptr);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    UnlockRelationForExtension(index, ExclusiveLock);
    return buf;
}

}  // namespace

namespace {

/// Write record bytes [from, to) of the stream (the record starting at
/// stream byte pos) into the page of slice s (its data area), and widen
/// the page's zone to cover the record.
void put_piece(const Layout& l, Page page, uint64 s, uint64 pos, const char* rec, uint64 from, uint64 to) {
    const uint64 s_start = s * l.slice;
    memcpy(stream_data(page) + (from - s_start), rec + (from - pos), to - from);
    cover_written(page, static_cast<uint32>(to - s_start));
    if (l.zone_bytes > 0)
        nmvec::filter::ZoneLayout::add(page_zone(page), l.attrs,
                                       reinterpret_cast<const uint8_t*>(rec) + l.attr_offset());
}

/// The pages of slices [first, last] of a record starting at stream byte
/// pos, last first, each linked to the next and WAL-logged whole; none is
/// reachable until the caller links the first. Returns the first's block,
/// *last_blk the last's.
BlockNumber write_new_pages(Relation index, const Layout& l, uint64 first, uint64 last, uint64 pos,
                            const char* rec, BlockNumber* last_blk) {
    const uint32 rb = l.rec_bytes;
    BlockNumber next_blk = InvalidBlockNumber;
    *last_blk = InvalidBlockNumber;
    for (int64 s = static_cast<int64>(last); s >= static_cast<int64>(first); --s) {
        Buffer nb = new_list_page(index);
        GenericXLogState* st = GenericXLogStart(index);
        Page page = GenericXLogRegisterBuffer(st, nb, GENERIC_XLOG_FULL_IMAGE);
        init_page(page, kListPage, l.zone_bytes);
        page_opaque(page)->next = next_blk;
        const uint64 s_start = static_cast<uint64>(s) * l.slice;
        put_piece(l, page, s, pos, rec, std::max(pos, s_start), std::min(pos + rb, s_start + l.slice));
        GenericXLogFinish(st);
        next_blk = BufferGetBlockNumber(nb);
        UnlockReleaseBuffer(nb);
        if (*last_blk == InvalidBlockNumber) *last_blk = next_blk;
    }
    return next_blk;
}

}  // namespace

namespace {

/// The tail of a list, exclusively locked: the entry's tail, or past it if
/// inserts added pages since. *slice is its index in the chain.
Buffer lock_tail(Relation index, const Layout& layout, const ListEntry& e, uint64* slice) {
    *slice = e.tail_slice;
    Buffer buf = read_list_page(index, layout, e.tail, BUFFER_LOCK_EXCLUSIVE);
    for (;;) {
        Page page = BufferGetPage(buf);
        if (written_bytes(page) < layout.slice || page_opaque(page)->next == InvalidBlockNumber) return buf;
        const BlockNumber next = page_opaque(page)->next;
        UnlockReleaseBuffer(buf);
        buf = read_list_page(index, layout, next, BUFFER_LOCK_EXCLUSIVE);
        ++*slice;
    }
}

}  // namespace

void append_records(Relation index, const Layout& layout, uint32 list, const char* recs, uint32 n) {
    const uint32 rb = layout.rec_bytes;
    uint32 i = 0;
    ListEntry e = read_entry(index, layout, list);
    if (e.head == InvalidBlockNumber) {
        // An empty list: its first pages (holding the first record), and the
        // entry naming them, under the directory page's exclusive lock
        // (another insert may have started the list meanwhile: then append
        // as below).
        uint32 slot;
        Buffer dbuf = lock_entry_page(index, layout, list, BUFFER_LOCK_EXCLUSIVE, &slot);
        e = dir_entries(BufferGetPage(dbuf))[slot];
        if (e.head == InvalidBlockNumber) {
            BlockNumber last;
            const uint64 last_slice = (rb - 1) / layout.slice;
            const BlockNumber first = write_new_pages(index, layout, 0, last_slice, 0, recs, &last);
            GenericXLogState* st = GenericXLogStart(index);
            ListEntry& ne = dir_entries(GenericXLogRegisterBuffer(st, dbuf, 0))[slot];
            ne.head = first;
            ne.tail = last;
            ne.tail_slice = static_cast<uint32>(last_slice);
            e = ne;
            GenericXLogFinish(st);
            i = 1;
        }
        UnlockReleaseBuffer(dbuf);
        check_entry(index, layout, e);
    }
    while (i < n) {
        uint64 tail_slice;
        Buffer tbuf = lock_tail(index, layout, e, &tail_slice);
        uint32 used = written_bytes(BufferGetPage(tbuf));
        uint64 pos = tail_slice * layout.slice + used;
        if (used > layout.slice || pos % rb != 0)
            report_corrupt(index, "A list page's written size is not a whole number of records.");
        // As many whole records as fit the tail page, in one WAL record.
        if (used + rb <= layout.slice) {
            GenericXLogState* st = GenericXLogStart(index);
            Page page = GenericXLogRegisterBuffer(st, tbuf, 0);
            while (i < n && used + rb <= layout.slice) {
                put_piece(layout, page, tail_slice, pos, recs + static_cast<size_t>(i) * rb, pos, pos + rb);
                used += rb;
                pos += rb;
                ++i;
            }
            GenericXLogFinish(st);
        }
        if (i == n) {
            UnlockReleaseBuffer(tbuf);
            break;
        }
        // The next record goes past the tail page: new pages for the rest of
        // it, then the piece in the tail (if any room), its link and the
        // directory entry, in one WAL record. (Lock order: this list page,
        // then the directory page; nobody holds a directory page while
        // waiting for a list page.)
        const char* rec = recs + static_cast<size_t>(i) * rb;
        const uint64 last_slice = (pos + rb - 1) / layout.slice;
        BlockNumber last;
        const BlockNumber first = write_new_pages(index, layout, tail_slice + 1, last_slice, pos, rec, &last);
        uint32 slot;
        Buffer dbuf = lock_entry_page(index, layout, list, BUFFER_LOCK_EXCLUSIVE, &slot);
        GenericXLogState* st = GenericXLogStart(index);
        Page wt = GenericXLogRegisterBuffer(st, tbuf, 0);
        if (used < layout.slice)
            put_piece(layout, wt, tail_slice, pos, rec, pos, (tail_slice + 1) * layout.slice);
        page_opaque(wt)->next = first;
        ListEntry& ne = dir_entries(GenericXLogRegisterBuffer(st, dbuf, 0))[slot];
        ne.tail = last;
        ne.tail_slice = static_cast<uint32>(last_slice);
        e = ne;
        GenericXLogFinish(st);
        UnlockReleaseBuffer(dbuf);
        UnlockReleaseBuffer(tbuf);
        ++i;
    }
}

uint64 mark_dead(Relation index, const Layout& layout, const ListEntry& e, IndexBulkDeleteCallback dead,
                 void* dead_state, uint64* live) {
    const uint32 rb = layout.rec_bytes;
    BlockNumber blk = e.head;
    uint64 page_start = 0, pos = 0, marked = 0;
    while (blk != InvalidBlockNumber) {
        Buffer buf = read_list_page(index, layout, blk, BUFFER_LOCK_EXCLUSIVE);
        Page page = BufferGetPage(buf);
        const uint32 valid = written_bytes(page);
        const bool full = valid == layout.slice;
        const uint64 end = page_start + valid;
        GenericXLogState* st = nullptr;
        Page wpage = nullptr;
        // Records whose header lies on this page (headers never straddle);
        // one that began on an earlier page was counted there.
        for (; pos < page_start + layout.slice; pos += rb) {
            if (pos < page_start) continue;
            if (pos + sizeof(RecordHeader) > end) break;
            const uint32 off = static_cast<uint32>(pos - page_start);
            const RecordHeader* h = reinterpret_cast<const RecordHeader*>(stream_data(page) + off);
            if (h->flags & kRecordDead) continue;
            ItemPointerData tid = h->heap_tid;
            if (dead(&tid, dead_state)) {
                if (st == nullptr) {
                    st = GenericXLogStart(index);
                    wpage = GenericXLogRegisterBuffer(st, buf, 0);
                }
                reinterpret_cast<RecordHeader*>(stream_data(wpage) + off)->flags |= kRecordDead;
                ++marked;
            } else {
                ++*live;
            }
        }
        if (st != nullptr) GenericXLogFinish(st);
        blk = full ? page_opaque(page)->next : InvalidBlockNumber;
        UnlockReleaseBuffer(buf);
        page_start += layout.slice;
        vacuum_delay_point();
    }
    return marked;
}
}  // namespace nmvec::pg::ivf

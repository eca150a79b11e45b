// ivf_am.h — the ivf index access method (also reachable as `ivfflat`,
// pgvector's name, with pgvector's options and settings). Phase files:
//   ivf_am.cpp       handler, options, GUCs, cost estimate
//   ivf_build.cpp    CREATE INDEX: sample, k-means (FAISS), assign, pages
//   ivf_storage.cpp  meta, centroids, directory, list append and read
//   ivf_scan.cpp     ordered, iterative scans
//   ivf_vacuum.cpp   bulk delete
// Layout in ivf_page.h.
#pragma once

#include <cstddef>
#include <memory>
#include <type_traits>
#include <vector>

#include "../core/ivf.h"
#include "../core/memory.h"
#include "../core/rabitq.h"
#include "cxx_context.h"
#include "filter_columns.h"
#include "guard.h"
#include "hnsw_storage.h"  // ElemDistance, sql_distance
#include "ivf_page.h"
#include "vector_type.h"

extern "C" {
#include "access/amapi.h"
#include "access/reloptions.h"
#include "nodes/execnodes.h"
}

namespace nmvec::pg::ivf {

using nmvec::hnsw::Metric;

/// reloptions of an ivf (or ivfflat) index.
struct Options {
    int32 vl_len_;
    int lists;             // -1: derived from the row count at build time
    int quantizer_offset;  // string option: offset of the value in this struct, 0 when not set
};
/// The quantizer (and RaBitQ bits) an index's options ask for; when not
/// given, rabitq (1 bit) for an ivf index whose key is a table column
/// (column_key), flat otherwise.
void quantizer_option(Relation index, bool column_key, Quantizer* q, uint32* bits);
/// lists asked for, or -1.
int lists_option(Relation index);

/// GUCs (ivf_am.cpp). ivf indexes read ivf.probes; ivfflat indexes read
/// pgvector's ivfflat.probes and ivfflat.max_probes.
extern int g_probes;          // ivf.probes; 0: automatic
extern int g_rerank;          // ivf.rerank; 0: automatic (the error bounds decide)
extern bool g_insert_helper;  // ivf.insert_helper
extern int g_ivfflat_probes;
extern int g_ivfflat_iterative_scan;
extern int g_ivfflat_max_probes;

/// A filtered scan round (ivf_scan.cpp) ends once it holds, as passing
/// rows, 1/kWidenShare of the records its first lists held; it reads at
/// most kMaxWiden times those lists, provided it holds 1/kMaxWiden of the
/// rows it wants by then (and the share of passing rows no longer rises).
/// The cost estimate (ivf_am.cpp) follows the same rule.
constexpr uint32 kMaxWiden = 32;
constexpr uint64 kWidenShare = 2;

/// Lists a scan probes first, and at most, for this index.
void probe_counts(Relation index, uint32 n_lists, uint32* first, uint32* max);
/// The automatic ivf.probes for an index of n_lists lists.
uint32 auto_probes(uint32 n_lists);
/// The automatic `lists` for a table of n rows.
uint32 auto_lists(double n);

/// The layout facts of an index, read from its meta page.
struct Layout {
    uint32 dims = 0;
    Metric metric = Metric::L2;
    ElemKind elem_kind = kFloat32;
    Quantizer quantizer = kFlat;
    uint32 bits = 0;                                  // kRabitq
    uint64 seed = 0;                                  // kRabitq
    std::shared_ptr<const nmvec::RabitqCodec> codec;  // kRabitq
    bool trained = false;
    uint32 n_lists = 1;
    uint32 rec_bytes = 0;
    BlockNumber centroid_start = InvalidBlockNumber, dir_start = InvalidBlockNumber;
    uint32 centroid_pages = 0, dir_pages = 0;
    BlockNumber summary_start = InvalidBlockNumber;  // list summaries (ivf_page.h), if summary_pages > 0
    uint32 summary_pages = 0;
    BlockNumber map_start = InvalidBlockNumber;  // their zone maps
    uint32 map_pages = 0;
    uint64 rows_built = 0;
    BlockNumber nblocks = 0;            // relation size when the meta page was read
    nmvec::filter::RecordLayout attrs;  // the filter columns (none for an index on the vector alone)
    int vcol = 0;                       // the vector's key column (0-based)
    uint32 zone_bytes = 0;              // a list page's zone (0 without filter columns)
    uint32 slice = kSliceBytes;         // stream bytes a list page holds (list_slice)
    uint32 code_bytes() const { return ivf::code_bytes(dims, elem_kind, quantizer, bits); }
    /// Where a record's filter values start (from the record's first byte).
    uint32 attr_offset() const { return static_cast<uint32>(sizeof(RecordHeader)) + code_bytes(); }
};

/// Read and check the meta page (XX001/XX002 with a REINDEX hint when wrong).
void read_layout(Relation index, Layout* layout);

/// Convert a vector/halfvec datum into its float32 form in `f32` (unit
/// length under cosine) and, for a flat index, the record's code in `out`
/// (the element kind). False for a zero vector under cosine (not indexed).
/// Errors when the dims differ from the index's.
bool prepare_vector(const Layout& layout, Datum value, AlignedBytes& out, std::vector<float>& f32,
                    bool normalize = true);
/// The code of a RaBitQ index for f32 in `list` into out; centroid is the
/// list's (null: read from the index).
void rabitq_encode(Relation index, const Layout& layout, uint32 list, const float* f32, const float* centroid,
                   AlignedBytes& out);
/// Whether two relfilenodes are the same (an index rebuilt by TRUNCATE,
/// REINDEX or a rewrite has a new one).
inline bool same_node(const RelFileNode& a, const RelFileNode& b) {
    return a.spcNode == b.spcNode && a.dbNode == b.dbNode && a.relNode == b.relNode;
}
/// The centroids of a trained index and their search, kept per backend
/// until the index's relfilenode changes; null when they exceed 64 MB (then
/// read them from the pages: centroid_distances, read_centroid). tmp is
/// scratch for loading them.
std::shared_ptr<const nmvec::CentroidSearch> cached_centroids(Relation index, const Layout& l,
                                                              std::vector<float>& tmp);
/// Centroid `list` into out (dims floats).
void read_centroid(Relation index, const Layout& layout, uint32 list, float* out);
/// A codec for the layout (shared between layouts of one backend).
std::shared_ptr<const nmvec::RabitqCodec> codec_for(uint32 dims, uint32 bits, uint64 seed);

/// Distances from a float32 query to every centroid, into out (n_lists);
/// for an untrained index one 0.
void centroid_distances(Relation index, const Layout& layout, const float* q, std::vector<float>& out);

/// Every list's summary (ivf_page.h), kept by this backend until the
/// index's relfilenode changes (summaries change only with REINDEX or
/// TRUNCATE, which give it a new one): a filtered scan checks each list's
/// zone in memory, and looks a few lists ahead to prefetch the page of a
/// list whose built pages it will skip.
struct Summaries {
    std::vector<ListSummary> lists;
    std::vector<uint8_t> zones;  // zone_bytes a list
    uint32 zone_bytes = 0;
    const uint8_t* zone(uint32 list) const { return zones.data() + static_cast<size_t>(list) * zone_bytes; }
};
/// The index's summaries (null when it has none), kept when they take at
/// most 8 MB, else read anew (at most 51 MB: 32,768 lists of 32 filter
/// columns).
std::shared_ptr<const Summaries> cached_summaries(Relation index, const Layout& layout);
/// A list's zone map: the zones of its `covered` built pages (a summary's
/// map_first, covered) into out (covered * layout.zone_bytes).
void read_zone_map(Relation index, const Layout& layout, const ListSummary& sum, uint8_t* out);

/// Copy the directory entry of `list`.
ListEntry read_entry(Relation index, const Layout& layout, uint32 list);

/// Append n records (header + code each, rec_bytes apart) to `list`: as
/// many to a WAL record as fit the list's tail page.
void append_records(Relation index, const Layout& layout, uint32 list, const char* recs, uint32 n);

/// Prefetch what reading list page blk touches first (its header, first
/// records, zone and next-page link, and its buffer descriptor) when this
/// backend knows where it is in shared buffers (block_hint: the page was
/// read here before); nothing otherwise. With records, every record line
/// too: for the next page while a reader estimates the current one's codes.
/// Without that the 1-bit kernel waited on memory for most of its time:
/// each page is a new 8 KB stretch of shared buffers, which the hardware
/// prefetcher learns anew (10M events, 50 queries, one client: p50 1.7-2.0
/// ms -> 1.3-1.5 ms; see docs/ivf.md).
void prefetch_list_page(Relation index, BlockNumber blk, uint32 zone_bytes, bool records = false);

/// Which of a list's built pages a reader leaves unread, from its summary
/// (ListSummary): pages [0, covered) of the chain, laid out in a row from
/// its head, all full; pass[i] 0: no record with a byte on page i can pass
/// (its zone in the map rules the scan's conditions out).
struct BuiltPages {
    uint32 covered = 0;
    const uint8_t* pass = nullptr;
};

/// Reads the records of one list: fn(header, code) for each complete
/// record of the chain starting at entry.head (the code contiguous: a
/// record that straddles pages is copied). Pages are share-locked one at a
/// time.
class ListReader {
 public:
    ListReader(Relation index, const Layout& layout) : index_(index), layout_(layout) {}
    /// Whether a page's successor is prefetched whole while the page is
    /// read (prefetch_list_page's records): for readers that go through
    /// every page's records; off for one whose zone checks skip most pages.
    void set_prefetch_records(bool on) { prefetch_records_ = on; }
    template <typename Fn>
    uint64 read(const ListEntry& e, Fn&& fn) {
        return read(e, fn, nullptr);
    }
    /// The same, skipping the pages whose zone may_pass rejects (read_runs).
    template <typename Fn, typename MayPass>
    uint64 read(const ListEntry& e, Fn&& fn, MayPass&& may_pass, const BuiltPages* built = nullptr);
    /// The same records in runs: fn(records, n) gets n >= 1 whole records
    /// back to back (rec_bytes apart), valid during the call only: the
    /// records of one page at a time, a straddling record alone. With
    /// may_pass (an index with zones), a page whose zone it rejects is
    /// skipped with every record that has a byte on it. Returns the
    /// records the chain holds, skipped ones included.
    template <typename Fn>
    uint64 read_runs(const ListEntry& e, Fn&& fn) {
        return read_runs(e, fn, nullptr);
    }
    /// With built: the built pages it marks are skipped as if their zone
    /// had ruled them out, without reading them.
    template <typename Fn, typename MayPass>
    uint64 read_runs(const ListEntry& e, Fn&& fn, MayPass&& may_pass, const BuiltPages* built = nullptr);

 private:
    Relation index_;
    const Layout& layout_;
    AlignedBytes carry_;
    bool prefetch_records_ = false;
};

/// Marks dead (kRecordDead) every live record of the list for which
/// dead(heap_tid) is true, page by page under an exclusive lock, one WAL
/// record per changed page. Returns the records marked; *live counts the
/// live ones left. Records appended meanwhile may or may not be seen.
uint64 mark_dead(Relation index, const Layout& layout, const ListEntry& e, IndexBulkDeleteCallback dead,
                 void* dead_state, uint64* live);

/// Pin and lock block `blk` of a list, checking it is a list page within
/// the relation (XX001 otherwise).
Buffer read_list_page(Relation index, const Layout& layout, BlockNumber blk, int lock);

/// Which element kind and metric the opclass gives (the hnsw support function).
void opclass_info(Relation index, Metric* metric, ElemKind* kind);

void register_ivf();

/// Inserts buffer their records per list in backend memory (ivf_insert.cpp)
/// and write them a page at a time; everything buffered is written before
/// the transaction commits or prepares, and before this backend scans,
/// vacuums or counts the index. flush_buffered writes what is buffered for
/// one index now.
void flush_buffered(Relation index);
void register_insert_buffers();

IndexBuildResult* build(Relation heap, Relation index, IndexInfo* info);
void buildempty(Relation index);
IndexBulkDeleteResult* bulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                  IndexBulkDeleteCallback callback, void* cb_state);
IndexBulkDeleteResult* vacuumcleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats);

/// Report a page that is not what the layout says (XX001).
[[noreturn]] void report_bad_page(Relation index, BlockNumber blk, PageKind kind);
/// Whether the page has our special space, page id and `kind`.
bool page_is(Page page, PageKind kind);

// ---- ListReader::read ------------------------------------------------------------------------

template <typename Fn, typename MayPass>
uint64 ListReader::read(const ListEntry& e, Fn&& fn, MayPass&& may_pass, const BuiltPages* built) {
    const uint32 rb = layout_.rec_bytes;
    return read_runs(
        e,
        [&](const char* recs, uint32 n) {
            for (uint32 i = 0; i < n; ++i)
                fn(reinterpret_cast<const RecordHeader*>(recs + static_cast<size_t>(i) * rb),
                   recs + static_cast<size_t>(i) * rb + sizeof(RecordHeader));
        },
        may_pass, built);
}

template <typename Fn, typename MayPass>
uint64 ListReader::read_runs(const ListEntry& e, Fn&& fn, MayPass&& may_pass, const BuiltPages* built) {
    const uint32 rb = layout_.rec_bytes;
    const uint32 slice = layout_.slice;
    if (carry_.size() < rb) carry_.resize(rb);
    BlockNumber blk = e.head;
    uint64 page_start = 0;  // stream byte where the current page's slice starts
    uint64 pos = 0;         // stream byte of the next record
    uint32 carried = 0;     // bytes of a straddling record copied so far
    uint64 total = 0;       // complete records of the chain
    // Built pages the mask leaves unread: chain page i < covered is block
    // head + i, and page `covered` (the build's last) is always read.
    const uint32 covered = built != nullptr && e.head != InvalidBlockNumber ? built->covered : 0;
    auto unread = [&](uint32 i) { return i < covered && built->pass[i] == 0; };
    auto next_read = [&](uint32 i) {  // the first chain page from i on that is read
        while (unread(i)) ++i;
        return i;
    };
    // The next two pages of the chain that are read are prefetched while
    // one is read: built pages by their place, others by the links as this
    // backend last saw them (block_next), the pages where it last found
    // them (block_hint). The build lays each list's pages out in a row,
    // but pages added by inserts since go at the end of the index, so
    // nothing is guessed: a chain read for the first time is not prefetched.
    auto block_after = [&](uint32 i, BlockNumber b) {  // the page read after chain page i, at block b
        const uint32 n = next_read(i + 1);
        return n <= covered ? e.head + n : hnsw::block_next(index_, b);
    };
    {
        const uint32 f = next_read(0);
        const BlockNumber fb = covered > 0 ? e.head + f : blk;
        prefetch_list_page(index_, fb, layout_.zone_bytes);
        prefetch_list_page(index_, block_after(f, fb), layout_.zone_bytes);
    }
    for (uint32 pages = 0; blk != InvalidBlockNumber; ++pages) {
        if ((pages & 63) == 63) CHECK_FOR_INTERRUPTS();
        if (unread(pages)) {
            // As for a page whose zone rules it out (below), unread.
            carried = 0;
            pos = std::max(pos, (page_start + slice + rb - 1) / rb * rb);
            blk = e.head + pages + 1;
            page_start += slice;
            continue;
        }
        Buffer buf = read_list_page(index_, layout_, blk, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buf);
        const char* data = stream_data(page);
        const uint32 valid = written_bytes(page);
        const bool full = valid == slice;
        const uint64 end = page_start + valid;
        total = end / rb;
        const BlockNumber next = full ? page_opaque(page)->next : InvalidBlockNumber;
        if (pages < covered && (!full || next != blk + 1)) {
            UnlockReleaseBuffer(buf);
            ereport(ERROR, (errcode(ERRCODE_INDEX_CORRUPTED),
                            errmsg("ivf index \"%s\" is corrupted", RelationGetRelationName(index_)),
                            errdetail_internal(
                                "Built list page %u is not full or not followed by the next block.", blk),
                            errhint("REINDEX the index.")));
        }
        {
            // The next page's first lines were prefetched a page ago if its
            // link was known then (or it is a built page the mask skips
            // to); a reader that prefetches records takes all of its lines
            // now.
            const bool known = hnsw::swap_block_next(index_, blk, next) == next;
            const uint32 n = next_read(pages + 1);
            const BlockNumber nb = n <= covered ? e.head + n : next;
            if (prefetch_records_ || !known)
                prefetch_list_page(index_, nb, layout_.zone_bytes, prefetch_records_);
            if (nb != InvalidBlockNumber) prefetch_list_page(index_, block_after(n, nb), layout_.zone_bytes);
        }
        if constexpr (!std::is_same_v<std::decay_t<MayPass>, std::nullptr_t>) {
            if (layout_.zone_bytes > 0 && !may_pass(page_zone(page))) {
                // No record with a byte here can pass: drop the one carried
                // in, go on at the first record that starts after the page.
                carried = 0;
                pos = std::max(pos, (page_start + slice + rb - 1) / rb * rb);
                blk = next;
                UnlockReleaseBuffer(buf);
                page_start += slice;
                continue;
            }
        }
        if (carried > 0) {  // the rest of a record begun on an earlier page
            const uint32 take = static_cast<uint32>(std::min<uint64>(rb - carried, valid));
            memcpy(carry_.data() + carried, data, take);
            carried += take;
            if (carried == rb) {
                fn(reinterpret_cast<const char*>(carry_.data()), 1u);
                carried = 0;
                pos += rb;
            }
        }
        if (carried == 0 && pos < end) {
            // The whole records of this page, then the start of one that
            // straddles into the next (only a full page has a successor).
            const uint32 off = static_cast<uint32>(pos - page_start);
            const uint32 whole = static_cast<uint32>((end - pos) / rb);
            if (whole > 0) fn(data + off, whole);
            pos += static_cast<uint64>(whole) * rb;
            if (pos < end && full) {
                carried = static_cast<uint32>(end - pos);
                memcpy(carry_.data(), data + (pos - page_start), carried);
            }
        }
        blk = next;
        UnlockReleaseBuffer(buf);
        page_start += slice;
    }
    return total;
}

}  // namespace nmvec::pg::ivf

extern "C" {
IndexBuildResult* nmvec_ivf_build(Relation heap, Relation index, IndexInfo* info);
void nmvec_ivf_buildempty(Relation index);
bool nmvec_ivf_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid, Relation heap,
                      IndexUniqueCheck check, bool unchanged, IndexInfo* info);
IndexBulkDeleteResult* nmvec_ivf_bulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                            IndexBulkDeleteCallback callback, void* callback_state);
IndexBulkDeleteResult* nmvec_ivf_vacuumcleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats);
IndexScanDesc nmvec_ivf_beginscan(Relation index, int nkeys, int norderbys);
void nmvec_ivf_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool nmvec_ivf_gettuple(IndexScanDesc scan, ScanDirection dir);
void nmvec_ivf_endscan(IndexScanDesc scan);
}

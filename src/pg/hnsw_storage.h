// hnsw_storage.h — reading and changing hnsw index pages (layout in
// hnsw_page.h). Used by the scan, insert and vacuum code.
//
// Locking (see also hnsw_insert.cpp):
//  * A node record is read under a share lock on its node page and changed
//    under an exclusive one; a backend holds at most one node or upper page
//    lock at a time.
//  * Vector bytes never change once written, and an element is reached only
//    through a neighbour list written after its vector: they are read with a
//    pin and no content lock. Writers lock vector pages exclusively only to
//    add a new vector (in block order, holding no other page lock).
//  * The meta page is locked exclusively to allocate element ids, add
//    extents or move the entry point; no other page lock is held then
//    except the relation extension lock taken inside.
#pragma once

#include <memory>
#include <unordered_map>

#include "../core/attr_filter.h"
#include "../core/distance.h"
#include "../core/hnsw_iter.h"
#include "../core/rabitq.h"
#include "../core/sq8.h"
#include "../core/page_copies.h"
#include "hnsw_page.h"

namespace nmvec::pg::hnsw {

/// Distance between a stored vector and the query, both in the index's
/// element kind (float32, or binary16 bit patterns), under the index metric.
/// Cosine vectors are unit-normalised, so cosine distance is 1 - dot.
struct ElemDistance {
    nmvec::hnsw::Metric metric;
    ElemKind kind;
    size_t dims;
    const DistanceKernels* k;

    /// The additive part of the distance over `n` elements: distances over
    /// the two halves of a vector that straddles pages add up (L2 squared,
    /// -dot, L1), and finish() turns the sum into the graph distance.
    float partial(const void* a, const void* b, size_t n) const {
        using nmvec::hnsw::Metric;
        if (kind == kFloat32) {
            auto x = static_cast<const float*>(a), y = static_cast<const float*>(b);
            switch (metric) {
                case Metric::L2:
                    return k->f32_l2sq(x, y, n);
                case Metric::InnerProduct:
                case Metric::Cosine:
                    return -k->f32_dot(x, y, n);
                case Metric::L1:
                    return k->f32_l1(x, y, n);
            }
        } else {
            auto x = static_cast<const uint16_t*>(a), y = static_cast<const uint16_t*>(b);
            switch (metric) {
                case Metric::L2:
                    return k->f16_l2sq(x, y, n);
                case Metric::InnerProduct:
                case Metric::Cosine:
                    return -k->f16_dot(x, y, n);
                case Metric::L1:
                    return k->f16_l1(x, y, n);
            }
        }
        return 0.0f;
    }
    /// Cosine vectors are unit-normalised: cosine distance = 1 - dot.
    float finish(float sum) const { return metric == nmvec::hnsw::Metric::Cosine ? 1.0f + sum : sum; }
    float operator()(const void* a, const void* b) const { return finish(partial(a, b, dims)); }
    size_t elem_size() const { return kind == kFloat16 ? 2 : 4; }
};

/// ReadBuffer(rel, blk), but first the buffer `hint` (where blk was found
/// before, or InvalidBuffer) pinned again if it still holds the block: no
/// buffer-mapping lookup. Counted in pg_statio as ReadBuffer counts it
/// (ReadRecentBuffer has no relation to count against): fetched and hit.
Buffer read_buffer_hinted(Relation rel, BlockNumber blk, Buffer hint);
/// ReadBuffer through a per-backend hint of where each block of this index
/// last was in shared buffers (kept in rd_amcache, so dropped with the
/// relcache entry): when the hint still holds, ReadRecentBuffer pins it
/// without the buffer-mapping hash lookup. hnsw and ivf indexes alike.
Buffer read_block(Relation index, BlockNumber blk);
/// The buffer read_block last found blk in (it may hold another page by
/// now), or InvalidBuffer: for prefetching the page's memory.
Buffer block_hint(Relation index, BlockNumber blk);
/// A page chain's links as this backend last saw them (ivf lists), hints
/// for prefetching only, kept beside read_block's (blk must have been read
/// through it): block_next(blk) is what followed blk (InvalidBlockNumber:
/// unknown, or the end); swap_block_next records that next follows blk and
/// returns what block_next said before.
BlockNumber block_next(Relation index, BlockNumber blk);
BlockNumber swap_block_next(Relation index, BlockNumber blk, BlockNumber next);

/// The value the SQL operator would return for a graph distance.
double sql_distance(nmvec::hnsw::Metric metric, float d);

struct IndexCopies;
/// Most node pages one scan copies (PageAccess::keep_page_if_final).
constexpr uint32 kCopiesPerScan = 256;
/// Most bytes of node-page copies a backend keeps (PageAccess::zone_may_pass,
/// PageAccess::passes), over all indexes: with three filter columns a page
/// of 49 elements has a zone of 152 bytes and values of 833. The values
/// stop at three quarters of it (about 600,000 elements); the zones go on
/// (about 5 million in all).
constexpr size_t kZoneCacheBytes = 16u << 20;
/// Most bytes of sweep-code copies a backend keeps besides, over all
/// indexes (PageAccess::passing_run: bounded sweeps only). A code of 784
/// dimensions takes 128 bytes, of 384 dimensions 72; with the arrays'
/// quarter to grow, that is about 150,000 and 270,000 elements.
constexpr size_t kCodeCacheBytes = 24u << 20;

/// Reads nodes and vectors of one index for one query. Lives inside a scan or
/// insert state (its buffers are std::vectors); holds no buffer pin between
/// calls. Implements the Access concept of src/core/hnsw.h.
class PageAccess {
 public:
    PageAccess(Relation index, Layout* layout);
    /// The query, already in the element kind (and normalised for Cosine):
    /// the vector part of a record (prepare_vector's output + code_bytes).
    void set_query(const void* q) { query_ = q; }
    /// With a quantizer: walk on the codes from now on, for query q (float32,
    /// normalised for Cosine; set_query must name the same query). distance()
    /// then estimates from the code; exact_distance() stays exact.
    void use_codes(const float* q);

    /// The graph distance to the query: estimated from the code after
    /// use_codes, else exact.
    float distance(uint32 id) { return codes_on_ ? code_distance(id) : exact_distance(id); }
    /// The exact graph distance to the query, from the stored vector.
    float exact_distance(uint32 id);
    /// How far distance(id) may be off (rabitq.h's bound at one standard
    /// deviation, kRerankEpsilon): 0 unless walking on rabitq codes. For
    /// nmvec::hnsw::Rerank's bounded mode.
    float code_error(uint32 id);
    /// Calls f(neighbour id) for each neighbour of id on level.
    template <class F>
    void neighbors(uint32 id, int level, F f) {
        uint32 n = read_neighbors(id, level);
        for (uint32 i = 0; i < n; ++i) f(nbuf_[i]);
    }
    /// Start pulling the vectors of ids into the CPU cache (and their buffer
    /// descriptors), where the block hints know their buffers: a hint only.
    void prefetch(const uint32* ids, size_t n) const;
    /// Reads the node; false if deleted or not yet written, and, once
    /// exclude_pending() was called, if pending or in the excluded set.
    /// Sets last_tid().
    bool live(uint32 id);
    /// For ordered scans, whose exact pass serves the pending elements:
    /// live() is false for elements flagged pending and for ids
    /// [base, base + excluded.size()) whose bit is set (pending when the
    /// scan started, perhaps merged since). `excluded` must outlive this.
    void exclude_pending(uint32 base, const std::vector<bool>* excluded) {
        exclude_pending_ = true;
        excluded_base_ = base;
        excluded_ = excluded;
    }
    ItemPointerData last_tid() const { return last_tid_; }
    /// A WHERE clause on the filter columns (compiled against the index's
    /// layout; must outlive this), or null: passes() is then always true.
    void set_filter(const nmvec::filter::Filter* f) {
        filter_ = f;
        for (CodesAhead& slot : codes_ahead_) slot.page = UINT32_MAX;
        zone_first_ = UINT32_MAX;
        zones_read_ = zones_passed_ = 0;
        zones_off_ = false;
    }
    /// Whether element id's filter-column values pass the filter. Read with
    /// a pin and no lock: they are written with the node record, before the
    /// element is reachable or its row visible, and never change.
    bool passes(uint32 id);
    /// passes() of ids [id, id + k) at once, bit i of *mask for id + i; k
    /// (returned, at least 1) runs at most to the end of id's node page and
    /// 64 ids. For a pass over every element (an exact pass, a sweep).
    uint32 passing_run(uint32 id, uint64_t* mask);
    /// The first id >= id whose node page's zone says an element there may
    /// pass the filter (size() when none): a pass over every element skips
    /// the pages the filter rules out. id itself without a filter or zones.
    uint32 next_candidate(uint32 id);
    /// Whether an element on id's node page may pass, by the page's zone
    /// (true without a filter or zones).
    bool zone_may_pass(uint32 id);
    /// The share of elements that pass the filter, from `most` elements
    /// spread evenly over the ids (1 without a filter; at least half a
    /// sample), and in *pages the share of them whose page's zone may pass.
    /// The sample's records are kept for the next scans while fewer than
    /// one sample's spacing of elements were added.
    double estimate_selectivity(uint32 most, double* pages);
    /// With sweep codes in the node pages (Layout::sweep_bytes): bound
    /// the distances of a pass over every element from them from now on,
    /// for query q (float32, normalised for Cosine). No-op without them.
    void use_sweep_codes(const float* q);
    /// Whether use_sweep_codes found codes to use (IterativeSearch's sweep
    /// then stages codes and asks for their bounds instead of distances).
    bool sweep_bounds() const { return sweep_codec_ != nullptr; }
    /// How many codes stage_sweep_code holds before staged_sweep_lowers.
    static constexpr uint32 kSweepStage = nmvec::hnsw::kBoundBatch;
    /// Copies id's sweep code aside, for staged_sweep_lowers (at most
    /// kSweepStage between calls). Right after passing_run or passes() for
    /// an id of the same node page.
    void stage_sweep_code(uint32 id);
    /// Lower bounds of distance(id) for the staged codes, in the order they
    /// were staged (rabitq.h's bound at kRabitqScanEpsilon; -infinity for a
    /// code not yet written), computed together; empties the stage.
    void staged_sweep_lowers(float* out);
    /// What nmvec::hnsw::Rerank keeps of an element: its heap TID.
    ItemPointerData payload() const { return last_tid_; }
    /// One past the largest element id (as of the layout last read).
    uint32 size() const { return layout_->n_elements; }

    /// Distance between two stored elements (for neighbour selection).
    float pair_distance(uint32 a, uint32 b);
    /// Copy element id's record into out (vec_bytes bytes: code, then vector).
    void read_vector(uint32 id, void* out);
    /// Neighbour ids of id on level into nbuf(); returns their count.
    uint32 read_neighbors(uint32 id, int level);
    const uint32* nbuf() const { return nbuf_.data(); }

    /// Inserts compute many distances among the same few hundred elements
    /// (neighbour selection): with the cache on, each vector pair_distance
    /// reads is read from its page once and kept (until clear_cache) in a
    /// private arena. distance() to the query uses a cached copy when there
    /// is one and reads the page otherwise (copying every element a search
    /// visits cost more than the search).
    void enable_cache(bool on) { cache_on_ = on; }
    void clear_cache() {
        cache_index_.clear();
        arena_used_ = 0;
    }

    Layout& layout() { return *layout_; }
    const ElemDistance& dist() const { return dist_; }

    /// While on, every page read stays pinned (up to shared buffers /
    /// `share` pages) until hold_pins(false), so that reading it again costs no pin and
    /// unpin (the buffer header's atomic): for merges, inserts and scans,
    /// which revisit the same pages. Turn it off before the state goes
    /// away on a normal path; after an error the transaction's resource
    /// owner drops the pins, so nothing else may release them. Worth it
    /// where pages are read many times (merges, inserts); an index scan
    /// reads most pages once or twice and is faster without. Either way
    /// also drops the pin filter_page() keeps (the same rules apply to it).
    void hold_pins(bool on, int share = 64);
    bool holding() const { return hold_; }

    /// Hints id's filter-column values (and its page's descriptor) into the
    /// CPU cache: a walk checks the filter of neighbours on pages all over
    /// the index, and hints each a few checks ahead (no pin, nothing read).
    void prefetch_filter(uint32 id) const;
    /// The same for id's node record: its level-0 neighbour list.
    void prefetch_links(uint32 id) const;

 private:
    /// The buffer of blk, pinned; *held says the hold owns the pin (else
    /// the caller releases it: unpin).
    Buffer pin(BlockNumber blk, bool* held);
    static void unpin(Buffer b, bool held) {
        if (!held) ReleaseBuffer(b);
    }
    static void unlock_unpin(Buffer b, bool held) {
        LockBuffer(b, BUFFER_LOCK_UNLOCK);
        if (!held) ReleaseBuffer(b);
    }
    /// Pointer to vector id if it lies within one page (pinned+locked in
    /// buf), else copies it to scratch and returns that (buf invalid).
    const void* vector_ptr(uint32 id, Buffer* buf, AlignedBytes& scratch);
    const void* cached(uint32 id);
    float code_distance(uint32 id, float* error = nullptr);
    BlockNumber node_block_checked(uint32 id, uint32* off);
    BlockNumber vector_block_checked(uint32 id, uint32* off);
    /// id is past the layout's elements: re-read the meta page, then raise
    /// XX002 if it still is (`from`: the element whose list named it, or kNoEntry).
    void check_id(uint32 id, uint32 from);
    /// Every id of nbuf_[0, n), read from id's list, must be an element: an
    /// id from a page is never used as an index before this (a visited set
    /// would grow to it).
    void check_neighbors(uint32 id, uint32 n) {
        uint32 most = 0;
        for (uint32 i = 0; i < n; ++i) most = std::max(most, nbuf_[i]);
        if (unlikely(n > 0 && most >= layout_->n_elements)) check_id(most, id);
    }

    Relation index_;
    Layout* layout_;
    ElemDistance dist_;
    const void* query_ = nullptr;
    bool codes_on_ = false;
    nmvec::sq8::Query q8_;
    const nmvec::sq8::Kernels* k8_ = nullptr;
    nmvec::RabitqQuery rq_;
    const nmvec::RabitqCodec* rq_codec_ = nullptr;
    nmvec::RabitqQuery sweep_q_;                       // use_sweep_codes
    const nmvec::RabitqCodec* sweep_codec_ = nullptr;  // null: no sweep bounds
    AlignedBytes stage_;                               // stage_sweep_code's copies
    uint32 staged_ = 0;                                // how many it holds
    std::vector<uint32> nbuf_;
    AlignedBytes scratch_a_, scratch_b_;
    ItemPointerData last_tid_;
    bool hold_ = false;
    std::vector<Buffer> held_;            // by block number
    std::vector<BlockNumber> held_list_;  // the blocks held_ holds
    uint32 n_held_ = 0, max_held_ = 0;
    const nmvec::filter::Filter* filter_ = nullptr;
    /// The node page of id, pinned until another one is needed (or
    /// hold_pins() is called): passes() and the zones read it.
    const char* filter_page(uint32 id);
    void release_filter_page();
    /// Hints the zone and filter values of id's node page into the CPU
    /// cache (by the block hints; no pin).
    void prefetch_filter_values(uint32 id) const;
    /// pass_mask of records [first, first + run) of a node page's data.
    uint64_t run_mask(const char* data, uint32 first, uint32 run) const;
    /// Hints the sweep codes of the records of mask (bit i: first + i).
    void prefetch_sweep_codes(const char* data, uint32 first, uint64_t mask) const;
    Buffer attr_buf_ = InvalidBuffer;  // filter_page(): the pinned node page
    uint32 attr_first_ = 0;            // the first element id on it
    bool attr_held_ = false;           // whether the hold owns its pin
    // A bounded sweep's next node page, pinned ahead by passing_run (and
    // taken over by filter_page), and the mask of its first run.
    Buffer ahead_buf_ = InvalidBuffer;
    uint32 ahead_first_ = 0;
    bool ahead_held_ = false;
    uint32 ahead_mask_id_ = UINT32_MAX, ahead_mask_run_ = 0;
    uint64_t ahead_mask_ = 0;
    uint32 zone_first_ = UINT32_MAX;            // zone_may_pass(): the first id of the page last judged
    bool zone_ok_ = false;                      // and whether its zone may pass
    uint32 zones_read_ = 0, zones_passed_ = 0;  // zones read since set_filter, and how many passed
    bool zones_off_ = false;                    // most of the first kZoneTrial passed: no more are read
    /// The backend's kept copy of the zone of node page `page`
    /// (page_copies.h), or nullptr: then only the page can tell.
    const uint8_t* known_zone(uint32 page);
    /// The same for the filter-column values of the page's elements.
    const uint8_t* known_records(uint32 page);
    /// The same for the sweep codes of the page's elements.
    const uint8_t* known_codes(uint32 page);
    /// Keeps copies of the zone and the filter-column values of node page
    /// `page` (its data, share locked), and with `codes` its sweep codes,
    /// if every record of the page is written: only then are they final.
    /// Only where worth_keeping(page, codes) said so.
    void keep_page_if_final(uint32 page, const char* data, bool codes = false);
    /// Whether keep_page_if_final would look at the page: this scan may
    /// still copy, the page is allocated in full, and a copy it lacks fits.
    bool worth_keeping(uint32 page, bool codes = false);
    /// keep_page_if_final of the page filter_page() pinned (its data), under
    /// its share lock (the values, codes and heap TIDs then come from one
    /// state of the page), when worth it and `page` is not *tried (set).
    void offer_page(uint32 page, const char* data, bool codes, uint32* tried);
    /// passing_run from the kept copies of a full page (values and sweep
    /// codes): no pin. False when they are not both kept.
    bool copied_run(uint32 id, uint32 run, uint64_t* mask);
    /// stage_sweep_code's source when copied_run served the run last: the
    /// codes of the page whose first id is run_first_ (else nullptr).
    const uint8_t* run_codes_ = nullptr;
    uint32 run_first_ = 0;
    /// copied_run's masks of the pages ahead (each a page of one run), by
    /// page % kCodesAhead; reset by use_sweep_codes and set_filter.
    static constexpr uint32 kCodesAhead = 2;
    struct CodesAhead {
        uint32 page = UINT32_MAX;
        uint64_t mask = 0;
    };
    CodesAhead codes_ahead_[kCodesAhead];
    uint32 tried_codes_page_ = UINT32_MAX;  // passing_run: the page last offered for its codes
    /// The pages the copies' arrays are sized for when they grow.
    uint32 copy_pages() const;
    uint32 tried_page_ = UINT32_MAX;  // passes(): the page last offered to keep_page_if_final
    /// Pages a scan may still copy: copying costs a look at every record
    /// of the page, so a new backend's first scans, which meet every page
    /// anew, share the work instead of the first paying all of it.
    uint32 copies_left_ = kCopiesPerScan;
    /// Whether id's node page is known, from its kept zone, to hold no
    /// element that passes (false when its zone is not kept).
    bool known_ruled_out(uint32 id);
    /// What the backend keeps of this index (hnsw_storage.cpp), looked up
    /// again when the backend's copies changed; nullptr if out of memory.
    IndexCopies* copies();
    IndexCopies* copies_ = nullptr;
    uint64_t copies_gen_ = 0;      // the generation of the backend's copies copies_ is of
    std::vector<uint8_t> sample_;  // estimate_selectivity(): the records of a sample just taken
    bool exclude_pending_ = false;
    uint32 excluded_base_ = 0;
    const std::vector<bool>* excluded_ = nullptr;
    bool cache_on_ = false;
    std::unordered_map<uint32, const char*> cache_index_;
    // Cached vectors live in fixed blocks that are kept between inserts, so
    // pointers stay valid and nothing is reallocated or faulted in again.
    std::vector<AlignedBytes> arena_;
    size_t arena_used_ = 0;  // vectors handed out, across blocks
};

// ---- writing -------------------------------------------------------------------------------

/// Write the code of float vector v (dims, normalised for Cosine) into the
/// first code_bytes(dims, quantizer) bytes of record rec (padding zeroed);
/// nothing without a quantizer. centre: rabitq's (dims floats, or null for
/// the origin; Layout::centre_or_null). Throws nmvec::Error where the codec
/// does (rabitq.h: elements beyond about 1e37).
void write_code(uint8 quantizer, int dims, const float* centre, const float* v, char* rec);

/// The centre of a rabitq index (empty when it has none: the origin), read
/// from its centre pages; XX001 on a page that is not one.
void read_centre(Relation index, const Layout& layout, std::vector<float>* out);
/// The rabitq codec of quantizer = 'rabitq' for `dims` (kRabitqBits,
/// kRabitqSeed), kept per backend.
const nmvec::RabitqCodec& rabitq_codec(uint32 dims);
/// The 1-bit codec of the sweep codes of `dims` dimensions (kSweepSeed),
/// kept for the backend's last dimension.
const nmvec::RabitqCodec& sweep_codec(uint32 dims);
/// Element v's sweep code (dims float32, normalised for Cosine) into out
/// (sweep_code_bytes(dims)), relative to centre (null: the origin).
void write_sweep_code(uint32 dims, const float* centre, const float* v, uint8_t* out);
/// The dims floats of a vector as an index stores it (float32, or binary16
/// bit patterns): what its codes are made from.
void stored_floats(ElemKind kind, uint32 dims, const void* vec, float* out);

/// Allocate an element id (meta page exclusively locked inside), growing the
/// node and vector streams by a new extent when needed. Updates *layout.
uint32 allocate_element(Relation index, Layout* layout);
/// Allocate `count` consecutive ids at once (one meta page record); returns
/// the first. An id its allocator never writes stays an unwritten slot,
/// which every reader skips (as after an insert that failed half-way).
uint32 allocate_elements(Relation index, Layout* layout, uint32 count);

/// Write vector `id` (WAL-logged).
void write_vector(Relation index, const Layout& layout, uint32 id, const void* data);

/// Write the node record of a new element: heap tid, level, flags (0 or
/// kNodePending), no neighbours, upper tuple (added here when level >= 1),
/// filter-column values (layout->attr_bytes of attrs; null when none) and,
/// with them, the sweep code of `record` (the element's record in the
/// vector stream: code, then vector) when the layout has sweep codes.
/// WAL-logged.
void write_new_node(Relation index, Layout* layout, uint32 id, ItemPointer heap_tid, int level,
                    uint8 flags = 0, const uint8_t* attrs = nullptr, const void* record = nullptr);

/// The block of id's node record (its offset in *off); XX002 when id is
/// not an element of the layout.
BlockNumber checked_node_block(Relation index, const Layout& layout, uint32 id, uint32* off);
/// Whether a node header is a live element waiting in the pending list.
inline bool is_pending(const NodeHeader& h) {
    return ItemPointerIsValid(&h.heap_tid) && (h.flags & kNodePending) && !(h.flags & kNodeDeleted);
}
/// Copy id's node header (share lock).
void read_node_header(Relation index, const Layout& layout, uint32 id, NodeHeader* out);
/// Copy the node headers of ids [first, end) into out[0, end - first),
/// locking each node page once.
void read_node_headers(Relation index, const Layout& layout, uint32 first, uint32 end,
                       std::vector<NodeHeader>* out);

/// Clear id's kNodePending flag (WAL-logged; nothing if it is clear).
void clear_pending(Relation index, const Layout& layout, uint32 id);

/// The meta page's first pending id and element count (share lock, no
/// other check: the caller read a checked layout before).
uint32 read_first_pending(Relation index, uint32* n_elements);

/// Move the meta page's first pending id up to `target` (never down). Under
/// the meta page's exclusive lock, first re-reads the node records of
/// `skipped` (ids below target whose node was not written when the merge
/// passed them): one written and pending since stops the move there. An
/// insert that writes its pending node after this checks first_pending
/// again and links itself (insert_pending), so no element is left behind.
void advance_first_pending(Relation index, const Layout& layout, uint32 target,
                           const std::vector<uint32>& skipped);

/// Replace the neighbour list of id on level (WAL-logged).
void set_neighbors(Relation index, const Layout& layout, uint32 id, int level, const uint32* ids, uint32 n);

/// Under one exclusive lock: if `nb` has room on `level`, append `id`;
/// returns false (and changes nothing) when the list is full or changed
/// since `expected_count`, so the caller can recompute and retry.
bool try_append_neighbor(Relation index, const Layout& layout, uint32 nb, int level, uint32 id);

/// Replace nb's list on level with `ids` only if it still equals `old`
/// (compare-and-set under the exclusive lock); false if it changed.
bool replace_neighbors_if(Relation index, const Layout& layout, uint32 nb, int level, const uint32* old,
                          uint32 n_old, const uint32* ids, uint32 n);

/// Move the entry point to id/level if level is above the current top (or
/// the index has none). WAL-logged.
void maybe_set_entry(Relation index, Layout* layout, uint32 id, int level);

}  // namespace nmvec::pg::hnsw

// hnsw_page.h — how an hnsw index is laid out in its relation's pages.
//
// Block 0 is the meta page. Every other page is one of:
//
//  * node pages: fixed-size node records, nodes_per_page() to a page, never
//    straddling pages. A node record is the element's heap TID, level,
//    flags, the location of its upper-level tuple and its level-0
//    neighbour list (2m element ids of 4 bytes). In an index with filter
//    columns (the index's columns besides the vector) the page's data
//    starts with its zone (zone_bytes: nmvec::filter::ZoneLayout, what the
//    page's elements hold: per column the smallest and largest value and a
//    set of hashed values), then the filter-column values of its elements
//    one after another (attr_bytes each: src/core/attr_filter.h's record),
//    then the node records: a pass over every element skips a page by its
//    zone and checks the values of a page in 13 cache lines instead of 49.
//    Since sweep codes (meta sweep_marker), the values are followed by each
//    element's sweep code (from a multiple of 8 bytes), then the records: a
//    1-bit RaBitQ code of the vector relative to the index's centre, from
//    which a pass over every element (a filtered scan's sweep or exact
//    pass) bounds each passing element's distance and reads the vectors of
//    only those whose bound may put them in the answer.
//  * vector pages: the elements' vectors as one byte stream, element i at
//    byte i * vec_bytes, cut into slices of kSliceBytes per page. With a
//    quantizer (index option `quantizer`, meta field of that name) each
//    element's record there is its code (code_bytes: sq8.h's code, or a
//    4-bit RaBitQ code of rabitq.h relative to the index's centre, padded
//    to a multiple of 64 bytes) followed by its vector, and vec_bytes is
//    the record's size; without one (quantizer = 'none', and every index
//    built before the option existed) the record is just the vector. A vector
//    of up to kSliceBytes lies in one page or straddles two; a larger one
//    (float32 above 2,016 dims, halfvec above 4,032) spans as many as it
//    needs, up to 9 for 16,000 float32 dims. Where a vector lies is computed
//    in one place, nmvec::StreamSpan (src/core/stream_span.h), through
//    Layout::vector_span. Vectors are written once and never change.
//  * upper pages: ordinary slotted pages; one tuple per element of level >=
//    1 holding its neighbour lists on levels 1..level (m ids each).
//  * centre pages (quantizer = 'rabitq', or sweep codes): the centre the
//    codes are relative to (the mean of the vectors CREATE INDEX loaded), dims float32 as one stream cut into
//    slices of kSliceBytes (up to 8 pages at 16,000 dims), written once by CREATE INDEX as consecutive blocks
//    the meta page names (centre_start, centre_pages). An index built from an empty table has none: its
//    centre is the origin.
//
// Element ids are dense 32-bit numbers, so a neighbour reference costs 4
// bytes and an element's node and vector are found by arithmetic: node
// pages and vector pages are each a logical sequence of pages ("stream")
// made of extents, runs of consecutive blocks whose start and length the
// meta page lists. CREATE INDEX writes each stream as one extent; inserts
// add extents of growing size.
//
// Every page has the standard header and an 8-byte special space ending in
// a page id (kPageId) and its kind. Stream pages keep pd_lower == pd_upper so
// that full-page images have no hole to skip.
#pragma once

#include "pg.h"

extern "C" {
#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/rel.h"
}

#include "../core/attr_filter.h"
#include "../core/hnsw.h"
#include "../core/rabitq.h"
#include "../core/stream_span.h"

namespace nmvec::pg::hnsw {

constexpr uint32 kMagic = 0x4e4d5648;  // "NMVH"
constexpr uint32 kFormatVersion = 2;   // 2: stream data 64-byte aligned
constexpr uint16 kPageId = 0xFF8E;
constexpr BlockNumber kMetaBlock = 0;

enum PageKind : uint16 { kMetaPage = 1, kNodePage = 2, kVectorPage = 3, kUpperPage = 4, kCentrePage = 5 };

struct PageOpaque {
    uint16 kind;
    uint16 unused1;
    uint16 unused2;
    uint16 page_id;  // kPageId, last 2 bytes of the page as in other AMs
};
static_assert(sizeof(PageOpaque) == 8, "special space is 8 bytes");

/// Where element data starts in a stream (node or vector) page, and how
/// many bytes of it a page holds: both multiples of 64, so that in shared
/// buffers (whose pages are cache-line aligned) every vector whose size is a
/// multiple of 64 bytes (float32 with dims a multiple of 16, halfvec of 32:
/// 384, 768, 784, 1536, ...) starts on a cache line. Distances over vectors
/// that straddle cache lines were ~20% slower (every 64-byte load split in
/// two). Costs 96 bytes a page against the tightest packing.
constexpr uint32 kStreamOffset = 64;
constexpr uint32 kSliceBytes = (BLCKSZ - MAXALIGN(sizeof(PageOpaque)) - kStreamOffset) / 64 * 64;
static_assert(kStreamOffset >= MAXALIGN(SizeOfPageHeaderData), "stream data after the page header");

/// Element kinds (the indexed type).
enum ElemKind : uint8 { kFloat32 = 1, kFloat16 = 2 };

/// Node flags. A pending element (fastupdate, docs/pending-list.md) has its
/// vector and node record written but is not linked into the graph yet:
/// scans find it by an exact pass over the pending range, and a merge links
/// it and clears the flag.
constexpr uint8 kNodeDeleted = 0x01;
constexpr uint8 kNodePending = 0x02;

/// Quantizers (Meta::quantizer): what codes, if any, precede each vector.
/// Scans walk the graph on the codes and re-rank with the vectors.
enum Quantizer : uint8 { kQuantNone = 0, kQuantSq8 = 1, kQuantRabitq = 2 };
constexpr uint8 kQuantMax = kQuantRabitq;

/// The RaBitQ codes of quantizer = 'rabitq': extended RaBitQ, 4 bits per
/// dimension, rotation seed fixed (part of the format).
constexpr uint32 kRabitqBits = 4;
constexpr uint64 kRabitqSeed = 0x6e6d7665632d6831ULL;  // "nmvec-h1"

/// Bytes of a code as the codec writes it (before padding).
inline uint32 code_used_bytes(int dims, uint8 quantizer) {
    if (quantizer == kQuantNone) return 0;
    if (quantizer == kQuantSq8)
        return 16u + static_cast<uint32>(dims);  // sq8.h: header, a byte per dimension
    return nmvec::rabitq_code_bytes(static_cast<uint32>(dims), kRabitqBits);
}

/// Bytes of an element's code, before its vector in the vector stream: a
/// multiple of 64, so that the vector keeps the alignment it has without
/// (see kStreamOffset).
inline uint32 code_bytes(int dims, uint8 quantizer) {
    return (code_used_bytes(dims, quantizer) + 63u) & ~63u;
}

/// Pages of the centre of a rabitq index of `dims` dimensions.
inline uint32 centre_pages(uint32 dims) { return (dims * 4u + kSliceBytes - 1) / kSliceBytes; }

/// One node record (followed by 2m uint32 neighbour ids).
struct NodeHeader {
    ItemPointerData heap_tid;   // 6 bytes; invalid while the slot is being written
    uint8 level;                // 0..kMaxLevel
    uint8 flags;                // kNodeDeleted, kNodePending
    ItemPointerData upper_tid;  // the upper-level tuple, if level >= 1
    uint16 count0;              // neighbours used on level 0
};
static_assert(sizeof(NodeHeader) == 16, "node header is 16 bytes");

/// Bytes of a node record (header and level-0 neighbour list).
inline uint32 node_bytes(int m) { return sizeof(NodeHeader) + 2u * m * sizeof(uint32); }
/// Elements a node page holds: each takes a node record, attr_bytes of
/// filter-column values and sweep_bytes of sweep code, after the page's
/// zone of zone_bytes (and up to 7 bytes that start the codes on 8 bytes).
inline uint32 nodes_per_page(int m, uint32 attr_bytes = 0, uint32 zone_bytes = 0, uint32 sweep_bytes = 0) {
    return (kSliceBytes - zone_bytes - (sweep_bytes > 0 ? 8u : 0u)) /
           (node_bytes(m) + attr_bytes + sweep_bytes);
}
/// Where the parts of a node page's data start (hnsw_page.h's first
/// comment): the zone at 0, then the filter-column values, the sweep codes
/// (at a multiple of 8 bytes) and the node records.
struct NodePageGeometry {
    uint32 nodes_per_page, attrs_at, codes_at, records_at;
};
inline NodePageGeometry node_page_geometry(int m, uint32 attr_bytes, uint32 zone_bytes, uint32 sweep_bytes) {
    NodePageGeometry g;
    g.nodes_per_page = nodes_per_page(m, attr_bytes, zone_bytes, sweep_bytes);
    g.attrs_at = zone_bytes;
    const uint32 attrs_end = zone_bytes + g.nodes_per_page * attr_bytes;
    g.codes_at = sweep_bytes > 0 ? (attrs_end + 7u) & ~7u : attrs_end;
    g.records_at = g.codes_at + g.nodes_per_page * sweep_bytes;
    return g;
}
/// Bytes of an element's sweep code: a 1-bit RaBitQ code (rabitq.h) of
/// its vector relative to the index's centre, padded to 8 bytes.
inline uint32 sweep_code_bytes(uint32 dims) { return (nmvec::rabitq_code_bytes(dims, 1) + 7u) & ~7u; }
/// Fewest dimensions an index gets sweep codes for. A 1-bit code's bound
/// rests on its rotation spreading the vector over many dimensions: at 12
/// (sql/23's tenants) a bound failed about once in a thousand elements,
/// where below 64 dims a vector costs a distance about as cheap as its
/// code's bound anyway.
constexpr uint32 kSweepMinDims = 64;
/// The seed of the sweep codes' rotation (part of the format).
constexpr uint64 kSweepSeed = 0x6e6d7665632d7331ULL;  // "nmvec-s1"
/// Most bytes of filter-column values a node record may hold (32 columns
/// of 8 bytes and their null bitmap).
constexpr uint32 kMaxAttrBytes = 4 + 32 * 8;
inline uint32 vec_bytes(int dims, ElemKind kind) {
    uint32 b = static_cast<uint32>(dims) * (kind == kFloat16 ? 2u : 4u);
    return (b + 3u) & ~3u;
}
/// Bytes of an element's record in the vector stream: code, then vector.
inline uint32 record_bytes(int dims, ElemKind kind, uint8 quantizer) {
    return code_bytes(dims, quantizer) + vec_bytes(dims, kind);
}
/// Bytes of one upper tuple for an element of `level`: per level, a count
/// and m ids.
inline uint32 upper_bytes(int level, int m) { return static_cast<uint32>(level) * (1u + m) * sizeof(uint32); }

struct Extent {
    BlockNumber start;
    uint32 pages;
};

/// Extents per stream that fit in the meta page.
constexpr int kMaxExtents = 400;

struct Meta {
    uint32 magic;
    uint32 version;
    uint32 dims;
    uint16 m;
    uint16 ef_construction;
    uint8 metric;     // nmvec::hnsw::Metric
    uint8 elem_kind;  // ElemKind
    uint8 quantizer;  // Quantizer; 0 (none) in indexes built before it existed
    uint8 unused;
    uint32 n_elements;       // ids [0, n_elements) are allocated
    uint32 n_deleted;        // marked deleted by vacuum
    uint32 entry;            // entry point id, or kNoEntry
    int32 max_level;         // level of the entry point, -1 when empty
    BlockNumber upper_last;  // last upper page (where new upper tuples go), or InvalidBlockNumber
    uint32 n_node_extents;
    uint32 n_vector_extents;
    Extent node_extents[kMaxExtents];
    Extent vector_extents[kMaxExtents];
    // Added after format version 2's first pages were written: zero in an
    // index built before the pending list existed, which then has none.
    uint32 pending_marker;  // kPendingMarker when first_pending is set
    uint32 first_pending;   // every pending element has an id >= this
    // Added with quantizer = 'rabitq' (zero before, and in every other index).
    uint32 centre_marker;      // kCentreMarker when the index has centre pages
    BlockNumber centre_start;  // first of centre_pages(dims) consecutive centre pages
    // Added with filter columns (zero before, and in indexes without them).
    uint32 attr_marker;  // kAttrMarker when node pages hold filter columns
    uint16 attr_bytes;   // bytes of them an element
    uint16 attr_columns;
    // Added with zones (zero in indexes without filter columns; an index
    // whose node records held them, as a development version wrote, has
    // kAttrMarker without kZoneMarker and must be rebuilt).
    uint32 zone_marker;  // kZoneMarker when node pages start with a zone
    uint32 zone_bytes;   // its size: ZoneLayout::bytes of the filter columns
    // Added with sweep codes (zero before): node pages with zones hold each
    // element's sweep code after the filter-column values, and the index
    // has centre pages (the codes' centre), whatever its quantizer.
    uint32 sweep_marker;  // kSweepMarker when they do
    uint32 sweep_bytes;   // bytes of a code: sweep_code_bytes(dims)
};
constexpr uint32 kPendingMarker = 0x504e4447;  // "PNDG"
constexpr uint32 kCentreMarker = 0x43454e54;   // "CENT"
constexpr uint32 kAttrMarker = 0x41545452;     // "ATTR"
constexpr uint32 kZoneMarker = 0x5a4f4e45;     // "ZONE"
constexpr uint32 kSweepMarker = 0x53575043;    // "SWPC"

/// Bytes of filter-column values of each element of the index.
inline uint32 meta_attr_bytes(const Meta& meta) {
    return meta.attr_marker == kAttrMarker ? meta.attr_bytes : 0;
}
inline uint32 meta_attr_columns(const Meta& meta) {
    return meta.attr_marker == kAttrMarker ? meta.attr_columns : 0;
}
/// Bytes of the zone at the start of each node page's data (0: none).
inline uint32 meta_zone_bytes(const Meta& meta) {
    return meta.attr_marker == kAttrMarker && meta.zone_marker == kZoneMarker ? meta.zone_bytes : 0;
}
/// Bytes of each element's sweep code in its node page (0: none).
inline uint32 meta_sweep_bytes(const Meta& meta) {
    return meta_zone_bytes(meta) > 0 && meta.sweep_marker == kSweepMarker ? meta.sweep_bytes : 0;
}
inline NodePageGeometry meta_node_geometry(const Meta& meta) {
    return node_page_geometry(meta.m, meta_attr_bytes(meta), meta_zone_bytes(meta), meta_sweep_bytes(meta));
}
inline uint32 meta_nodes_per_page(const Meta& meta) { return meta_node_geometry(meta).nodes_per_page; }
/// Whether the index has centre pages: rabitq codes, or sweep codes.
inline bool meta_has_centre(const Meta& meta) {
    return meta.centre_marker == kCentreMarker &&
           (meta.quantizer == kQuantRabitq || meta_sweep_bytes(meta) > 0);
}

/// Lowest id that may be pending (n_elements when the list is empty).
inline uint32 meta_first_pending(const Meta& meta) {
    return meta.pending_marker == kPendingMarker ? meta.first_pending : meta.n_elements;
}
static_assert(sizeof(Meta) <= kSliceBytes, "meta fits in a page");

constexpr uint32 kNoEntry = UINT32_MAX;

inline PageOpaque* page_opaque(Page page) {
    return reinterpret_cast<PageOpaque*>(PageGetSpecialPointer(page));
}
inline Meta* page_meta(Page page) { return reinterpret_cast<Meta*>(PageGetContents(page)); }
inline char* stream_data(Page page) { return static_cast<char*>(page) + kStreamOffset; }

/// Initialise a page of the given kind (stream pages are marked full).
void init_page(Page page, PageKind kind);
/// Initialise an empty stream page whose data area is still unwritten: it
/// is the page's hole (pd_lower at the data's start), so that its WAL image
/// and the delta of every GenericXLog record skip what is not written yet.
/// Writers extend pd_lower over what they write (cover_written).
void init_empty_stream_page(Page page, PageKind kind);
/// Make pd_lower cover the stream data up to byte `end` (from the data's
/// start), so that nothing written lies in the hole (which WAL replay
/// zeroes and full-page images leave out). Never moves pd_lower down.
inline void cover_written(Page page, uint32 end) {
    auto* ph = reinterpret_cast<PageHeader>(page);
    const uint32 want = kStreamOffset + end;
    if (ph->pd_lower < want) ph->pd_lower = static_cast<LocationIndex>(want);
}

// ---- checking what is read from disk --------------------------------------------------------
//
// Everything read from a page is bounded before it is used as a size, an
// index or a location: a corrupted page makes the statement fail with
// ERRCODE_DATA_CORRUPTED (XX001: the page's own header or special space is
// wrong) or ERRCODE_INDEX_CORRUPTED (XX002: fields out of range or
// inconsistent), both with the hint to REINDEX, never a crash.

/// Whether `page` has our special space and page id, and is of `kind`.
bool page_is(Page page, PageKind kind);
/// Raise XX001 for block `blk`, which is not a valid page of `kind`.
[[noreturn]] void report_bad_page(Relation index, BlockNumber blk, PageKind kind);
/// Raise XX002 for the index, errdetail from fmt (a full sentence).
[[noreturn]] void report_corrupt(Relation index, const char* fmt, ...) pg_attribute_printf(2, 3);
/// Raise XX002 unless every field of meta is in range and consistent with a
/// relation of `nblocks` blocks: magic, version, metric and element kind, m,
/// ef_construction, dims, the extent directories (within the relation, past
/// the meta page), n_elements within the streams' capacity, n_deleted, entry
/// point and max_level, upper_last.
void check_meta(Relation index, const Meta& meta, BlockNumber nblocks);
/// Copy the meta page (share lock) into *out after check_meta; sets
/// *nblocks, if given, to the relation size it was checked against.
void read_meta(Relation index, Meta* out, BlockNumber* nblocks = nullptr);

/// Copy of the meta page's layout facts and directory, held by scans and
/// inserts; refreshed when an id falls outside it.
struct Layout {
    uint32 dims = 0;
    int m = 16;
    int ef_construction = 64;
    nmvec::hnsw::Metric metric = nmvec::hnsw::Metric::L2;
    ElemKind elem_kind = kFloat32;
    uint8 quantizer = kQuantNone;
    /// quantizer = 'rabitq' or sweep codes: the centre of the codes (dims
    /// floats; empty for the origin), read once per Layout by read_layout.
    std::vector<float> centre;
    bool centre_read = false;
    uint32 node_bytes = 0, nodes_per_page = 0;
    /// Filter columns: bytes and count of each element's values; 0 without.
    uint32 attr_bytes = 0, attr_columns = 0;
    /// Bytes of each node page's zone (first in its data); 0 without.
    uint32 zone_bytes = 0;
    /// Where in a node page's data the elements' filter-column values,
    /// their sweep codes and their node records start.
    uint32 attrs_at = 0, codes_at = 0, records_at = 0;
    /// Bytes of each element's sweep code (0: none).
    uint32 sweep_bytes = 0;
    /// The filter columns' record layout (read_layout: from the index's
    /// columns, checked against attr_bytes).
    nmvec::filter::RecordLayout attrs;
    bool attrs_checked = false;  // read_layout compared attr_bytes with the index's columns
    /// Bytes of one element's record in the vector stream (its stride):
    /// code_bytes of code (0 without a quantizer), then elem_bytes of vector.
    uint32 vec_bytes = 0, code_bytes = 0, elem_bytes = 0;
    uint32 code_used = 0;  // bytes of the code the codec reads (code_bytes without padding)
    BlockNumber centre_start = InvalidBlockNumber;  // rabitq's centre pages; invalid: none (the origin)
    const float* centre_or_null() const { return centre.empty() ? nullptr : centre.data(); }
    uint32 n_elements = 0;
    uint32 first_pending = 0;  // ids in [first_pending, n_elements) may be pending
    uint32 entry = kNoEntry;
    int max_level = -1;
    uint32 node_pages = 0, vector_pages = 0;  // pages covered by the directories
    BlockNumber nblocks = 0;                  // relation size when the meta page was read
    std::vector<Extent> node_extents, vector_extents;

    void load(const Meta* meta);
    /// Block holding stream page `index`, or InvalidBlockNumber if beyond.
    static BlockNumber block_of(const std::vector<Extent>& ex, uint32 index);
    BlockNumber node_block(uint32 id, uint32* offset) const {
        *offset = records_at + (id % nodes_per_page) * node_bytes;
        return block_of(node_extents, id / nodes_per_page);
    }
    /// Offset of element id's filter-column values in its node page's data.
    uint32 attr_offset(uint32 id) const { return attrs_at + (id % nodes_per_page) * attr_bytes; }
    /// Offset of element id's sweep code in its node page's data.
    uint32 sweep_offset(uint32 id) const { return codes_at + (id % nodes_per_page) * sweep_bytes; }
    /// Location of the first byte of vector `id` (the hot path's shortcut
    /// for vector_span(id).piece(0) when the vector lies in one page).
    BlockNumber vector_block(uint32 id, uint32* offset) const {
        uint64 pos = static_cast<uint64>(id) * vec_bytes;
        *offset = static_cast<uint32>(pos % kSliceBytes);
        return block_of(vector_extents, static_cast<uint32>(pos / kSliceBytes));
    }
    /// The pages vector `id` lies in: its pieces, one per page, whose
    /// slice numbers vector_slice_block turns into blocks.
    StreamSpan vector_span(uint32 id) const { return StreamSpan(id, vec_bytes, kSliceBytes); }
    /// The pages the vector part (after the code) of record `id` lies in.
    StreamSpan elem_span(uint32 id) const {
        return StreamSpan::part(id, vec_bytes, code_bytes, elem_bytes, kSliceBytes);
    }
    /// The pages the code part of record `id` lies in.
    StreamSpan code_span(uint32 id) const {
        return StreamSpan::part(id, vec_bytes, 0, code_bytes, kSliceBytes);
    }
    BlockNumber vector_slice_block(uint32 slice) const { return block_of(vector_extents, slice); }
};

/// Read the meta page (share lock) into a Layout; errors if not an nmvec
/// hnsw index of this format version or if the page is corrupted (read_meta).
void read_layout(Relation index, Layout* layout);

}  // namespace nmvec::pg::hnsw

// ivf_page.h — how an ivf index is laid out in its relation's pages.
//
// Block 0 is the meta page. Then, written once by CREATE INDEX:
//
//  * centroid pages: the lists' centroids as float32 vectors, one byte
//    stream (centroid i at byte i * 4 * dims) cut into slices of kSliceBytes
//    per page, as hnsw's vector pages (nmvec::StreamSpan says where one
//    lies; a centroid of more than 2,016 dims spans pages).
//  * directory pages: one fixed-size ListEntry per list (head and tail of
//    its page chain, records in it), kListsPerDirPage to a page.
//
// and after them, written by the build and by inserts in any order:
//
//  * list pages: each list is a chain of pages (IvfOpaque::next) holding its
//    records as one byte stream, record i at stream byte i * rec_bytes,
//    kSliceBytes per page; a record may straddle two pages or span several
//    (a float32 vector of 16,000 dims spans 8). A record is an 8-byte
//    header (heap TID, flags) and the code: with quantizer `flat`, the
//    vector itself in the index's element kind (float32 or binary16; unit
//    length under cosine). In an index with filter columns (key columns
//    besides the vector: CREATE INDEX ... USING ivf (embedding, tenant,
//    ts)) their values follow the code (nmvec::filter::RecordLayout: a null
//    bitmap, then each value), so a scan rules a record out without the
//    table. rec_bytes is a multiple of 8 and kSliceBytes of 64, so a header
//    never straddles pages.
//
// How much of a list page is written is its pd_lower (the data area's
// watermark): a page with a successor is always full (records are packed
// back to back and straddle pages), so a reader walks the chain and takes
// the complete records up to the last page's watermark.
//
// An insert appends a record at the end of its list's stream. When it fits
// the tail page, that is one WAL record of one page (the record and the
// raised watermark). Otherwise it writes the pages after the tail first
// (unreachable until linked), then, in one WAL record, the piece in the old
// tail, the tail's next link and the list's directory entry (new tail). A
// reader therefore never sees part of a record. Vacuum marks dead records
// (a flag in the header, in place); their space is not reused until
// REINDEX.
//
// Then, after the lists CREATE INDEX writes, in an index with filter
// columns: zone map pages, the zones of the pages of each list's chain that
// were full (which stay as they are) in a row, list after list (a byte
// stream, kSliceBytes a page, a zone may straddle two); then summary pages,
// one ListSummary per list (the union of its zones). A filtered scan skips a
// list none of whose built records can pass with one page read (the rarest
// category of nm-monitor events lies in few lists), and reads of the
// others only the built pages whose zone may pass (a recent time window:
// the last), having read their zones in a row instead of page by page.
//
// Pages have the standard header and an 8-byte special space (next block,
// kind, page id). Stream pages keep their unwritten data area as the page
// hole (pd_lower at its start), so WAL images skip it.
//
// Zones. In an index with filter columns each list page's special space
// also holds a zone before those 8 bytes (nmvec::filter::ZoneLayout: per
// column whether a NULL and a value occur, the smallest and largest value,
// a 256-bit set of value hashes) covering every record with a byte on the
// page, widened in the WAL record that writes the record's piece; list
// pages then carry list_slice(zone) bytes of the stream instead of
// kSliceBytes. A filtered scan reads a page's zone first and skips the
// page when no record on it can pass (a recent time window over rows
// appended in time order: every page of a list but its last few).
#pragma once

#include "pg.h"

extern "C" {
#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/rel.h"
}

#include "../core/rabitq.h"
#include "../core/stream_span.h"
#include "hnsw_page.h"  // kStreamOffset, kSliceBytes, ElemKind: the same stream geometry

namespace nmvec::pg::ivf {

using hnsw::ElemKind;
using hnsw::kFloat16;
using hnsw::kFloat32;
using hnsw::kSliceBytes;
using hnsw::kStreamOffset;

constexpr uint32 kMagic = 0x4e4d5649;  // "NMVI"
constexpr uint32 kFormatVersion = 2;   // 2: list lengths from page watermarks
constexpr uint16 kPageId = 0xFF8F;
constexpr BlockNumber kMetaBlock = 0;

enum PageKind : uint16 {
    kMetaPage = 11,
    kCentroidPage = 12,
    kDirPage = 13,
    kListPage = 14,
    kSummaryPage = 15,
    kZoneMapPage = 16
};

struct IvfOpaque {
    BlockNumber next;  // list pages: the next page of the list, or InvalidBlockNumber
    uint16 kind;
    uint16 page_id;  // kPageId, last 2 bytes of the page as in other AMs
};
static_assert(sizeof(IvfOpaque) == 8, "special space is 8 bytes");

/// Quantizers (the `quantizer` option): flat (the vectors themselves) or
/// RaBitQ codes of the residual to the list's centroid (bits 1, 4 or 8;
/// src/core/rabitq.h), re-ranked with the exact vectors from the table.
enum Quantizer : uint8 { kFlat = 1, kRabitq = 2 };

/// Lists an index may have (the `lists` option's range).
constexpr int kMaxLists = 32768;

struct Meta {
    uint32 magic;
    uint32 version;
    uint32 dims;       // 0: built on an empty table without a typmod, fixed by the first insert
    uint8 metric;      // nmvec::hnsw::Metric
    uint8 elem_kind;   // ElemKind
    uint8 quantizer;   // Quantizer
    uint8 trained;     // 1: n_lists centroids; 0: one list and no centroid (empty build)
    uint32 n_lists;    // >= 1
    uint32 rec_bytes;  // bytes of one record: 8 + code, a multiple of 8
    BlockNumber centroid_start;
    uint32 centroid_pages;
    BlockNumber dir_start;
    uint32 dir_pages;
    uint64 rows_built;   // records written by CREATE INDEX
    uint8 bits;          // kRabitq: bits per dimension (1, 4, 8)
    uint8 attr_columns;  // filter columns (the index's key columns besides the vector)
    uint16 attr_bytes;   // bytes of their values in a record (nmvec::filter::RecordLayout)
    uint8 unused2[4];
    uint64 seed;  // kRabitq: the codec's rotation seed
    // List summaries (an index with filter columns, built with rows): the
    // first of summary_pages pages after the zone maps; 0 pages: none (an
    // index built before they existed reads 0 here, the page's zeroed
    // bytes).
    BlockNumber summary_start;
    uint32 summary_pages;
    // The zone maps (pages after the lists): map_pages pages, 0 when no
    // list has more than one page.
    BlockNumber map_start;
    uint32 map_pages;
};
static_assert(sizeof(Meta) <= kSliceBytes, "meta fits in a page");

/// One list's directory entry. head and built change only in CREATE INDEX;
/// tail and tail_slice when an insert adds a page to the list (a reader
/// that finds the named tail has a successor follows the chain).
struct ListEntry {
    BlockNumber head;   // first page, or InvalidBlockNumber while empty
    BlockNumber tail;   // last page
    uint32 tail_slice;  // the tail's index in the chain (0 for the head)
    uint32 unused;
    uint32 built;  // records CREATE INDEX put there
};
constexpr uint32 kListsPerDirPage = kSliceBytes / sizeof(ListEntry);

/// One list's summary, written by CREATE INDEX. The pages of its chain that
/// were full then (all but the last: `covered` of them, laid out in a row
/// from the list's head) never take another record, since records are only
/// ever appended. Their zones, copied in a row, are the list's zone map
/// (zone map_first on, of the map pages' stream), and the zone that
/// follows this header (zone_bytes long) covers them all. A filtered scan
/// whose conditions that zone rules out starts the list at `resume` (chain
/// page `covered`, the build's last page, which inserts may have appended
/// to); otherwise it reads only the covered pages whose zone in the map
/// may pass, without touching the others. covered 0: the list had one page
/// or none (nothing to skip).
struct ListSummary {
    uint32 covered;
    BlockNumber resume;  // head + covered
    uint64 map_first;
};
static_assert(sizeof(ListSummary) == 16, "a summary's header is 16 bytes");
/// Bytes of one list's summary and how many a summary page holds (none
/// straddles pages).
inline uint32 summary_bytes(uint32 zone_bytes) { return sizeof(ListSummary) + zone_bytes; }
inline uint32 summaries_per_page(uint32 zone_bytes) { return kSliceBytes / summary_bytes(zone_bytes); }

/// Record header; the code follows.
struct RecordHeader {
    ItemPointerData heap_tid;
    uint8 flags;  // kRecordDead
    uint8 unused;
};
static_assert(sizeof(RecordHeader) == 8, "record header is 8 bytes");
constexpr uint8 kRecordDead = 0x01;

/// Bytes of one code: flat, the vector in the element kind; RaBitQ, the
/// codec's code (nmvec::rabitq_code_bytes; read_layout checks the codec
/// agrees).
inline uint32 code_bytes(uint32 dims, ElemKind kind, Quantizer q, uint32 bits) {
    if (q == kRabitq) return nmvec::rabitq_code_bytes(dims, bits);
    return dims * (kind == kFloat16 ? 2u : 4u);
}
/// Bytes of one record: header, code, then the filter-column values
/// (attr_bytes, 0 for an index on the vector alone), rounded up to 8.
inline uint32 record_bytes(uint32 dims, ElemKind kind, Quantizer q, uint32 bits, uint32 attr_bytes) {
    return (sizeof(RecordHeader) + code_bytes(dims, kind, q, bits) + attr_bytes + 7u) & ~7u;
}
inline uint32 centroid_bytes(uint32 dims) { return dims * 4u; }

/// The 8 bytes at the end of every page (the whole special space, but for
/// list pages with a zone before them).
inline IvfOpaque* page_opaque(Page page) {
    return reinterpret_cast<IvfOpaque*>(static_cast<char*>(page) + BLCKSZ - sizeof(IvfOpaque));
}
/// Most bytes a zone takes (32 filter columns).
constexpr uint32 kMaxZoneBytes = 8 + 48 * 32;
/// The special space of a list page whose zone takes zone_bytes (0: none).
inline uint32 list_special_bytes(uint32 zone_bytes) { return MAXALIGN(sizeof(IvfOpaque) + zone_bytes); }
/// Stream bytes a list page holds (kSliceBytes without a zone; a multiple of 64).
inline uint32 list_slice(uint32 zone_bytes) {
    return (BLCKSZ - list_special_bytes(zone_bytes) - kStreamOffset) / 64 * 64;
}
/// A list page's zone (its special space's start).
inline uint8_t* page_zone(Page page) {
    return reinterpret_cast<uint8_t*>(page) + reinterpret_cast<PageHeader>(page)->pd_special;
}
inline Meta* page_meta(Page page) { return reinterpret_cast<Meta*>(PageGetContents(page)); }
inline char* stream_data(Page page) { return static_cast<char*>(page) + kStreamOffset; }
inline ListEntry* dir_entries(Page page) { return reinterpret_cast<ListEntry*>(stream_data(page)); }

/// Initialise a page of `kind`; stream pages (centroid, directory, list)
/// with their data area as the hole until written (cover_written).
void init_page(Page page, PageKind kind, uint32 zone_bytes = 0);
/// Bytes of the data area written (a list page's watermark).
inline uint32 written_bytes(Page page) {
    const uint32 lower = reinterpret_cast<PageHeader>(page)->pd_lower;
    return lower > kStreamOffset ? lower - kStreamOffset : 0;
}
/// Make pd_lower cover the data area up to byte `end`.
inline void cover_written(Page page, uint32 end) {
    auto* ph = reinterpret_cast<PageHeader>(page);
    const uint32 want = kStreamOffset + end;
    if (ph->pd_lower < want) ph->pd_lower = static_cast<LocationIndex>(want);
}

}  // namespace nmvec::pg::ivf

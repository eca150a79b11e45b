// stream_span.h — where a fixed-size record of a byte stream lies when the
// stream is cut into slices of a fixed size (one slice per page). The one
// place that does this arithmetic for index pages (src/pg/hnsw_page.h: the
// vector stream); tested at every boundary in test/unit/test_stream_span.cpp.
//
// Record i of `record_bytes` bytes starts at stream byte i * record_bytes,
// in slice pos / slice_bytes at offset pos % slice_bytes, and runs on through
// as many following slices as it needs: a record of up to slice_bytes bytes
// lies in one slice or straddles two, a larger one spans
// ceil((offset + record_bytes) / slice_bytes) slices. Header-only: the scan's
// hot path computes a span per distance.
#pragma once

#include <cstdint>

namespace nmvec {

/// The part of a record that lies in one slice.
struct SpanPiece {
    uint32_t slice;   ///< index of the slice in the stream
    uint32_t offset;  ///< first byte within the slice
    uint32_t bytes;   ///< bytes of the record in this slice
    uint32_t at;      ///< where those bytes are within the record
};

/// Where record `index` lies: its pieces, one per slice, in stream order
/// (which is the order of the slices' pages).
class StreamSpan {
 public:
    StreamSpan(uint64_t index, uint32_t record_bytes, uint32_t slice_bytes)
        : StreamSpan(index * record_bytes, record_bytes, slice_bytes, 0) {}
    /// Where bytes [skip, skip + len) of record `index` lie (a part of a
    /// record: e.g. the vector after an hnsw element's code); pieces' `at`
    /// count from the part's first byte.
    static StreamSpan part(uint64_t index, uint32_t record_bytes, uint32_t skip, uint32_t len,
                           uint32_t slice_bytes) {
        return StreamSpan(index * record_bytes + skip, len, slice_bytes, 0);
    }
    /// Slice holding the first byte, and offset of that byte in it.
    uint32_t first_slice() const { return first_; }
    uint32_t offset() const { return offset_; }
    /// Slice holding the last byte.
    uint32_t last_slice() const { return first_ + pieces_ - 1; }
    /// Slices the record touches (1 for an empty record).
    uint32_t pieces() const { return pieces_; }
    /// Whether the whole record lies in its first slice.
    bool within_one() const { return pieces_ == 1; }
    /// Piece i (0 <= i < pieces()): the first starts at offset(), every other
    /// at 0; all but the last run to the end of their slice.
    SpanPiece piece(uint32_t i) const {
        if (i == 0) {
            uint32_t room = slice_bytes_ - offset_;
            return {first_, offset_, len_ < room ? len_ : room, 0};
        }
        const uint32_t at = slice_bytes_ - offset_ + (i - 1) * slice_bytes_;
        const uint32_t left = len_ - at;
        return {first_ + i, 0, left < slice_bytes_ ? left : slice_bytes_, at};
    }

 private:
    StreamSpan(uint64_t pos, uint32_t len, uint32_t slice_bytes, int) : len_(len), slice_bytes_(slice_bytes) {
        first_ = static_cast<uint32_t>(pos / slice_bytes);
        offset_ = static_cast<uint32_t>(pos % slice_bytes);
        pieces_ = len == 0 ? 1
                           : static_cast<uint32_t>((static_cast<uint64_t>(offset_) + len + slice_bytes - 1) /
                                                   slice_bytes);
    }
    uint32_t len_, slice_bytes_;
    uint32_t first_ = 0, offset_ = 0, pieces_ = 1;
};

/// Slices needed to hold records [0, count) of `record_bytes` bytes each.
inline uint64_t stream_slices(uint64_t count, uint32_t record_bytes, uint32_t slice_bytes) {
    return (count * record_bytes + slice_bytes - 1) / slice_bytes;
}

}  // namespace nmvec

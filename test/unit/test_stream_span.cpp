// test_stream_span.cpp — StreamSpan (where a record of a sliced byte stream
// lies) against a byte-by-byte model, at every boundary: records just below,
// at and above one, two, three slices, the largest vectors (16,000 float32 /
// halfvec dims), and enough records of each size that first offsets take
// every value they can.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "stream_span.h"

namespace nmvec {
namespace {

/// The hnsw vector stream's slice (src/pg/hnsw_page.h, 8 KiB pages).
constexpr uint32_t kSlice = 8064;

/// Checks span(index) against where each byte of the record lies, computed
/// one byte at a time.
void check_span(uint64_t index, uint32_t len, uint32_t slice) {
    SCOPED_TRACE(testing::Message() << "record " << index << " of " << len << " bytes, slice " << slice);
    const StreamSpan s(index, len, slice);
    const uint64_t pos = index * len;
    ASSERT_EQ(s.first_slice(), pos / slice);
    ASSERT_EQ(s.offset(), pos % slice);
    ASSERT_EQ(s.last_slice(), len == 0 ? pos / slice : (pos + len - 1) / slice);
    ASSERT_EQ(s.pieces(), s.last_slice() - s.first_slice() + 1);
    ASSERT_EQ(s.within_one(), s.pieces() == 1);
    // Pieces cover [0, len) in order, each inside its slice, in consecutive
    // slices; every byte is where the model says.
    uint32_t covered = 0;
    for (uint32_t i = 0; i < s.pieces(); ++i) {
        const SpanPiece p = s.piece(i);
        ASSERT_EQ(p.slice, s.first_slice() + i);
        ASSERT_EQ(p.at, covered);
        ASSERT_EQ(p.offset, i == 0 ? s.offset() : 0u);
        ASSERT_LE(static_cast<uint64_t>(p.offset) + p.bytes, slice);
        if (i + 1 < s.pieces()) {
            ASSERT_EQ(p.offset + p.bytes, slice) << "only the last piece ends early";
        }
        if (len > 0) {
            ASSERT_GT(p.bytes, 0u) << "no empty pieces";
        }
        for (uint32_t b : {0u, p.bytes / 2, p.bytes - 1}) {
            if (p.bytes == 0) break;
            const uint64_t stream_byte = pos + p.at + b;
            ASSERT_EQ(stream_byte / slice, p.slice);
            ASSERT_EQ(stream_byte % slice, p.offset + b);
        }
        covered += p.bytes;
    }
    ASSERT_EQ(covered, len);
}

TEST(StreamSpan, MatchesByteModelOnSmallSlices) {
    // Every record size up to five slices, every index until offsets repeat.
    for (uint32_t slice : {4u, 8u, 64u}) {
        for (uint32_t len = 1; len <= 5 * slice + 1; ++len) {
            for (uint64_t i = 0; i < 2 * slice + 3; ++i) check_span(i, len, slice);
        }
    }
}

TEST(StreamSpan, PageBoundarySizes) {
    // vec_bytes just below, at and above 1, 2, 3 slices (float32 2015..2017,
    // 4031..4033, 6047..6049 dims; halfvec twice those), the largest vectors,
    // and ids far into the stream.
    std::vector<uint32_t> sizes;
    for (uint32_t k = 1; k <= 8; ++k)
        for (int d = -2; d <= 2; ++d)
            sizes.push_back(static_cast<uint32_t>(static_cast<int>(k * kSlice) + 4 * d));
    for (uint32_t v : {4u, 64u, 1536u, 3136u, 32000u, 64000u}) sizes.push_back(v);
    for (uint32_t len : sizes) {
        // Offsets of consecutive records step by len % slice: 2016 records see
        // every multiple of 4 for a len of 4 mod 8064.
        for (uint64_t i = 0; i < 2100; ++i) check_span(i, len, kSlice);
        for (uint64_t i : {100000ull, 1000003ull, 500000009ull}) check_span(i, len, kSlice);
    }
}

TEST(StreamSpan, PieceCounts) {
    // Vectors of up to one slice lie in one or two slices; larger ones in as
    // many as their bytes need, plus one when they start mid-slice.
    EXPECT_EQ(StreamSpan(0, kSlice, kSlice).pieces(), 1u);
    EXPECT_EQ(StreamSpan(5, kSlice, kSlice).pieces(), 1u);
    EXPECT_EQ(StreamSpan(1, kSlice - 4, kSlice).pieces(), 2u);  // 4 bytes left on the first page
    EXPECT_EQ(StreamSpan(1, kSlice + 4, kSlice).pieces(), 2u);  // starts at byte 4 of slice 1
    EXPECT_EQ(StreamSpan(1, 2 * kSlice + 4, kSlice).pieces(), 3u);
    // 4 bytes over two slices: offsets are multiples of 4, at most 8060, so
    // never more than 3 slices; 20 bytes over: up to 4.
    auto most = [](uint32_t len) {
        uint32_t n = 0;
        for (uint64_t i = 0; i < kSlice; ++i) n = std::max(n, StreamSpan(i, len, kSlice).pieces());
        return n;
    };
    EXPECT_EQ(most(2 * kSlice + 4), 3u);
    EXPECT_EQ(most(2 * kSlice + 20), 4u);
    EXPECT_EQ(most(kSlice), 1u);
    EXPECT_EQ(most(kSlice - 4), 2u);
    EXPECT_EQ(StreamSpan(0, 64000, kSlice).pieces(), 8u);
    EXPECT_EQ(StreamSpan(1, 64000, kSlice).pieces(), 9u);
    const StreamSpan big(1, 64000, kSlice);  // 64000 = 7 * 8064 + 7552
    EXPECT_EQ(big.piece(0).bytes, 8064u * 8 - 64000u);
    EXPECT_EQ(big.piece(8).bytes, 64000u - (8064u * 8 - 64000u) - 7 * 8064u);
    // halfvec(16000): 32000 bytes, 4 or 5 slices.
    EXPECT_EQ(StreamSpan(0, 32000, kSlice).pieces(), 4u);
    EXPECT_EQ(StreamSpan(3, 32000, kSlice).pieces(), 5u);
}

TEST(StreamSpan, PiecesHoldWholeElements) {
    // Slices and records are multiples of 4 bytes, so no float32 (or
    // binary16) element is ever cut in two: distances can be summed per piece.
    for (uint32_t len = 4; len <= 3 * kSlice + 8; len += 4) {
        for (uint64_t i = 0; i < 7; ++i) {
            const StreamSpan s(i * 131, len, kSlice);
            for (uint32_t p = 0; p < s.pieces(); ++p) ASSERT_EQ(s.piece(p).bytes % 4, 0u);
        }
    }
}

TEST(StreamSpan, StreamSlices) {
    EXPECT_EQ(stream_slices(0, 3136, kSlice), 0u);
    EXPECT_EQ(stream_slices(1, 3136, kSlice), 1u);
    EXPECT_EQ(stream_slices(2, kSlice, kSlice), 2u);
    EXPECT_EQ(stream_slices(3, kSlice + 4, kSlice), 4u);
    for (uint32_t len : {4u, 3136u, kSlice - 4, kSlice, kSlice + 4, 64000u})
        for (uint64_t n = 1; n < 3000; n += 7)
            ASSERT_EQ(stream_slices(n, len, kSlice), StreamSpan(n - 1, len, kSlice).last_slice() + 1u)
                << n << " records of " << len;
}

}  // namespace
}  // namespace nmvec

namespace nmvec {
namespace {

TEST(StreamSpan, PartsOfRecords) {
    // hnsw records with a code before the vector (quantizer = 'sq8'): the
    // vector part of record i, byte by byte, for sizes around the slice.
    for (uint32_t code : {64u, 832u, 16064u}) {
        for (uint32_t vec : {12u, 3136u, 8064u, 64000u}) {
            const uint32_t rec = code + vec;
            for (uint64_t i = 0; i < 40; ++i) {
                for (auto [skip, len] : {std::pair<uint32_t, uint32_t>{code, vec}, {0u, code}}) {
                    const StreamSpan s = StreamSpan::part(i, rec, skip, len, kSlice);
                    const uint64_t pos = i * rec + skip;
                    ASSERT_EQ(s.first_slice(), pos / kSlice);
                    ASSERT_EQ(s.offset(), pos % kSlice);
                    ASSERT_EQ(s.last_slice(), (pos + len - 1) / kSlice);
                    uint32_t covered = 0;
                    for (uint32_t p = 0; p < s.pieces(); ++p) {
                        const SpanPiece pc = s.piece(p);
                        ASSERT_EQ(pc.at, covered);
                        ASSERT_EQ(static_cast<uint64_t>(pc.slice) * kSlice + pc.offset, pos + covered);
                        covered += pc.bytes;
                    }
                    ASSERT_EQ(covered, len);
                }
            }
        }
    }
}

}  // namespace
}  // namespace nmvec

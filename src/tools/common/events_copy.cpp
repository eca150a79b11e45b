// events_copy.cpp — see events_copy.h.
#include "events_copy.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace nmvec {

namespace {

constexpr uint32_t kNull = 0xffffffffu;  // a field length of -1

void put_be(std::string& out, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

// Big-endian integers and length-prefixed fields written at p; each returns
// the byte after what it wrote.
inline char* put16(char* p, uint16_t v) {
    v = static_cast<uint16_t>((v >> 8) | (v << 8));
    std::memcpy(p, &v, 2);
    return p + 2;
}
inline char* put32(char* p, uint32_t v) {
    v = __builtin_bswap32(v);
    std::memcpy(p, &v, 4);
    return p + 4;
}
inline char* put64(char* p, uint64_t v) {
    v = __builtin_bswap64(v);
    std::memcpy(p, &v, 8);
    return p + 8;
}
inline char* put_field(char* p, std::string_view bytes) {
    p = put32(p, static_cast<uint32_t>(bytes.size()));
    std::memcpy(p, bytes.data(), bytes.size());
    return p + bytes.size();
}
inline char* put_text(char* p, const std::optional<std::string_view>& s) {
    return s ? put_field(p, *s) : put32(p, kNull);
}

}  // namespace

void append_copy_header(std::string& out) {
    static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // 11 bytes with the NUL
    out.append(kSignature, sizeof kSignature);
    put_be(out, 0, 4);  // flags: no OIDs
    put_be(out, 0, 4);  // header extension length
}

size_t copy_tuple_size(const EventRow& row) {
    auto text_size = [](const std::optional<std::string_view>& s) { return 4 + (s ? s->size() : 0); };
    return 2 + (row.height ? 12 : 4) + 12 + text_size(row.tenant) + text_size(row.category) + 4 +
           row.action.size() + text_size(row.user) + (row.pid ? 8 : 4) + 5 + row.payload_json.size() + 4 +
           row.hash.size() + 8 + 4 * row.dims;
}

void append_copy_tuple(std::string& out, const EventRow& row) {
    const size_t at = out.size();
    out.resize(at + copy_tuple_size(row));
    write_copy_tuple(out.data() + at, row);
}

void write_copy_tuple(char* p, const EventRow& row) {
    p = put16(p, kEventColumns);
    if (row.height) {  // id bigint
        p = put32(p, 8);
        p = put64(p, *row.height);
    } else {
        p = put32(p, kNull);
    }
    p = put32(p, 8);  // ts timestamptz: microseconds since 2000-01-01 UTC
    const int64_t us = (static_cast<int64_t>(row.timestamp) - kPostgresEpochUnixSeconds) * 1000000;
    p = put64(p, static_cast<uint64_t>(us));
    p = put_text(p, row.tenant);
    p = put_text(p, row.category);
    p = put_field(p, row.action);
    p = put_text(p, row.user);
    if (row.pid) {  // pid integer (nm-monitor's u32; pids fit in int4)
        p = put32(p, 4);
        p = put32(p, *row.pid);
    } else {
        p = put32(p, kNull);
    }
    p = put32(p,
              static_cast<uint32_t>(1 + row.payload_json.size()));  // payload jsonb: version 1, the JSON text
    *p++ = 1;
    std::memcpy(p, row.payload_json.data(), row.payload_json.size());
    p += row.payload_json.size();
    p = put_field(p, row.hash);
    p = put32(p, static_cast<uint32_t>(4 + 4 * row.dims));  // embedding: int16 dims, int16 0, float4s
    p = put16(p, static_cast<uint16_t>(row.dims));
    p = put16(p, 0);
    size_t i = 0;
#if defined(__SSE2__)
    for (; i + 4 <= row.dims;
         i += 4, p += 16) {  // four floats at a time: bytes of each 16-bit half, then halves
        __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row.embedding + i));
        x = _mm_or_si128(_mm_slli_epi16(x, 8), _mm_srli_epi16(x, 8));
        x = _mm_shufflehi_epi16(_mm_shufflelo_epi16(x, 0xb1), 0xb1);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(p), x);
    }
#endif
    for (; i < row.dims; ++i) {
        uint32_t bits;
        std::memcpy(&bits, &row.embedding[i], 4);
        p = put32(p, bits);
    }
}

void append_copy_trailer(std::string& out) { put_be(out, 0xffff, 2); }

}  // namespace nmvec

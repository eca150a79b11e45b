// events_copy.cpp — see events_copy.h.
#include "events_copy.h"

#include <cstring>

namespace nmvec {

namespace {

void put_be(std::string& out, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

void put_field(std::string& out, std::string_view bytes) {
    put_be(out, bytes.size(), 4);
    out.append(bytes);
}

void put_null(std::string& out) { put_be(out, 0xffffffffu, 4); }

void put_text(std::string& out, const std::optional<std::string_view>& s) {
    if (s)
        put_field(out, *s);
    else
        put_null(out);
}

}  // namespace

void append_copy_header(std::string& out) {
    static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // 11 bytes with the NUL
    out.append(kSignature, sizeof kSignature);
    put_be(out, 0, 4);  // flags: no OIDs
    put_be(out, 0, 4);  // header extension length
}

void append_copy_tuple(std::string& out, const EventRow& row) {
    put_be(out, kEventColumns, 2);
    if (row.height) {  // id bigint
        put_be(out, 8, 4);
        put_be(out, *row.height, 8);
    } else {
        put_null(out);
    }
    put_be(out, 8, 4);  // ts timestamptz: microseconds since 2000-01-01 UTC
    int64_t us = (static_cast<int64_t>(row.timestamp) - kPostgresEpochUnixSeconds) * 1000000;
    put_be(out, static_cast<uint64_t>(us), 8);
    put_text(out, row.tenant);
    put_text(out, row.category);
    put_field(out, row.action);
    put_text(out, row.user);
    if (row.pid) {  // pid integer (nm-monitor's u32; pids fit in int4)
        put_be(out, 4, 4);
        put_be(out, *row.pid, 4);
    } else {
        put_null(out);
    }
    put_be(out, 1 + row.payload_json.size(), 4);  // payload jsonb: version 1, then the JSON text
    out.push_back(1);
    out.append(row.payload_json);
    put_field(out, row.hash);
    put_be(out, 4 + 4 * row.dims, 4);  // embedding: int16 dims, int16 0, float4s
    put_be(out, row.dims, 2);
    put_be(out, 0, 2);
    size_t at = out.size();
    out.resize(at + 4 * row.dims);
    char* p = out.data() + at;
    for (size_t i = 0; i < row.dims; ++i) {
        uint32_t bits;
        std::memcpy(&bits, &row.embedding[i], 4);
        p[4 * i] = static_cast<char>(bits >> 24);
        p[4 * i + 1] = static_cast<char>(bits >> 16);
        p[4 * i + 2] = static_cast<char>(bits >> 8);
        p[4 * i + 3] = static_cast<char>(bits);
    }
}

void append_copy_trailer(std::string& out) { put_be(out, 0xffff, 2); }

}  // namespace nmvec

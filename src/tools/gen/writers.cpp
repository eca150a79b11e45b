// writers.cpp — ledger lines, COPY BINARY tuples, vector text (see writers.h).
#include "writers.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "json_write.h"

namespace nmvec::gen {

namespace {

void append_floats(std::string& out, const float* v, int dims) {
    // Format through a small stack buffer: growing `out` by the worst case
    // first would zero-fill it. Each float needs at most 15 characters
    // ("-1.17549435e-38") plus a comma.
    constexpr int kChunk = 256;
    char buf[kChunk * 16];
    out.push_back('[');
    for (int at = 0; at < dims; at += kChunk) {
        char* p = buf;
        for (int i = at; i < std::min(dims, at + kChunk); ++i) {
            if (i > 0) *p++ = ',';
            p = std::to_chars(p, p + 15, v[i]).ptr;
        }
        out.append(buf, size_t(p - buf));
    }
    out.push_back(']');
}

void put_be(std::string& out, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}

void put_field(std::string& out, std::string_view bytes) {
    put_be(out, bytes.size(), 4);
    out.append(bytes);
}

}  // namespace

void append_ledger_line(std::string& out, const Event& ev, const Fleet& fleet, const float* emb, int dims) {
    const EventKind& k = event_kinds()[ev.kind];
    out.append("{\"timestamp\":");
    json_append_u64(out, ev.timestamp);
    out.append(",\"height\":");
    json_append_u64(out, ev.height);
    out.append(",\"prev_hash\":");
    json_append_string(out, ev.prev_hash);
    out.append(",\"hash\":");
    json_append_string(out, ev.hash);
    out.append(",\"producer\":");
    json_append_string(out, k.producer);
    out.append(",\"category\":");
    json_append_string(out, k.category);
    out.append(",\"action\":");
    json_append_string(out, k.action);
    out.append(",\"user\":");
    json_append_string(out, ev.user);
    out.append(",\"hostname\":");
    json_append_string(out, fleet.hostname(ev.host));
    out.append(",\"pid\":");
    json_append_u64(out, ev.pid);
    out.append(",\"data\":");
    out.append(ev.data);
    out.append(",\"metadata\":{},\"signature\":null,\"embedding\":");
    append_floats(out, emb, dims);
    out.append("}\n");
}

void append_copy_header(std::string& out) {
    static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // 11 bytes with the NUL
    out.append(kSignature, sizeof kSignature);
    put_be(out, 0, 4);  // flags: no OIDs
    put_be(out, 0, 4);  // header extension length
}

void append_copy_tuple(std::string& out, const Event& ev, const Fleet& fleet, const float* emb, int dims) {
    const EventKind& k = event_kinds()[ev.kind];
    put_be(out, kEventColumns, 2);
    put_be(out, 8, 4);  // id bigint
    put_be(out, ev.height, 8);
    put_be(out, 8, 4);  // ts timestamptz: microseconds since 2000-01-01 UTC
    int64_t us = (static_cast<int64_t>(ev.timestamp) - kPostgresEpochUnixSeconds) * 1000000;
    put_be(out, static_cast<uint64_t>(us), 8);
    put_field(out, fleet.hostname(ev.host));  // tenant
    put_field(out, k.category);
    put_field(out, k.action);
    put_field(out, ev.user);
    put_be(out, 4, 4);  // pid integer (nm-monitor's u32; pids fit in int4)
    put_be(out, ev.pid, 4);
    put_be(out, 1 + ev.data.size(), 4);  // payload jsonb: version 1, then the JSON text
    out.push_back(1);
    out.append(ev.data);
    put_field(out, ev.hash);
    put_be(out, 4 + 4 * size_t(dims), 4);  // embedding: int16 dims, int16 0, float4s
    put_be(out, static_cast<uint64_t>(dims), 2);
    put_be(out, 0, 2);
    size_t at = out.size();
    out.resize(at + 4 * size_t(dims));
    char* p = out.data() + at;
    for (int i = 0; i < dims; ++i) {
        uint32_t bits;
        std::memcpy(&bits, &emb[i], 4);
        p[4 * i] = static_cast<char>(bits >> 24);
        p[4 * i + 1] = static_cast<char>(bits >> 16);
        p[4 * i + 2] = static_cast<char>(bits >> 8);
        p[4 * i + 3] = static_cast<char>(bits);
    }
}

void append_copy_trailer(std::string& out) { put_be(out, 0xffff, 2); }

void append_vector_line(std::string& out, const float* v, int dims) {
    append_floats(out, v, dims);
    out.push_back('\n');
}

}  // namespace nmvec::gen

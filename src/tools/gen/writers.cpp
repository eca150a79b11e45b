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

void append_copy_tuple(std::string& out, const Event& ev, const Fleet& fleet, const float* emb, int dims) {
    const EventKind& k = event_kinds()[ev.kind];
    EventRow row;
    row.height = ev.height;
    row.timestamp = ev.timestamp;
    row.tenant = fleet.hostname(ev.host);
    row.category = k.category;
    row.action = k.action;
    row.user = ev.user;
    row.pid = ev.pid;
    row.payload_json = ev.data;
    row.hash = ev.hash;
    row.embedding = emb;
    row.dims = static_cast<size_t>(dims);
    nmvec::append_copy_tuple(out, row);
}

void append_vector_line(std::string& out, const float* v, int dims) {
    append_floats(out, v, dims);
    out.push_back('\n');
}

}  // namespace nmvec::gen

// copy_row.cpp — see copy_row.h.
#include "copy_row.h"

#include <cstdint>
#include <limits>

namespace nmvec::ingest {

namespace {

// The last second of 9999-12-31 UTC: later timestamps are refused (timestamptz
// itself reaches further, but a ledger time past it is a corrupt line).
constexpr uint64_t kMaxUnixSeconds = 253402300799ULL;

}  // namespace

std::string CopyRows::check(const Event& ev) {
    if (ev.timestamp > kMaxUnixSeconds)
        return "timestamp " + std::to_string(ev.timestamp) + " is after year 9999";
    if (ev.kind == Event::Kind::V2Block && ev.height > uint64_t(std::numeric_limits<int64_t>::max()))
        return "height " + std::to_string(ev.height) + " does not fit a bigint";
    if (ev.pid > uint32_t(std::numeric_limits<int32_t>::max()))
        return "pid " + std::to_string(ev.pid) + " does not fit an integer";
    if (ev.embedding.empty()) return "no embedding";
    return {};
}

void CopyRows::reset() {
    buf_.clear();
    append_copy_header(buf_);
    rows_ = 0;
    started_ = true;
    finished_ = false;
}

EventRow CopyRows::row(const Event& ev) {
    EventRow row;
    row.timestamp = ev.timestamp;
    row.action = ev.action;
    if (ev.kind == Event::Kind::V2Block) {
        row.height = ev.height;
        row.tenant = ev.hostname;
        row.category = ev.category;
        row.user = ev.user;
        row.pid = ev.pid;
    }
    row.payload_json = ev.data_json;
    row.hash = ev.hash;
    row.embedding = ev.embedding.data();
    row.dims = ev.embedding.size();
    return row;
}

void CopyRows::encode(const Event& ev, std::string& out) { append_copy_tuple(out, row(ev)); }

void CopyRows::add(const Event& ev) {
    if (!started_ || finished_) reset();
    encode(ev, buf_);
    ++rows_;
}

const std::string& CopyRows::finish() {
    if (!started_) reset();
    if (!finished_) {
        append_copy_trailer(buf_);
        finished_ = true;
    }
    return buf_;
}

}  // namespace nmvec::ingest

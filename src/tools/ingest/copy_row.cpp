// copy_row.cpp — see copy_row.h.
#include "copy_row.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace nmvec::ingest {

namespace {

// PostgreSQL's timestamp epoch (2000-01-01 UTC) in unix seconds.
constexpr int64_t kPgEpochUnix = 946684800;
// The last second of 9999-12-31 UTC: later timestamps are refused (timestamptz
// itself reaches further, but a ledger time past it is a corrupt line).
constexpr uint64_t kMaxUnixSeconds = 253402300799ULL;

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

}  // namespace

const char* CopyRows::columns() {
    return "id, ts, tenant, category, action, \"user\", pid, payload, hash, embedding";
}

std::string CopyRows::check(const Event& ev) {
    if (ev.timestamp > kMaxUnixSeconds)
        return "timestamp " + std::to_string(ev.timestamp) + " is after year 9999";
    if (ev.kind == Event::Kind::V2Block && ev.height > uint64_t(std::numeric_limits<int64_t>::max()))
        return "height " + std::to_string(ev.height) + " does not fit a bigint";
    if (ev.pid > uint32_t(std::numeric_limits<int32_t>::max()))
        return "pid " + std::to_string(ev.pid) + " does not fit an integer";
    for (std::string_view f :
         {std::string_view(ev.hostname), std::string_view(ev.category), std::string_view(ev.action),
          std::string_view(ev.user), std::string_view(ev.hash)})
        if (has_nul(f)) return "a text field holds a NUL character, which text cannot store";
    // jsonb refuses \u0000 (PostgreSQL cannot store NUL in text values)
    if (ev.data_json.find("\\u0000") != std::string::npos)
        return "payload holds \\u0000, which jsonb cannot store";
    if (ev.embedding.empty()) return "no embedding";
    if (ev.embedding.size() > 16000)
        return "embedding has " + std::to_string(ev.embedding.size()) + " elements, more than 16000";
    for (size_t i = 0; i < ev.embedding.size(); ++i)
        if (!std::isfinite(ev.embedding[i]))
            return "embedding element " + std::to_string(i) + " is not finite";
    return {};
}

void CopyRows::reset() {
    buf_.clear();
    static const char kSig[] = "PGCOPY\n\377\r\n";  // 11 bytes with its NUL
    buf_.append(kSig, 11);
    put_i32(0);  // flags
    put_i32(0);  // header extension length
    rows_ = 0;
    started_ = true;
    finished_ = false;
}

void CopyRows::put_i16(int16_t v) {
    uint16_t u = static_cast<uint16_t>(v);
    char b[2] = {char(u >> 8), char(u)};
    buf_.append(b, 2);
}

void CopyRows::put_i32(int32_t v) {
    uint32_t u = static_cast<uint32_t>(v);
    char b[4] = {char(u >> 24), char(u >> 16), char(u >> 8), char(u)};
    buf_.append(b, 4);
}

void CopyRows::put_i64(int64_t v) {
    uint64_t u = static_cast<uint64_t>(v);
    for (int s = 56; s >= 0; s -= 8) buf_.push_back(char(u >> s));
}

void CopyRows::put_text(std::string_view s) {
    put_i32(static_cast<int32_t>(s.size()));
    buf_.append(s.data(), s.size());
}

void CopyRows::add(const Event& ev) {
    if (!started_ || finished_) reset();
    const bool v2 = ev.kind == Event::Kind::V2Block;
    put_i16(10);
    if (v2) {
        put_i32(8);
        put_i64(static_cast<int64_t>(ev.height));
    } else {
        put_null();
    }
    put_i32(8);
    put_i64((static_cast<int64_t>(ev.timestamp) - kPgEpochUnix) * 1000000);
    if (v2) {
        put_text(ev.hostname);
        put_text(ev.category);
    } else {
        put_null();
        put_null();
    }
    put_text(ev.action);
    if (v2) {
        put_text(ev.user);
        put_i32(4);
        put_i32(static_cast<int32_t>(ev.pid));
    } else {
        put_null();
        put_null();
    }
    // jsonb's binary form: a version byte (1), then the JSON text
    put_i32(static_cast<int32_t>(ev.data_json.size() + 1));
    buf_.push_back('\1');
    buf_.append(ev.data_json);
    put_text(ev.hash);
    // vector's binary form: int16 dims, int16 0, then float4s, big-endian
    const size_t d = ev.embedding.size();
    put_i32(static_cast<int32_t>(4 + 4 * d));
    put_i16(static_cast<int16_t>(d));
    put_i16(0);
    for (float f : ev.embedding) {
        uint32_t u;
        std::memcpy(&u, &f, 4);
        put_i32(static_cast<int32_t>(u));
    }
    ++rows_;
}

std::string CopyRows::take() {
    if (!started_ || finished_) reset();
    std::string out;
    out.swap(buf_);
    return out;
}

const std::string& CopyRows::finish() {
    if (!started_) reset();
    if (!finished_) {
        put_i16(-1);
        finished_ = true;
    }
    return buf_;
}

}  // namespace nmvec::ingest

// ledger.cpp — hashes of nm-monitor ledger records (see ledger.h).
#include <ctime>
#include "ledger.h"

#include <algorithm>

namespace nmvec {

Sha256Digest block_hash(const BlockHashInput& in) {
    Sha256 h;
    h.update_u64_le(in.height);
    h.update(in.prev_hash);
    h.update_u64_le(in.timestamp);
    h.update(in.producer);
    h.update(in.category);
    h.update(in.action);
    h.update(in.user);
    h.update(in.hostname);
    h.update_u32_le(in.pid);
    h.update(in.data_json);
    if (!in.metadata.empty()) {
        // Rust sorts the keys of its HashMap (String's Ord: byte order, which
        // std::string_view's operator< also is) and hashes "k:v" for each.
        auto sorted = in.metadata;
        std::sort(sorted.begin(), sorted.end());
        for (const auto& [k, v] : sorted) {
            h.update(k);
            h.update(":");
            h.update(v);
        }
    }
    return h.finish();
}

Sha256Digest record_v1_hash(std::string_view prev_hash, uint64_t ts, std::string_view action,
                            std::string_view details_json) {
    Sha256 h;
    h.update(prev_hash);
    h.update_u64_le(ts);
    h.update(action);
    h.update(details_json);
    return h.finish();
}

std::string utc_iso8601(uint64_t unix_seconds) {
    std::time_t tt = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace nmvec

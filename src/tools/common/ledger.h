// ledger.h — the nm-monitor ledger.jsonl record formats and their hashes.
//
// nm-monitor (repr0bated/nm-monitor, src/ledger.rs) appends one compact JSON
// object per line. The current format, v2 "Block", has these fields in this
// order:
//   timestamp (u64 unix s), height (u64, from 1), prev_hash ("" at genesis),
//   hash (64 lower-case hex), producer, category, action, user, hostname,
//   pid (u32), data (any JSON), metadata (string map), signature (null)
// and nmvec reads one more, appended upstream: embedding (array of floats).
// The older v1 "Record" is {"ts","action","details","prev_hash","hash"}.
// docs/ledger.md describes both; this header computes their hashes.
// Implemented in ledger.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sha256.h"

namespace nmvec {

/// The fields of a v2 block that its hash covers. Views into caller storage.
struct BlockHashInput {
    uint64_t height = 0;
    std::string_view prev_hash;
    uint64_t timestamp = 0;
    std::string_view producer;
    std::string_view category;
    std::string_view action;
    std::string_view user;
    std::string_view hostname;
    uint32_t pid = 0;
    /// `data` serialised exactly as serde_json's Value::to_string (compact,
    /// sorted keys; see json_write.h).
    std::string_view data_json;
    /// metadata entries in any order (sorted for hashing here).
    std::vector<std::pair<std::string_view, std::string_view>> metadata;

    /// Add a metadata entry as the JSON object's members are read: a
    /// repeated key keeps its last value, as in serde's HashMap.
    void set_metadata(std::string_view key, std::string_view value) {
        for (auto& m : metadata)
            if (m.first == key) {
                m.second = value;
                return;
            }
        metadata.emplace_back(key, value);
    }
};

/// SHA-256 of a v2 block, as BlockchainLedger::calculate_hash computes it:
/// height (u64 LE), prev_hash, timestamp (u64 LE), producer, category,
/// action, user, hostname, pid (u32 LE), data JSON, then the metadata as
/// "key:value" for each key in sorted order, all concatenated with no
/// separators. Strings contribute their UTF-8 bytes, no length prefix.
Sha256Digest block_hash(const BlockHashInput& in);

/// SHA-256 of a v1 record: prev_hash, ts (u64 LE), action, details JSON.
Sha256Digest record_v1_hash(std::string_view prev_hash, uint64_t ts, std::string_view action,
                            std::string_view details_json);

/// "YYYY-MM-DDTHH:MM:SSZ" for a unix time in seconds (UTC), as the tools print it.
std::string utc_iso8601(uint64_t unix_seconds);

}  // namespace nmvec

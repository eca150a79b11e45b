// ledger_verify.h — check a ledger.jsonl chain the way nm-monitor's
// verify_chain does, with simdjson.
//
// For every v2 block: height is the previous block's height + 1 (the first
// is 1), prev_hash equals the previous block's hash ("" for the first), and
// hash equals the block hash recomputed from the fields (ledger.h), where
// `data` is re-serialised in serde_json's canonical compact form — so a line
// whose data differs from what nm-monitor would hash, even only in key
// order, is reported. v1 records ({"ts","action","details",...}) form their
// own chain, checked the same way minus the height. Blank lines are skipped;
// any other line that is not one of the two formats is an error. Verification
// stops at the first error and reports its 1-based line number.
// Implemented in ledger_verify.cpp.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

namespace simdjson::dom {
class element;
}

namespace nmvec {

/// What verify_ledger found.
struct VerifyReport {
    bool ok = true;
    uint64_t lines = 0;                                ///< non-blank lines read (including a failing one)
    uint64_t blocks = 0;                               ///< v2 blocks verified
    uint64_t records_v1 = 0;                           ///< v1 records verified
    uint64_t first_timestamp = 0, last_timestamp = 0;  ///< of v2 blocks
    uint64_t last_height = 0;
    std::string last_hash;                        ///< hash of the last v2 block
    uint64_t hosts = 0;                           ///< distinct v2 hostnames
    std::map<std::string, uint64_t> categories;   ///< v2 blocks per category
    std::map<uint64_t, uint64_t> embedding_dims;  ///< lines per embedding length
    uint64_t error_line = 0;                      ///< 1-based; 0 if ok
    std::string error;                            ///< what is wrong there
};

/// Verify the ledger at `path`. Throws std::runtime_error if it cannot be
/// read; chain problems are reported in the result, not thrown.
VerifyReport verify_ledger(const std::string& path);

/// Print a human-readable summary (the error too, if any) to `out`.
void print_verify_report(std::FILE* out, const std::string& path, const VerifyReport& r);

/// Append `value` in serde_json's canonical compact form: keys sorted by
/// bytes (a repeated key keeps its last value), strings re-escaped, numbers as
/// serde_json prints u64/i64/f64. (Integers beyond 64 bits, which serde_json
/// would read as f64, already fail simdjson's parse.)
void append_canonical_json(std::string& out, const simdjson::dom::element& value);

}  // namespace nmvec

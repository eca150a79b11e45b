// ledger_line.h — the line layer of nmvec-ingest: one ledger.jsonl line in,
// one validated Event out, and a chain checker that keeps going after a break.
//
// Unlike verify_ledger (ledger_verify.h), which stops at the first problem,
// this layer is meant for loading: LineParser rejects a malformed line with a
// short reason and the caller moves on; ChainChecker reports each chain break
// once and takes the offending event as the new head, so a deleted or edited
// line produces one report rather than one per later line.
//
// Formats (docs in /work/shared/reference/nm-monitor-ledger.md, ledger.h):
//   v2 block  {"timestamp","height","prev_hash","hash","producer","category",
//              "action","user","hostname","pid","data","metadata","signature"}
//   v1 record {"ts","action","details","prev_hash","hash"}
// plus, in either, "embedding": an array of numbers. A line without one may
// take it from a sidecar file <vectors_dir>/<hash>.vec, the JSON object
// {"hash":"<hash>","vector":[...],...} that nm-monitor's streaming blockchain
// writes.
//
// Pure C++ (simdjson), no libpq. Implemented in ledger_line.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nmvec::ingest {

/// Largest embedding accepted when ParseOptions::dims is 0 (the vector type's limit).
constexpr size_t kMaxEmbeddingDims = 16000;

/// One parsed, type-checked ledger line.
struct Event {
    enum class Kind { V2Block, V1Record };
    Kind kind = Kind::V2Block;
    uint64_t height = 0;                         ///< v2; 0 for v1
    uint64_t timestamp = 0;                      ///< unix seconds (v2 "timestamp", v1 "ts")
    std::string prev_hash, hash, computed_hash;  ///< computed_hash: hex SHA-256 recomputed from the fields
    std::string producer, category, action, user, hostname;  ///< v1: only action
    uint32_t pid = 0;
    /// v2 "data" / v1 "details" in serde_json's canonical compact form (sorted
    /// keys), the bytes the hash covers; valid JSON for a jsonb column.
    std::string data_json;
    /// v2 "metadata" in canonical compact form ("{}" in practice); "" for v1.
    std::string metadata_json;
    std::vector<float> embedding;         ///< empty if the line has none and no sidecar was found
    bool embedding_from_sidecar = false;  ///< true if `embedding` came from <vectors_dir>/<hash>.vec
};

struct ParseOptions {
    size_t dims = 0;                ///< required embedding length; 0 = any length (but 1..16000)
    bool require_embedding = true;  ///< a line without an embedding (inline or sidecar) is rejected
    std::string vectors_dir;  ///< if non-empty and a line has no "embedding": read <vectors_dir>/<hash>.vec
    size_t max_line_bytes = 16u << 20;
};

/// Parses lines one at a time; keeps its simdjson parser and buffers between
/// calls, so reuse one per thread. Not thread-safe.
class LineParser {
 public:
    explicit LineParser(ParseOptions opts);
    ~LineParser();
    LineParser(LineParser&&) noexcept;
    LineParser& operator=(LineParser&&) noexcept;

    /// Parse one line (no trailing '\n'; a trailing '\r' is JSON whitespace).
    /// true: `ev` filled (every member overwritten). false: `reason` says why,
    /// in one short lower-case phrase naming the field, e.g.
    /// `missing field "hash"`, `"pid" is not a u32`,
    /// "embedding has 383 elements, expected 384",
    /// "embedding element 17 is not finite" (0-based; also for a number
    /// beyond float32's range such as 1e39), "invalid JSON: <simdjson message>",
    /// "line longer than 16777216 bytes", "not a ledger record", "blank line".
    /// Embedding elements are rounded to float32 exactly as strtof rounds the
    /// decimal text. Strings holding a NUL character (which Postgres text and
    /// jsonb cannot store) are rejected. Never throws for bad input.
    bool parse(std::string_view line, Event& ev, std::string& reason);

    /// True if `line` holds only spaces, tabs and '\r' (callers usually skip these).
    static bool is_blank(std::string_view line);

    const ParseOptions& options() const;

 private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct ChainBreak {
    uint64_t line = 0;  ///< 1-based line number given to check()
    /// "gap" (height jumps or repeats), "fork" (prev_hash is not the previous
    /// hash), "tampered" (hash differs from the recomputed one), "restart" (a
    /// v2 block at height 1 with prev_hash "" after other v2 blocks: a second
    /// chain, which nm-monitor's verify_chain rejects; callers may treat it as
    /// informational). The first v2 block after v1 records is not a break.
    std::string kind;
    std::string detail;  ///< human-readable, e.g. "height 41 after 39"
};

/// Follows the v2 chain (heights from 1, prev_hash links, recomputed hashes,
/// as nm-monitor's verify_chain) and, separately, the v1 chain (prev_hash
/// links and hashes). At most one ChainBreak per event: the first of gap /
/// restart, fork, tampered that applies, with any other problem of the same
/// line added to its detail.
class ChainChecker {
 public:
    /// Check one parsed event read at line_no; append any break to out.
    /// Continues after a break: the event (its stored hash) becomes the new
    /// chain head, so one bad line gives one report, not one per later line.
    void check(const Event& ev, uint64_t line_no, std::vector<ChainBreak>& out);

    struct State {
        uint64_t height = 0;  ///< height of the v2 head
        std::string hash;     ///< stored hash of the v2 head ("" before any)
        std::string v1_hash;  ///< stored hash of the last v1 record ("" before any)
        bool any = false;     ///< a v2 block has been seen
    };
    State state() const;                         ///< to persist with a committed batch
    const State& current() const { return s_; }  ///< the same, without a copy
    void restore(const State& s);                ///< to resume after a restart

 private:
    State s_;
};

}  // namespace nmvec::ingest

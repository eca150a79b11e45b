// run.h — nmvec-gen's generation driver: batches of events, embedded and
// formatted in parallel threads, written in order. Implemented in run.cpp.
#pragma once

#include <cstdint>
#include <cstdio>

#include "generator.h"

namespace nmvec::gen {

/// Where the outputs go; any may be null (not written).
struct Outputs {
    std::FILE* ledger = nullptr;   ///< ledger.jsonl
    std::FILE* copy = nullptr;     ///< COPY BINARY of the events table
    std::FILE* truth = nullptr;    ///< heights of outlier events, one per line
    std::FILE* queries = nullptr;  ///< query vectors, one "[...]" per line
};

/// What was generated.
struct RunStats {
    uint64_t rows = 0;
    uint64_t outliers = 0;
    uint64_t queries = 0;
    uint64_t first_timestamp = 0, last_timestamp = 0;
    uint64_t kinds[32] = {};  ///< events per event_kinds() index
};

/// Generate cfg.rows events (and cfg.queries query vectors if out.queries)
/// with `threads` formatting threads; the bytes do not depend on `threads`.
/// Throws std::invalid_argument for a bad config and std::runtime_error
/// when writing fails.
RunStats generate(const Config& cfg, const Outputs& out, int threads);

}  // namespace nmvec::gen

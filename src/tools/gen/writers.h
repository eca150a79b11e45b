// writers.h — the output formats of nmvec-gen.
//
//   * ledger.jsonl: one v2 block per line, fields in nm-monitor's order, then
//     "embedding" (floats in shortest round-trip form);
//   * PostgreSQL COPY BINARY for
//       events(id bigint, ts timestamptz, tenant text, category text,
//              action text, "user" text, pid integer, payload jsonb,
//              hash text, embedding vector(D));
//   * the vector type's text form "[x,y,...]" for query vectors.
// docs/ledger.md documents all three. Implemented in writers.cpp.
#pragma once

#include <cstdint>
#include <string>

#include "events_copy.h"
#include "generator.h"

namespace nmvec::gen {

/// Append one ledger line (with the trailing '\n').
void append_ledger_line(std::string& out, const Event& ev, const Fleet& fleet, const float* emb, int dims);

/// One COPY BINARY tuple of the events table (header and trailer:
/// events_copy.h, which encodes the tuple).
void append_copy_tuple(std::string& out, const Event& ev, const Fleet& fleet, const float* emb, int dims);

/// "[x,y,...]" plus '\n'.
void append_vector_line(std::string& out, const float* v, int dims);

}  // namespace nmvec::gen

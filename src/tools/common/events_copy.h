// events_copy.h — PostgreSQL's binary COPY format for the events table
// (docs/ledger.md, "The events table and COPY"):
//   events(id bigint, ts timestamptz, tenant text, category text, action text,
//          "user" text, pid integer, payload jsonb, hash text, embedding vector(D))
// nmvec-gen writes it to a file, nmvec-ingest streams it to the server: both
// encode rows here. Implemented in events_copy.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nmvec {

/// Number of columns of the events table, and their names in tuple order
/// (for COPY events (<list>) FROM ...).
constexpr int kEventColumns = 10;
constexpr const char* kEventColumnList =
    "id, ts, tenant, category, action, \"user\", pid, payload, hash, embedding";

/// Unix time of PostgreSQL's epoch, 2000-01-01 00:00:00 UTC, in seconds.
constexpr int64_t kPostgresEpochUnixSeconds = 946684800;

/// One row. An empty optional is SQL NULL (a v1 record has no height,
/// hostname, category, user or pid). The caller keeps the values in the
/// ranges of the column types (height and pid within int8 / int4).
struct EventRow {
    std::optional<uint64_t> height;  ///< id
    uint64_t timestamp = 0;          ///< unix seconds
    std::optional<std::string_view> tenant, category;
    std::string_view action;
    std::optional<std::string_view> user;
    std::optional<uint32_t> pid;
    std::string_view payload_json;  ///< valid JSON text
    std::string_view hash;
    const float* embedding = nullptr;
    size_t dims = 0;
};

/// The 19-byte header (signature, flags 0, no extension area).
void append_copy_header(std::string& out);
/// One tuple.
void append_copy_tuple(std::string& out, const EventRow& row);
/// The bytes of row's tuple, and the tuple written to out[0, that).
size_t copy_tuple_size(const EventRow& row);
void write_copy_tuple(char* out, const EventRow& row);
/// The trailer (field count -1).
void append_copy_trailer(std::string& out);

}  // namespace nmvec

// copy_row.h — PostgreSQL's binary COPY format for the events table.
//
// One ledger event becomes one tuple of
//   (id bigint, ts timestamptz, tenant text, category text, action text,
//    "user" text, pid integer, payload jsonb, hash text, embedding vector)
// in that order (the column list CopyRows::columns() gives COPY). A v1
// record has no height, hostname, category, user or pid: those are NULL.
// Everything the server would refuse in a field is refused here first, with
// a reason, so that one bad line cannot abort a whole batch; the server's
// own checks (the column's dimensions, constraints) still apply, and the
// caller handles a batch the server refuses by splitting it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ledger_line.h"

namespace nmvec::ingest {

class CopyRows {
 public:
    /// The column list, for COPY tbl (<columns>) FROM STDIN (FORMAT binary).
    static const char* columns();

    /// Check that ev fits the columns' types. Empty if it does, else why not.
    static std::string check(const Event& ev);

    /// Start a new COPY stream (the header) and forget earlier rows.
    void reset();
    /// Append ev as one tuple (call check() first).
    void add(const Event& ev);
    /// The stream with the end marker; valid until the next add()/reset().
    const std::string& finish();
    /// What was added since the last take() (the header first), to send
    /// while more rows come; the stream goes on.
    std::string take();

    size_t rows() const { return rows_; }
    size_t bytes() const { return buf_.size(); }

 private:
    void put_i16(int16_t v);
    void put_i32(int32_t v);
    void put_i64(int64_t v);
    void put_text(std::string_view s);
    void put_null() { put_i32(-1); }

    std::string buf_;
    size_t rows_ = 0;
    bool started_ = false;
    bool finished_ = false;
};

}  // namespace nmvec::ingest

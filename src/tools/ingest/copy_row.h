// copy_row.h — a COPY BINARY stream of events-table rows built from parsed
// ledger lines (the tuple encoding is events_copy.h's, shared with
// nmvec-gen). A v1 record has no height, hostname, category, user or pid:
// those are NULL. LineParser has already refused what no column could hold
// (NUL characters, non-finite or too many elements); check() refuses the
// values the column types' ranges exclude, so that one bad line cannot
// abort a whole batch. The server's own checks (the column's dimensions,
// constraints) still apply; the caller handles a refused batch by splitting
// it.
#pragma once

#include <string>
#include <string_view>

#include "events_copy.h"
#include "ledger_line.h"

namespace nmvec::ingest {

class CopyRows {
 public:
    /// The column list, for COPY tbl (<columns>) FROM STDIN (FORMAT binary).
    static const char* columns() { return kEventColumnList; }

    /// Check that a parsed ev fits the columns' types. Empty if it does,
    /// else why not.
    static std::string check(const Event& ev);

    /// Start a new COPY stream (the header) and forget earlier rows.
    void reset();
    /// Append ev as one tuple (call check() first).
    void add(const Event& ev);
    /// Append ev's tuple to out (call check() first).
    static void encode(const Event& ev, std::string& out);
    /// ev as a row of the events table (views into ev), for
    /// copy_tuple_size / write_copy_tuple (events_copy.h).
    static EventRow row(const Event& ev);
    /// The stream with the end marker; valid until the next add()/reset().
    const std::string& finish();
    /// What was added since the last sent() (the header first), to send
    /// while more rows come; valid until the next add()/reset()/sent().
    std::string_view unsent() const { return buf_; }
    /// Drop the bytes unsent() gave; the stream goes on (and keeps its buffer).
    void sent() { buf_.clear(); }

    size_t rows() const { return rows_; }
    size_t bytes() const { return buf_.size(); }

 private:
    std::string buf_;
    size_t rows_ = 0;
    bool started_ = false;
    bool finished_ = false;
};

}  // namespace nmvec::ingest

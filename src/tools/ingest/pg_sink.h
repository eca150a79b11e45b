// pg_sink.h — where nmvec-ingest's rows go: one libpq connection, COPY
// BINARY batches, and the progress row that makes a restart exactly-once.
//
// Every batch commits in one transaction together with the byte offset just
// past its last line, the line number and the chain state in
// nmvec_ingest_progress (keyed by source and table). A restart reads that row
// and goes on from there, so a line is in the table once whether the tool,
// its connection or the server died before or after a commit.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

struct pg_conn;

namespace nmvec::ingest {

/// The connection is gone (server restart, network): reconnect and resume.
struct ConnectionLost : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Where a source was left.
struct Progress {
    bool found = false;
    uint64_t offset = 0;  ///< bytes of the file consumed
    uint64_t line = 0;    ///< lines consumed
    std::string last_hash;
    std::string chain;    ///< ChainChecker state, serialised by the caller
    std::string file_id;  ///< "device:inode" of the file the offset is in
};

class PgSink {
 public:
    PgSink(std::string dsn, std::string table, std::string source);
    ~PgSink();
    PgSink(const PgSink&) = delete;
    PgSink& operator=(const PgSink&) = delete;

    /// (Re)connect; throws ConnectionLost if the server cannot be reached.
    void connect();
    /// Create the progress table if it is missing (and, with dims > 0, the
    /// events table and its indexes, if missing).
    void prepare(size_t create_dims);
    Progress load();
    /// COPY the stream and record progress, in one transaction. Returns
    /// true on commit. false: the server refused a row of the batch (an error
    /// of class 22, data exception, or 23, integrity constraint), `refused`
    /// says why, the transaction rolled back. Any other refusal (no such
    /// table, no privilege, ...) throws std::runtime_error, and a lost
    /// connection ConnectionLost.
    bool write(const std::string& copy_stream, const Progress& after, std::string& refused);
    /// The same as write(), streamed: begin_copy() starts the transaction
    /// and the COPY, send() passes bytes of the stream as they are made (the
    /// server works on them meanwhile), end_copy() ends the stream and
    /// commits with the progress, or reports a refused row as write() does.
    void begin_copy();
    void send(std::string_view bytes);
    bool end_copy(const Progress& after, std::string& refused);
    /// Record progress alone (a batch whose lines were all rejected).
    void record(const Progress& after);

 private:
    void exec(const char* sql);
    std::string ident(const std::string& name);
    std::string progress_sql(const Progress& p);
    [[noreturn]] void lost(const char* what);

    std::string dsn_, table_, source_;
    pg_conn* conn_ = nullptr;
    bool copy_broken_ = false;  ///< the server ended the COPY early (an error waits)
};

}  // namespace nmvec::ingest

// pg_sink.cpp — see pg_sink.h.
#include "pg_sink.h"

#include <libpq-fe.h>

#include "copy_row.h"

#include <cstdlib>
#include <string>

namespace nmvec::ingest {

namespace {

struct Result {
    PGresult* r;
    explicit Result(PGresult* p) : r(p) {}
    ~Result() { PQclear(r); }
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;
};

std::string first_line(const char* msg) {
    std::string s = msg ? msg : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

PgSink::PgSink(std::string dsn, std::string table, std::string source)
    : dsn_(std::move(dsn)), table_(std::move(table)), source_(std::move(source)) {}

PgSink::~PgSink() {
    if (conn_) PQfinish(conn_);
}

void PgSink::lost(const char* what) {
    std::string msg = std::string(what) + ": " + first_line(conn_ ? PQerrorMessage(conn_) : "no connection");
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    throw ConnectionLost(msg);
}

void PgSink::connect() {
    if (conn_) PQfinish(conn_);
    conn_ = PQconnectdb(dsn_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) lost("cannot connect");
    exec("SET client_min_messages = warning");
}

void PgSink::exec(const char* sql) {
    Result r(PQexec(conn_, sql));
    ExecStatusType st = PQresultStatus(r.r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return;
    if (PQstatus(conn_) != CONNECTION_OK) lost("connection lost");
    throw std::runtime_error(first_line(PQresultErrorMessage(r.r)) +
                             " (in: " + std::string(sql).substr(0, 120) + ")");
}

std::string PgSink::ident(const std::string& name) {
    char* e = PQescapeIdentifier(conn_, name.c_str(), name.size());
    if (!e) lost("cannot quote an identifier");
    std::string out = e;
    PQfreemem(e);
    return out;
}

void PgSink::prepare(size_t create_dims) {
    exec(
        "CREATE TABLE IF NOT EXISTS nmvec_ingest_progress ("
        " source text NOT NULL, tbl text NOT NULL, byte_offset bigint NOT NULL, line bigint NOT NULL,"
        " last_hash text NOT NULL, chain text NOT NULL, file_id text NOT NULL DEFAULT '',"
        " updated timestamptz NOT NULL DEFAULT now(),"
        " PRIMARY KEY (source, tbl))");
    if (create_dims == 0) return;
    // the events table of the README, with an hnsw index for similarity and
    // a B-tree for time-window filters
    const std::string tbl = ident(table_);
    exec(("CREATE TABLE IF NOT EXISTS " + tbl +
          " (id bigint, ts timestamptz NOT NULL, tenant text, category text, action text, \"user\" text,"
          " pid integer, payload jsonb, hash text NOT NULL, embedding vector(" +
          std::to_string(create_dims) + ") NOT NULL)")
             .c_str());
    exec(("CREATE INDEX IF NOT EXISTS " + ident(table_ + "_embedding_hnsw") + " ON " + tbl +
          " USING hnsw (embedding vector_cosine_ops)")
             .c_str());
    exec(("CREATE INDEX IF NOT EXISTS " + ident(table_ + "_ts") + " ON " + tbl + " (ts)").c_str());
}

std::string PgSink::progress_sql(const Progress& p) {
    auto lit = [this](const std::string& s) {
        char* e = PQescapeLiteral(conn_, s.c_str(), s.size());
        if (!e) lost("cannot quote a value");
        std::string out = e;
        PQfreemem(e);
        return out;
    };
    return "INSERT INTO nmvec_ingest_progress AS p (source, tbl, byte_offset, line, last_hash, chain, "
           "file_id) VALUES "
           "(" +
           lit(source_) + ", " + lit(table_) + ", " + std::to_string(p.offset) + ", " +
           std::to_string(p.line) + ", " + lit(p.last_hash) + ", " + lit(p.chain) + ", " + lit(p.file_id) +
           ") ON CONFLICT (source, tbl) DO UPDATE SET byte_offset = excluded.byte_offset, line = "
           "excluded.line,"
           " last_hash = excluded.last_hash, chain = excluded.chain, file_id = excluded.file_id, updated = "
           "now()";
}

Progress PgSink::load() {
    const char* params[2] = {source_.c_str(), table_.c_str()};
    Result r(PQexecParams(conn_,
                          "SELECT byte_offset, line, last_hash, chain, file_id FROM nmvec_ingest_progress"
                          " WHERE source = $1 AND tbl = $2",
                          2, nullptr, params, nullptr, nullptr, 0));
    if (PQresultStatus(r.r) != PGRES_TUPLES_OK) {
        if (PQstatus(conn_) != CONNECTION_OK) lost("connection lost");
        throw std::runtime_error(first_line(PQresultErrorMessage(r.r)));
    }
    Progress p;
    if (PQntuples(r.r) == 1) {
        p.found = true;
        p.offset = std::strtoull(PQgetvalue(r.r, 0, 0), nullptr, 10);
        p.line = std::strtoull(PQgetvalue(r.r, 0, 1), nullptr, 10);
        p.last_hash = PQgetvalue(r.r, 0, 2);
        p.chain = PQgetvalue(r.r, 0, 3);
        p.file_id = PQgetvalue(r.r, 0, 4);
    }
    return p;
}

void PgSink::begin_copy() {
    exec("BEGIN");
    const std::string copy =
        "COPY " + ident(table_) + " (" + CopyRows::columns() + ") FROM STDIN (FORMAT binary)";
    copy_broken_ = false;
    Result r(PQexec(conn_, copy.c_str()));
    if (PQresultStatus(r.r) == PGRES_COPY_IN) return;
    if (PQstatus(conn_) != CONNECTION_OK) lost("connection lost");
    std::string err = first_line(PQresultErrorMessage(r.r));
    exec("ROLLBACK");
    throw std::runtime_error("COPY into " + table_ + " failed: " + err);
}

void PgSink::send(std::string_view bytes) {
    if (copy_broken_ || bytes.empty()) return;
    if (PQputCopyData(conn_, bytes.data(), static_cast<int>(bytes.size())) != 1) {
        if (PQstatus(conn_) != CONNECTION_OK) lost("connection lost during COPY");
        copy_broken_ = true;  // the server's error comes with end_copy()
    }
}

bool PgSink::end_copy(const Progress& after, std::string& refused) {
    std::string err, state;
    auto failed = [&](PGresult* r) {
        if (PQstatus(conn_) != CONNECTION_OK) lost("connection lost");
        err = first_line(PQresultErrorMessage(r));
        const char* st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        state = st ? st : "";
    };
    if (PQputCopyEnd(conn_, nullptr) != 1 && PQstatus(conn_) != CONNECTION_OK)
        lost("connection lost during COPY");
    {
        Result r(PQgetResult(conn_));
        if (PQresultStatus(r.r) != PGRES_COMMAND_OK) failed(r.r);
        while (PGresult* more = PQgetResult(conn_)) PQclear(more);
    }
    if (err.empty()) {
        exec(progress_sql(after).c_str());
        Result r(PQexec(conn_, "COMMIT"));
        if (PQresultStatus(r.r) == PGRES_COMMAND_OK) return true;
        failed(r.r);
    } else {
        exec("ROLLBACK");
    }
    if (state.compare(0, 2, "22") == 0 || state.compare(0, 2, "23") == 0) {
        refused = err;
        return false;
    }
    throw std::runtime_error("COPY into " + table_ + " failed: " + err);
}

bool PgSink::write(const std::string& stream, const Progress& after, std::string& refused) {
    begin_copy();
    send(stream);
    return end_copy(after, refused);
}

void PgSink::record(const Progress& after) { exec(progress_sql(after).c_str()); }

}  // namespace nmvec::ingest

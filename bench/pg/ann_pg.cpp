// ann_pg — the SQL side of the ANN benchmark harness (libpq).
//
//   ann_pg load  --dir DIR --table T [--copy binary|text] [--rows N] [--with RELOPTIONS]
//                [--storage S] [--before SQL]
//       create T(id bigint, label int, tenant int, ts timestamptz, embedding vector(D))
//       and COPY the base vectors of DIR into it through the client (COPY FROM
//       STDIN), timing the COPY alone; prints "rows,seconds,rows_per_s".
//   ann_pg queries --dir DIR --table Q [--with RELOPTIONS]
//       create Q(qid int, label int, embedding vector(D)) with the query vectors
//       (pgbench scripts draw their query vectors from it).
//   ann_pg search --dir DIR --table T [--filter NAME] [--queries N] [--k 10]
//                 [--set "GUC=VALUE;..."] [--repeats 3] [--label TEXT] [--exclude-mod M:R]
//                 [--pin-cpu N]
//       one client, one prepared statement, the query vectors sent in binary;
//       prints one CSV line: label,filter,queries,recall10,rows_mean,short_frac,
//       qps_median,qps_min,qps_max,p50_ms,p95_ms,p99_ms
//     Options for filters not built in (bench/filters):
//       --where "WHERE ..." --params FILE   the filter's SQL ($1 is the query vector, the
//                 filter's parameters $2, $3, ...) and a TSV of their values, line i for
//                 query i (a file of one line: the same values for every query; \N: NULL);
//                 --filter NAME then only names it (CSV column, default ground truth)
//       --query-file F   query vectors (.fvecs, or one "[x,y,...]" per line; default
//                 DIR/query.fvecs); --gt F   ground truth ivecs (default DIR/gt/NAME.ivecs)
//       --max-seconds S [--min-queries 10]   the untimed first pass stops after S seconds
//                 (at --queries at most); the timed passes use the queries it got to
//       --wide 1  appends p50_rep_min,p50_rep_max,p95_rep_min,p95_rep_max (each timed pass's
//                 own percentile: the spread over repeats), notice_frac (share of queries
//                 of the first pass that raised a NOTICE, e.g. a scan cut at
//                 hnsw.max_scan_tuples), plan (the plan shapes of EXPLAIN EXECUTE for
//                 the first --explain-queries queries, default 100, with their shares)
//                 and notice (the first pass's last NOTICE or WARNING, its first line)
//       --reference 1   (with --where) the timed passes also time the same query without
//                 the WHERE, just before or after each filtered one (alternating), and
//                 --wide appends its ref_p50_ms,ref_p95_ms (empty without it); QPS then
//                 counts the filtered queries' time only
//       --reference-curve "EF:RECALL,..."   (with --reference 1) the unfiltered query's
//                 recall@k at several hnsw.ef_search values, measured before: after the
//                 first pass, the timed passes also time the query without the WHERE at
//                 the lowest of those ef_search whose recall is at least the filtered
//                 one's (the largest when none is) beside every other filtered query,
//                 in place of the reference (ef_search set untimed around it; at the
//                 session's own ef_search, the reference's timings serve); --wide then
//                 appends same_ef,same_recall,same_p50_ms,same_p95_ms (empty without it)
//   ann_pg truth --table T [--query-file F | --dir DIR] [--queries N] [--k 100]
//                (--where W --params P --out F.ivecs | --spec FILE)
//       exact filtered top-k from the table itself: the rows' vectors read once
//       (COPY id, embedding TO STDOUT, binary), each query's matching ids from the
//       database (SELECT id FROM T W, the same WHERE and parameters as search; queries
//       with the same parameter values share one SELECT), L2 distances summed in
//       float64 (exact for integer pixels), ties broken by the smaller id. Writes
//       F.ivecs (-1 pads) and F.nn.tsv (query, nearest id); prints
//       queries,match_mean,match_min,match_max,short_queries (fewer than 10 matches),seconds
//       --spec: several filters over one read of the table, a line each of
//       "name TAB where TAB params-file TAB out.ivecs"; each printed line starts with name,
//
//   ann_pg rtt [--busy 0,1000,...,6000] [--queries N] [--repeats 3] [--pin-cpu N] [--label TEXT]
//       what a round trip costs on this machine, apart from any index: one
//       prepared statement calling a session-local PL/pgSQL loop of $1 integer
//       additions (pure CPU, no allocation, no I/O). For each busy value prints
//       label,busy,server_us,call_us,qps_median,qps_min,qps_max where
//       server_us is the server's time for the loop alone (one call with 200
//       times the iterations, divided by 200) and call_us is 1e6 / qps_median.
//
// Filters (the same definitions as bench/ann's ground truth; qi = query index,
// N = base rows): none; label_same (label = query's label); label_other
// (label = (query's label + 1) % 10); tenant (tenant = qi % 100); time_50
// (id < N/2, as a ts range); time_01 (id in [s, s + N/1000) with
// s = (qi * 997) % (N - N/1000), as a ts range). ts = 2026-01-01 + id minutes.
#include <libpq-fe.h>

#include <algorithm>
#include <arpa/inet.h>
#include <sched.h>
#include <chrono>
#include <cmath>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "ann_common.h"  // split

namespace {

using Clock = std::chrono::steady_clock;

struct Fvecs {
    int dim = 0;
    size_t n = 0;
    std::vector<float> data;
    const float* row(size_t i) const { return data.data() + i * static_cast<size_t>(dim); }
};

Fvecs read_fvecs(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error("cannot open " + path);
    Fvecs v;
    int32_t d;
    while (std::fread(&d, 4, 1, f) == 1) {
        if (v.dim == 0) v.dim = d;
        if (d != v.dim) throw std::runtime_error("inconsistent dims in " + path);
        size_t old = v.data.size();
        v.data.resize(old + d);
        if (std::fread(v.data.data() + old, 4, d, f) != static_cast<size_t>(d))
            throw std::runtime_error("short read in " + path);
        ++v.n;
    }
    std::fclose(f);
    return v;
}

std::vector<int32_t> read_i32(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error("cannot open " + path);
    std::vector<int32_t> out;
    int32_t x;
    while (std::fread(&x, 4, 1, f) == 1) out.push_back(x);
    std::fclose(f);
    return out;
}

/// ivecs: int32 k, then k int32 ids, per query.
std::vector<std::vector<int32_t>> read_ivecs(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error("cannot open " + path);
    std::vector<std::vector<int32_t>> out;
    int32_t k;
    while (std::fread(&k, 4, 1, f) == 1) {
        std::vector<int32_t> row(k);
        if (std::fread(row.data(), 4, k, f) != static_cast<size_t>(k))
            throw std::runtime_error("short " + path);
        out.push_back(std::move(row));
    }
    std::fclose(f);
    return out;
}

struct Args {
    std::map<std::string, std::string> kv;
    std::string get(const std::string& k, const std::string& def = "") const {
        auto it = kv.find(k);
        return it == kv.end() ? def : it->second;
    }
    std::string need(const std::string& k) const {
        auto it = kv.find(k);
        if (it == kv.end()) throw std::runtime_error("missing --" + k);
        return it->second;
    }
};

PGconn* connect() {
    PGconn* c = PQconnectdb("");  // PGHOST, PGPORT, PGUSER, PGDATABASE from the environment
    if (PQstatus(c) != CONNECTION_OK) throw std::runtime_error(std::string("connect: ") + PQerrorMessage(c));
    return c;
}

void exec(PGconn* c, const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        std::string msg = PQerrorMessage(c);
        PQclear(r);
        throw std::runtime_error(sql.substr(0, 80) + ": " + msg);
    }
    PQclear(r);
}

void put_be16(std::string& s, uint16_t v) {
    v = htons(v);
    s.append(reinterpret_cast<const char*>(&v), 2);
}
void put_be32(std::string& s, uint32_t v) {
    v = htonl(v);
    s.append(reinterpret_cast<const char*>(&v), 4);
}
void put_be64(std::string& s, uint64_t v) {
    put_be32(s, static_cast<uint32_t>(v >> 32));
    put_be32(s, static_cast<uint32_t>(v));
}

/// The vector type's binary form: int16 dims, int16 0, big-endian float32s.
std::string vector_binary(const float* x, int dim) {
    std::string s;
    s.reserve(4 + 4 * dim);
    put_be16(s, static_cast<uint16_t>(dim));
    put_be16(s, 0);
    for (int i = 0; i < dim; ++i) {
        uint32_t bits;
        std::memcpy(&bits, &x[i], 4);
        put_be32(s, bits);
    }
    return s;
}

std::string vector_text(const float* x, int dim) {
    std::string s = "[";
    char buf[32];
    for (int i = 0; i < dim; ++i) {
        std::snprintf(buf, sizeof buf, "%s%.9g", i ? "," : "", static_cast<double>(x[i]));
        s += buf;
    }
    s += "]";
    return s;
}

constexpr int64_t kTsBaseUnix = 1767225600;  // 2026-01-01 00:00:00 UTC
constexpr int64_t kPgEpochUnix = 946684800;  // 2000-01-01 00:00:00 UTC
std::string ts_text(int64_t id) {            // 2026-01-01 + id minutes, as timestamptz text
    char buf[64];
    time_t t = static_cast<time_t>(kTsBaseUnix + id * 60);
    struct tm tm;
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S+00", &tm);
    return buf;
}

void copy_send(PGconn* c, const std::string& buf) {
    if (PQputCopyData(c, buf.data(), static_cast<int>(buf.size())) != 1)
        throw std::runtime_error(std::string("copy: ") + PQerrorMessage(c));
}

int cmd_load(const Args& a) {
    std::string dir = a.need("dir"), table = a.need("table"), mode = a.get("copy", "binary");
    Fvecs base = read_fvecs(dir + "/base.fvecs");
    std::vector<int32_t> labels = read_i32(dir + "/base_labels.i32");
    size_t rows =
        a.kv.count("rows") ? std::min(base.n, static_cast<size_t>(std::stoul(a.get("rows")))) : base.n;
    PGconn* c = connect();
    exec(c, "DROP TABLE IF EXISTS " + table);
    exec(c, "CREATE TABLE " + table +
                " (id bigint, label int, tenant int, ts timestamptz, embedding vector(" +
                std::to_string(base.dim) + "))" +
                (a.get("with").empty() ? "" : " WITH (" + a.get("with") + ")"));
    if (!a.get("storage").empty())
        exec(c, "ALTER TABLE " + table + " ALTER COLUMN embedding SET STORAGE " + a.get("storage"));
    if (!a.get("before").empty()) exec(c, a.get("before"));  // e.g. CREATE INDEX on the empty table

    // Encode everything first: the timing covers the COPY, not our encoding.
    std::vector<std::string> chunks;
    std::string buf;
    if (mode == "binary") buf.append("PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
    for (size_t i = 0; i < rows; ++i) {
        if (mode == "binary") {
            put_be16(buf, 5);
            put_be32(buf, 8);
            put_be64(buf, i);
            put_be32(buf, 4);
            put_be32(buf, static_cast<uint32_t>(labels[i]));
            put_be32(buf, 4);
            put_be32(buf, static_cast<uint32_t>(i % 100));
            put_be32(buf, 8);
            put_be64(buf, static_cast<uint64_t>((kTsBaseUnix - kPgEpochUnix + static_cast<int64_t>(i) * 60) *
                                                1000000));
            std::string v = vector_binary(base.row(i), base.dim);
            put_be32(buf, static_cast<uint32_t>(v.size()));
            buf += v;
        } else {
            buf += std::to_string(i) + "\t" + std::to_string(labels[i]) + "\t" + std::to_string(i % 100) +
                   "\t" + ts_text(static_cast<int64_t>(i)) + "\t" + vector_text(base.row(i), base.dim) + "\n";
        }
        if (buf.size() > (1 << 20)) {
            chunks.push_back(std::move(buf));
            buf.clear();
        }
    }
    if (mode == "binary") put_be16(buf, 0xFFFF);
    chunks.push_back(std::move(buf));

    auto t0 = Clock::now();
    PGresult* r =
        PQexec(c, ("COPY " + table + " FROM STDIN" + (mode == "binary" ? " (FORMAT binary)" : "")).c_str());
    if (PQresultStatus(r) != PGRES_COPY_IN)
        throw std::runtime_error(std::string("copy: ") + PQerrorMessage(c));
    PQclear(r);
    for (const auto& ch : chunks) copy_send(c, ch);
    if (PQputCopyEnd(c, nullptr) != 1) throw std::runtime_error(PQerrorMessage(c));
    r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        throw std::runtime_error(std::string("copy: ") + PQerrorMessage(c));
    PQclear(r);
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("%zu,%.3f,%.0f\n", rows, s, rows / s);
    PQfinish(c);
    return 0;
}

int cmd_queries(const Args& a) {
    std::string dir = a.need("dir"), table = a.need("table");
    Fvecs q = read_fvecs(dir + "/query.fvecs");
    std::vector<int32_t> labels = read_i32(dir + "/query_labels.i32");
    PGconn* c = connect();
    exec(c, "DROP TABLE IF EXISTS " + table);
    exec(c, "CREATE TABLE " + table + " (qid int PRIMARY KEY, label int, embedding vector(" +
                std::to_string(q.dim) + "))" +
                (a.get("with").empty() ? "" : " WITH (" + a.get("with") + ")"));
    PGresult* r = PQexec(c, ("COPY " + table + " FROM STDIN").c_str());
    PQclear(r);
    for (size_t i = 0; i < q.n; ++i)
        copy_send(c, std::to_string(i) + "\t" + std::to_string(labels[i]) + "\t" +
                         vector_text(q.row(i), q.dim) + "\n");
    PQputCopyEnd(c, nullptr);
    r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) throw std::runtime_error(PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return 0;
}

struct Filter {
    std::string where;  // with $2, $3 parameters
    int nparams = 0;
};

Filter filter_sql(const std::string& name) {
    if (name == "none") return {"", 0};
    if (name == "label_same" || name == "label_other") return {"WHERE label = $2", 1};
    if (name == "tenant") return {"WHERE tenant = $2", 1};
    if (name == "time_50" || name == "time_01") return {"WHERE ts >= $2 AND ts < $3", 2};
    throw std::runtime_error("unknown filter " + name);
}

std::vector<std::string> filter_params(const std::string& name, size_t qi, int qlabel, size_t n) {
    if (name == "label_same") return {std::to_string(qlabel)};
    if (name == "label_other") return {std::to_string((qlabel + 1) % 10)};
    if (name == "tenant") return {std::to_string(qi % 100)};
    if (name == "time_50") return {ts_text(0), ts_text(static_cast<int64_t>(n / 2))};
    if (name == "time_01") {
        size_t w = n / 1000, s = (qi * 997) % (n - w);
        return {ts_text(static_cast<int64_t>(s)), ts_text(static_cast<int64_t>(s + w))};
    }
    return {};
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Query vectors: .fvecs, or text with one vector "[x,y,...]" a line (nmvec-gen --queries-out).
Fvecs read_queries(const std::string& path) {
    if (ends_with(path, ".fvecs")) return read_fvecs(path);
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) throw std::runtime_error("cannot open " + path);
    Fvecs v;
    std::string line;
    for (int ch; (ch = std::fgetc(f)) != EOF || !line.empty();) {
        if (ch != '\n' && ch != EOF) {
            line += static_cast<char>(ch);
            continue;
        }
        size_t open = line.find('[');
        if (open != std::string::npos) {
            const char* p = line.c_str() + open + 1;
            int d = 0;
            for (;;) {
                char* end;
                float x = std::strtof(p, &end);
                if (end == p) throw std::runtime_error("bad vector in " + path + ": " + line.substr(0, 40));
                v.data.push_back(x);
                ++d;
                p = end;
                while (*p == ' ') ++p;
                if (*p == ',') {
                    ++p;
                    continue;
                }
                if (*p == ']') break;
                throw std::runtime_error("bad vector in " + path + ": " + line.substr(0, 40));
            }
            if (v.dim == 0) v.dim = d;
            if (d != v.dim) throw std::runtime_error("inconsistent dims in " + path);
            ++v.n;
        }
        line.clear();
        if (ch == EOF) break;
    }
    std::fclose(f);
    return v;
}

/// A TSV of parameter values: line i for query i; a single line serves every query.
std::vector<std::vector<std::string>> read_params(const std::string& path) {
    std::vector<std::vector<std::string>> out;
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) throw std::runtime_error("cannot open " + path);
    std::string line;
    for (int ch; (ch = std::fgetc(f)) != EOF;) {
        if (ch != '\n') {
            line += static_cast<char>(ch);
            continue;
        }
        out.push_back(ann::split(line, '\t'));
        line.clear();
    }
    if (!line.empty()) out.push_back(ann::split(line, '\t'));
    std::fclose(f);
    if (out.empty()) throw std::runtime_error(path + " is empty");
    return out;
}

/// Each query's filter: its WHERE clause ($2.. = the filter's parameters) and its values.
struct QueryFilters {
    std::string name, where;
    int nparams = 0;
    std::vector<std::vector<std::string>> values;  // per query
};

QueryFilters query_filters(const Args& a, size_t nq, const std::string& dir, size_t table_rows) {
    QueryFilters qf;
    qf.name = a.get("filter", "none");
    qf.values.resize(nq);
    if (a.kv.count("where")) {
        qf.where = a.get("where");
        if (!qf.where.empty()) {
            auto p = read_params(a.need("params"));
            if (p.size() != 1 && p.size() < nq)
                throw std::runtime_error(a.get("params") + ": fewer lines than queries");
            qf.nparams = static_cast<int>(p[0].size());
            for (size_t i = 0; i < nq; ++i) {
                qf.values[i] = p.size() == 1 ? p[0] : p[i];
                if (static_cast<int>(qf.values[i].size()) != qf.nparams)
                    throw std::runtime_error(a.get("params") + ": line " + std::to_string(i + 1) +
                                             " has another number of values");
            }
        }
        return qf;
    }
    Filter f = filter_sql(qf.name);
    qf.where = f.where;
    qf.nparams = f.nparams;
    std::vector<int32_t> qlabels;
    if (qf.name == "label_same" || qf.name == "label_other") qlabels = read_i32(dir + "/query_labels.i32");
    for (size_t i = 0; i < nq; ++i)
        qf.values[i] = filter_params(qf.name, i, qlabels.empty() ? 0 : qlabels[i], table_rows);
    return qf;
}

/// Parameter pointers for PQexecPrepared: "\N" is NULL.
const char* param_value(const std::string& v) { return v == "\\N" ? nullptr : v.c_str(); }

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return NAN;
    std::sort(v.begin(), v.end());
    size_t i = std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * v.size())) - (p > 0 ? 1 : 0));
    return v[i];
}

// --pin-cpu N: this client and its server backend both run on CPU N. On
// these 2-vCPU VMs a query whose client and backend sit on different vCPUs
// pays two cross-vCPU wake-ups (the idle vCPU is halted in the hypervisor):
// tens of microseconds, as much as the index search itself. Pinned, the
// round trip costs what a context switch costs. Reported next to the
// unpinned figures, never instead of them.
void pin_with_backend(PGconn* c, int cpu) {
    PGresult* r = PQexec(c, "SELECT pg_backend_pid()");
    pid_t backend = static_cast<pid_t>(std::stol(PQgetvalue(r, 0, 0)));
    PQclear(r);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(backend, sizeof(set), &set) != 0 || sched_setaffinity(0, sizeof(set), &set) != 0)
        throw std::runtime_error(
            "--pin-cpu: sched_setaffinity failed (the server must run as this user, or be root): " +
            std::string(std::strerror(errno)));
}

/// A SQL literal: 'text' with quotes doubled, or NULL.
std::string sql_literal(const char* v) {
    if (!v) return "NULL";
    std::string s = "'";
    for (const char* p = v; *p; ++p) s += *p == '\'' ? std::string("''") : std::string(1, *p);
    return s + "'";
}

/// One plan's shape from EXPLAIN's text: its nodes, outermost first, joined by
/// " > ", each with where its conditions are checked ("Index Cond", "Filter",
/// "Recheck Cond"); index and table names kept, costs dropped.
std::string plan_shape(PGresult* r) {
    std::vector<std::string> nodes;
    for (int t = 0; t < PQntuples(r); ++t) {
        std::string line = PQgetvalue(r, t, 0);
        size_t b = line.find_first_not_of(' ');
        if (b == std::string::npos) continue;
        line = line.substr(b);
        bool node = nodes.empty() || line.rfind("->", 0) == 0;
        if (node) {
            if (line.rfind("->", 0) == 0) line = line.substr(line.find_first_not_of(' ', 2));
            size_t cost = line.find("  (cost=");
            if (cost != std::string::npos) line.resize(cost);
            const std::string on_tab = " on ";
            size_t using_pos = line.find(" using ");
            if (using_pos != std::string::npos) {  // "Index Scan using IDX on T" -> "Index Scan IDX"
                size_t on = line.find(on_tab, using_pos + 7);
                line = line.substr(0, using_pos) + " " +
                       line.substr(using_pos + 7,
                                   on == std::string::npos ? std::string::npos : on - using_pos - 7);
            } else if (line.find("Bitmap Index Scan on ") == 0) {
                line = "Bitmap Index Scan " + line.substr(21);
            } else if (size_t on = line.find(on_tab); on != std::string::npos && line.find("Scan") < on) {
                line.resize(on);  // "Seq Scan on T" -> "Seq Scan"
            }
            nodes.push_back(line);
            continue;
        }
        for (const char* what : {"Index Cond:", "Recheck Cond:", "Filter:"}) {
            if (line.rfind(what, 0) == 0) {
                std::string tag(what, std::strlen(what) - 1);
                nodes.back() += " [" + tag + "]";
            }
        }
    }
    std::string out;
    for (size_t i = 0; i < nodes.size(); ++i) out += (i ? " > " : "") + nodes[i];
    for (char& ch : out)
        if (ch == ',' || ch == '"') ch = ' ';
    return out;
}

/// NOTICEs and WARNINGs the server sends: how many, and the last one's first line.
struct Notices {
    size_t count = 0;
    std::string last;
};
void count_notice(void* arg, const char* message) {
    auto* n = static_cast<Notices*>(arg);
    ++n->count;
    n->last = message;
    n->last = n->last.substr(0, n->last.find('\n'));
}

int cmd_search(const Args& a) {
    std::string dir = a.get("dir"), table = a.need("table"), fname = a.get("filter", "none");
    int k = std::stoi(a.get("k", "10"));
    int repeats = std::stoi(a.get("repeats", "3"));
    const bool wide = !a.get("wide").empty() && a.get("wide") != "0";
    const double max_seconds = std::stod(a.get("max-seconds", "0"));
    const size_t min_queries = std::stoul(a.get("min-queries", "10"));
    // --exclude-mod "M:R": rows with id % M < R were deleted; drop them from the truth.
    int ex_m = 0, ex_r = 0;
    if (!a.get("exclude-mod").empty()) std::sscanf(a.get("exclude-mod").c_str(), "%d:%d", &ex_m, &ex_r);
    Fvecs q = read_queries(a.get("query-file", dir + "/query.fvecs"));
    size_t nq = std::min(q.n, static_cast<size_t>(std::stoul(a.get("queries", "1000"))));
    auto gt = read_ivecs(
        a.get("gt", dir + "/gt/" + (fname == "none" ? std::string("unfiltered") : fname) + ".ivecs"));
    if (gt.size() < nq) throw std::runtime_error("ground truth has fewer queries than asked");

    PGconn* c = connect();
    Notices notices;
    PQsetNoticeProcessor(c, count_notice, &notices);
    size_t n = 0;
    if (!a.kv.count("where")) {  // the built-in time filters need the table's size
        PGresult* r = PQexec(c, ("SELECT count(*) FROM " + table).c_str());
        n = std::stoul(PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    if (!a.get("pin-cpu").empty()) pin_with_backend(c, std::stoi(a.get("pin-cpu")));
    for (std::string s : ann::split(a.get("set"), ';')) {
        if (s.empty()) continue;
        size_t eq = s.find('=');
        if (eq == std::string::npos) throw std::runtime_error("--set wants GUC=VALUE;...: " + s);
        exec(c, "SET " + s.replace(eq, 1, " = "));
    }
    QueryFilters f = query_filters(a, nq, dir, n);
    std::string sql =
        "SELECT id FROM " + table + " " + f.where + " ORDER BY embedding <-> $1 LIMIT " + std::to_string(k);
    PGresult* r = PQprepare(c, "q", sql.c_str(), 1 + f.nparams, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        throw std::runtime_error(std::string("prepare: ") + PQerrorMessage(c));
    PQclear(r);
    // --reference 1: the timed passes also run the query without the
    // filter ("r"), just before or after each filtered one (alternating),
    // so that the two see the same phase of the machine: a ratio of
    // figures taken minutes apart moved by a third on a VM.
    const bool reference = !a.get("reference").empty() && a.get("reference") != "0" && !f.where.empty();
    if (reference) {
        const std::string rsql =
            "SELECT id FROM " + table + " ORDER BY embedding <-> $1 LIMIT " + std::to_string(k);
        r = PQprepare(c, "r", rsql.c_str(), 1, nullptr);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            throw std::runtime_error(std::string("prepare reference: ") + PQerrorMessage(c));
        PQclear(r);
    }

    std::vector<std::string> vecs(nq);
    for (size_t i = 0; i < nq; ++i) vecs[i] = vector_binary(q.row(i), q.dim);
    auto run_one = [&](size_t i, std::vector<int64_t>* ids) {
        std::vector<const char*> values(1 + f.nparams);
        std::vector<int> lengths(1 + f.nparams, 0), formats(1 + f.nparams, 0);
        values[0] = vecs[i].data();
        lengths[0] = static_cast<int>(vecs[i].size());
        formats[0] = 1;
        for (int p = 0; p < f.nparams; ++p) values[1 + p] = param_value(f.values[i][p]);
        PGresult* res =
            PQexecPrepared(c, "q", 1 + f.nparams, values.data(), lengths.data(), formats.data(), 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            throw std::runtime_error(std::string("query: ") + PQerrorMessage(c));
        if (ids) {
            ids->clear();
            for (int t = 0; t < PQntuples(res); ++t) ids->push_back(std::stoll(PQgetvalue(res, t, 0)));
        }
        PQclear(res);
    };

    // Warm-up and accuracy pass (with --max-seconds, also how many queries the timed passes use).
    double recall_sum = 0, rows_sum = 0;
    size_t short_count = 0, noticed = 0;
    std::string notice_text;  // the last one of the first pass
    std::vector<int64_t> ids;
    auto first_pass = Clock::now();
    for (size_t i = 0; i < nq; ++i) {
        size_t before = notices.count;
        run_one(i, &ids);
        if (notices.count > before) {
            ++noticed;
            notice_text = notices.last;
        }
        std::set<int64_t> truth;
        for (size_t t = 0; t < gt[i].size() && truth.size() < static_cast<size_t>(k); ++t) {
            if (gt[i][t] < 0) continue;
            if (ex_m > 0 && gt[i][t] % ex_m < ex_r) continue;
            truth.insert(gt[i][t]);
        }
        size_t hit = 0;
        for (int64_t id : ids) hit += truth.count(id);
        recall_sum += truth.empty() ? 1.0 : static_cast<double>(hit) / truth.size();
        rows_sum += ids.size();
        if (ids.size() < truth.size()) ++short_count;
        if (max_seconds > 0 && i + 1 >= min_queries &&
            std::chrono::duration<double>(Clock::now() - first_pass).count() > max_seconds) {
            nq = i + 1;
            break;
        }
    }
    // --reference-curve: the unfiltered query at the same recall.
    int same_ef = 0;
    double same_recall = 0;
    if (reference && !a.get("reference-curve").empty()) {
        std::vector<std::pair<int, double>> curve;
        for (const std::string& point : ann::split(a.get("reference-curve"), ',')) {
            int ef = 0;
            double rc = 0;
            if (std::sscanf(point.c_str(), "%d:%lf", &ef, &rc) != 2 || ef <= 0)
                throw std::runtime_error("--reference-curve wants EF:RECALL,...: " + point);
            curve.push_back({ef, rc});
        }
        std::sort(curve.begin(), curve.end());
        const double want = recall_sum / nq;
        for (const auto& [ef, rc] : curve)
            if (rc >= want - 1e-9) {
                same_ef = ef, same_recall = rc;
                break;
            }
        if (same_ef == 0 && !curve.empty()) same_ef = curve.back().first, same_recall = curve.back().second;
    }
    std::string ef_before;
    if (same_ef > 0) {
        PGresult* res = PQexec(c, "SHOW hnsw.ef_search");
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            throw std::runtime_error(std::string("show hnsw.ef_search: ") + PQerrorMessage(c));
        ef_before = PQgetvalue(res, 0, 0);
        PQclear(res);
    }
    auto run_reference = [&](size_t i) {
        const char* value = vecs[i].data();
        const int length = static_cast<int>(vecs[i].size()), format = 1;
        PGresult* res = PQexecPrepared(c, "r", 1, &value, &length, &format, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            throw std::runtime_error(std::string("reference query: ") + PQerrorMessage(c));
        PQclear(res);
    };
    if (reference)
        for (size_t i = 0; i < nq; ++i) run_reference(i);  // its warm-up
    auto set_ef = [&](const std::string& ef) { exec(c, "SET hnsw.ef_search = " + ef); };
    // At the session's own ef_search the reference at 40 is that query:
    // its timings serve (a third query beside each filtered one would
    // change what the filtered one finds in the CPU caches).
    const bool own_ef = same_ef > 0 && std::to_string(same_ef) == ef_before;
    const bool run_same = same_ef > 0 && !own_ef;
    if (run_same) {
        set_ef(std::to_string(same_ef));
        for (size_t i = 0; i < nq; ++i) run_reference(i);
        set_ef(ef_before);
    }
    auto timed = [](auto&& fn) {  // ms
        auto s = Clock::now();
        fn();
        return std::chrono::duration<double, std::milli>(Clock::now() - s).count();
    };
    // Timed passes (with a reference, QPS counts the filtered queries' time only).
    std::vector<double> qps, lat_ms, p50s, p95s, ref_ms, same_ms;
    for (int rep = 0; rep < repeats; ++rep) {
        std::vector<double> rep_ms;
        double busy = 0;
        auto t0 = Clock::now();
        for (size_t i = 0; i < nq; ++i) {
            const bool ref_first = (i + rep) % 2 == 0;
            // With a curve (not at the session's own ef_search), every
            // other filtered query has the reference at the same recall
            // beside it instead of the one at 40 (ef_search set untimed):
            // one unfiltered query beside each filtered one, as without.
            const bool at_same = run_same && (i / 2 + rep) % 2 == 1;
            auto companion = [&] {
                if (at_same) {
                    set_ef(std::to_string(same_ef));
                    same_ms.push_back(timed([&] { run_reference(i); }));
                    set_ef(ef_before);
                } else if (reference) {
                    ref_ms.push_back(timed([&] { run_reference(i); }));
                }
            };
            if (ref_first) companion();
            rep_ms.push_back(timed([&] { run_one(i, nullptr); }));
            busy += rep_ms.back();
            if (!ref_first) companion();
        }
        qps.push_back(nq /
                      (reference ? busy / 1000.0 : std::chrono::duration<double>(Clock::now() - t0).count()));
        p50s.push_back(percentile(rep_ms, 0.50));
        p95s.push_back(percentile(rep_ms, 0.95));
        lat_ms.insert(lat_ms.end(), rep_ms.begin(), rep_ms.end());
    }
    std::sort(qps.begin(), qps.end());
    std::printf("%s,%s,%zu,%.4f,%.2f,%.4f,%.1f,%.1f,%.1f,%.3f,%.3f,%.3f", a.get("label", "nmvec").c_str(),
                fname.c_str(), nq, recall_sum / nq, rows_sum / nq, static_cast<double>(short_count) / nq,
                qps[qps.size() / 2], qps.front(), qps.back(), percentile(lat_ms, 0.50),
                percentile(lat_ms, 0.95), percentile(lat_ms, 0.99));
    if (wide) {
        // The plans, after the timed passes: EXPLAIN EXECUTE plans the query for
        // each query's own values, as the custom plans above did.
        std::map<std::string, size_t> shapes;
        size_t nexplain = std::min(nq, static_cast<size_t>(std::stoul(a.get("explain-queries", "100"))));
        for (size_t i = 0; i < nexplain; ++i) {
            std::string ex = "EXPLAIN EXECUTE q(" + sql_literal(vector_text(q.row(i), q.dim).c_str());
            for (int p = 0; p < f.nparams; ++p) ex += ", " + sql_literal(param_value(f.values[i][p]));
            ex += ")";
            PGresult* res = PQexec(c, ex.c_str());
            if (PQresultStatus(res) != PGRES_TUPLES_OK)
                throw std::runtime_error(std::string("explain: ") + PQerrorMessage(c));
            ++shapes[plan_shape(res)];
            PQclear(res);
        }
        std::vector<std::pair<size_t, std::string>> by_count;
        for (const auto& [shape, count] : shapes) by_count.push_back({count, shape});
        std::sort(by_count.rbegin(), by_count.rend());
        std::string plan;
        for (const auto& [count, shape] : by_count)
            plan += (plan.empty() ? "" : "; ") + shape +
                    (by_count.size() > 1 ? " (" + std::to_string(count) + "/" + std::to_string(nexplain) + ")"
                                         : "");
        for (char& ch : notice_text)
            if (ch == '"') ch = '\'';
        std::printf(",%.3f,%.3f,%.3f,%.3f,%.4f,\"%s\",\"%s\"", *std::min_element(p50s.begin(), p50s.end()),
                    *std::max_element(p50s.begin(), p50s.end()), *std::min_element(p95s.begin(), p95s.end()),
                    *std::max_element(p95s.begin(), p95s.end()), static_cast<double>(noticed) / nq,
                    plan.c_str(), notice_text.c_str());
        // The unfiltered reference's p50 and p95 (empty without one).
        if (reference)
            std::printf(",%.3f,%.3f", percentile(ref_ms, 0.50), percentile(ref_ms, 0.95));
        else
            std::printf(",,");
        // The unfiltered query at the same recall (empty without a curve).
        if (same_ef > 0)
            std::printf(",%d,%.4f,%.3f,%.3f", same_ef, same_recall,
                        percentile(own_ef ? ref_ms : same_ms, 0.50),
                        percentile(own_ef ? ref_ms : same_ms, 0.95));
        else
            std::printf(",,,,");
    }
    std::printf("\n");
    PQfinish(c);
    return 0;
}

// --- truth --------------------------------------------------------------------------------

uint16_t get_be16(const unsigned char* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get_be32(const unsigned char* p) {
    return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
           static_cast<uint32_t>(p[2]) << 8 | p[3];
}

/// Squared L2 distance summed in float64 (exact for small integers such as
/// pixel values); eight partial sums, compiled for the best vector unit there is.
__attribute__((target_clones("avx512f", "avx2", "default"))) double l2sq_f64(const float* a, const float* b,
                                                                             int d) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= d; i += 8)
        for (int j = 0; j < 8; ++j) {
            const double diff = static_cast<double>(a[i + j]) - static_cast<double>(b[i + j]);
            acc[j] += diff * diff;
        }
    for (; i < d; ++i) {
        const double diff = static_cast<double>(a[i]) - static_cast<double>(b[i]);
        acc[0] += diff * diff;
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/// "$3" -> "$2": the filter's parameters, without the query vector in front.
std::string shift_params(const std::string& where) {
    std::string out;
    for (size_t i = 0; i < where.size(); ++i) {
        if (where[i] == '$' && i + 1 < where.size() &&
            std::isdigit(static_cast<unsigned char>(where[i + 1]))) {
            size_t j = i + 1;
            while (j < where.size() && std::isdigit(static_cast<unsigned char>(where[j]))) ++j;
            int num = std::stoi(where.substr(i + 1, j - i - 1));
            if (num < 2) throw std::runtime_error("the filter's parameters start at $2: " + where);
            out += "$" + std::to_string(num - 1);
            i = j - 1;
        } else {
            out += where[i];
        }
    }
    return out;
}

/// The exact filtered top k of one filter (ann_pg truth): writes OUT.ivecs and
/// OUT.nn.tsv, returns the stats line.
std::string solve_filter(PGconn* c, const std::string& table, const QueryFilters& f, const Fvecs& q,
                         size_t nq, size_t k, const std::vector<int64_t>& row_id,
                         const std::vector<float>& vec, const std::map<int64_t, uint32_t>& row_of,
                         const std::string& out) {
    auto t_start = Clock::now();
    const int dim = q.dim;
    if (!f.where.empty()) {
        exec(c, "DEALLOCATE ALL");
        PGresult* r = PQprepare(c, "ids", ("SELECT id FROM " + table + " " + shift_params(f.where)).c_str(),
                                f.nparams, nullptr);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            throw std::runtime_error(std::string("prepare: ") + PQerrorMessage(c));
        PQclear(r);
    }
    // Queries with the same values match the same rows: one SELECT, one pass over them.
    std::map<std::vector<std::string>, std::vector<size_t>> groups;
    for (size_t i = 0; i < nq; ++i) groups[f.values[i]].push_back(i);
    std::vector<std::vector<std::pair<double, int64_t>>> best(nq);  // max-heaps of (dist, id)
    std::vector<size_t> matches(nq);
    for (const auto& [values, members] : groups) {
        std::vector<uint32_t> rows;
        if (f.where.empty()) {
            for (uint32_t i = 0; i < row_id.size(); ++i) rows.push_back(i);
        } else {
            std::vector<const char*> pv;
            for (const std::string& v : values) pv.push_back(param_value(v));
            PGresult* r = PQexecPrepared(c, "ids", f.nparams, pv.data(), nullptr, nullptr, 0);
            if (PQresultStatus(r) != PGRES_TUPLES_OK)
                throw std::runtime_error(std::string("select ids: ") + PQerrorMessage(c));
            for (int t = 0; t < PQntuples(r); ++t) {
                auto it = row_of.find(std::stoll(PQgetvalue(r, t, 0)));
                if (it == row_of.end()) throw std::runtime_error("select ids: an id the COPY did not see");
                rows.push_back(it->second);
            }
            PQclear(r);
            std::sort(rows.begin(), rows.end());
        }
        // Blocks of rows against every query of the group: the block stays in cache.
        constexpr size_t kBlock = 64;
        for (size_t b = 0; b < rows.size(); b += kBlock) {
            size_t e = std::min(rows.size(), b + kBlock);
            for (size_t qi : members) {
                auto& heap = best[qi];
                for (size_t j = b; j < e; ++j) {
                    std::pair<double, int64_t> cand{
                        l2sq_f64(q.row(qi), vec.data() + static_cast<size_t>(rows[j]) * dim, dim),
                        row_id[rows[j]]};
                    if (heap.size() < k) {
                        heap.push_back(cand);
                        std::push_heap(heap.begin(), heap.end());
                    } else if (cand < heap.front()) {
                        std::pop_heap(heap.begin(), heap.end());
                        heap.back() = cand;
                        std::push_heap(heap.begin(), heap.end());
                    }
                }
            }
        }
        for (size_t qi : members) matches[qi] = rows.size();
    }
    std::string ivecs, nn = "query\tnearest\n";
    size_t short_queries = 0, mmin = SIZE_MAX, mmax = 0;
    double msum = 0;
    for (size_t i = 0; i < nq; ++i) {
        std::sort_heap(best[i].begin(), best[i].end());
        int32_t kk = static_cast<int32_t>(k);
        ivecs.append(reinterpret_cast<const char*>(&kk), 4);
        for (size_t t = 0; t < k; ++t) {
            int32_t id = t < best[i].size() ? static_cast<int32_t>(best[i][t].second) : -1;
            ivecs.append(reinterpret_cast<const char*>(&id), 4);
        }
        nn += std::to_string(i) + "\t" +
              (best[i].empty() ? std::string("\\N") : std::to_string(best[i][0].second)) + "\n";
        short_queries += matches[i] < 10;
        mmin = std::min(mmin, matches[i]);
        mmax = std::max(mmax, matches[i]);
        msum += static_cast<double>(matches[i]);
    }
    std::string tmp = out + ".tmp";
    for (const auto& [path, bytes] : {std::pair<std::string, const std::string*>{tmp, &ivecs},
                                      {out.substr(0, out.size() - 6) + ".nn.tsv", &nn}}) {
        FILE* fo = std::fopen(path.c_str(), "wb");
        if (!fo || std::fwrite(bytes->data(), 1, bytes->size(), fo) != bytes->size() || std::fclose(fo) != 0)
            throw std::runtime_error("cannot write " + path);
    }
    if (std::rename(tmp.c_str(), out.c_str()) != 0) throw std::runtime_error("cannot write " + out);
    char line[160];
    std::snprintf(line, sizeof line, "%zu,%.1f,%zu,%zu,%zu,%.1f", nq, msum / nq, mmin, mmax, short_queries,
                  std::chrono::duration<double>(Clock::now() - t_start).count());
    return line;
}

int cmd_truth(const Args& a) {
    std::string table = a.need("table");
    size_t k = std::stoul(a.get("k", "100"));
    Fvecs q = read_queries(a.get("query-file", a.get("dir") + "/query.fvecs"));
    size_t nq = std::min(q.n, static_cast<size_t>(std::stoul(a.get("queries", "1000"))));
    // The filters: one (--where, --params, --out) or a --spec file of
    // "name TAB where TAB params-file TAB out.ivecs" lines.
    std::vector<std::pair<std::string, Args>> jobs;
    if (a.kv.count("spec")) {
        for (const auto& fields : read_params(a.get("spec"))) {
            if (fields.size() != 4)
                throw std::runtime_error(a.get("spec") + ": want name, where, params, out");
            Args j = a;
            j.kv["filter"] = fields[0];
            j.kv["where"] = fields[1];
            j.kv["params"] = fields[2];
            j.kv["out"] = fields[3];
            jobs.push_back({fields[0], j});
        }
    } else {
        jobs.push_back({a.get("filter", "none"), a});
    }
    for (auto& job : jobs)
        if (!ends_with(job.second.need("out"), ".ivecs")) throw std::runtime_error("out must end in .ivecs");
    PGconn* c = connect();
    // Every row's id and vector, once.
    PGresult* r =
        PQexec(c, ("COPY (SELECT id, embedding FROM " + table + ") TO STDOUT (FORMAT binary)").c_str());
    if (PQresultStatus(r) != PGRES_COPY_OUT)
        throw std::runtime_error(std::string("copy out: ") + PQerrorMessage(c));
    PQclear(r);
    std::string stream;
    for (;;) {
        char* buf = nullptr;
        int len = PQgetCopyData(c, &buf, 0);
        if (len == -1) break;
        if (len < 0) throw std::runtime_error(std::string("copy out: ") + PQerrorMessage(c));
        stream.append(buf, static_cast<size_t>(len));
        PQfreemem(buf);
    }
    r = PQgetResult(c);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        throw std::runtime_error(std::string("copy out: ") + PQerrorMessage(c));
    PQclear(r);
    const auto* p = reinterpret_cast<const unsigned char*>(stream.data());
    const unsigned char* end = p + stream.size();
    if (stream.size() < 19 || std::memcmp(p, "PGCOPY\n\377\r\n\0", 11) != 0)
        throw std::runtime_error("copy out: not a binary COPY stream");
    p += 19 + get_be32(p + 15);  // signature, flags, header extension
    std::vector<int64_t> row_id;
    std::vector<float> vec;
    int dim = 0;
    while (p + 2 <= end) {
        int16_t fields = static_cast<int16_t>(get_be16(p));
        p += 2;
        if (fields == -1) break;
        if (fields != 2 || p + 4 > end) throw std::runtime_error("copy out: unexpected row");
        uint32_t len = get_be32(p);
        if (len != 8) throw std::runtime_error("copy out: id must be a non-null bigint");
        row_id.push_back(
            static_cast<int64_t>(static_cast<uint64_t>(get_be32(p + 4)) << 32 | get_be32(p + 8)));
        p += 12;
        len = get_be32(p);
        if (len == 0xFFFFFFFFu) throw std::runtime_error("copy out: a row without a vector");
        int d = get_be16(p + 4);
        if (dim == 0) dim = d;
        if (d != dim || len != 4u + 4u * static_cast<uint32_t>(d))
            throw std::runtime_error("copy out: bad vector");
        for (int i = 0; i < d; ++i) {
            uint32_t bits = get_be32(p + 8 + 4 * i);
            float x;
            std::memcpy(&x, &bits, 4);
            vec.push_back(x);
        }
        p += 4 + len;
    }
    std::string().swap(stream);
    if (dim != q.dim) throw std::runtime_error("the table's vectors and the queries differ in dims");
    std::map<int64_t, uint32_t> row_of;
    for (size_t i = 0; i < row_id.size(); ++i) {
        if (row_id[i] < 0 || row_id[i] > INT32_MAX) throw std::runtime_error("ids must fit ivecs' int32");
        if (!row_of.emplace(row_id[i], static_cast<uint32_t>(i)).second)
            throw std::runtime_error("ids must be unique");
    }
    for (const auto& [name, job] : jobs) {
        QueryFilters f = query_filters(job, nq, job.get("dir"), 0);
        std::string stats = solve_filter(c, table, f, q, nq, k, row_id, vec, row_of, job.need("out"));
        std::printf("%s%s\n", a.kv.count("spec") ? (name + ",").c_str() : "", stats.c_str());
        std::fflush(stdout);
    }
    PQfinish(c);
    return 0;
}

int cmd_rtt(const Args& a) {
    std::vector<long> busy;
    for (const std::string& b : ann::split(a.get("busy", "0,1000,2000,3000,4000,5000,6000"), ','))
        busy.push_back(std::stol(b));
    size_t nq = std::stoul(a.get("queries", "5000"));
    int repeats = std::stoi(a.get("repeats", "3"));
    PGconn* c = connect();
    if (!a.get("pin-cpu").empty()) pin_with_backend(c, std::stoi(a.get("pin-cpu")));
    exec(c,
         "CREATE FUNCTION pg_temp.spin(n bigint) RETURNS bigint LANGUAGE plpgsql AS "
         "$$DECLARE x bigint := 0; BEGIN FOR i IN 1..n LOOP x := x + i; END LOOP; RETURN x; END$$");
    PGresult* r = PQprepare(c, "rtt", "SELECT pg_temp.spin($1::bigint)", 1, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        throw std::runtime_error(std::string("prepare: ") + PQerrorMessage(c));
    PQclear(r);
    auto call = [&](long n) {
        std::string v = std::to_string(n);
        const char* values[1] = {v.c_str()};
        PGresult* res = PQexecPrepared(c, "rtt", 1, values, nullptr, nullptr, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            throw std::runtime_error(std::string("rtt: ") + PQerrorMessage(c));
        PQclear(res);
    };
    for (long b : busy) {
        // The server's time for the loop alone: one call, 200 times longer.
        constexpr int kScale = 200;
        std::vector<double> server;
        for (int rep = 0; rep < 3; ++rep) {
            auto t0 = Clock::now();
            call(b * kScale);
            server.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / kScale);
        }
        std::sort(server.begin(), server.end());
        for (size_t i = 0; i < nq; ++i) call(b);  // warm-up
        std::vector<double> qps;
        for (int rep = 0; rep < repeats; ++rep) {
            auto t0 = Clock::now();
            for (size_t i = 0; i < nq; ++i) call(b);
            qps.push_back(nq / std::chrono::duration<double>(Clock::now() - t0).count());
        }
        std::sort(qps.begin(), qps.end());
        double med = qps[qps.size() / 2];
        std::printf("%s,%ld,%.1f,%.1f,%.1f,%.1f,%.1f\n", a.get("label", "rtt").c_str(), b,
                    b == 0 ? 0.0 : server[1], 1e6 / med, med, qps.front(), qps.back());
        std::fflush(stdout);
    }
    PQfinish(c);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr,
                     "usage: ann_pg load|queries|search|truth|rtt --dir DIR --table T [options] (see the "
                     "source header)\n");
        return 2;
    }
    Args a;
    for (int i = 2; i < argc; ++i) {
        std::string s = argv[i];
        if (s.rfind("--", 0) != 0 || i + 1 >= argc) {
            std::fprintf(stderr, "ann_pg: bad argument %s\n", s.c_str());
            return 2;
        }
        a.kv[s.substr(2)] = argv[++i];
    }
    try {
        std::string cmd = argv[1];
        if (cmd == "load") return cmd_load(a);
        if (cmd == "queries") return cmd_queries(a);
        if (cmd == "search") return cmd_search(a);
        if (cmd == "truth") return cmd_truth(a);
        if (cmd == "rtt") return cmd_rtt(a);
        std::fprintf(stderr, "ann_pg: unknown command %s\n", cmd.c_str());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ann_pg: %s\n", e.what());
        return 1;
    }
}

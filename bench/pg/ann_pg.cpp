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
#include <cerrno>
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

int cmd_search(const Args& a) {
    std::string dir = a.need("dir"), table = a.need("table"), fname = a.get("filter", "none");
    int k = std::stoi(a.get("k", "10"));
    int repeats = std::stoi(a.get("repeats", "3"));
    // --exclude-mod "M:R": rows with id % M < R were deleted; drop them from the truth.
    int ex_m = 0, ex_r = 0;
    if (!a.get("exclude-mod").empty()) std::sscanf(a.get("exclude-mod").c_str(), "%d:%d", &ex_m, &ex_r);
    Fvecs q = read_fvecs(dir + "/query.fvecs");
    std::vector<int32_t> qlabels = read_i32(dir + "/query_labels.i32");
    size_t nq = std::min(q.n, static_cast<size_t>(std::stoul(a.get("queries", "1000"))));
    auto gt = read_ivecs(dir + "/gt/" + (fname == "none" ? std::string("unfiltered") : fname) + ".ivecs");
    if (gt.size() < nq) throw std::runtime_error("ground truth has fewer queries than asked");

    PGconn* c = connect();
    PGresult* r = PQexec(c, ("SELECT count(*) FROM " + table).c_str());
    size_t n = std::stoul(PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!a.get("pin-cpu").empty()) pin_with_backend(c, std::stoi(a.get("pin-cpu")));
    for (std::string s : ann::split(a.get("set"), ';')) {
        if (s.empty()) continue;
        size_t eq = s.find('=');
        if (eq == std::string::npos) throw std::runtime_error("--set wants GUC=VALUE;...: " + s);
        exec(c, "SET " + s.replace(eq, 1, " = "));
    }
    Filter f = filter_sql(fname);
    std::string sql =
        "SELECT id FROM " + table + " " + f.where + " ORDER BY embedding <-> $1 LIMIT " + std::to_string(k);
    r = PQprepare(c, "q", sql.c_str(), 1 + f.nparams, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        throw std::runtime_error(std::string("prepare: ") + PQerrorMessage(c));
    PQclear(r);

    std::vector<std::string> vecs(nq);
    std::vector<std::vector<std::string>> params(nq);
    for (size_t i = 0; i < nq; ++i) {
        vecs[i] = vector_binary(q.row(i), q.dim);
        params[i] = filter_params(fname, i, qlabels[i], n);
    }
    auto run_one = [&](size_t i, std::vector<int64_t>* ids) {
        const char* values[3];
        int lengths[3] = {static_cast<int>(vecs[i].size()), 0, 0};
        int formats[3] = {1, 0, 0};
        values[0] = vecs[i].data();
        for (size_t p = 0; p < params[i].size(); ++p) values[1 + p] = params[i][p].c_str();
        PGresult* res = PQexecPrepared(c, "q", 1 + f.nparams, values, lengths, formats, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK)
            throw std::runtime_error(std::string("query: ") + PQerrorMessage(c));
        if (ids) {
            ids->clear();
            for (int t = 0; t < PQntuples(res); ++t) ids->push_back(std::stoll(PQgetvalue(res, t, 0)));
        }
        PQclear(res);
    };

    // Warm-up and accuracy pass.
    double recall_sum = 0, rows_sum = 0;
    size_t short_count = 0;
    std::vector<int64_t> ids;
    for (size_t i = 0; i < nq; ++i) {
        run_one(i, &ids);
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
    }
    // Timed passes.
    std::vector<double> qps, lat_ms;
    for (int rep = 0; rep < repeats; ++rep) {
        auto t0 = Clock::now();
        for (size_t i = 0; i < nq; ++i) {
            auto s = Clock::now();
            run_one(i, nullptr);
            lat_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
        }
        qps.push_back(nq / std::chrono::duration<double>(Clock::now() - t0).count());
    }
    std::sort(qps.begin(), qps.end());
    std::printf("%s,%s,%zu,%.4f,%.2f,%.4f,%.1f,%.1f,%.1f,%.3f,%.3f,%.3f\n", a.get("label", "nmvec").c_str(),
                fname.c_str(), nq, recall_sum / nq, rows_sum / nq, static_cast<double>(short_count) / nq,
                qps[qps.size() / 2], qps.front(), qps.back(), percentile(lat_ms, 0.50),
                percentile(lat_ms, 0.95), percentile(lat_ms, 0.99));
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
        std::fprintf(
            stderr,
            "usage: ann_pg load|queries|search --dir DIR --table T [options] (see the source header)\n");
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
        if (cmd == "rtt") return cmd_rtt(a);
        std::fprintf(stderr, "ann_pg: unknown command %s\n", cmd.c_str());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ann_pg: %s\n", e.what());
        return 1;
    }
}

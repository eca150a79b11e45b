// ann_gt: exact top-k ground truth (L2), unfiltered and under each benchmark filter.
//
//   ann_gt --dir DIR [--k 100] [--threads T] [--force]
//
// Candidates come from FAISS's brute force (knn_L2sqr: BLAS, float32), which
// computes |x|^2 + |y|^2 - 2<x,y>: at pixel scale (norms^2 up to 5e7) that is
// off by up to ~1e3, enough to reorder near-ties. So ann_gt asks FAISS for 2k
// candidates, re-ranks them with distances summed in float64 (exact for the
// integer pixel data), breaks ties by the smaller id, and proves the result:
// if the k-th exact distance is not below the 2k-th float32 distance minus a
// rounding-error bound, some vector outside the candidates could belong in
// the top k, and that query is recomputed exactly over its whole subset.
//
// Filters (one predicate per query qi; N = base rows; see README.md):
//   label_same   label = label(qi)                        ~10 %
//   label_other  label = (label(qi) + 1) % 10             ~10 %, anti-correlated with the query
//   tenant       tenant = qi % 100  (tenant = id % 100)   ~1 %
//   time_50      id < N/2                                  50 %
//   time_01      s <= id < s + N/1000, s = (qi*997) % (N - N/1000)   0.1 %
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <ctime>
#include <thread>

#include <faiss/utils/distances.h>

#include "ann_common.h"

namespace {

const char* kUsage =
    "usage: ann_gt --dir DIR [--k 100] [--threads T] [--force]\n"
    "\n"
    "Reads DIR/{base,query}.fvecs and DIR/{base,query}_labels.i32 (written by ann_prep) and\n"
    "writes the exact top-k neighbours of every query, unfiltered and for every filter, to\n"
    "DIR/gt/<filter>.ivecs (ids; -1 pads queries with fewer than k matching rows) and\n"
    "DIR/gt/<filter>.dist.fvecs (L2 distances, as SQL's <-> returns them; -1 pads), the\n"
    "filter definitions to DIR/filters.txt and each query's parameters to\n"
    "DIR/gt/<filter>.params.tsv. Skips the work if DIR/gt/info.txt is newer than the inputs\n"
    "and was made with the same k, unless --force. --threads defaults to all cores.\n";

// Metadata convention shared with the SQL side (README.md): ts = origin + id minutes.
const char* kTsOrigin = "2024-01-01 00:00:00+00";
const time_t kTsOriginEpoch = 1704067200;  // 2024-01-01T00:00:00Z

std::string ts_of_id(int64_t id) {
    const time_t t = kTsOriginEpoch + time_t(id) * 60;
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S+00", &tm);
    return buf;
}

/// Squared L2 distance summed in float64: exact for small integers such as pixel values.
/// Eight independent partial sums let the compiler vectorise without -ffast-math.
double l2sq_exact(const float* a, const float* b, size_t d) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= d; i += 8) {
        for (size_t j = 0; j < 8; ++j) {
            const double diff = double(a[i + j]) - double(b[i + j]);
            acc[j] += diff * diff;
        }
    }
    for (; i < d; ++i) {
        const double diff = double(a[i]) - double(b[i]);
        acc[0] += diff * diff;
    }
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/// Squared norm summed in float64.
double norm2_exact(const float* a, size_t d) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= d; i += 8)
        for (size_t j = 0; j < 8; ++j) acc[j] += double(a[i + j]) * double(a[i + j]);
    for (; i < d; ++i) acc[0] += double(a[i]) * double(a[i]);
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/// One search problem: these queries, each against exactly these base rows.
struct Group {
    std::vector<int32_t> base_ids;  ///< ascending row ids in base
    std::vector<int32_t> queries;   ///< query indexes
};

/// One filter: its SQL text, the base rows each query may return, each query's parameters.
struct Filter {
    std::string name;
    std::vector<std::string> params;  ///< parameter names, also the .params.tsv header
    std::string where;                ///< SQL WHERE template over id/label/tenant
    std::string where_ts;             ///< the same with time expressed on ts
    std::vector<Group> groups;
    std::vector<std::vector<std::string>> values;  ///< per query, one value per param
};

struct Neighbor {
    double dist;  ///< squared L2, exact
    int32_t id;
    bool operator<(const Neighbor& o) const { return dist < o.dist || (dist == o.dist && id < o.id); }
};

struct Stats {
    size_t fallback_queries = 0;  ///< queries recomputed over their whole subset
};

class GroundTruth {
 public:
    GroundTruth(const ann::FloatMatrix& base, const ann::FloatMatrix& query, size_t k)
        : base_(base), query_(query), k_(k), norms_(base.n) {
        for (size_t i = 0; i < base.n; ++i) norms_[i] = norm2_exact(base.row(i), base.d);
    }

    /// Fills ids/dists (query.n x k; -1 where a query has fewer than k matches) for the groups.
    void solve(const std::vector<Group>& groups, std::vector<int32_t>* ids, std::vector<float>* dists,
               Stats* stats) {
        ids->assign(query_.n * k_, -1);
        dists->assign(query_.n * k_, -1.0f);
        for (const Group& g : groups) solve_group(g, ids, dists, stats);
    }

 private:
    void solve_group(const Group& g, std::vector<int32_t>* ids, std::vector<float>* dists, Stats* stats) {
        const size_t d = base_.d, nq = g.queries.size(), ny = g.base_ids.size();
        if (nq == 0 || ny == 0) return;
        const size_t kp = std::min(ny, 2 * k_);
        std::vector<float> faiss_d;
        std::vector<int64_t> faiss_i;
        if (ny > kp) {
            // Contiguous copies of the subset and the queries for the BLAS brute force.
            const bool whole = ny == base_.n;
            std::vector<float> y, x(nq * d);
            if (!whole) {
                y.resize(ny * d);
                for (size_t j = 0; j < ny; ++j) std::copy_n(base_.row(size_t(g.base_ids[j])), d, &y[j * d]);
            }
            for (size_t q = 0; q < nq; ++q) std::copy_n(query_.row(size_t(g.queries[q])), d, &x[q * d]);
            faiss_d.resize(nq * kp);
            faiss_i.resize(nq * kp);
            faiss::knn_L2sqr(x.data(), whole ? base_.data.data() : y.data(), d, nq, ny, kp, faiss_d.data(),
                             faiss_i.data());
        }
        double max_norm = 0;
        for (int32_t id : g.base_ids) max_norm = std::max(max_norm, norms_[size_t(id)]);
        // Bound on |float32 - exact| of FAISS's |q|^2 + |y|^2 - 2<q,y>: (2d + 8) unit roundoffs of
        // (|q|^2 + |y|^2) covers the norms, the dot product (any summation order) and the adds.
        const double roundoff = (2.0 * double(d) + 16.0) * std::ldexp(1.0, -24);

        size_t fallbacks = 0;
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : fallbacks)
        for (size_t q = 0; q < nq; ++q) {
            const float* qv = query_.row(size_t(g.queries[q]));
            std::vector<Neighbor> cand;
            cand.reserve(kp);
            if (ny > kp) {
                for (size_t j = 0; j < kp; ++j) {
                    const int64_t local = faiss_i[q * kp + j];
                    if (local < 0) continue;
                    const int32_t id = g.base_ids[size_t(local)];
                    cand.push_back({l2sq_exact(qv, base_.row(size_t(id)), d), id});
                }
                std::sort(cand.begin(), cand.end());
                const double qnorm = norm2_exact(qv, d);
                const double bound = double(faiss_d[q * kp + kp - 1]) - roundoff * (qnorm + max_norm) * 1.01;
                const bool proven = cand.size() >= k_ && cand[k_ - 1].dist < bound;
                if (!proven) {
                    ++fallbacks;
                    cand.clear();
                }
            }
            if (cand.empty()) {
                cand.reserve(ny);
                for (int32_t id : g.base_ids) cand.push_back({l2sq_exact(qv, base_.row(size_t(id)), d), id});
                const size_t keep = std::min(k_, cand.size());
                std::partial_sort(cand.begin(), cand.begin() + long(keep), cand.end());
                cand.resize(keep);
            }
            const size_t out = size_t(g.queries[q]) * k_;
            for (size_t j = 0; j < std::min(k_, cand.size()); ++j) {
                (*ids)[out + j] = cand[j].id;
                (*dists)[out + j] = float(std::sqrt(cand[j].dist));
            }
        }
        stats->fallback_queries += fallbacks;
    }

    const ann::FloatMatrix& base_;
    const ann::FloatMatrix& query_;
    size_t k_;
    std::vector<double> norms_;  ///< exact squared norms of the base rows
};

std::vector<Filter> make_filters(const std::vector<int32_t>& base_labels,
                                 const std::vector<int32_t>& query_labels) {
    const size_t n = base_labels.size(), nq = query_labels.size();
    std::vector<int32_t> all_queries(nq);
    for (size_t q = 0; q < nq; ++q) all_queries[q] = int32_t(q);
    std::vector<Filter> filters;

    {
        Filter f{"unfiltered", {}, "true", "true", {}, std::vector<std::vector<std::string>>(nq)};
        Group g;
        for (size_t i = 0; i < n; ++i) g.base_ids.push_back(int32_t(i));
        g.queries = all_queries;
        f.groups.push_back(std::move(g));
        filters.push_back(std::move(f));
    }
    for (int other = 0; other < 2; ++other) {
        Filter f{other ? "label_other" : "label_same", {"label"}, "label = $label", "label = $label", {}, {}};
        f.groups.resize(10);
        for (size_t i = 0; i < n; ++i) {
            if (base_labels[i] < 0 || base_labels[i] > 9) ann::die("labels must be 0..9");
            f.groups[size_t(base_labels[i])].base_ids.push_back(int32_t(i));
        }
        for (size_t q = 0; q < nq; ++q) {
            const int32_t label = other ? (query_labels[q] + 1) % 10 : query_labels[q];
            if (label < 0 || label > 9) ann::die("labels must be 0..9");
            f.groups[size_t(label)].queries.push_back(int32_t(q));
            f.values.push_back({std::to_string(label)});
        }
        filters.push_back(std::move(f));
    }
    {
        Filter f{"tenant", {"tenant"}, "tenant = $tenant", "tenant = $tenant", {}, {}};
        f.groups.resize(100);
        for (size_t i = 0; i < n; ++i) f.groups[i % 100].base_ids.push_back(int32_t(i));
        for (size_t q = 0; q < nq; ++q) {
            f.groups[q % 100].queries.push_back(int32_t(q));
            f.values.push_back({std::to_string(q % 100)});
        }
        filters.push_back(std::move(f));
    }
    {
        const size_t hi = n / 2;
        Filter f{"time_50", {"hi", "ts_hi"}, "id < $hi", "ts < $ts_hi", {}, {}};
        Group g;
        for (size_t i = 0; i < hi; ++i) g.base_ids.push_back(int32_t(i));
        g.queries = all_queries;
        f.groups.push_back(std::move(g));
        for (size_t q = 0; q < nq; ++q) f.values.push_back({std::to_string(hi), ts_of_id(int64_t(hi))});
        filters.push_back(std::move(f));
    }
    {
        const size_t width = std::max<size_t>(1, n / 1000);
        Filter f{"time_01",
                 {"lo", "hi", "ts_lo", "ts_hi"},
                 "id >= $lo AND id < $hi",
                 "ts >= $ts_lo AND ts < $ts_hi",
                 {},
                 {}};
        for (size_t q = 0; q < nq; ++q) {
            const size_t lo = n > width ? (q * 997) % (n - width) : 0;
            const size_t hi = std::min(n, lo + width);
            Group g;
            for (size_t i = lo; i < hi; ++i) g.base_ids.push_back(int32_t(i));
            g.queries.push_back(int32_t(q));
            f.groups.push_back(std::move(g));
            f.values.push_back(
                {std::to_string(lo), std::to_string(hi), ts_of_id(int64_t(lo)), ts_of_id(int64_t(hi))});
        }
        filters.push_back(std::move(f));
    }
    return filters;
}

std::string join(const std::vector<std::string>& items, const char* separator) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) out += (i ? separator : "") + items[i];
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    ann::Options opt(argc, argv, kUsage);
    const std::string dir = opt.get_required("dir");
    const long k_arg = opt.get_int("k", 100);
    const long threads = opt.get_int("threads", long(std::max(1u, std::thread::hardware_concurrency())));
    const bool force = opt.flag("force");
    opt.finish();
    if (k_arg < 1 || k_arg > 10000) opt.usage_error("--k must be in 1..10000");
    if (threads < 1) opt.usage_error("--threads must be >= 1");
    const size_t k = size_t(k_arg);

    const std::vector<std::string> inputs = {dir + "/base.fvecs", dir + "/query.fvecs",
                                             dir + "/base_labels.i32", dir + "/query_labels.i32"};
    int64_t newest_input = 0;
    for (const std::string& path : inputs) {
        if (!ann::file_exists(path)) ann::die("missing " + path + " (run ann_prep first)");
        newest_input = std::max(newest_input, ann::file_mtime_ns(path));
    }
    const std::string gt_dir = dir + "/gt";
    const std::string info_path = gt_dir + "/info.txt";
    const std::string filters_path = dir + "/filters.txt";

    ann::set_threads(int(threads));
    const ann::FloatMatrix base = ann::read_fvecs(dir + "/base.fvecs");
    const ann::FloatMatrix query = ann::read_fvecs(dir + "/query.fvecs");
    const std::vector<int32_t> base_labels = ann::read_i32(dir + "/base_labels.i32");
    const std::vector<int32_t> query_labels = ann::read_i32(dir + "/query_labels.i32");
    if (base.d != query.d) ann::die("base and query dimensions differ");
    if (base_labels.size() != base.n || query_labels.size() != query.n) ann::die("label files do not match");
    if (base.n > size_t(INT32_MAX)) ann::die("too many base vectors for int32 ids");

    const std::vector<Filter> filters = make_filters(base_labels, query_labels);
    const std::string info = ann::strprintf("k=%zu\nbase=%zu\nqueries=%zu\nfilters=", k, base.n, query.n) +
                             [&] {
                                 std::vector<std::string> names;
                                 for (const Filter& f : filters) names.push_back(f.name);
                                 return join(names, ",");
                             }() +
                             "\n";

    if (!force && ann::file_exists(info_path) && ann::file_mtime_ns(info_path) > newest_input) {
        FILE* fp = fopen(info_path.c_str(), "r");
        std::string old(4096, '\0');
        old.resize(fp ? fread(&old[0], 1, old.size(), fp) : 0);
        if (fp) fclose(fp);
        bool complete = old == info && ann::file_exists(filters_path);
        for (const Filter& f : filters)
            complete = complete && ann::file_exists(gt_dir + "/" + f.name + ".ivecs");
        if (complete) {
            ann::log_line(gt_dir + " is up to date (k=" + std::to_string(k) + "); --force recomputes it");
            return 0;
        }
    }

    ann::make_dirs(gt_dir);
    if (ann::file_exists(info_path) && unlink(info_path.c_str()) != 0) ann::die("cannot remove " + info_path);
    ann::log_line(ann::strprintf("%zu base x %zu queries, %zu-d, k=%zu, %ld threads; %s", base.n, query.n,
                                 base.d, k, threads, ann::blas_description().c_str()));

    GroundTruth gt(base, query, k);
    std::string filters_txt = ann::strprintf(
        "# bench/ann filters, format 1. base=%zu queries=%zu k=%zu\n"
        "# id = 0-based row of base.fvecs; label = class; tenant = id %% 100;\n"
        "# ts = timestamptz '%s' + id * interval '1 minute'\n"
        "# Columns are tab-separated. where/where_ts are SQL WHERE templates: replace $name by the\n"
        "# query's value from the params file (a TSV with a header: query, then one column per\n"
        "# parameter). gt: exact top-k ids, -1 padded; selectivity: mean share of matching rows.\n"
        "name\tparams\twhere\twhere_ts\tgt\tparams_file\tselectivity\n",
        base.n, query.n, k, kTsOrigin);
    for (const Filter& f : filters) {
        const double t0 = ann::now_s();
        std::vector<int32_t> ids;
        std::vector<float> dists;
        Stats stats;
        gt.solve(f.groups, &ids, &dists, &stats);
        double matched = 0;
        for (const Group& g : f.groups) matched += double(g.base_ids.size()) * double(g.queries.size());
        const double selectivity = matched / double(base.n) / double(query.n);
        size_t short_queries = 0;
        for (size_t q = 0; q < query.n; ++q) short_queries += ids[q * k + k - 1] < 0;

        ann::write_ivecs(gt_dir + "/" + f.name + ".ivecs", ids.data(), query.n, k);
        ann::write_fvecs(gt_dir + "/" + f.name + ".dist.fvecs", dists.data(), query.n, k);
        std::string params_file = "-";
        if (!f.params.empty()) {
            params_file = "gt/" + f.name + ".params.tsv";
            std::string tsv = "query\t" + join(f.params, "\t") + "\n";
            for (size_t q = 0; q < query.n; ++q)
                tsv += std::to_string(q) + "\t" + join(f.values[q], "\t") + "\n";
            ann::write_text(dir + "/" + params_file, tsv);
        }
        filters_txt += ann::strprintf("%s\t%s\t%s\t%s\tgt/%s.ivecs\t%s\t%.6f\n", f.name.c_str(),
                                      f.params.empty() ? "-" : join(f.params, ",").c_str(), f.where.c_str(),
                                      f.where_ts.c_str(), f.name.c_str(), params_file.c_str(), selectivity);
        ann::log_line(ann::strprintf(
            "%-11s selectivity %.4f, %zu queries with < %zu matches, %zu re-checked "
            "exactly, %.1f s",
            f.name.c_str(), selectivity, short_queries, k, stats.fallback_queries, ann::now_s() - t0));
    }
    ann::write_text(filters_path, filters_txt);
    ann::write_text(info_path, info);  // last: marks the directory complete
    return 0;
}

// ann_core: nmvec's HNSW core (src/core/hnsw.h) against hnswlib, in one
// process, on the same data: build time with 1 and 2 threads, then
// single-threaded search QPS and recall@10 over an ef sweep. It separates
// what the graph code costs from what Postgres adds around it (heap scan,
// pages, buffer pins, the client round trip), which bench/run measures.
//
//   ann_core --dir DIR [--threads 1,2] [--ef 10,20,40,80] [--queries 2000]
//            [--m 16] [--efc 64] [--repeats 3]
//
// Prints CSV: system,build_threads,build_s,ef,recall10,qps_median,qps_min,qps_max
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "../../src/core/distance.h"
#include "../../src/core/hnsw.h"
#include "../../src/core/hnsw_iter.h"
#include "ann_common.h"

namespace {

constexpr size_t kK = 10;

double recall_at_10(const std::vector<uint32_t>& got, const int32_t* truth) {
    size_t hit = 0;
    for (size_t i = 0; i < kK; ++i)
        for (uint32_t g : got)
            if (static_cast<int32_t>(g) == truth[i]) {
                ++hit;
                break;
            }
    return static_cast<double>(hit) / kK;
}

struct Point {
    double recall, qps_med, qps_min, qps_max;
};

template <class Search>
Point measure(const ann::FloatMatrix& q, const ann::IdMatrix& gt, size_t nq, int repeats, Search search) {
    std::vector<double> qps;
    double recall = 0;
    std::vector<uint32_t> got;
    for (int r = 0; r < repeats; ++r) {
        double sum = 0;
        double t0 = ann::now_s();
        for (size_t i = 0; i < nq; ++i) {
            got.clear();
            search(q.row(i), &got);
            if (r == 0) sum += recall_at_10(got, gt.row(i));
        }
        qps.push_back(static_cast<double>(nq) / (ann::now_s() - t0));
        if (r == 0) recall = sum / static_cast<double>(nq);
    }
    std::sort(qps.begin(), qps.end());
    return {recall, qps[qps.size() / 2], qps.front(), qps.back()};
}

}  // namespace

int main(int argc, char** argv) {
    ann::set_program_name(argv[0]);
    ann::Options opt(argc, argv,
                     "usage: ann_core --dir DIR [--threads 1,2] [--ef 10,20,40,80] [--queries 2000]\n"
                     "                [--m 16] [--efc 64] [--repeats 3]\n");
    const std::string dir = opt.get("dir", "");
    if (dir.empty()) opt.usage_error("--dir is required");
    const std::vector<long> threads = opt.get_int_list("threads", {1, 2});
    const std::vector<long> efs = opt.get_int_list("ef", {10, 20, 40, 80});
    const size_t nq_want = static_cast<size_t>(opt.get_int("queries", 2000));
    const int m = static_cast<int>(opt.get_int("m", 16));
    const int efc = static_cast<int>(opt.get_int("efc", 64));
    const int repeats = static_cast<int>(opt.get_int("repeats", 3));
    opt.finish();

    ann::FloatMatrix base = ann::read_fvecs(dir + "/base.fvecs");
    ann::FloatMatrix q = ann::read_fvecs(dir + "/query.fvecs");
    ann::IdMatrix gt = ann::read_ivecs(dir + "/gt/unfiltered.ivecs");
    const size_t nq = std::min({nq_want, q.n, gt.n});
    std::printf("system,build_threads,build_s,ef,recall10,qps_median,qps_min,qps_max\n");

    for (long t : threads) {
        // nmvec core: the graph CREATE INDEX builds, searched as an index scan
        // does (IterativeSearch after the greedy descent).
        {
            nmvec::hnsw::Params p;
            p.m = m;
            p.ef_construction = efc;
            nmvec::AlignedFloats vecs(base.data.begin(), base.data.end());
            double t0 = ann::now_s();
            nmvec::hnsw::Graph g(nmvec::hnsw::Metric::L2, base.d, p, base.n, &vecs);
            {
                nmvec::hnsw::ParallelBuild b(g, static_cast<uint32_t>(base.n), static_cast<int>(t));
                while (!b.wait_for(50)) {
                }
                std::fprintf(stderr, "build on %ld thread(s): %zu element(s) relinked to be reachable\n", t,
                             b.relinked());
            }
            double build_s = ann::now_s() - t0;
            nmvec::hnsw::IterativeSearch it;
            uint64_t visits_sum = 0, visits_n = 0;
            for (long ef : efs) {
                Point pt = measure(q, gt, nq, repeats, [&](const float* qv, std::vector<uint32_t>* out) {
                    nmvec::hnsw::Neighbor e = g.descend(qv);
                    nmvec::hnsw::Graph::Access a{g, qv};
                    nmvec::hnsw::IterativeSearch::Options o;
                    o.ef = static_cast<size_t>(ef);
                    it.reset({e}, o);
                    nmvec::hnsw::Neighbor n;
                    while (out->size() < kK && it.next(a, &n)) out->push_back(n.id);
                    visits_sum += it.visits();
                    ++visits_n;
                });
                std::fprintf(stderr, "ef %ld: %.1f level-0 visits per query\n", ef,
                             static_cast<double>(visits_sum) / static_cast<double>(visits_n));
                visits_sum = visits_n = 0;
                std::printf("nmvec-core,%ld,%.3f,%ld,%.4f,%.0f,%.0f,%.0f\n", t, build_s, ef, pt.recall,
                            pt.qps_med, pt.qps_min, pt.qps_max);
                std::fflush(stdout);
            }
        }
        // hnswlib on the same data, same process.
        {
            hnswlib::L2Space space(base.d);
            double t0 = ann::now_s();
            hnswlib::HierarchicalNSW<float> index(&space, base.n, static_cast<size_t>(m),
                                                  static_cast<size_t>(efc));
            std::atomic<size_t> next{0};
            std::vector<std::thread> ws;
            for (long w = 0; w < t; ++w)
                ws.emplace_back([&] {
                    for (size_t i; (i = next.fetch_add(1)) < base.n;) index.addPoint(base.row(i), i);
                });
            for (auto& w : ws) w.join();
            double build_s = ann::now_s() - t0;
            for (long ef : efs) {
                index.setEf(static_cast<size_t>(ef));
                Point pt = measure(q, gt, nq, repeats, [&](const float* qv, std::vector<uint32_t>* out) {
                    auto r = index.searchKnn(qv, kK);
                    while (!r.empty()) {
                        out->push_back(static_cast<uint32_t>(r.top().second));
                        r.pop();
                    }
                });
                std::printf("hnswlib,%ld,%.3f,%ld,%.4f,%.0f,%.0f,%.0f\n", t, build_s, ef, pt.recall,
                            pt.qps_med, pt.qps_min, pt.qps_max);
                std::fflush(stdout);
            }
        }
    }
    return 0;
}

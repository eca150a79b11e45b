// ann_interp: QPS at fixed recall@10, interpolated on recall-vs-QPS curves of an
// ann_baseline-format CSV (the SQL side writes the same format for nmvec/pgvector).
//
//   ann_interp --csv CSV [--system S] [--index I] [--recall 0.90,0.95,0.99]
//              [--build-threads T] [--log]
//
// A curve is the points of one build (system, index, build_threads, m, efc,
// lists). Points dominated by another point with at least the same recall and
// QPS are dropped; the QPS at recall r is interpolated linearly (--log: on log
// QPS) between the two neighbouring points. A recall outside the curve's range
// gives "n/a". Per recall the build with the highest QPS there is reported.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "ann_common.h"

namespace {

const char* kUsage =
    "usage: ann_interp --csv CSV [--system S] [--index I] [--recall 0.90,0.95,0.99]\n"
    "                  [--build-threads T] [--log]\n"
    "\n"
    "Prints, for each (system, index) of CSV (or only --system/--index), the QPS at each\n"
    "recall@10 of --recall, interpolated linearly (--log: log-linearly) on the recall-vs-QPS\n"
    "curve of the best build (the build with the highest QPS at that recall; --build-threads\n"
    "restricts the builds), or n/a if no curve reaches that recall. Output is tab-separated:\n"
    "system index recall qps build_threads m efc lists between\n";

struct Point {
    double recall, qps;
    std::string param;  // param_name=param, for the output
};

struct Curve {
    std::string system, index, threads, m, efc, lists;
    std::vector<Point> points;
};

/// Keeps the Pareto-optimal points (no other point has >= recall and >= QPS), by ascending recall.
std::vector<Point> frontier(std::vector<Point> points) {
    std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
        return a.recall > b.recall || (a.recall == b.recall && a.qps > b.qps);
    });
    std::vector<Point> out;
    double best_qps = -1;
    for (const Point& p : points) {
        if (p.qps > best_qps) {
            out.push_back(p);
            best_qps = p.qps;
        }
    }
    std::reverse(out.begin(), out.end());
    return out;
}

/// QPS at recall r on a frontier; false if r is outside it. between names the bracketing points.
bool interpolate(const std::vector<Point>& f, double r, bool log_scale, double* qps, std::string* between) {
    if (f.empty() || r < f.front().recall || r > f.back().recall) return false;
    for (size_t i = 0; i < f.size(); ++i) {
        if (f[i].recall == r) {
            *qps = f[i].qps;
            *between = f[i].param;
            return true;
        }
        if (i + 1 < f.size() && f[i].recall < r && r < f[i + 1].recall) {
            const double t = (r - f[i].recall) / (f[i + 1].recall - f[i].recall);
            *qps = log_scale
                       ? std::exp(std::log(f[i].qps) + t * (std::log(f[i + 1].qps) - std::log(f[i].qps)))
                       : f[i].qps + t * (f[i + 1].qps - f[i].qps);
            const std::string& next = f[i + 1].param;
            *between = f[i].param + ".." + next.substr(next.find('=') + 1);
            return true;
        }
    }
    return false;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) s.pop_back();
    size_t start = 0;
    while (start < s.size() && s[start] == ' ') ++start;
    return s.substr(start);
}

}  // namespace

int main(int argc, char** argv) {
    ann::Options opt(argc, argv, kUsage);
    const std::string path = opt.get_required("csv");
    const std::string want_system = opt.get("system", "");
    const std::string want_index = opt.get("index", "");
    const std::vector<double> recalls = opt.get_double_list("recall", {0.90, 0.95, 0.99});
    const std::string want_threads = opt.get("build-threads", "");
    const bool log_scale = opt.flag("log");
    opt.finish();

    FILE* f = fopen(path.c_str(), "r");
    if (!f) ann::die("cannot open " + path);
    std::vector<std::string> lines;
    char buf[4096];
    while (fgets(buf, sizeof buf, f)) {
        const std::string line = trim(buf);
        if (!line.empty()) lines.push_back(line);
    }
    fclose(f);
    if (lines.empty()) ann::die(path + " is empty");

    const std::vector<std::string> header = ann::split(lines[0], ',');
    std::map<std::string, size_t> col;
    for (size_t i = 0; i < header.size(); ++i) col[trim(header[i])] = i;
    for (const char* name : {"system", "index", "build_threads", "m", "efc", "lists", "param_name", "param",
                             "recall10", "qps_median"})
        if (!col.count(name)) ann::die(path + ": no column '" + name + "'");

    // Curves keyed by build, in order of first appearance; (system, index) pairs likewise.
    std::vector<Curve> curves;
    std::map<std::string, size_t> curve_of;
    std::vector<std::pair<std::string, std::string>> pairs;
    for (size_t l = 1; l < lines.size(); ++l) {
        const std::vector<std::string> v = ann::split(lines[l], ',');
        if (v.size() != header.size())
            ann::die(ann::strprintf("%s:%zu: wrong number of fields", path.c_str(), l + 1));
        auto at = [&](const char* name) { return trim(v[col[name]]); };
        if (!want_system.empty() && at("system") != want_system) continue;
        if (!want_index.empty() && at("index") != want_index) continue;
        if (!want_threads.empty() && at("build_threads") != want_threads) continue;
        const std::string key = at("system") + "," + at("index") + "," + at("build_threads") + "," + at("m") +
                                "," + at("efc") + "," + at("lists");
        if (!curve_of.count(key)) {
            curve_of[key] = curves.size();
            curves.push_back(
                {at("system"), at("index"), at("build_threads"), at("m"), at("efc"), at("lists"), {}});
            const auto pair = std::make_pair(at("system"), at("index"));
            if (std::find(pairs.begin(), pairs.end(), pair) == pairs.end()) pairs.push_back(pair);
        }
        char* end = nullptr;
        const double recall = strtod(at("recall10").c_str(), &end);
        const double qps = strtod(at("qps_median").c_str(), &end);
        if (!(qps > 0)) continue;  // a failed point (e.g. written as 0 or n/a) is not on the curve
        curves[curve_of[key]].points.push_back({recall, qps, at("param_name") + "=" + at("param")});
    }
    if (curves.empty()) ann::die("no rows match in " + path);

    printf("system\tindex\trecall\tqps\tbuild_threads\tm\tefc\tlists\tbetween\n");
    for (const auto& pair : pairs) {
        for (double r : recalls) {
            const Curve* best = nullptr;
            double best_qps = 0;
            std::string best_between;
            double lo = 1, hi = 0;
            for (const Curve& c : curves) {
                if (c.system != pair.first || c.index != pair.second) continue;
                const std::vector<Point> fr = frontier(c.points);
                if (!fr.empty()) {
                    lo = std::min(lo, fr.front().recall);
                    hi = std::max(hi, fr.back().recall);
                }
                double qps;
                std::string between;
                if (interpolate(fr, r, log_scale, &qps, &between) && qps > best_qps) {
                    best = &c;
                    best_qps = qps;
                    best_between = between;
                }
            }
            if (best) {
                printf("%s\t%s\t%.4g\t%.0f\t%s\t%s\t%s\t%s\t%s\n", pair.first.c_str(), pair.second.c_str(), r,
                       best_qps, best->threads.c_str(), best->m.c_str(), best->efc.c_str(),
                       best->lists.c_str(), best_between.c_str());
            } else {
                const std::string why = lo > hi  ? "no points"
                                        : r < lo ? ann::strprintf("below the lowest recall %.4f", lo)
                                                 : ann::strprintf("above the highest recall %.4f", hi);
                printf("%s\t%s\t%.4g\tn/a\t-\t-\t-\t-\t%s\n", pair.first.c_str(), pair.second.c_str(), r,
                       why.c_str());
            }
        }
    }
    return 0;
}

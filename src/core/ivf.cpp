// ivf.cpp — CentroidSearch (see ivf.h).
#include "ivf.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "sq8.h"

namespace nmvec {

namespace {

/// Grouping pays from this many centroids on.
constexpr size_t kGroupFrom = 256;
/// k-means rounds over the centroids when grouping them.
constexpr int kGroupRounds = 6;
/// Relative and absolute margins on the triangle-inequality test, so that
/// float rounding never skips a group holding the nearest centroid.
constexpr float kRelMargin = 1e-3f, kAbsMargin = 1e-5f;
/// Most groups nearest() orders on its stack (sqrt of 1M centroids; the
/// index allows 32,768 lists: 181 groups).
constexpr size_t kMaxGroups = 1024;
/// Groups nearest() visits in order of estimated distance before the rest.
constexpr size_t kFirstGroups = 4;

}  // namespace

CentroidSearch::CentroidSearch(hnsw::Metric metric, size_t dim, const float* centroids, size_t k)
    : dist_(metric, dim), dim_(dim), k_(k), centroids_(centroids, centroids + k * dim) {
    if (k < kGroupFrom || dim > sq8::kMaxDims) return;
    if (metric == hnsw::Metric::L2 || metric == hnsw::Metric::Cosine) build_groups();
    if (group_begin_.empty()) {  // one group of all, never skipped
        group_begin_ = {0, k_};
        members_.assign(centroids_.begin(), centroids_.end());
        member_ids_.resize(k_);
        std::iota(member_ids_.begin(), member_ids_.end(), 0u);
    }
    build_codes();
}

void CentroidSearch::CodedRows::build(const float* rows, size_t n, size_t dim) {
    stride = (dim + sq8::kRowAlign - 1) / sq8::kRowAlign * sq8::kRowAlign;
    codes.assign(n * stride, 0);
    for (auto* v : {&lo, &step, &norm2, &norm, &err, &mean, &dev}) v->assign(n, 0.0);
    std::vector<uint8_t> code(sq8::code_bytes(dim));
    for (size_t r = 0; r < n; ++r) {
        const float* c = rows + r * dim;
        sq8::encode(c, dim, code.data());
        const sq8::Header h = sq8::read_header(code.data());
        const uint8_t* bytes = code.data() + sq8::kHeaderBytes;
        std::copy_n(bytes, dim, codes.data() + r * stride);
        double n2 = 0.0, err2 = 0.0, bsum = 0.0;
        for (size_t j = 0; j < dim; ++j) {
            const double v = c[j], b = bytes[j];
            const double e = v - (static_cast<double>(h.lo) + static_cast<double>(h.step) * b);
            n2 += v * v;
            err2 += e * e;
            bsum += b;
        }
        const double mb = dim > 0 ? bsum / static_cast<double>(dim) : 0.0;
        double dev2 = 0.0;
        for (size_t j = 0; j < dim; ++j) dev2 += (bytes[j] - mb) * (bytes[j] - mb);
        lo[r] = h.lo;
        step[r] = h.step;
        norm2[r] = n2;
        norm[r] = std::sqrt(n2);
        err[r] = std::sqrt(err2);
        mean[r] = mb;
        dev[r] = static_cast<double>(h.step) * std::sqrt(dev2);
    }
}

void CentroidSearch::build_codes() {
    member_codes_.build(members_.data(), k_, dim_);
    if (prune_) centre_codes_.build(centres_.data(), groups(), dim_);
    // Rows nearest() bounds at once: the largest group, or the centres.
    scratch_rows_ = prune_ ? groups() : 0;
    for (size_t g = 0; g + 1 < group_begin_.size(); ++g)
        scratch_rows_ = std::max(scratch_rows_, group_begin_[g + 1] - group_begin_[g]);
}

void CentroidSearch::build_groups() {
    const DistanceKernels& kern = active_kernels();
    const size_t g_count = static_cast<size_t>(std::lround(std::sqrt(static_cast<double>(k_))));
    if (g_count > kMaxGroups) return;  // not grouped
    AlignedFloats centres(g_count * dim_);
    for (size_t g = 0; g < g_count; ++g)
        std::copy_n(centroid(static_cast<uint32_t>(g * k_ / g_count)), dim_, centres.data() + g * dim_);
    std::vector<uint32_t> group_of(k_, 0);
    std::vector<double> sums(g_count * dim_);
    std::vector<size_t> counts(g_count);
    for (int round = 0; round <= kGroupRounds; ++round) {
        for (size_t i = 0; i < k_; ++i) {
            float best = std::numeric_limits<float>::infinity();
            for (size_t g = 0; g < g_count; ++g) {
                const float d =
                    kern.f32_l2sq(centroid(static_cast<uint32_t>(i)), centres.data() + g * dim_, dim_);
                if (d < best) {
                    best = d;
                    group_of[i] = static_cast<uint32_t>(g);
                }
            }
        }
        if (round == kGroupRounds) break;  // the last pass only assigns
        std::fill(sums.begin(), sums.end(), 0.0);
        std::fill(counts.begin(), counts.end(), 0);
        for (size_t i = 0; i < k_; ++i) {
            const float* c = centroid(static_cast<uint32_t>(i));
            double* s = sums.data() + group_of[i] * dim_;
            for (size_t j = 0; j < dim_; ++j) s[j] += c[j];
            ++counts[group_of[i]];
        }
        for (size_t g = 0; g < g_count; ++g)
            if (counts[g] > 0)  // an empty group keeps its centre
                for (size_t j = 0; j < dim_; ++j)
                    centres[g * dim_ + j] =
                        static_cast<float>(sums[g * dim_ + j] / static_cast<double>(counts[g]));
    }
    // Lay the members out group by group; radii from the final centres.
    group_begin_.assign(g_count + 1, 0);
    for (size_t i = 0; i < k_; ++i) ++group_begin_[group_of[i] + 1];
    for (size_t g = 0; g < g_count; ++g) group_begin_[g + 1] += group_begin_[g];
    members_.resize(k_ * dim_);
    member_ids_.resize(k_);
    radius_.assign(g_count, 0.0f);
    std::vector<size_t> at(group_begin_.begin(), group_begin_.end() - 1);
    for (size_t i = 0; i < k_; ++i) {  // ascending ids within each group
        const uint32_t g = group_of[i];
        const size_t row = at[g]++;
        std::copy_n(centroid(static_cast<uint32_t>(i)), dim_, members_.data() + row * dim_);
        member_ids_[row] = static_cast<uint32_t>(i);
        const float e =
            std::sqrt(kern.f32_l2sq(centroid(static_cast<uint32_t>(i)), centres.data() + g * dim_, dim_));
        radius_[g] = std::max(radius_[g], e);
    }
    centres_ = std::move(centres);
    prune_ = true;
}

void CentroidSearch::distances(const float* q, std::vector<float>& out) const {
    out.resize(k_);
    for (size_t i = 0; i < k_; ++i) out[i] = dist_(centroid(static_cast<uint32_t>(i)), q);
}

uint32_t CentroidSearch::nearest_exhaustive(const float* q, size_t* scanned, size_t* exact) const {
    float best = std::numeric_limits<float>::infinity();
    uint32_t id = 0;
    for (size_t i = 0; i < k_; ++i) {
        const float d = dist_(centroid(static_cast<uint32_t>(i)), q);
        if (d < best) {
            best = d;
            id = static_cast<uint32_t>(i);
        }
    }
    if (scanned) *scanned = k_;
    if (exact) *exact = k_;
    return id;
}

namespace {

/// A query quantised for CodedRows: w_i = round(q_i / qs) in
/// [-kQueryLevels8, kQueryLevels8] (zero padded to the row stride), with
/// sum q_i, ||q||^2, the coding error e = qs w - q: se = sum e_i and
/// rq = ||e||.
struct CodedQuery {
    std::vector<int8_t, CacheLineAllocator<int8_t>> w;
    double qs = 0.0, sum = 0.0, norm2 = 0.0, norm = 0.0, se = 0.0, rq = 0.0;
};

// The two loops below run once per query and once per visited centroid;
// the core is compiled for baseline x86-64, so they are cloned for AVX2
// and AVX-512 (an ifunc picks the clone by CPUID when the library loads).
// No reassociation in any clone; where one fuses a multiply and an add the
// results differ by a rounding, far inside the bounds' margins.
#define NMVEC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

NMVEC_CLONES void prepare_query(const float* q, size_t dim, int8_t* w, double out[6]) {
    // Element-wise in 8 lanes, then across them.
    float lanes[8] = {};
    size_t j = 0;
    for (; j + 8 <= dim; j += 8)
        for (size_t l = 0; l < 8; ++l) lanes[l] = std::max(lanes[l], std::fabs(q[j + l]));
    for (; j < dim; ++j) lanes[0] = std::max(lanes[0], std::fabs(q[j]));
    float amax = 0.0f;
    for (float v : lanes) amax = std::max(amax, v);
    const double qs =
        amax > 0.0f && std::isfinite(amax) ? static_cast<double>(amax) / sq8::kQueryLevels8 : 0.0;
    if (qs > 0.0) {
        // Rounded half away from zero in float; any w within the limit is
        // valid: rq is the error of the w it got.
        const float inv = static_cast<float>(sq8::kQueryLevels8) / amax, lim = sq8::kQueryLevels8;
        for (size_t i = 0; i < dim; ++i) {
            const float x = q[i] * inv;
            w[i] = static_cast<int8_t>(std::min(lim, std::max(-lim, x + std::copysign(0.5f, x))));
        }
    }
    // Sums in 8 lanes, then added.
    double ls[8] = {}, ln[8] = {}, le[8] = {}, lr[8] = {};
    j = 0;
    for (; j + 8 <= dim; j += 8)
        for (size_t l = 0; l < 8; ++l) {
            const double v = q[j + l], e = qs * w[j + l] - v;
            ls[l] += v;
            ln[l] += v * v;
            le[l] += e;
            lr[l] += e * e;
        }
    for (; j < dim; ++j) {
        const double v = q[j], e = qs * w[j] - v;
        ls[0] += v;
        ln[0] += v * v;
        le[0] += e;
        lr[0] += e * e;
    }
    double sum = 0.0, norm2 = 0.0, se = 0.0, r2 = 0.0;
    for (size_t l = 0; l < 8; ++l) {
        sum += ls[l];
        norm2 += ln[l];
        se += le[l];
        r2 += lr[l];
    }
    out[0] = qs;
    out[1] = sum;
    out[2] = norm2;
    out[3] = std::sqrt(norm2);
    out[4] = se;
    out[5] = std::sqrt(r2);
}

void prepare(CodedQuery& cq, const float* q, size_t dim, size_t stride) {
    cq.w.assign(stride, 0);
    double o[6];
    prepare_query(q, dim, cq.w.data(), o);
    cq.qs = o[0];
    cq.sum = o[1];
    cq.norm2 = o[2];
    cq.norm = o[3];
    cq.se = o[4];
    cq.rq = o[5];
}

/// Room for the float32 kernel's rounding of an exact distance a - m <q, c>
/// (|c| = norm, |q| = qn).
inline double rounding_margin(double a, double m, double qn, double norm) {
    return kRelMargin * (std::fabs(a) + m * qn * norm) + kAbsMargin;
}

/// The per-row arrays of a CodedRows, from row `begin` on.
struct RowArrays {
    const double *lo, *step, *mean, *err, *dev, *norm2, *norm;
};

/// Distance bounds of n rows to the query, for a distance of the form
/// a - m <q, c> with a = a0 + (l2 ? ||c||^2 : 0): in out_lo / out_hi
/// (widened by the rounding margin). dots: the integer dots of those rows.
NMVEC_CLONES void row_bounds(const RowArrays& rows, size_t n, const CodedQuery& q, const int32_t* dots,
                             bool l2, double a0, double m, double* out_lo, double* out_hi) {
    const double qsum = q.sum, qqs = q.qs, qse = q.se, qn = q.norm, qrq = q.rq;
    const double l2f = l2 ? 1.0 : 0.0;
    for (size_t i = 0; i < n; ++i) {
        // <q, c^> = lo sum(q) + step <q, code>, and with e = qs w - q,
        // <q, code> = qs <w, code> - mean sum(e) - <e, code - mean>: the
        // estimate leaves out the last term; |<q, c> - <q, c>~| <=
        // ||q|| ||c - c^|| + ||e|| step ||code - mean|| (Cauchy-Schwarz on
        // each coding error).
        const double est =
            rows.lo[i] * qsum + rows.step[i] * (qqs * static_cast<double>(dots[i]) - rows.mean[i] * qse);
        const double err = qn * rows.err[i] + qrq * rows.dev[i];
        const double a = a0 + l2f * rows.norm2[i];
        const double margin = rounding_margin(a, m, qn, rows.norm[i]);
        out_lo[i] = a - m * (est + err) - margin;
        out_hi[i] = a - m * (est - err) + margin;
    }
}

template <class Rows>
RowArrays arrays(const Rows& r, size_t begin) {
    return {r.lo.data() + begin,  r.step.data() + begin,  r.mean.data() + begin, r.err.data() + begin,
            r.dev.data() + begin, r.norm2.data() + begin, r.norm.data() + begin};
}

/// The index's distance as a - m <q, c> (row_bounds): L2 a = ||q||^2 +
/// ||c||^2, m = 2; cosine a = 1, m = 1 (unit vectors); inner product a = 0,
/// m = 1. Sets a0 (a without ||c||^2) and m; returns whether it is L2.
bool distance_form(hnsw::Metric metric, const CodedQuery& cq, double* a0, double* m) {
    const bool l2 = metric == hnsw::Metric::L2;
    *a0 = l2 ? cq.norm2 : metric == hnsw::Metric::Cosine ? 1.0 : 0.0;
    *m = l2 ? 2.0 : 1.0;
    return l2;
}

/// Bounds of rows [b, b + n) of a CodedRows (their integer dots into dots).
template <class Rows>
void bound_rows(const Rows& rows, size_t b, size_t n, const CodedQuery& cq, bool l2, double a0, double m,
                int32_t* dots, double* lo, double* hi) {
    sq8::active_kernels().dot_u8_i8_rows(rows.codes.data() + b * rows.stride, n, cq.w.data(), rows.stride,
                                         dots);
    row_bounds(arrays(rows, b), n, cq, dots, l2, a0, m, lo, hi);
}

}  // namespace

uint32_t CentroidSearch::nearest(const float* q, size_t* scanned, size_t* exact) const {
    if (group_begin_.empty()) return nearest_exhaustive(q, scanned, exact);
    struct Cand {
        uint32_t row;
        bool known;  // d computed already
        float d;
        double lo;  // lower bound
    };
    // Scratch reused across calls (one thread_local: one TLS lookup).
    struct Scratch {
        CodedQuery cq;
        std::vector<int32_t> dots;
        std::vector<double> lo_b, hi_b;
        std::vector<Cand> cand;
    };
    thread_local Scratch scratch;
    CodedQuery& cq = scratch.cq;
    std::vector<int32_t>& dots = scratch.dots;
    std::vector<double>&lo_b = scratch.lo_b, &hi_b = scratch.hi_b;
    std::vector<Cand>& cand = scratch.cand;
    prepare(cq, q, dim_, member_codes_.stride);
    if (!std::isfinite(cq.norm2) || !std::isfinite(cq.rq)) return nearest_exhaustive(q, scanned, exact);
    const bool cosine = dist_.metric() == hnsw::Metric::Cosine;
    double a0, m;
    const bool l2 = distance_form(dist_.metric(), cq, &a0, &m);
    const DistanceKernels& kern = active_kernels();
    const size_t g_count = group_begin_.size() - 1;
    if (dots.size() < scratch_rows_) {
        dots.resize(scratch_rows_);
        lo_b.resize(scratch_rows_);
        hi_b.resize(scratch_rows_);
    }
    float e_lo[kMaxGroups];
    uint32_t order[kMaxGroups];
    if (prune_) {
        // Groups nearest-centre first, by the centres' estimated Euclidean
        // distances; a lower bound of each for the skipping.
        bound_rows(centre_codes_, 0, g_count, cq, true, cq.norm2, 2.0, dots.data(), lo_b.data(), hi_b.data());
        float mid[kMaxGroups];
        for (size_t g = 0; g < g_count; ++g) {
            e_lo[g] = static_cast<float>(std::sqrt(std::max(0.0, lo_b[g])));
            mid[g] = static_cast<float>(lo_b[g] + hi_b[g]);
            order[g] = static_cast<uint32_t>(g);
        }
        // The nearest few first (they set the bound that skips the others),
        // then the rest in any order: a full sort cost more than it saved.
        const size_t first = std::min(g_count, kFirstGroups);
        std::partial_sort(order, order + first, order + g_count,
                          [&](uint32_t x, uint32_t y) { return mid[x] < mid[y]; });
    } else {
        order[0] = 0;
    }
    // best: the least upper bound of a visited centroid.
    double best = std::numeric_limits<double>::infinity();
    float best_e = std::numeric_limits<float>::infinity();
    cand.clear();
    size_t n = 0, x = 0;
    for (size_t oi = 0; oi < g_count; ++oi) {
        const uint32_t g = order[oi];
        // No member can be nearer than |q - centre| - radius: tried with
        // the centre's coded lower bound, then (a float32 distance costs
        // less than a group's codes) with its exact distance.
        if (prune_) {
            const float limit = best_e * (1.0f + kRelMargin) + kAbsMargin;
            if (e_lo[g] - radius_[g] > limit) continue;
            if (std::sqrt(kern.f32_l2sq(q, centres_.data() + g * dim_, dim_)) - radius_[g] > limit) continue;
        }
        const size_t b = group_begin_[g], e = group_begin_[g + 1];
        bound_rows(member_codes_, b, e - b, cq, l2, a0, m, dots.data(), lo_b.data(), hi_b.data());
        size_t gi = 0;
        for (size_t i = 1; i < e - b; ++i)
            if (hi_b[i] < hi_b[gi]) gi = i;
        float gd = 0.0f;
        const bool improves = hi_b[gi] < best;
        if (improves) {
            // The group's most promising member: its float32 distance (plus
            // the rounding margin) bounds the answer tighter than its code.
            const double a = a0 + (l2 ? member_codes_.norm2[b + gi] : 0.0);
            const double margin = rounding_margin(a, m, cq.norm, member_codes_.norm[b + gi]);
            gd = dist_(members_.data() + (b + gi) * dim_, q);
            ++x;
            best = std::min(hi_b[gi], static_cast<double>(gd) + margin);
            // The Euclidean distance it stands for (unit vectors under
            // cosine: |q - c|^2 = 2 (1 - <q,c>)).
            best_e = static_cast<float>(std::sqrt(std::max(0.0, cosine ? 2.0 * best : best)));
        }
        for (size_t i = 0; i < e - b; ++i)
            if (lo_b[i] <= best)
                cand.push_back({static_cast<uint32_t>(b + i), improves && i == gi, gd, lo_b[i]});
        n += e - b;
    }
    float best_d = std::numeric_limits<float>::infinity();
    uint32_t id = 0;
    size_t checked = 0;
    for (const Cand& c : cand) {
        if (c.lo > best) continue;
        const float d = c.known ? c.d : dist_(members_.data() + c.row * dim_, q);
        const uint32_t mid = member_ids_[c.row];
        x += c.known ? 0 : 1;
        ++checked;
        if (d < best_d || (d == best_d && mid < id)) {
            best_d = d;
            id = mid;
        }
    }
    if (checked == 0) return nearest_exhaustive(q, scanned, exact);  // bounds not finite
    if (scanned) *scanned = n;
    if (exact) *exact = x;
    return id;
}

size_t CentroidSearch::distances_ranked(const float* q, size_t nearest, std::vector<float>& out) const {
    if (group_begin_.empty() || nearest >= k_) {
        distances(q, out);
        return k_;
    }
    out.resize(k_);
    struct Scratch {
        CodedQuery cq;
        std::vector<int32_t> dots;
        std::vector<double> lo_b, hi_b, top;
    };
    thread_local Scratch scratch;
    CodedQuery& cq = scratch.cq;
    prepare(cq, q, dim_, member_codes_.stride);
    if (!std::isfinite(cq.norm2) || !std::isfinite(cq.rq)) {
        distances(q, out);
        return k_;
    }
    scratch.dots.resize(k_);
    scratch.lo_b.resize(k_);
    scratch.hi_b.resize(k_);
    double a0, m;
    const bool l2 = distance_form(dist_.metric(), cq, &a0, &m);
    bound_rows(member_codes_, 0, k_, cq, l2, a0, m, scratch.dots.data(), scratch.lo_b.data(),
               scratch.hi_b.data());
    const double* lo = scratch.lo_b.data();
    const double* hi = scratch.hi_b.data();
    // bar: the nearest-th smallest upper bound. A row whose lower bound is
    // below it may be among the nearest: its float32 distance; the others
    // are farther than all of those, and their estimate is at least bar.
    scratch.top.assign(hi, hi + k_);
    std::nth_element(scratch.top.begin(), scratch.top.begin() + static_cast<std::ptrdiff_t>(nearest - 1),
                     scratch.top.end());
    const double bar = scratch.top[nearest - 1];
    if (!std::isfinite(bar)) {
        distances(q, out);
        return k_;
    }
    size_t exact = 0;
    for (size_t r = 0; r < k_; ++r) {
        const uint32_t id = member_ids_[r];
        if (lo[r] < bar) {
            out[id] = dist_(members_.data() + r * dim_, q);
            ++exact;
        } else {
            out[id] = static_cast<float>(std::max(bar, 0.5 * (lo[r] + hi[r])));
        }
    }
    return exact;
}

}  // namespace nmvec

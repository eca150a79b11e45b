// ivf.cpp — CentroidSearch (see ivf.h).
#include "ivf.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

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

}  // namespace

CentroidSearch::CentroidSearch(hnsw::Metric metric, size_t dim, const float* centroids, size_t k)
    : dist_(metric, dim), dim_(dim), k_(k), centroids_(centroids, centroids + k * dim) {
    if (k >= kGroupFrom && (metric == hnsw::Metric::L2 || metric == hnsw::Metric::Cosine)) build_groups();
}

void CentroidSearch::build_groups() {
    const DistanceKernels& kern = active_kernels();
    const size_t g_count = static_cast<size_t>(std::lround(std::sqrt(static_cast<double>(k_))));
    if (g_count > kMaxGroups) return;  // stays exhaustive
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
}

void CentroidSearch::distances(const float* q, std::vector<float>& out) const {
    out.resize(k_);
    for (size_t i = 0; i < k_; ++i) out[i] = dist_(centroid(static_cast<uint32_t>(i)), q);
}

uint32_t CentroidSearch::nearest_exhaustive(const float* q, size_t* scanned) const {
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
    return id;
}

uint32_t CentroidSearch::nearest(const float* q, size_t* scanned) const {
    if (group_begin_.empty()) return nearest_exhaustive(q, scanned);
    const DistanceKernels& kern = active_kernels();
    const size_t g_count = groups();
    // Groups nearest-centre first (Euclidean distance to the centre).
    float e_centre[kMaxGroups];
    uint32_t order[kMaxGroups];
    for (size_t g = 0; g < g_count; ++g) {
        e_centre[g] = std::sqrt(kern.f32_l2sq(q, centres_.data() + g * dim_, dim_));
        order[g] = static_cast<uint32_t>(g);
    }
    std::sort(order, order + g_count, [&](uint32_t a, uint32_t b) { return e_centre[a] < e_centre[b]; });
    const bool cosine = dist_.metric() == hnsw::Metric::Cosine;
    float best = std::numeric_limits<float>::infinity(), best_e = std::numeric_limits<float>::infinity();
    uint32_t id = 0;
    size_t n = 0;
    for (size_t oi = 0; oi < g_count; ++oi) {
        const uint32_t g = order[oi];
        // No member can be nearer than |q - centre| - radius.
        if (e_centre[g] - radius_[g] > best_e * (1.0f + kRelMargin) + kAbsMargin) continue;
        for (size_t row = group_begin_[g]; row < group_begin_[g + 1]; ++row) {
            const float d = dist_(members_.data() + row * dim_, q);
            const uint32_t mid = member_ids_[row];
            if (d < best || (d == best && mid < id)) {
                best = d;
                id = mid;
                // The Euclidean distance it stands for (unit vectors under
                // cosine: |q - c|^2 = 2 (1 - <q,c>)).
                best_e = std::sqrt(std::max(0.0f, cosine ? 2.0f * d : d));
            }
        }
        n += group_begin_[g + 1] - group_begin_[g];
    }
    if (scanned) *scanned = n;
    return id;
}

}  // namespace nmvec

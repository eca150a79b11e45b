// ivf.cpp — CentroidSearch (see ivf.h).
#include "ivf.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace nmvec {

CentroidSearch::CentroidSearch(hnsw::Metric metric, size_t dim, const float* centroids, size_t k)
    : dist_(metric, dim), dim_(dim), k_(k), centroids_(centroids, centroids + k * dim) {}

void CentroidSearch::distances(const float* q, std::vector<float>& out) const {
    out.resize(k_);
    for (size_t i = 0; i < k_; ++i) out[i] = dist_(centroid(static_cast<uint32_t>(i)), q);
}

uint32_t CentroidSearch::nearest(const float* q) const {
    float best = std::numeric_limits<float>::infinity();
    uint32_t id = 0;
    for (size_t i = 0; i < k_; ++i) {
        const float d = dist_(centroid(static_cast<uint32_t>(i)), q);
        if (d < best) {
            best = d;
            id = static_cast<uint32_t>(i);
        }
    }
    return id;
}

}  // namespace nmvec

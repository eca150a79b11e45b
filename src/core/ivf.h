// ivf.h — the nearest centroids of a vector, for the ivf index: which list
// an inserted row goes to, and which lists a scan reads first.
//
// An exhaustive pass over the centroids (float32, the index's distance).
// Measured on this machine (384-d, scratch benchmark): 2 us for 100
// centroids, 22 us for 1,000, 71 us for 3,162. An HNSW graph over the
// centroids was tried and was slower up to 1,000 centroids (39 us at
// ef 48, 99 % agreement) and barely faster at 3,162 (59 us, 94 %): random
// high-dimensional centroids give a graph little to prune. Never calls
// Postgres; immutable once built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "hnsw.h"
#include "memory.h"

namespace nmvec {

class CentroidSearch {
 public:
    /// k centroids of `dim` floats each (row-major; unit length under
    /// Cosine, as the index stores them), copied.
    CentroidSearch(hnsw::Metric metric, size_t dim, const float* centroids, size_t k);

    /// The nearest centroid to q (q unit length under Cosine); ties: the
    /// lowest index.
    uint32_t nearest(const float* q) const;
    /// Every centroid's distance to q (the index's distance: L2 squared,
    /// -dot, 1 - dot), into out.
    void distances(const float* q, std::vector<float>& out) const;

    size_t size() const { return k_; }
    size_t dim() const { return dim_; }
    const float* centroid(uint32_t i) const { return centroids_.data() + static_cast<size_t>(i) * dim_; }

 private:
    hnsw::Distance dist_;
    size_t dim_, k_;
    AlignedFloats centroids_;
};

}  // namespace nmvec

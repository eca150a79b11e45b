// ivf.h — the nearest centroids of a vector, for the ivf index: which list
// an inserted row goes to, and which lists a scan reads first.
//
// An exhaustive pass over the centroids (float32, the index's distance) costs
// (384-d, this machine) 2 us for 100 centroids, 22 us for 1,000, 71 us for
// 3,162. An HNSW graph over the centroids was tried and was slower up to
// 1,000 centroids (39 us at ef 48, 99 % agreement) and barely faster at
// 3,162 (59 us, 94 %).
//
// nearest() is exact and prunes instead: with 256 centroids or more, under
// L2 or cosine (unit centroids: the Euclidean order is the cosine order),
// the centroids are grouped by a few rounds of k-means on themselves
// (about sqrt(k) groups, each with its centre and radius). A query visits
// the groups nearest-centre first and skips a group when the triangle
// inequality proves none of its members can beat the best found
// (|q - centre| - radius > best, with a margin for rounding), so the result
// is the exhaustive pass's, ties included. Never calls Postgres; immutable
// once built.
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
    /// lowest index. With scanned, also how many centroids' distances it
    /// computed (the pruning's measure; k when not grouped).
    uint32_t nearest(const float* q, size_t* scanned = nullptr) const;
    /// Groups of the pruned search (0: exhaustive).
    size_t groups() const { return group_begin_.empty() ? 0 : group_begin_.size() - 1; }
    /// Every centroid's distance to q (the index's distance: L2 squared,
    /// -dot, 1 - dot), into out.
    void distances(const float* q, std::vector<float>& out) const;

    size_t size() const { return k_; }
    size_t dim() const { return dim_; }
    const float* centroid(uint32_t i) const { return centroids_.data() + static_cast<size_t>(i) * dim_; }

 private:
    void build_groups();
    uint32_t nearest_exhaustive(const float* q, size_t* scanned) const;

    hnsw::Distance dist_;
    size_t dim_, k_;
    AlignedFloats centroids_;
    // The grouped layout (empty when exhaustive): group g's members are
    // rows group_begin_[g] .. group_begin_[g+1] of members_ (copies of the
    // centroids), their ids in member_ids_; centres_ row g and radius_[g]
    // (the largest Euclidean distance of a member to it).
    AlignedFloats members_, centres_;
    std::vector<uint32_t> member_ids_;
    std::vector<size_t> group_begin_;
    std::vector<float> radius_;
};

}  // namespace nmvec

// ivf.h — the nearest centroids of a vector, for the ivf index: which list
// an inserted row goes to, and which lists a scan reads first.
//
// An exhaustive pass over the centroids (float32, the index's distance) costs
// (384-d, this machine) 2 us for 100 centroids, 22 us for 1,000, 71 us for
// 3,162. An HNSW graph over the centroids was tried and was slower up to
// 1,000 centroids (39 us at ef 48, 99 % agreement) and barely faster at
// 3,162 (59 us, 94 %).
//
// nearest() is exact and prunes instead, from 256 centroids on:
//
// * Groups (L2 or cosine; unit centroids: the Euclidean order is the cosine
//   order): the centroids are grouped by a few rounds of k-means on
//   themselves (about sqrt(k) groups, each with its centre and radius). A
//   query visits the groups nearest-centre first and skips a group when the
//   triangle inequality proves none of its members can beat the best found
//   (|q - centre| - radius > best, with a margin for rounding).
// * Codes (every metric): each centroid also has an 8-bit code (sq8.h, one
//   range per centroid). A visited centroid gets an estimate of <q, c> from
//   its code and an error bound that holds for any q (Cauchy-Schwarz on the
//   coding errors of c and of the quantised q), so a lower and an upper
//   bound on its distance. Only centroids whose lower bound does not exceed
//   the least upper bound (plus a rounding margin) get a float32 distance;
//   the best upper bound also drives the group skipping.
//
// So the result is the exhaustive pass's, ties included, and a centroid
// costs a quarter of the bytes. Never calls Postgres; immutable once built.
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
    /// lowest index. With scanned, also how many centroids it looked at
    /// (codes estimated, or float distances when not coded: the pruning's
    /// measure, k when exhaustive); with exact, how many float32 distances
    /// it computed.
    uint32_t nearest(const float* q, size_t* scanned = nullptr, size_t* exact = nullptr) const;
    /// Groups of the pruned search (0: not grouped).
    size_t groups() const { return prune_ ? group_begin_.size() - 1 : 0; }
    /// Whether centroids are estimated from 8-bit codes first.
    bool coded() const { return !group_begin_.empty(); }
    /// Every centroid's distance to q (the index's distance: L2 squared,
    /// -dot, 1 - dot), into out.
    void distances(const float* q, std::vector<float>& out) const;
    /// The same for list ordering, reading a quarter of the memory: the
    /// `nearest` (>= 1) nearest centroids, and any that may tie with them,
    /// get their exact distance; every other one an estimate from its 8-bit
    /// code, no smaller than any of those nearest distances, so the first
    /// `nearest` of the order by out are exactly the true first ones. Exact
    /// everywhere when not coded (or nearest >= size()). Returns how many
    /// distances are exact.
    size_t distances_ranked(const float* q, size_t nearest, std::vector<float>& out) const;

    size_t size() const { return k_; }
    size_t dim() const { return dim_; }
    const float* centroid(uint32_t i) const { return centroids_.data() + static_cast<size_t>(i) * dim_; }

 private:
    void build_groups();
    void build_codes();
    uint32_t nearest_exhaustive(const float* q, size_t* scanned, size_t* exact) const;

    hnsw::Distance dist_;
    size_t dim_, k_;
    AlignedFloats centroids_;
    // Rows with 8-bit codes (sq8::encode's rule, one range per row), kept
    // structure-of-arrays for the bound pass: codes header-less, padded to
    // sq8::kRowAlign bytes (stride), and per row lo, step, ||c||^2, ||c||,
    // err >= ||c - c^|| (c^ the decoded code), the mean code byte and dev =
    // step ||code - mean|| (what scales the query's coding error).
    struct CodedRows {
        std::vector<uint8_t, CacheLineAllocator<uint8_t>> codes;  // 64-byte aligned rows
        size_t stride = 0;
        std::vector<double> lo, step, norm2, norm, err, mean, dev;
        void build(const float* rows, size_t n, size_t dim);
    };
    // The coded layout (empty when exhaustive): group g's members are rows
    // group_begin_[g] .. group_begin_[g+1] of members_ (copies of the
    // centroids) and of member_codes_, their ids in member_ids_; with
    // prune_, centres_ row g (coded in centre_codes_) and radius_[g] (the
    // largest Euclidean distance of a member to it), else one group of all
    // centroids in id order.
    AlignedFloats members_;
    AlignedFloats centres_;
    std::vector<uint32_t> member_ids_;
    std::vector<size_t> group_begin_;
    std::vector<float> radius_;
    bool prune_ = false;
    CodedRows member_codes_, centre_codes_;
    size_t scratch_rows_ = 0;  // the most rows nearest() bounds in one pass
};

}  // namespace nmvec

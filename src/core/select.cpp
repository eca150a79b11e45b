// select.cpp — see select.h.
#include "select.h"

#include <algorithm>

namespace nmvec {
namespace {

/// Sample size for the pivot: the pivot's rank among the rest is then
/// known within a few tens of percent for the block sizes asked for.
constexpr size_t kSample = 512;

/// Keys below `pivot` moved to the front of [first, last) in one pass
/// without data-dependent branches (Lomuto's scheme with the swap always
/// done); returns how many.
size_t partition_below(uint64_t* first, uint64_t* last, uint64_t pivot) noexcept {
    size_t below = 0;
    for (uint64_t* p = first; p != last; ++p) {
        const uint64_t k = *p;
        *p = first[below];
        first[below] = k;
        below += k < pivot;
    }
    return below;
}

/// The plain way: select the block's end, sort the block.
size_t select_block(uint64_t* keys, size_t n, size_t sorted, size_t block) {
    const size_t end = std::min(n, sorted + block);
    if (end < n) std::nth_element(keys + sorted, keys + end, keys + n);
    std::sort(keys + sorted, keys + end);
    return end;
}

}  // namespace

size_t extend_sorted_prefix(uint64_t* keys, size_t n, size_t sorted, size_t upto) {
    const size_t goal = std::min(upto, n);
    while (sorted < goal) {
        const size_t rest = n - sorted;
        const size_t want = std::max({goal - sorted, sorted, size_t{64}});
        if (rest <= 4 * want || rest <= 4 * kSample) {
            sorted = select_block(keys, n, sorted, want);
            continue;
        }
        // A pivot with about 2 * want of the rest below it: the sample's
        // element of rank 2 * want * kSample / rest (at least 1).
        uint64_t sample[kSample];
        const size_t stride = rest / kSample;
        for (size_t i = 0; i < kSample; ++i) sample[i] = keys[sorted + i * stride];
        const size_t rank =
            std::min(kSample - 1, std::max<size_t>(1, (2 * want * kSample + rest - 1) / rest));
        std::nth_element(sample, sample + rank, sample + kSample);
        const size_t below = partition_below(keys + sorted, keys + n, sample[rank]);
        if (below == 0) {  // duplicates of the smallest key: no progress this way
            sorted = select_block(keys, n, sorted, want);
        } else if (below > 8 * want) {  // an unlucky sample: select within the part below
            sorted = select_block(keys, sorted + below, sorted, want);
        } else {
            std::sort(keys + sorted, keys + sorted + below);
            sorted += below;
        }
    }
    return sorted;
}

}  // namespace nmvec

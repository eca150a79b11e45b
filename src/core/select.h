// select.h — the smallest keys of a large array, in order, as far as asked.
//
// An ivf scan estimates every record of the lists it probes (tens of
// thousands of candidates per query at 10M rows) but reads only the first
// few hundred in order of their lower bounds. Sorting them all wastes most
// of the work; std::nth_element per block of the prefix (the first way)
// repeats partitions whose branches mispredict on random keys, and was ~17 %
// of a query's time at 10M rows (perf). extend_sorted_prefix instead picks a
// pivot from a sample of the unsorted part, expected to leave about twice
// the keys asked for below it, moves those to the front in one branchless
// pass, and sorts only them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nmvec {

/// On entry keys[0, sorted) is in ascending order and no key after it is
/// smaller. Extends that prefix to at least min(upto, n) keys (and at least
/// double its length or 64 keys, whichever is more, up to n: a caller that
/// asks one key at a time pays O(n) per doubling) and returns the new
/// length; the keys after the prefix stay a permutation of the rest.
/// Duplicate keys are allowed.
size_t extend_sorted_prefix(uint64_t* keys, size_t n, size_t sorted, size_t upto);

}  // namespace nmvec

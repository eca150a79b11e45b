// test_select.cpp — extend_sorted_prefix against a full sort.
#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "select.h"

namespace {

// Asks for the prefix in the steps a scan does (one key more at a time, or
// jumps), checking after each call that the prefix is the sorted array's
// and that the whole array is still a permutation of the input.
void check_steps(std::vector<uint64_t> keys, const std::vector<size_t>& asks) {
    std::vector<uint64_t> want = keys;
    std::sort(want.begin(), want.end());
    size_t sorted = 0;
    for (size_t upto : asks) {
        const size_t before = sorted;
        sorted = nmvec::extend_sorted_prefix(keys.data(), keys.size(), sorted, upto);
        ASSERT_GE(sorted, std::min(upto, keys.size()));
        ASSERT_GE(sorted, before);
        ASSERT_LE(sorted, keys.size());
        for (size_t i = 0; i < sorted; ++i) ASSERT_EQ(keys[i], want[i]) << "at " << i << " of " << sorted;
    }
    std::vector<uint64_t> all = keys;
    std::sort(all.begin(), all.end());
    ASSERT_EQ(all, want);
}

std::vector<size_t> one_at_a_time(size_t upto) {
    std::vector<size_t> asks;
    for (size_t i = 1; i <= upto; ++i) asks.push_back(i);
    return asks;
}

TEST(ExtendSortedPrefix, RandomKeysAtManySizes) {
    std::mt19937_64 rng(7);
    for (size_t n : {0, 1, 2, 63, 64, 65, 1000, 2047, 2049, 5000, 47000, 200000}) {
        std::vector<uint64_t> keys(n);
        for (auto& k : keys) k = rng();
        check_steps(keys, one_at_a_time(std::min<size_t>(n + 2, 700)));
        check_steps(keys, {n / 3, n, n + 5});
    }
}

TEST(ExtendSortedPrefix, KeysOfAScan) {
    // The scan's keys: a float's order bits above the candidate's index, so
    // unique; many tie in the upper half (repeated vectors, equal codes).
    std::mt19937_64 rng(11);
    std::vector<uint64_t> keys(60000);
    for (size_t i = 0; i < keys.size(); ++i)
        keys[i] = (static_cast<uint64_t>(0x80000000u + rng() % 300) << 32) | i;
    check_steps(keys, one_at_a_time(1500));
}

TEST(ExtendSortedPrefix, DuplicatesAndSortedInputs) {
    std::vector<uint64_t> same(30000, 5);
    check_steps(same, one_at_a_time(300));
    std::vector<uint64_t> few(30000);
    for (size_t i = 0; i < few.size(); ++i) few[i] = i % 3;
    check_steps(few, one_at_a_time(300));
    std::vector<uint64_t> up(30000), down(30000);
    for (size_t i = 0; i < up.size(); ++i) up[i] = down[down.size() - 1 - i] = i * 3;
    check_steps(up, one_at_a_time(300));
    check_steps(down, one_at_a_time(300));
    // Smallest keys all at the sampled positions, or all off them.
    std::vector<uint64_t> spiky(30000, 1000000);
    for (size_t i = 0; i < spiky.size(); i += 58) spiky[i] = i;
    check_steps(spiky, one_at_a_time(600));
}

TEST(ExtendSortedPrefix, GrowsByAtLeastDoubling) {
    // Asked for one more key, it sorts a block (64, then double the prefix),
    // so a scan that reads one candidate at a time pays O(n) per doubling.
    std::mt19937_64 rng(3);
    std::vector<uint64_t> keys(100000);
    for (auto& k : keys) k = rng();
    size_t sorted = nmvec::extend_sorted_prefix(keys.data(), keys.size(), 0, 1);
    EXPECT_GE(sorted, 64u);
    const size_t next = nmvec::extend_sorted_prefix(keys.data(), keys.size(), sorted, sorted + 1);
    EXPECT_GE(next, 2 * sorted);
    EXPECT_EQ(nmvec::extend_sorted_prefix(keys.data(), keys.size(), next, next), next);  // nothing asked
}

}  // namespace

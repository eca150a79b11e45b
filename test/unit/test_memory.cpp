// test_memory.cpp — the allocators in memory.h.
#include <cstdint>

#include <gtest/gtest.h>

#include "memory.h"

namespace {

struct Pair {
    float a;
    uint32_t b;
};

TEST(UninitVector, GrowingKeepsWhatWasWritten) {
    nmvec::UninitVector<Pair> v;
    for (uint32_t round = 0; round < 20; ++round) {
        const size_t at = v.size();
        v.resize(at + 1000);  // may reallocate: the elements written so far move with it
        for (size_t i = at; i < v.size(); ++i) v[i] = {static_cast<float>(i), static_cast<uint32_t>(i * 7)};
    }
    ASSERT_EQ(v.size(), 20000u);
    for (size_t i = 0; i < v.size(); ++i) {
        ASSERT_EQ(v[i].a, static_cast<float>(i));
        ASSERT_EQ(v[i].b, static_cast<uint32_t>(i * 7));
    }
    v.resize(10);
    EXPECT_EQ(v.back().b, 63u);
}

TEST(UninitVector, ValueConstructionStillInitialises) {
    // Only construct() without arguments skips the zeroing: resize(n, value),
    // push_back and the sized constructor with a value write what they are given.
    nmvec::UninitVector<uint64_t> v(5, 42);
    v.resize(8, 9);
    v.push_back(1);
    const uint64_t want[] = {42, 42, 42, 42, 42, 9, 9, 9, 1};
    ASSERT_EQ(v.size(), 9u);
    for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i], want[i]);
    nmvec::UninitVector<uint64_t> w;
    w.swap(v);
    EXPECT_EQ(w.size(), 9u);
    EXPECT_TRUE(v.empty());
}

}  // namespace

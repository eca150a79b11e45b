// rng.h — small, fully specified random number generators for nmvec-gen.
//
// The standard <random> distributions are implementation-defined, so the
// generator uses its own: SplitMix64 to derive seeds, xoshiro256** for
// streams, and explicit formulas for uniform, normal, exponential and
// geometric variates. Independent streams are keyed by (seed, stream, index)
// so that, e.g., the embedding of block h depends only on the seed and h,
// never on thread scheduling.
#pragma once

#include <cmath>
#include <cstdint>

namespace nmvec::gen {

/// SplitMix64 finaliser: a bijective 64-bit mix.
constexpr uint64_t mix64(uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/// A seed for stream `stream`, item `index`, derived from the user's seed.
constexpr uint64_t derive_seed(uint64_t seed, uint64_t stream, uint64_t index = 0) noexcept {
    return mix64(mix64(mix64(seed) ^ stream) ^ index);
}

/// xoshiro256** (Blackman & Vigna), seeded through SplitMix64.
class Rng {
 public:
    explicit Rng(uint64_t seed) noexcept {
        for (auto& w : s_) {  // SplitMix64 outputs
            w = mix64(seed);
            seed += 0x9e3779b97f4a7c15ULL;
        }
    }

    uint64_t next() noexcept {
        uint64_t result = rotl(s_[1] * 5, 7) * 9;
        uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    /// Uniform in [0, 1), 53 random bits.
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    /// Uniform integer in [0, n), n > 0 (Lemire's multiply-shift, unbiased).
    uint64_t below(uint64_t n) noexcept {
        for (;;) {
            unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
            auto low = static_cast<uint64_t>(m);
            if (low >= n || low >= (0 - n) % n) return static_cast<uint64_t>(m >> 64);
        }
    }

    /// Uniform integer in [lo, hi].
    uint64_t between(uint64_t lo, uint64_t hi) noexcept { return lo + below(hi - lo + 1); }

    bool chance(double p) noexcept { return uniform() < p; }

    /// Standard normal (Marsaglia's polar method; the second value is kept).
    double normal() noexcept {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u, v, s;
        do {
            u = 2 * uniform() - 1;
            v = 2 * uniform() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        double f = std::sqrt(-2 * std::log(s) / s);
        spare_ = v * f;
        has_spare_ = true;
        return u * f;
    }

    /// Exponential with mean 1.
    double exponential() noexcept { return -std::log1p(-uniform()); }

    /// Geometric on {0, 1, 2, ...} with the given mean.
    uint64_t geometric(double mean) noexcept {
        double p = 1 / (1 + mean);
        return static_cast<uint64_t>(std::floor(std::log1p(-uniform()) / std::log1p(-p)));
    }

 private:
    static constexpr uint64_t rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

    uint64_t s_[4];
    double spare_ = 0;
    bool has_spare_ = false;
};

}  // namespace nmvec::gen

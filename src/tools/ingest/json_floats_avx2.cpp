// json_floats_avx2.cpp — Float32ArrayReader's two passes with AVX2 (and
// BMI1, POPCNT), for CPUs that have them (json_floats.cpp checks CPUID).
// Built with those instruction sets enabled, so nothing here may be shared
// with the other files: no inline function or template of another header is
// used (the linker could otherwise keep this file's copy for everyone), only
// raw pointers and intrinsics; any element outside the fast form goes to
// parse_float32_number (json_floats.cpp). See json_floats_kernels.h.
#include "json_floats_kernels.h"

#if NMVEC_FLOATS_AVX2

#include <immintrin.h>

#include "json_floats.h"

namespace nmvec::ingest::detail {

namespace {

/// kKeep[k]: 0xff in the first k of 16 bytes.
struct KeepMasks {
    alignas(16) unsigned char m[17][16];
    constexpr KeepMasks() : m() {
        for (int k = 0; k <= 16; ++k)
            for (int j = 0; j < 16; ++j) m[k][j] = j < k ? 0xff : 0;
    }
};
constexpr KeepMasks kKeep;

/// The element [s, e) one at a time (any form): false if it is not one.
inline bool one(const char* s, const char* e, float* out) {
    return e > s && parse_float32_number(s, static_cast<size_t>(e - s), out);
}

}  // namespace

const char* find_commas_avx2(const char* p, const char* end, size_t max_elems, uint32_t* ends,
                             size_t* commas_out) {
    size_t n = 0;
    const char* q = p;
    const char* close = nullptr;
    const __m256i comma = _mm256_set1_epi8(','), rbr_char = _mm256_set1_epi8(']');
    for (; end - q >= 32; q += 32) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
        unsigned commas = static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, comma)));
        const unsigned rbr = static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, rbr_char)));
        if (rbr) {
            commas &= _blsmsk_u32(rbr) >> 1;  // those before the first ']'
            close = q + _tzcnt_u32(rbr);
        }
        // Four offsets written whatever the count (32 bytes hold two or
        // three elements as a rule), a loop only for more.
        const uint32_t base = static_cast<uint32_t>(q - p);
        const unsigned count = static_cast<unsigned>(_mm_popcnt_u32(commas));
        ends[n] = base + _tzcnt_u32(commas);
        commas = _blsr_u32(commas);
        ends[n + 1] = base + _tzcnt_u32(commas);
        commas = _blsr_u32(commas);
        ends[n + 2] = base + _tzcnt_u32(commas);
        commas = _blsr_u32(commas);
        ends[n + 3] = base + _tzcnt_u32(commas);
        commas = _blsr_u32(commas);
        for (size_t at = n + 4; commas; commas = _blsr_u32(commas)) ends[at++] = base + _tzcnt_u32(commas);
        n += count;
        if (n >= max_elems) return nullptr;
        if (close) break;
    }
    if (!close) {
        for (; q < end && *q != ']'; ++q) {
            if (*q == ',') {
                ends[n++] = static_cast<uint32_t>(q - p);
                if (n >= max_elems) return nullptr;
            }
        }
        if (q == end) return nullptr;
        close = q;
    }
    *commas_out = n;
    return close;
}

bool read_elements_avx2(const char* p, const char* end, const uint32_t* ends, size_t n, const char* close,
                        float* out) {
    const size_t count = n + 1;
    auto element_end = [&](size_t i) { return i < n ? p + ends[i] : close; };
    const __m256i zero_char = _mm256_set1_epi8('0'), nine = _mm256_set1_epi8(9);
    const __m256i w10 = _mm256_set1_epi16(0x010a);       // bytes 10, 1: two places
    const __m256i w100 = _mm256_set1_epi32(0x00010064);  // 100, 1: four places
    const __m256i w1e4 = _mm256_set1_epi32(0x00012710);  // 10000, 1: eight places
    const __m256i pick = _mm256_setr_epi32(0, 1, 4, 5, 0, 1, 4, 5);
    const __m256d scale = _mm256_setr_pd(1e-8, 1e-16, 1e-8, 1e-16);
    const __m128i low29 = _mm_set1_epi64x((int64_t{1} << 29) - 1);
    const __m128i from = _mm_set1_epi64x((int64_t{1} << 28) - 16);
    const __m128i flip = _mm_set1_epi32(static_cast<int>(0x80000000u));
    const __m128i within = _mm_set1_epi32(static_cast<int>(33u ^ 0x80000000u));
    const char* s = p;
    size_t i = 0;
    // Two elements at a time, one in each 128-bit half; a pair that is not
    // two elements of the form -?0.D+ (1 to 16 digits D, 16 bytes readable
    // after "0.") goes one element at a time.
    for (; i + 2 <= count; i += 2) {
        const char* e0 = element_end(i);
        const char* s1 = e0 + 1;
        const char* e1 = element_end(i + 1);
        const bool neg0 = *s == '-', neg1 = *s1 == '-';
        const char* d0 = s + neg0 + 2;
        const char* d1 = s1 + neg1 + 2;
        const long k0 = e0 - d0, k1 = e1 - d1;
        if (end - s1 >= 19 && e0 > s && e1 > s1 && k0 >= 1 && k0 <= 16 && k1 >= 1 && k1 <= 16 &&
            s[neg0] == '0' && s[neg0 + 1] == '.' && s1[neg1] == '0' && s1[neg1 + 1] == '.') {
            const __m256i text = _mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d0))),
                _mm_loadu_si128(reinterpret_cast<const __m128i*>(d1)), 1);
            const __m256i d = _mm256_sub_epi8(text, zero_char);
            const unsigned digits =
                static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(d, nine), d)));
            const unsigned need = ((1u << k0) - 1) | (((1u << k1) - 1) << 16);
            if ((digits & need) == need) {
                const __m256i keep = _mm256_inserti128_si256(
                    _mm256_castsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(kKeep.m[k0]))),
                    _mm_load_si128(reinterpret_cast<const __m128i*>(kKeep.m[k1])), 1);
                // 16 places per half: pairs, fours, then the two eights
                // ([first 8, last 8] twice in each half).
                const __m256i twos = _mm256_maddubs_epi16(_mm256_and_si256(d, keep), w10);
                const __m256i fours = _mm256_madd_epi16(twos, w100);
                const __m256i eights = _mm256_madd_epi16(_mm256_packus_epi32(fours, fours), w1e4);
                const __m128i four = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(eights, pick));
                const __m256d parts = _mm256_mul_pd(_mm256_cvtepi32_pd(four), scale);
                // [first0*1e-8 + last0*1e-16, first1*1e-8 + last1*1e-16]
                const __m256d sums = _mm256_hadd_pd(parts, parts);
                const __m128d v = _mm256_castpd256_pd128(_mm256_permute4x64_pd(sums, 0x08));
                const __m128i t = _mm_sub_epi32(_mm_and_si128(_mm_castpd_si128(v), low29), from);
                const int near =
                    _mm_movemask_ps(_mm_castsi128_ps(_mm_cmplt_epi32(_mm_xor_si128(t, flip), within))) & 5;
                const uint64_t signs = (uint64_t{neg0} << 31) | (uint64_t{neg1} << 63);
                const __m128i f = _mm_or_si128(_mm_castps_si128(_mm_cvtpd_ps(v)),
                                               _mm_cvtsi64_si128(static_cast<long long>(signs)));
                _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), f);
                // Near halfway between two floats: strtof decides.
                if ((near & 1) && !one(s, e0, out + i)) return false;
                if ((near & 4) && !one(s1, e1, out + i + 1)) return false;
                s = e1 + 1;
                continue;
            }
        }
        if (!one(s, e0, out + i) || !one(s1, e1, out + i + 1)) return false;
        s = e1 + 1;
    }
    if (i < count && !one(s, element_end(i), out + i)) return false;
    return true;
}

}  // namespace nmvec::ingest::detail

#endif  // NMVEC_FLOATS_AVX2

// sq8.cpp — see sq8.h: the codec, the scalar kernel and the dispatch.
#include "sq8.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "error.h"

namespace nmvec::sq8 {

Header read_header(const uint8_t* code) {
    Header h;
    std::memcpy(&h.lo, code, 4);
    std::memcpy(&h.step, code + 4, 4);
    std::memcpy(&h.norm2, code + 8, 8);
    return h;
}

void encode(const float* x, size_t dims, uint8_t* out) {
    float lo = 0.0f, hi = 0.0f;
    if (dims > 0) {
        lo = hi = x[0];
        for (size_t i = 1; i < dims; ++i) {
            lo = std::min(lo, x[i]);
            hi = std::max(hi, x[i]);
        }
    }
    // In double: hi - lo can exceed float's range; the step cannot.
    const double range = static_cast<double>(hi) - lo;
    float step = static_cast<float>(range / 255.0);
    if (!(step > 0.0f) || !std::isfinite(step)) step = 0.0f;
    uint8_t* c = out + kHeaderBytes;
    double norm2 = 0.0;
    for (size_t i = 0; i < dims; ++i) {
        long v = 0;
        if (step > 0.0f) v = std::lround((static_cast<double>(x[i]) - lo) / step);
        v = std::clamp(v, 0L, 255L);
        c[i] = static_cast<uint8_t>(v);
        const double d = static_cast<double>(lo) + static_cast<double>(step) * static_cast<double>(v);
        norm2 += d * d;
    }
    std::memcpy(out, &lo, 4);
    std::memcpy(out + 4, &step, 4);
    std::memcpy(out + 8, &norm2, 8);
}

void decode(const uint8_t* code, size_t dims, float* out) {
    const Header h = read_header(code);
    const uint8_t* c = code + kHeaderBytes;
    for (size_t i = 0; i < dims; ++i)
        out[i] = static_cast<float>(static_cast<double>(h.lo) + static_cast<double>(h.step) * c[i]);
}

void Query::prepare(const float* q, size_t n) {
    if (n > kMaxDims)
        throw Error(ErrorKind::ProgramLimitExceeded, "sq8 codes hold at most " + std::to_string(kMaxDims) +
                                                         " dimensions, not " + std::to_string(n));
    dims = n;
    w.assign(n, 0);
    double amax = 0.0;
    sum = norm2 = abs_sum = 0.0;
    for (size_t i = 0; i < n; ++i) {
        const double v = q[i];
        sum += v;
        norm2 += v * v;
        abs_sum += std::fabs(v);
        amax = std::max(amax, std::fabs(v));
    }
    qs = amax > 0.0 && std::isfinite(amax) ? amax / kQueryLevels : 0.0;
    if (qs == 0.0) return;
    for (size_t i = 0; i < n; ++i) {
        long v = std::lround(q[i] / qs);
        w[i] = static_cast<int16_t>(
            std::clamp(v, static_cast<long>(-kQueryLevels), static_cast<long>(kQueryLevels)));
    }
}

double Query::dot(const uint8_t* code, const Kernels& k) const {
    const Header h = read_header(code);
    const int64_t cw = k.dot_u8_i16(code + kHeaderBytes, w.data(), dims);
    return static_cast<double>(h.lo) * sum + static_cast<double>(h.step) * qs * static_cast<double>(cw);
}

namespace {

int64_t dot_u8_i16_scalar(const uint8_t* c, const int16_t* w, size_t n) {
    int64_t s = 0;
    for (size_t i = 0; i < n; ++i) s += static_cast<int64_t>(c[i]) * w[i];
    return s;
}

void dot_u8_i8_rows_scalar(const uint8_t* codes, size_t rows, const int8_t* w, size_t n, int32_t* out) {
    for (size_t r = 0; r < rows; ++r) {
        const uint8_t* c = codes + r * n;
        int32_t s = 0;
        for (size_t i = 0; i < n; ++i) s += static_cast<int32_t>(c[i]) * w[i];
        out[r] = s;
    }
}

}  // namespace

const Kernels& kernels_scalar() {
    static const Kernels k = {dot_u8_i16_scalar, dot_u8_i8_rows_scalar};
    return k;
}

const Kernels& kernels(SimdLevel level) {
    switch (level) {
        case SimdLevel::Scalar:
            return kernels_scalar();
        case SimdLevel::AVX2:
            return kernels_avx2();
        case SimdLevel::AVX512:
        case SimdLevel::AVX512FP16:
            return kernels_avx512();
    }
    throw Error(ErrorKind::Internal,
                "no sq8 kernels for SIMD level " + std::to_string(static_cast<int>(level)));
}

const Kernels& active_kernels() {
    static const Kernels& k = kernels(best_simd_level());
    return k;
}

}  // namespace nmvec::sq8

// json_floats.h — a JSON array of numbers read straight to float32, the fast
// path of LineParser for the embedding (a 384-d line is ~90% digits).
//
// simdjson's DOM parses each number to a double and LineParser then rounds
// it to float32 (checking for the rare double-rounding case); this reads the
// digits once and gives the float32 that strtof gives for each element's
// text. It takes only what it is sure of: plain JSON numbers that simdjson
// accepts too, finite as float32. Anything else (not a number, bad JSON, an
// element beyond float32's range, an exponent of more than two digits, more
// than 100 digits, a bare "-0") makes it give up, and the caller parses the
// line the slow way, which gives the reject reason. Implemented in
// json_floats.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace nmvec::ingest {

/// The code Float32ArrayReader runs: the baseline (SSE2 on x86-64, plain C++
/// elsewhere) or AVX2 (with BMI1 and POPCNT; the same floats, fewer
/// instructions per element).
enum class Float32Kernel {
    Baseline,
    Avx2,
};

/// Can this build and CPU run the kernel? (Baseline: always.)
bool float32_kernel_supported(Float32Kernel k) noexcept;
/// The kernel in use: the fastest supported, chosen at the first read.
Float32Kernel float32_kernel() noexcept;
/// Use `k` from now on (tests, benchmarks; not while other threads read).
/// false, and nothing changes, if it is not supported.
bool float32_use_kernel(Float32Kernel k) noexcept;
/// "baseline" or "avx2".
const char* float32_kernel_name(Float32Kernel k) noexcept;

/// Reads arrays; keeps its scratch space between calls. Not thread-safe.
class Float32ArrayReader {
 public:
    /// Read the elements of a JSON array of numbers: `p` points just after
    /// its '[', `end` is the end of the text. On success, `out` holds the
    /// elements (at least one, at most max_elems) as strtof rounds each
    /// one's text, and the result points to the array's closing ']'.
    /// nullptr: not handled here (see above; also an empty array or more
    /// than max_elems elements); `out` is then unspecified.
    const char* read(const char* p, const char* end, size_t max_elems, std::vector<float>& out);

 private:
    /// read() for an array with no whitespace; nullptr also if it has some.
    const char* read_plain(const char* p, const char* end, size_t max_elems, std::vector<float>& out);

    std::vector<uint32_t> ends_;  ///< offsets of the commas
};

/// One JSON number token text[0, len) (no surrounding whitespace) as
/// Float32ArrayReader reads an element: true and *out if handled.
bool parse_float32_number(const char* text, size_t len, float* out);

}  // namespace nmvec::ingest

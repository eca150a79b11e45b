// vector_text.h — the text form of vectors: "[1,2.5,-3e-07]".
//
// Parsing uses std::from_chars (no strtof loop, no locale, no allocation) and
// writes into a caller-provided buffer; formatting prints each element in its
// shortest form that parses back to the same float (std::to_chars), so text
// output round-trips exactly. Implemented in vector_text.cpp.
#pragma once

#include <cstddef>
#include <string_view>

namespace nmvec {

/// Upper bound on the number of dimensions of vector and halfvec.
constexpr int kMaxDims = 16000;

/// Parse `text` (whitespace around the brackets and elements is allowed) into
/// out[0..cap). Returns the number of elements. `type_name` ("vector",
/// "halfvec") is used in messages. Throws nmvec::Error for malformed text
/// (InvalidTextRepresentation), NaN/Infinity (DataException), values beyond
/// float range (OutOfRange), no elements (DataException) or more than `cap`
/// elements (ProgramLimitExceeded). Each element is rounded to the nearest
/// float, so a value too small for float becomes a subnormal or 0 (as strtof
/// gives): the types' underflow rule (README, "types").
size_t parse_vector_text(std::string_view text, float* out, size_t cap, const char* type_name);

/// One element by the same rules, the whole of `text` a single number with
/// no whitespace (e.g. numeric's text form, for the numeric[] casts).
float parse_vector_element(std::string_view text, const char* type_name);

/// Bytes format_vector_text needs at most for n elements, NUL included.
constexpr size_t vector_text_max_len(size_t n) { return n * 16 + 3; }

/// Write "[a,b,...]" plus a NUL into buf (at least vector_text_max_len(n)
/// bytes). Returns the length without the NUL.
size_t format_vector_text(const float* v, size_t n, char* buf) noexcept;

/// Shortest round-trip form of one float; returns chars written (<= 15), no NUL.
size_t format_float(float f, char* buf) noexcept;

}  // namespace nmvec

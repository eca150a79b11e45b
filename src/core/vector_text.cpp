// vector_text.cpp — see vector_text.h.
#include "vector_text.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <limits>
#include <algorithm>
#include <string>

#include "error.h"

namespace nmvec {
namespace {

inline bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/// Quote the input for an error message, cut to a readable length.
std::string quoted(std::string_view text) {
    constexpr size_t kMax = 120;
    std::string s = "\"";
    if (text.size() > kMax) {
        s.append(text.substr(0, kMax));
        s.append("...");
    } else {
        s.append(text);
    }
    s.append("\"");
    return s;
}

[[noreturn]] void malformed(std::string_view text, const char* type_name, const std::string& detail) {
    throw Error(ErrorKind::InvalidTextRepresentation,
                std::string("invalid input syntax for type ") + type_name + ": " + quoted(text), detail);
}

/// Slow path for a token that std::from_chars<float> found out of range:
/// decide overflow (error) from underflow (rounds to 0 or a subnormal).
float parse_out_of_range(const char* begin, const char* end, std::string_view text, const char* type_name) {
    char tmp[128];
    size_t len = static_cast<size_t>(end - begin);
    if (len >= sizeof(tmp)) len = sizeof(tmp) - 1;
    std::memcpy(tmp, begin, len);
    tmp[len] = '\0';
    errno = 0;
    // strtof gives the correctly rounded subnormal on underflow and HUGE_VALF
    // on overflow; the locale is "C" for numbers in a Postgres backend.
    float f = std::strtof(tmp, nullptr);
    if (std::isinf(f)) {
        throw Error(ErrorKind::OutOfRange,
                    std::string("\"") + tmp + "\" is out of range for type " + type_name,
                    "Elements must lie within the range of a 4-byte float.", {});
    }
    (void)text;
    return f;
}

constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/// Fast path for the common decimal form ([-]digits[.digits][e[+-]digits]):
/// with at most 19 significant digits, mantissa m <= 2^53 and |exponent|
/// <= 22, m * 10^e (or m / 10^-e) is the correctly rounded double (both
/// operands are exact doubles: Clinger's fast path). Narrowing that double to
/// float rounds twice, which differs from rounding once only when the double
/// lands exactly on a midpoint between two floats; that case, subnormal or
/// huge results, and every other form go to std::from_chars. Returns the end
/// of the number, or nullptr when the fast path does not apply.
const char* parse_float_fast(const char* p, const char* end, float* out) {
    bool neg = false;
    if (p < end && *p == '-') {
        neg = true;
        ++p;
    }
    uint64_t m = 0;
    int digits = 0, exp10 = 0;
    const char* start = p;
    while (p < end && static_cast<unsigned>(*p - '0') < 10) {
        if (digits < 19) {
            m = m * 10 + static_cast<unsigned>(*p - '0');
            if (m != 0) ++digits;
        } else {
            return nullptr;
        }
        ++p;
    }
    if (p < end && *p == '.') {
        ++p;
        while (p < end && static_cast<unsigned>(*p - '0') < 10) {
            if (digits >= 19) return nullptr;
            m = m * 10 + static_cast<unsigned>(*p - '0');
            if (m != 0) ++digits;
            --exp10;
            ++p;
        }
    }
    if (p == start || (p == start + 1 && *start == '.')) return nullptr;  // no digits
    if (p < end && (*p == 'e' || *p == 'E')) {
        const char* q = p + 1;
        bool eneg = false;
        if (q < end && (*q == '+' || *q == '-')) eneg = *q++ == '-';
        if (q == end || static_cast<unsigned>(*q - '0') >= 10) return nullptr;
        int e = 0;
        while (q < end && static_cast<unsigned>(*q - '0') < 10) {
            if (e > 1000) return nullptr;
            e = e * 10 + (*q++ - '0');
        }
        exp10 += eneg ? -e : e;
        p = q;
    }
    if (m == 0) {
        *out = neg ? -0.0f : 0.0f;
        return p;
    }
    if (m > (uint64_t{1} << 53) || exp10 < -22 || exp10 > 22) return nullptr;
    double d = static_cast<double>(m);
    d = exp10 < 0 ? d / kPow10[-exp10] : d * kPow10[exp10];
    if (d < static_cast<double>(std::numeric_limits<float>::min()) ||
        d > static_cast<double>(std::numeric_limits<float>::max()))
        return nullptr;
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    if ((bits & 0x1FFFFFFFu) == 0x10000000u) return nullptr;  // midpoint: round once instead
    float f = static_cast<float>(d);
    *out = neg ? -f : f;
    return p;
}

/// The general path: std::from_chars for every form the fast path declines
/// (a leading '+', many digits, large exponents, inf/nan spellings, garbage).
const char* parse_float_slow(const char* tok, const char* end, float* value, std::string_view text,
                             const char* type_name) {
    const char* p = tok;
    if (*p == '+' && p + 1 < end && *(p + 1) != '-' && *(p + 1) != '+') ++p;  // from_chars rejects '+'
    auto res = std::from_chars(p, end, *value, std::chars_format::general);
    if (res.ec == std::errc::invalid_argument || res.ptr == p) {
        if (*tok == ',' || *tok == ']') malformed(text, type_name, "Empty element.");
        malformed(text, type_name,
                  "Expected a number at \"" + std::string(tok, std::min<size_t>(20, end - tok)) + "\".");
    }
    if (res.ec == std::errc::result_out_of_range) *value = parse_out_of_range(tok, res.ptr, text, type_name);
    return res.ptr;
}

/// One element at p (no leading whitespace): the number, with NaN and
/// infinity rejected. Advances p past it.
float parse_element(const char*& p, const char* end, std::string_view text, const char* type_name) {
    const char* tok = p;
    float value = 0.0f;
    if (const char* q = parse_float_fast(p, end, &value)) {
        p = q;
    } else {
        p = parse_float_slow(tok, end, &value, text, type_name);
    }
    if (std::isnan(value))
        throw Error(ErrorKind::DataException, std::string("NaN not allowed in ") + type_name);
    if (std::isinf(value))
        throw Error(ErrorKind::DataException, std::string("infinite value not allowed in ") + type_name);
    return value;
}

}  // namespace

float parse_vector_element(std::string_view text, const char* type_name) {
    const char* p = text.data();
    const char* end = p + text.size();
    if (p == end) malformed(text, type_name, "Empty element.");
    float value = parse_element(p, end, text, type_name);
    if (p != end) malformed(text, type_name, "Junk after the number.");
    return value;
}

size_t parse_vector_text(std::string_view text, float* out, size_t cap, const char* type_name) {
    const char* p = text.data();
    const char* end = p + text.size();

    while (p < end && is_space(*p)) ++p;
    if (p == end || *p != '[') malformed(text, type_name, "Vector contents must start with \"[\".");
    ++p;
    while (p < end && is_space(*p)) ++p;
    if (p < end && *p == ']') {
        throw Error(ErrorKind::DataException, std::string(type_name) + " must have at least 1 dimension");
    }

    size_t n = 0;
    for (;;) {
        while (p < end && is_space(*p)) ++p;
        if (p == end) malformed(text, type_name, "Unexpected end of input.");
        const float value = parse_element(p, end, text, type_name);
        if (n == cap) {
            throw Error(ErrorKind::ProgramLimitExceeded, std::string(type_name) + " cannot have more than " +
                                                             std::to_string(cap) + " dimensions");
        }
        out[n++] = value;

        while (p < end && is_space(*p)) ++p;
        if (p == end) malformed(text, type_name, "Unexpected end of input.");
        if (*p == ',') {
            ++p;
            continue;
        }
        if (*p == ']') {
            ++p;
            break;
        }
        malformed(text, type_name, "Elements must be separated by \",\".");
    }
    while (p < end && is_space(*p)) ++p;
    if (p != end) malformed(text, type_name, "Junk after closing \"]\".");
    return n;
}

size_t format_float(float f, char* buf) noexcept {
    // 15 bytes hold the longest shortest form: "-1.17549435e-38".
    auto res = std::to_chars(buf, buf + 16, f);
    return static_cast<size_t>(res.ptr - buf);
}

size_t format_vector_text(const float* v, size_t n, char* buf) noexcept {
    char* p = buf;
    *p++ = '[';
    for (size_t i = 0; i < n; ++i) {
        if (i > 0) *p++ = ',';
        p += format_float(v[i], p);
    }
    *p++ = ']';
    *p = '\0';
    return static_cast<size_t>(p - buf);
}

}  // namespace nmvec

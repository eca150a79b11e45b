// Unit tests for the vector text form (src/core/vector_text.h).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "error.h"
#include "vector_text.h"

using nmvec::Error;
using nmvec::ErrorKind;

namespace {

std::vector<float> parse(const std::string& s, size_t cap = nmvec::kMaxDims) {
    std::vector<float> out(cap);
    size_t n = nmvec::parse_vector_text(s, out.data(), cap, "vector");
    out.resize(n);
    return out;
}

ErrorKind parse_error(const std::string& s, size_t cap = nmvec::kMaxDims) {
    try {
        parse(s, cap);
    } catch (const Error& e) {
        return e.kind();
    }
    ADD_FAILURE() << "no error for " << s;
    return ErrorKind::Internal;
}

std::string format(const std::vector<float>& v) {
    std::string buf(nmvec::vector_text_max_len(v.size()), '\0');
    size_t n = nmvec::format_vector_text(v.data(), v.size(), buf.data());
    buf.resize(n);
    return buf;
}

}  // namespace

TEST(VectorText, ParsesBasicForms) {
    EXPECT_EQ(parse("[1,2.5,-3e-07]"), (std::vector<float>{1.0f, 2.5f, -3e-07f}));
    EXPECT_EQ(parse("  [ 1 , 2 ,3 ]  "), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(parse("[+1.5,-0,.5]"), (std::vector<float>{1.5f, -0.0f, 0.5f}));
    EXPECT_TRUE(std::signbit(parse("[-0]")[0]));
    EXPECT_EQ(parse("[\t1\n]"), (std::vector<float>{1}));
}

TEST(VectorText, RejectsMalformedText) {
    for (const char* s : {"1,2]", "[1,,2]", "[1 2]", "[1,2] x", "[1,2", "[", "", "   ", "[1,]", "[,1]", "[a]",
                          "[1;2]", "[0x10]", "[1,2]]", "[--1]", "[++1]"}) {
        EXPECT_EQ(parse_error(s), ErrorKind::InvalidTextRepresentation) << s;
    }
}

TEST(VectorText, RejectsEmptyNanInf) {
    EXPECT_EQ(parse_error("[]"), ErrorKind::DataException);
    EXPECT_EQ(parse_error("[ ]"), ErrorKind::DataException);
    EXPECT_EQ(parse_error("[NaN]"), ErrorKind::DataException);
    EXPECT_EQ(parse_error("[1,nan]"), ErrorKind::DataException);
    EXPECT_EQ(parse_error("[Infinity]"), ErrorKind::DataException);
    EXPECT_EQ(parse_error("[-inf]"), ErrorKind::DataException);
}

TEST(VectorText, RangeOfFloat) {
    EXPECT_EQ(parse_error("[1e99]"), ErrorKind::OutOfRange);
    EXPECT_EQ(parse_error("[-1e39]"), ErrorKind::OutOfRange);
    EXPECT_EQ(parse_error("[1e999999]"), ErrorKind::OutOfRange);
    // Underflow is not an error: it rounds like strtof (zero or subnormal).
    EXPECT_EQ(parse("[1e-50]")[0], 0.0f);
    EXPECT_EQ(parse("[1e-40]")[0], std::strtof("1e-40", nullptr));
    EXPECT_EQ(parse("[3.4028235e38]")[0], 3.4028235e38f);
}

TEST(VectorText, ParsesOneElementByTheSameRules) {
    using nmvec::parse_vector_element;
    EXPECT_EQ(parse_vector_element("1.5", "vector"), 1.5f);
    EXPECT_EQ(parse_vector_element("-0.1", "vector"), -0.1f);
    EXPECT_EQ(parse_vector_element("340282346638528859811704183484516925440", "vector"), 3.4028235e38f);
    // numeric's text form of 1e-50 and 1e-40: underflow rounds, as in a vector's text
    const std::string tiny = "0." + std::string(49, '0') + "1";
    EXPECT_EQ(parse_vector_element(tiny, "vector"), 0.0f);
    EXPECT_EQ(parse_vector_element("0." + std::string(39, '0') + "1", "vector"),
              std::strtof("1e-40", nullptr));
    EXPECT_EQ(parse_vector_element("1" + std::string(38, '0') + ".25", "vector"), 1e38f);
}

TEST(VectorText, OneElementErrors) {
    auto kind = [](const std::string& s) {
        try {
            nmvec::parse_vector_element(s, "vector");
        } catch (const Error& e) {
            return e.kind();
        }
        ADD_FAILURE() << "no error for " << s;
        return ErrorKind::Internal;
    };
    EXPECT_EQ(kind("1" + std::string(39, '0')), ErrorKind::OutOfRange);
    EXPECT_EQ(kind("-1" + std::string(1000, '0')), ErrorKind::OutOfRange);
    EXPECT_EQ(kind("NaN"), ErrorKind::DataException);
    EXPECT_EQ(kind("Infinity"), ErrorKind::DataException);
    EXPECT_EQ(kind("-Infinity"), ErrorKind::DataException);
    EXPECT_EQ(kind(""), ErrorKind::InvalidTextRepresentation);
    EXPECT_EQ(kind("1 "), ErrorKind::InvalidTextRepresentation);
    EXPECT_EQ(kind("1,2"), ErrorKind::InvalidTextRepresentation);
    EXPECT_EQ(kind("x"), ErrorKind::InvalidTextRepresentation);
}

TEST(VectorText, DimensionLimit) {
    std::string s = "[";
    for (int i = 0; i < 5; ++i) s += (i ? ",1" : "1");
    s += "]";
    EXPECT_EQ(parse(s, 5).size(), 5u);
    EXPECT_EQ(parse_error(s, 4), ErrorKind::ProgramLimitExceeded);
}

TEST(VectorText, FormatShortest) {
    EXPECT_EQ(format({1.0f, 2.5f, -3e-07f}), "[1,2.5,-3e-07]");
    EXPECT_EQ(format({0.1f}), "[0.1]");
    EXPECT_EQ(format({-0.0f}), "[-0]");
    EXPECT_EQ(format({3.4028235e38f}), "[3.4028235e+38]");
}

TEST(VectorText, RoundTripsEveryBitPatternSample) {
    // Random finite floats across all exponents, plus the extremes: text out,
    // text in, same bits.
    std::mt19937 rng(42);
    std::vector<float> v;
    for (int i = 0; i < 200000; ++i) {
        uint32_t bits = rng();
        float f;
        std::memcpy(&f, &bits, 4);
        if (std::isfinite(f)) v.push_back(f);
    }
    v.push_back(std::numeric_limits<float>::max());
    v.push_back(std::numeric_limits<float>::min());
    v.push_back(std::numeric_limits<float>::denorm_min());
    v.push_back(-std::numeric_limits<float>::max());
    for (size_t start = 0; start < v.size(); start += nmvec::kMaxDims) {
        std::vector<float> chunk(
            v.begin() + start, v.begin() + std::min(v.size(), start + static_cast<size_t>(nmvec::kMaxDims)));
        std::vector<float> back = parse(format(chunk));
        ASSERT_EQ(back.size(), chunk.size());
        ASSERT_EQ(0, std::memcmp(back.data(), chunk.data(), chunk.size() * 4));
    }
}

TEST(VectorText, MatchesStrtofOnManyDecimalForms) {
    // The parser's fast path (Clinger + midpoint check) must give exactly
    // what a correctly rounding strtof gives, for every precision a printer
    // may use, including values near float midpoints.
    std::mt19937 rng(1234);
    std::uniform_real_distribution<double> mant(-1.0, 1.0);
    std::uniform_int_distribution<int> expo(-40, 38);
    char buf[64];
    float got;
    int checked = 0;
    for (int i = 0; i < 200000; ++i) {
        double x = mant(rng) * std::pow(10.0, expo(rng));
        if (i % 4 == 0) {  // the midpoint between two adjacent floats
            float a = static_cast<float>(x);
            float b = std::nextafter(a, a < 0 ? -INFINITY : INFINITY);
            x = (static_cast<double>(a) + static_cast<double>(b)) / 2;
        }
        int prec = 1 + (i % 19);
        std::snprintf(buf, sizeof buf, "[%.*g]", prec, x);
        float want = std::strtof(buf + 1, nullptr);
        if (!std::isfinite(want)) continue;
        nmvec::parse_vector_text(buf, &got, 1, "vector");
        ASSERT_EQ(0, std::memcmp(&got, &want, 4)) << buf << " got " << got << " want " << want;
        ++checked;
    }
    EXPECT_GT(checked, 190000);
}

TEST(VectorText, RandomInputNeverCrashesOrOverruns) {
    // Fuzz-style: mutate valid literals and random byte strings. Every input
    // either parses to at most `cap` finite floats or throws nmvec::Error;
    // anything else (another exception, a crash, a write past cap under
    // ASan/valgrind) is a bug.
    std::mt19937 rng(99);
    const std::string alphabet = "[],.+-eE0123456789 \tinfINFnaNxX\n";
    std::vector<float> out(8 + 1, 12345.0f);
    int parsed = 0, rejected = 0;
    for (int i = 0; i < 100000; ++i) {
        std::string s;
        if (i % 2 == 0) {
            s = "[1.5,-2e-3,3,4e10,0.25]";
            int edits = 1 + static_cast<int>(rng() % 4);
            for (int k = 0; k < edits; ++k) {
                size_t pos = rng() % (s.size() + 1);
                switch (rng() % 3) {
                    case 0:
                        s.insert(pos, 1, alphabet[rng() % alphabet.size()]);
                        break;
                    case 1:
                        if (pos < s.size()) s.erase(pos, 1);
                        break;
                    default:
                        if (pos < s.size()) s[pos] = static_cast<char>(rng() % 256);
                }
            }
        } else {
            size_t len = rng() % 24;
            for (size_t k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
        }
        try {
            size_t n = nmvec::parse_vector_text(s, out.data(), 8, "vector");
            ASSERT_GE(n, 1u);
            ASSERT_LE(n, 8u);
            for (size_t k = 0; k < n; ++k) ASSERT_TRUE(std::isfinite(out[k])) << s;
            ++parsed;
        } catch (const Error&) {
            ++rejected;
        }
        ASSERT_EQ(out[8], 12345.0f) << "wrote past cap: " << s;
    }
    EXPECT_GT(parsed, 1000);
    EXPECT_GT(rejected, 1000);
}

// Float32ArrayReader and parse_float32_number (json_floats.h): every element
// as strtof rounds its text, on the fast path (-?0.D+), near float32
// midpoints, in the general forms, and "not handled" for what simdjson
// should judge instead.
#include <gtest/gtest.h>

#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "json_floats.h"

namespace nmvec::ingest {
namespace {

uint32_t bits_of(float f) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

/// Both readers of one token agree with strtof, bit for bit (so -0 too).
void expect_like_strtof(const std::string& tok) {
    const float want = std::strtof(tok.c_str(), nullptr);
    float got = 12345.0f;
    ASSERT_TRUE(parse_float32_number(tok.data(), tok.size(), &got)) << tok;
    EXPECT_EQ(bits_of(got), bits_of(want)) << tok << ": " << got << " vs " << want;
    // The same token inside an array, with room after it for 16-byte reads
    // (the fast path) and at the very end of the text (the general one).
    Float32ArrayReader r;
    std::vector<float> out;
    const std::string padded = tok + "," + tok + "]" + std::string(40, ' ');
    const char* close = r.read(padded.data(), padded.data() + padded.size(), 16000, out);
    ASSERT_NE(close, nullptr) << tok;
    EXPECT_EQ(*close, ']');
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(bits_of(out[0]), bits_of(want)) << tok;
    EXPECT_EQ(bits_of(out[1]), bits_of(want)) << tok;
    const std::string tight = tok + "]";
    ASSERT_NE(r.read(tight.data(), tight.data() + tight.size(), 16000, out), nullptr) << tok;
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(bits_of(out[0]), bits_of(want)) << tok;
}

/// The array text (after its '[') read whole; empty if not handled.
std::vector<float> read_array(const std::string& body, size_t max_elems = 16000, bool* handled = nullptr) {
    Float32ArrayReader r;
    std::vector<float> out;
    const char* close = r.read(body.data(), body.data() + body.size(), max_elems, out);
    if (handled) *handled = close != nullptr;
    if (!close) return {};
    EXPECT_EQ(*close, ']');
    return out;
}

bool handled(const std::string& body, size_t max_elems = 16000) {
    bool h = false;
    read_array(body, max_elems, &h);
    return h;
}

/// Each test with each kernel the CPU has (and skipped for the others).
class IngestFloatsK : public ::testing::TestWithParam<Float32Kernel> {
 protected:
    void SetUp() override {
        before_ = float32_kernel();
        if (!float32_use_kernel(GetParam()))
            GTEST_SKIP() << float32_kernel_name(GetParam()) << " is not supported here";
    }
    void TearDown() override { float32_use_kernel(before_); }

 private:
    Float32Kernel before_ = Float32Kernel::Baseline;
};

TEST_P(IngestFloatsK, ShortestFloatTextOfRandomValues) {
    // What a serde/ryu writer puts in a ledger: the shortest text of a
    // float32, mostly |x| < 1 ("-0.0123"), some larger, some tiny.
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    std::uniform_int_distribution<int> exp10(-12, 12);
    for (int i = 0; i < 200000; ++i) {
        float v = unit(rng);
        if (i % 4 == 1) v *= std::pow(10.0f, static_cast<float>(exp10(rng)));
        char buf[64];
        auto res = std::to_chars(buf, buf + sizeof buf, v);
        ASSERT_EQ(res.ec, std::errc());
        expect_like_strtof(std::string(buf, res.ptr));
        // and as fixed notation with more digits than needed
        const int n = std::snprintf(buf, sizeof buf, "%.*f", 8 + i % 9, static_cast<double>(v));
        expect_like_strtof(std::string(buf, static_cast<size_t>(n)));
    }
}

TEST_P(IngestFloatsK, TextNearFloatMidpoints) {
    // 0.D with 16 digits D next to the midpoint between two floats: the
    // scaled double is within a few units of the midpoint, where the fast
    // path must hand over to strtof.
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> unit(0.001f, 1.0f);
    int checked = 0;
    for (int i = 0; i < 50000; ++i) {
        const float f = unit(rng);
        const double mid = (static_cast<double>(f) + static_cast<double>(std::nextafterf(f, 2.0f))) / 2;
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.40f", mid);
        std::string exact(buf);  // the midpoint itself, to 40 places
        while (exact.back() == '0') exact.pop_back();
        expect_like_strtof(exact);
        std::string cut = exact.substr(0, std::min<size_t>(exact.size(), 18));  // "0." + 16 places
        expect_like_strtof(cut);
        // one unit of the 16th place above the cut
        for (size_t j = cut.size(); j-- > 2;) {
            if (cut[j] == '9') {
                cut[j] = '0';
                continue;
            }
            ++cut[j];
            break;
        }
        expect_like_strtof(cut);
        expect_like_strtof("-" + cut);
        ++checked;
    }
    EXPECT_EQ(checked, 50000);
}

TEST_P(IngestFloatsK, EdgeTokens) {
    for (const char* tok : {"0",
                            "1",
                            "7",
                            "-1",
                            "16777216",
                            "16777217",
                            "-16777217",
                            "123456789012345678",
                            "0.0",
                            "-0.0",
                            "0.5",
                            "-0.5",
                            "0.1",
                            "-0.1",
                            "0.0000000000000001",
                            "0.9999999999999999",
                            "0.99999999999999999999",
                            "0.00000005960464477539062500001",
                            "1.00000005960464477539062500001",
                            "1.000000059604644775390625",
                            "1.00000005960464477539062499999",
                            "3.4028235e38",
                            "3.4028234663852886e38",
                            "-3.4028235e38",
                            "340282356779733661637539395458142568447.99",
                            "1e-45",
                            "1.4e-45",
                            "7e-46",
                            "1e-50",
                            "-1e-50",
                            "1.17549435e-38",
                            "1.1754942e-38",
                            "2.5e-39",
                            "1E5",
                            "1e+5",
                            "1.5E-3",
                            "-2.5e-07",
                            "12.75",
                            "-1234.5678",
                            "0.12345678901234567890123456789",
                            "9007199254740993",
                            "0e5",
                            "-0e5",
                            "0.0e-5",
                            "1e22",
                            "1e23",
                            "4.5e15",
                            "0.000001",
                            "-0.00052288047",
                            "0.0069218692",
                            "-0.06631373"})
        expect_like_strtof(tok);
}

TEST_P(IngestFloatsK, NotHandledGoesToTheSlowPath) {
    float f;
    for (const char* tok :
         {"",     "-",    "+1",    ".5",    "-.5",          "1.",    "01",    "-01",      "00.5",
          "1e",   "1e+",  "1.5e-", "1e100", "1e-100",       "1e999", "NaN",   "Infinity", "-Infinity",
          "inf",  "0x10", "1..2",  "1.2.3", "--1",          "1-2",   "1e5e5", "\"1\"",    "true",
          "null", "-0",   "1e39",  "-1e39", "3.4028236e38", "1e308", "1.0e45"}) {
        EXPECT_FALSE(parse_float32_number(tok, std::strlen(tok), &f)) << tok;
        const std::string body = std::string(tok) + "]" + std::string(40, ' ');
        EXPECT_FALSE(handled(body)) << tok;
        EXPECT_FALSE(handled("0.5," + body)) << tok;
        EXPECT_FALSE(handled(std::string(tok) + ",0.25]" + std::string(40, ' '))) << tok;
    }
    // not one token (whitespace around a token is the array's business)
    for (const char* tok : {"1 ", " 1", "1,2"})
        EXPECT_FALSE(parse_float32_number(tok, std::strlen(tok), &f)) << tok;
    // more than 100 digits
    EXPECT_FALSE(parse_float32_number(("0." + std::string(120, '1')).c_str(), 122, &f));
}

TEST_P(IngestFloatsK, Arrays) {
    EXPECT_EQ(read_array("1,2,3]"), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(read_array("-0.5]"), (std::vector<float>{-0.5f}));
    // whitespace anywhere JSON allows it
    EXPECT_EQ(read_array(" 1 , 2 ,\t3\r\n]"), (std::vector<float>{1, 2, 3}));
    EXPECT_EQ(read_array("\n0.25]"), (std::vector<float>{0.25f}));
    // what follows the ']' is not looked at
    EXPECT_EQ(read_array("0.5,0.25],\"x\":[1,2]}"), (std::vector<float>{0.5f, 0.25f}));
    for (const char* body : {"]", " ]", "1,]", ",1]", "1,,2]", "1 2]", "1,2", "1,2,", "[1],2]", "1,[2]]",
                             "1,\"2\"]", "1,\"a,b\"]", "1,{}]", "1,true]", "1,null]", "1,2\"]", "1;2]"}) {
        EXPECT_FALSE(handled(body)) << body;
        EXPECT_FALSE(handled(std::string(body) + std::string(40, ' '))) << body;
    }
}

TEST_P(IngestFloatsK, LongArraysAndTheElementLimit) {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    for (size_t n : {1u, 2u, 3u, 15u, 16u, 17u, 383u, 384u, 385u, 1536u}) {
        std::string body;
        std::vector<float> want;
        for (size_t i = 0; i < n; ++i) {
            char buf[32];
            auto res = std::to_chars(buf, buf + sizeof buf, unit(rng));
            body += (i ? "," : "") + std::string(buf, res.ptr);
            want.push_back(std::strtof(std::string(buf, res.ptr).c_str(), nullptr));
        }
        body += "]}";
        EXPECT_EQ(read_array(body), want) << n;
        EXPECT_EQ(read_array(body, n), want) << n;
        EXPECT_FALSE(handled(body, n - 1)) << n;
    }
}

TEST_P(IngestFloatsK, MixedFormsInEveryPosition) {
    // Arrays of random length mixing the fast form with every other (so that
    // each sits first or second in a pair of the AVX2 kernel, and last), also
    // right at the end of the text: each element as strtof rounds it.
    std::mt19937 rng(13);
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    auto token = [&]() -> std::string {
        char buf[96];
        const float v = unit(rng);
        switch (rng() % 10) {
            case 0:
                return std::to_string(static_cast<int>(rng() % 2000) - 1000);  // integer
            case 1: {
                std::snprintf(buf, sizeof buf, "%.3e", static_cast<double>(v));  // exponent
                return buf;
            }
            case 2: {
                // 16 places next to a float midpoint: strtof decides
                const float f = std::fabs(v) + 0.001f;
                const double mid = (static_cast<double>(f) + std::nextafterf(f, 2.0f)) / 2;
                std::snprintf(buf, sizeof buf, "%.16f", mid);
                return (v < 0 ? "-" : "") + std::string(buf);
            }
            case 3:
                return rng() % 2 ? "-0.0" : "0.0";
            case 4: {
                std::snprintf(buf, sizeof buf, "%.25f", static_cast<double>(v));  // more than 16 places
                return buf;
            }
            case 5: {
                std::snprintf(buf, sizeof buf, "%.6f", static_cast<double>(v) * 1000);  // |x| >= 1
                return buf;
            }
            default: {
                auto res = std::to_chars(buf, buf + sizeof buf, v);  // the fast form, mostly
                return std::string(buf, res.ptr);
            }
        }
    };
    for (int round = 0; round < 3000; ++round) {
        const size_t n = 1 + rng() % 40;
        std::string body;
        std::vector<std::string> toks;
        for (size_t i = 0; i < n; ++i) {
            toks.push_back(token());
            body += (i ? "," : "") + toks.back();
        }
        body += round % 3 == 0 ? "]" : "]" + std::string(rng() % 40, ' ');
        bool h = false;
        const std::vector<float> got = read_array(body, 16000, &h);
        ASSERT_TRUE(h) << body;
        ASSERT_EQ(got.size(), n) << body;
        for (size_t i = 0; i < n; ++i)
            ASSERT_EQ(bits_of(got[i]), bits_of(std::strtof(toks[i].c_str(), nullptr)))
                << toks[i] << " in " << body;
    }
}

INSTANTIATE_TEST_SUITE_P(IngestFloats, IngestFloatsK,
                         ::testing::Values(Float32Kernel::Baseline, Float32Kernel::Avx2),
                         [](const ::testing::TestParamInfo<Float32Kernel>& i) {
                             return std::string(float32_kernel_name(i.param));
                         });

TEST(IngestFloats, KernelChoice) {
    // The default is the fastest the CPU has; an unsupported kernel is refused.
    const Float32Kernel k = float32_kernel();
    EXPECT_EQ(k,
              float32_kernel_supported(Float32Kernel::Avx2) ? Float32Kernel::Avx2 : Float32Kernel::Baseline);
    EXPECT_TRUE(float32_kernel_supported(Float32Kernel::Baseline));
    if (!float32_kernel_supported(Float32Kernel::Avx2)) {
        EXPECT_FALSE(float32_use_kernel(Float32Kernel::Avx2));
        EXPECT_EQ(float32_kernel(), k);
    }
    std::printf("float32 kernel: %s\n", float32_kernel_name(k));
}

}  // namespace
}  // namespace nmvec::ingest

// SHA-256 against the FIPS 180 example vectors (src/tools/common/sha256.h),
// with the kernel the CPU gets and with each supported one: the portable
// C++ and SHA-NI must give the same digests for every length and split.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "sha256.h"

namespace {

std::string hex(std::string_view msg) { return nmvec::to_hex(nmvec::sha256(msg)); }

TEST(Sha256, Empty) {
    EXPECT_EQ(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, Abc) {
    EXPECT_EQ(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, TwoBlocks448Bits) {
    EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, Message896Bits) {
    EXPECT_EQ(hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlm"
                  "nopqrsmnopq"
                  "rstnopqrstu"),
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, MillionA) {
    EXPECT_EQ(hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShot) {
    // Split a message at every position and in odd-sized pieces: the block
    // buffering must not change the digest.
    std::string msg;
    for (int i = 0; i < 300; ++i) msg.push_back(static_cast<char>('a' + i % 26));
    const auto want = nmvec::sha256(msg);
    for (size_t cut = 0; cut <= msg.size(); ++cut) {
        nmvec::Sha256 h;
        h.update(std::string_view(msg).substr(0, cut));
        h.update(std::string_view(msg).substr(cut));
        ASSERT_EQ(h.finish(), want) << "cut at " << cut;
    }
    nmvec::Sha256 h;
    for (size_t i = 0; i < msg.size(); i += 7) h.update(std::string_view(msg).substr(i, 7));
    EXPECT_EQ(h.finish(), want);
}

TEST(Sha256, LittleEndianIntegers) {
    nmvec::Sha256 h;
    h.update_u64_le(0x0807060504030201ULL);
    h.update_u32_le(0x0c0b0a09);
    EXPECT_EQ(h.finish(),
              nmvec::sha256(std::string_view("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12)));
}

/// Run the rest of a test with kernel k, then go back to the default.
class WithKernel {
 public:
    explicit WithKernel(nmvec::Sha256Kernel k) : before_(nmvec::sha256_kernel()) {
        ok_ = nmvec::sha256_use_kernel(k);
    }
    ~WithKernel() { nmvec::sha256_use_kernel(before_); }
    WithKernel(const WithKernel&) = delete;
    WithKernel& operator=(const WithKernel&) = delete;
    bool ok() const { return ok_; }

 private:
    nmvec::Sha256Kernel before_;
    bool ok_ = false;
};

class Sha256Kernels : public ::testing::TestWithParam<nmvec::Sha256Kernel> {};

TEST_P(Sha256Kernels, FipsVectors) {
    WithKernel use(GetParam());
    if (!use.ok()) GTEST_SKIP() << nmvec::sha256_kernel_name(GetParam()) << " is not supported here";
    ASSERT_EQ(nmvec::sha256_kernel(), GetParam());
    EXPECT_EQ(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlm"
                  "nopqrsmnopqrstnopqrstu"),
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    // one million 'a's: 15,625 blocks in one call, and fed in odd pieces
    const std::string a(1000000, 'a');
    EXPECT_EQ(hex(a), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    nmvec::Sha256 h;
    for (size_t i = 0; i < a.size(); i += 1013) h.update(std::string_view(a).substr(i, 1013));
    EXPECT_EQ(nmvec::to_hex(h.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    // a ledger block's hash (ledger.h): integers and strings
    nmvec::Sha256 b;
    b.update_u64_le(0x0807060504030201ULL);
    b.update_u32_le(0x0c0b0a09);
    EXPECT_EQ(b.finish(),
              nmvec::sha256(std::string_view("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12)));
}

TEST_P(Sha256Kernels, SameDigestsAsPortableForEveryLength) {
    // Random bytes of every length from 0 to 1100 (all block-boundary
    // cases) and some ledger-line lengths, hashed whole and in random
    // pieces: equal to the portable kernel's digest.
    std::mt19937 rng(5);
    std::vector<size_t> lengths;
    for (size_t n = 0; n <= 1100; ++n) lengths.push_back(n);
    for (size_t n : {4095u, 4096u, 4097u, 5000u, 5120u, 65536u, 100003u}) lengths.push_back(n);
    std::string data(100003, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    std::vector<nmvec::Sha256Digest> want;
    {
        WithKernel portable(nmvec::Sha256Kernel::Portable);
        ASSERT_TRUE(portable.ok());
        for (size_t n : lengths) want.push_back(nmvec::sha256(std::string_view(data).substr(0, n)));
    }
    WithKernel use(GetParam());
    if (!use.ok()) GTEST_SKIP() << nmvec::sha256_kernel_name(GetParam()) << " is not supported here";
    for (size_t i = 0; i < lengths.size(); ++i) {
        const std::string_view msg = std::string_view(data).substr(0, lengths[i]);
        ASSERT_EQ(nmvec::sha256(msg), want[i]) << "length " << lengths[i];
        nmvec::Sha256 h;
        for (size_t at = 0; at < msg.size();) {
            const size_t take = std::min<size_t>(msg.size() - at, rng() % 200);
            h.update(msg.substr(at, take));
            at += take;
        }
        ASSERT_EQ(h.finish(), want[i]) << "length " << lengths[i] << " in pieces";
    }
}

INSTANTIATE_TEST_SUITE_P(Sha256, Sha256Kernels,
                         ::testing::Values(nmvec::Sha256Kernel::Portable, nmvec::Sha256Kernel::ShaNi),
                         [](const ::testing::TestParamInfo<nmvec::Sha256Kernel>& i) {
                             return i.param == nmvec::Sha256Kernel::ShaNi ? std::string("ShaNi")
                                                                          : std::string("Portable");
                         });

TEST(Sha256, KernelChoice) {
    // The default is the fastest the CPU has; switching to an unsupported
    // kernel is refused and changes nothing.
    const nmvec::Sha256Kernel k = nmvec::sha256_kernel();
    EXPECT_EQ(k, nmvec::sha256_kernel_supported(nmvec::Sha256Kernel::ShaNi) ? nmvec::Sha256Kernel::ShaNi
                                                                            : nmvec::Sha256Kernel::Portable);
    EXPECT_TRUE(nmvec::sha256_kernel_supported(nmvec::Sha256Kernel::Portable));
    if (!nmvec::sha256_kernel_supported(nmvec::Sha256Kernel::ShaNi)) {
        EXPECT_FALSE(nmvec::sha256_use_kernel(nmvec::Sha256Kernel::ShaNi));
        EXPECT_EQ(nmvec::sha256_kernel(), k);
    }
    std::printf("sha256 kernel: %s\n", nmvec::sha256_kernel_name(k));
}

}  // namespace

// SHA-256 against the FIPS 180 example vectors (src/tools/common/sha256.h).
#include <gtest/gtest.h>

#include <string>

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

}  // namespace

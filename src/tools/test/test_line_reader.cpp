// LineReader (line_reader.h): lines and offsets whatever the block size
// (lines crossing blocks, longer than a block, empty), an unfinished last
// line held back and returned whole once the file grows, views that stay
// valid while reading goes on, and blocks reused once no line needs them.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "line_reader.h"

namespace nmvec::ingest {
namespace {

class IngestLineReader : public ::testing::Test {
 protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("nmvec-linereader-" + std::to_string(getpid()));
        std::filesystem::create_directories(dir_);
        path_ = (dir_ / "ledger.jsonl").string();
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    void write(const std::string& bytes, bool append = false) {
        std::ofstream f(path_,
                        append ? std::ios::binary | std::ios::app : std::ios::binary | std::ios::trunc);
        f << bytes;
    }

    std::filesystem::path dir_;
    std::string path_;
};

/// Lines of many lengths (0, around block sizes, and long), joined by '\n'.
std::vector<std::string> some_lines(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    const size_t lengths[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 1000, 5000};
    std::vector<std::string> lines;
    for (size_t i = 0; i < n; ++i) {
        std::string l(lengths[rng() % (sizeof lengths / sizeof lengths[0])], ' ');
        for (char& c : l) c = static_cast<char>('a' + rng() % 26);
        lines.push_back(l);
    }
    return lines;
}

std::string join(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines) s += l + "\n";
    return s;
}

TEST_F(IngestLineReader, LinesAndOffsetsForEveryBlockSize) {
    const auto lines = some_lines(300, 1);
    write(join(lines) + "last without newline");
    for (size_t block : {size_t{1}, size_t{2}, size_t{3}, size_t{16}, size_t{17}, size_t{64}, size_t{4096},
                         size_t{1} << 20}) {
        LineReader r(path_, block);
        std::vector<LineRef> kept;  // every line held: its view must stay valid
        uint64_t offset = 0;
        for (size_t i = 0; i < lines.size(); ++i) {
            LineRef l;
            ASSERT_TRUE(r.next(l, false)) << "block " << block << " line " << i;
            ASSERT_EQ(l.text, lines[i]) << "block " << block << " line " << i;
            offset += lines[i].size() + 1;
            ASSERT_EQ(r.offset(), offset);
            kept.push_back(l);
        }
        LineRef l;
        ASSERT_TRUE(r.next(l, false));
        EXPECT_EQ(l.text, "last without newline");
        EXPECT_EQ(r.offset(), offset + 20);
        EXPECT_FALSE(r.next(l, false));
        EXPECT_FALSE(r.next(l, false));
        for (size_t i = 0; i < lines.size(); ++i) ASSERT_EQ(kept[i].text, lines[i]) << "block " << block;
    }
}

TEST_F(IngestLineReader, UnfinishedLastLineWaitsForItsNewline) {
    write("one\ntwo\nthr");
    for (size_t block : {size_t{2}, size_t{5}, size_t{1} << 20}) {
        write("one\ntwo\nthr");
        LineReader r(path_, block);
        LineRef l;
        ASSERT_TRUE(r.next(l, true));
        EXPECT_EQ(l.text, "one");
        ASSERT_TRUE(r.next(l, true));
        EXPECT_EQ(l.text, "two");
        EXPECT_FALSE(r.next(l, true));  // "thr" is not finished
        EXPECT_EQ(r.offset(), 8u);
        EXPECT_EQ(r.partial(), 3u);
        EXPECT_FALSE(r.next(l, true));
        EXPECT_EQ(r.partial(), 3u);
        write("ee\nfour", true);  // the writer goes on
        ASSERT_TRUE(r.next(l, true));
        EXPECT_EQ(l.text, "three");
        EXPECT_EQ(r.offset(), 14u);
        EXPECT_FALSE(r.next(l, true));
        EXPECT_EQ(r.partial(), 4u);
        write("\n", true);
        ASSERT_TRUE(r.next(l, true));
        EXPECT_EQ(l.text, "four");
        EXPECT_EQ(r.partial(), 0u);
        EXPECT_FALSE(r.next(l, true));
    }
}

TEST_F(IngestLineReader, SeekAndBefore) {
    const auto lines = some_lines(50, 2);
    write(join(lines));
    LineReader r(path_, 64);
    uint64_t at = 0;
    for (size_t i = 0; i < 20; ++i) at += lines[i].size() + 1;
    LineRef l;
    ASSERT_TRUE(r.next(l, false));  // read a little, then go elsewhere
    r.seek(at);
    for (size_t i = 20; i < lines.size(); ++i) {
        ASSERT_TRUE(r.next(l, true));
        ASSERT_EQ(l.text, lines[i]);
    }
    EXPECT_FALSE(r.next(l, true));
    EXPECT_EQ(r.offset(), join(lines).size());
    EXPECT_EQ(r.before(at, lines[19].size() + 1), lines[19] + "\n");
    EXPECT_EQ(r.before(3, 10), join(lines).substr(0, 3));
    EXPECT_EQ(r.size(), join(lines).size());
}

TEST_F(IngestLineReader, BlocksAreReusedOnceNoLinePointsIntoThem) {
    std::string text;
    for (int i = 0; i < 20000; ++i) text += std::string(90, 'x') + std::to_string(i % 10) + "\n";
    write(text);
    {
        LineReader r(path_, 4096);
        LineRef l;
        size_t n = 0;
        while (r.next(l, false)) ++n;  // each line dropped as the next comes
        EXPECT_EQ(n, 20000u);
        EXPECT_LE(r.blocks(), 3u);
    }
    {
        LineReader r(path_, 4096);
        std::vector<LineRef> held;
        LineRef l;
        while (r.next(l, false)) held.push_back(l);  // all held: a block each 4 kB
        EXPECT_GE(r.blocks(), text.size() / 4096);
        for (size_t i = 0; i < held.size(); ++i)
            ASSERT_EQ(held[i].text, std::string(90, 'x') + std::to_string(i % 10));
    }
}

}  // namespace
}  // namespace nmvec::ingest

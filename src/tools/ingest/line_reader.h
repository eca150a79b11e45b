// line_reader.h — nmvec-ingest's reader of the ledger file: lines and the
// byte offset after each, without a copy per line.
//
// The file is read in large blocks and a line is a view into its block,
// which the line keeps alive (LineRef holds a reference to it); once no line
// points into a block, it goes back to the reader's pool to be read into
// again. A line that crosses the end
// of a block moves, with what is left of the block, to the start of the
// next one (a block grows to twice the longest line if need be).
//
// One thread at a time may use a LineReader. The LineRefs it hands out may
// be kept, swapped and let go of on any thread, also after the reader is
// gone (the pool is shared with them and locked).
// Implemented in line_reader.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nmvec::ingest {

/// Bytes of the file, read into a block (not zeroed first).
struct LineBlock {
    explicit LineBlock(size_t n) : bytes(new char[n]), size(n) {}
    std::unique_ptr<char[]> bytes;
    size_t size;
};

/// A line of the ledger: a view into the block it was read into.
struct LineRef {
    std::shared_ptr<const LineBlock> block;  ///< keeps `text` valid
    std::string_view text;
};

class LineReader {
 public:
    /// Open `path`; block_bytes is the size of a block (1 MB; tests use less).
    explicit LineReader(const std::string& path, size_t block_bytes = size_t{1} << 20);
    ~LineReader();
    LineReader(const LineReader&) = delete;
    LineReader& operator=(const LineReader&) = delete;

    /// Read on from byte `off`.
    void seek(uint64_t off);
    /// The file's size now.
    uint64_t size();
    /// n bytes ending at byte `end` (fewer if the file starts sooner).
    std::string before(uint64_t end, uint64_t n);
    /// Next line without its '\n'; false at the end of the file. A last
    /// line without its '\n' is returned too, unless `whole_only` (a writer
    /// may be in the middle of it): then it stays unread until its '\n'
    /// comes (a later call, after the file grew, returns it whole).
    bool next(LineRef& line, bool whole_only);
    /// "device:inode" of the open file, and of whatever the path names now
    /// ("" if nothing): they differ once the ledger was rotated.
    std::string file_id() const;
    std::string path_id() const;
    /// Open the file the path names now, at its start.
    void reopen();
    /// Bytes of an unfinished last line held back by next(whole_only).
    size_t partial() const { return end_ - pos_; }
    /// Byte offset just past the last line returned.
    uint64_t offset() const { return offset_; }
    /// Blocks allocated so far (for tests: they are reused).
    size_t blocks() const { return allocated_; }

 private:
    struct Pool;
    bool refill();
    std::shared_ptr<LineBlock> take_block(size_t bytes);

    std::string path_;
    const size_t block_bytes_;
    std::FILE* f_ = nullptr;
    std::shared_ptr<Pool> pool_;      ///< blocks no line points into
    size_t allocated_ = 0;            ///< blocks allocated
    std::shared_ptr<LineBlock> cur_;  ///< the block being read
    size_t pos_ = 0;                  ///< start of the unread bytes of cur_
    size_t scan_ = 0;                 ///< where to look for the next '\n' (there is none in [pos_, scan_))
    size_t end_ = 0;                  ///< end of the bytes read into cur_
    uint64_t offset_ = 0;
};

}  // namespace nmvec::ingest

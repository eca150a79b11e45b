// line_reader.cpp — see line_reader.h.
#include "line_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace nmvec::ingest {

namespace {

/// Free blocks the pool keeps: as many as a batch of 5,000 lines of 5 kB
/// lets go of at its commit, so that the next one allocates none (a longer
/// --batch holds more in use, and frees some).
constexpr size_t kSpareBlocks = 32;

std::string id_of(const struct stat& st) {
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

}  // namespace

struct LineReader::Pool {
    std::mutex m;
    std::vector<std::unique_ptr<LineBlock>> free;
};

LineReader::LineReader(const std::string& path, size_t block_bytes)
    : path_(path), block_bytes_(std::max<size_t>(block_bytes, 1)), pool_(std::make_shared<Pool>()) {
    f_ = std::fopen(path.c_str(), "rb");
    if (!f_) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
    std::setvbuf(f_, nullptr, _IONBF, 0);  // the blocks are the buffer
}

LineReader::~LineReader() { std::fclose(f_); }

void LineReader::seek(uint64_t off) {
    if (fseeko(f_, static_cast<off_t>(off), SEEK_SET) != 0)
        throw std::runtime_error("cannot seek in " + path_ + ": " + std::strerror(errno));
    offset_ = off;
    pos_ = scan_ = end_ = 0;
    std::clearerr(f_);
}

uint64_t LineReader::size() {
    struct stat st;
    if (fstat(fileno(f_), &st) != 0)
        throw std::runtime_error("cannot stat " + path_ + ": " + std::strerror(errno));
    return static_cast<uint64_t>(st.st_size);
}

std::string LineReader::before(uint64_t end, uint64_t n) {
    n = std::min(n, end);
    std::string out(n, '\0');
    ssize_t got = pread(fileno(f_), out.data(), n, static_cast<off_t>(end - n));
    if (got != static_cast<ssize_t>(n))
        throw std::runtime_error("cannot read " + path_ + ": " + std::strerror(errno));
    return out;
}

bool LineReader::next(LineRef& line, bool whole_only) {
    for (;;) {
        if (cur_) {
            const char* base = cur_->bytes.get();
            const void* nl = std::memchr(base + scan_, '\n', end_ - scan_);
            if (nl) {
                const size_t n = static_cast<size_t>(static_cast<const char*>(nl) - (base + pos_));
                line.block = cur_;
                line.text = std::string_view(base + pos_, n);
                pos_ += n + 1;
                scan_ = pos_;
                offset_ += n + 1;
                return true;
            }
            scan_ = end_;
        }
        if (!refill()) {
            if (pos_ == end_ || whole_only) return false;  // nothing, or an unfinished line left unread
            line.block = cur_;
            line.text = std::string_view(cur_->bytes.get() + pos_, end_ - pos_);
            offset_ += end_ - pos_;
            pos_ = scan_ = end_;
            return true;
        }
    }
}

std::string LineReader::file_id() const {
    struct stat st;
    return fstat(fileno(f_), &st) == 0 ? id_of(st) : "";
}

std::string LineReader::path_id() const {
    struct stat st;
    return stat(path_.c_str(), &st) == 0 ? id_of(st) : "";
}

void LineReader::reopen() {
    std::FILE* f = std::fopen(path_.c_str(), "rb");
    if (!f) throw std::runtime_error("cannot open " + path_ + ": " + std::strerror(errno));
    std::fclose(f_);
    f_ = f;
    std::setvbuf(f_, nullptr, _IONBF, 0);
    seek(0);
}

/// A block of at least `bytes`, from the pool if it has one: when the
/// last line pointing into it lets go, it goes back to the pool (or is
/// freed, if the pool has enough).
std::shared_ptr<LineBlock> LineReader::take_block(size_t bytes) {
    std::unique_ptr<LineBlock> b;
    {
        std::lock_guard<std::mutex> g(pool_->m);
        auto& free = pool_->free;
        for (size_t i = 0; i < free.size(); ++i)
            if (free[i]->size >= bytes) {
                b = std::move(free[i]);
                free.erase(free.begin() + static_cast<std::ptrdiff_t>(i));
                break;
            }
    }
    if (!b) {
        b = std::make_unique<LineBlock>(bytes);
        ++allocated_;
    }
    std::shared_ptr<Pool> pool = pool_;
    return std::shared_ptr<LineBlock>(b.release(), [pool](LineBlock* block) {
        std::unique_ptr<LineBlock> owned(block);
        std::lock_guard<std::mutex> g(pool->m);
        if (pool->free.size() < kSpareBlocks) pool->free.push_back(std::move(owned));
    });
}

/// Read more after the unread bytes [pos_, end_), which move to the start
/// of a block from the pool (at least twice their size). false if the file
/// has nothing more now.
bool LineReader::refill() {
    const size_t keep = end_ - pos_;
    std::shared_ptr<LineBlock> b = take_block(std::max(block_bytes_, 2 * keep));
    if (keep) std::memcpy(b->bytes.get(), cur_->bytes.get() + pos_, keep);
    cur_ = b;           // the old block goes back to the pool once no line points into it
    std::clearerr(f_);  // a file that grew since the last end of file
    const size_t got = std::fread(b->bytes.get() + keep, 1, b->size - keep, f_);
    if (got == 0 && std::ferror(f_))
        throw std::runtime_error("cannot read " + path_ + ": " + std::strerror(errno));
    scan_ = keep;
    pos_ = 0;
    end_ = keep + got;
    return got > 0;
}

}  // namespace nmvec::ingest

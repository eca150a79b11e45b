// page_copies.h — copies of parts of index pages that can no longer change,
// kept by a backend from one scan to the next (src/pg/hnsw_storage.cpp: the
// zone, the filter-column values and the sweep codes of each full hnsw node
// page).
//
// A pass over every element (an exact pass, a sweep) judges each node page
// by its zone before it reads the page's filter values, and a filtered walk
// checks the filter values of each neighbour it meets. Both lie on the node
// pages, so each judgement and each check cost a pin (and the zone a lock):
// for a category on a quarter of the pages, most of an exact pass went to
// pages it then skipped. A zone only grows, and only when a record is added
// to its page, and a record's filter values are written once; once every
// record of a page is written, both are final and a copy serves as well as
// the page. The copies are kept by page number, a fixed number of bytes a
// page, up to a number of bytes the caller grants.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace nmvec::filter {

class PageCopies {
 public:
    explicit PageCopies(uint32_t page_bytes) : page_bytes_(page_bytes) {}

    /// Bytes of one page's copy.
    uint32_t page_bytes() const { return page_bytes_; }

    /// The kept copy of page's bytes, or nullptr when there is none.
    const uint8_t* find(uint32_t page) const {
        if (page >= pages_ || !((have_[page / 64] >> (page % 64)) & 1u)) return nullptr;
        return data_.get() + static_cast<size_t>(page) * page_bytes_;
    }

    /// Keeps a copy of page's bytes (page_bytes() of them). Past the end of
    /// the arrays they grow to `pages` (the caller's count of the pages
    /// there are) or a quarter past the page, whichever is more; false
    /// (nothing kept) when that would take more than `room` bytes beyond
    /// bytes(). The data array is not zeroed: the memory of pages never
    /// copied is never touched (growing one page at a time, zeroing and
    /// copying the whole array each time, made a new backend's first scan
    /// of 4,000 pages 10 ms slower).
    bool put(uint32_t page, const uint8_t* from, size_t room, uint32_t pages = 0) {
        if (!fits(page, room, pages)) return false;
        if (page >= pages_) {
            const uint32_t want = std::max(pages, page + 1 + page / 4 + 16);
            std::unique_ptr<uint8_t[]> data(new uint8_t[static_cast<size_t>(want) * page_bytes_]);
            for (uint32_t p = 0; p < pages_; ++p)
                if ((have_[p / 64] >> (p % 64)) & 1u)
                    memcpy(data.get() + static_cast<size_t>(p) * page_bytes_,
                           data_.get() + static_cast<size_t>(p) * page_bytes_, page_bytes_);
            have_.resize((want + 63) / 64);
            data_ = std::move(data);
            pages_ = want;
        }
        memcpy(data_.get() + static_cast<size_t>(page) * page_bytes_, from, page_bytes_);
        have_[page / 64] |= uint64_t{1} << (page % 64);
        return true;
    }

    /// Whether put(page, ..., room, pages) would keep the copy.
    bool fits(uint32_t page, size_t room, uint32_t pages = 0) const {
        return page < pages_ || bytes_for(std::max(pages, page + 1 + page / 4 + 16)) - bytes() <= room;
    }

    /// The bytes the copies take (their arrays, kept or not).
    size_t bytes() const { return bytes_for(pages_); }

 private:
    size_t bytes_for(uint32_t pages) const {
        return static_cast<size_t>(pages) * page_bytes_ + (pages + 63) / 64 * sizeof(uint64_t);
    }

    uint32_t page_bytes_;
    uint32_t pages_ = 0;  // pages the arrays cover
    std::unique_ptr<uint8_t[]> data_;
    std::vector<uint64_t> have_;  // bit p: page p's copy is kept
};

}  // namespace nmvec::filter

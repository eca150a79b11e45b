// page_copies.h — copies of parts of index pages that can no longer change,
// kept by a backend from one scan to the next (src/pg/hnsw_storage.cpp: the
// zone and the filter-column values of each full hnsw node page).
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

#include <cstddef>
#include <cstdint>
#include <cstring>
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
        return data_.data() + static_cast<size_t>(page) * page_bytes_;
    }

    /// Keeps a copy of page's bytes (page_bytes() of them). The arrays grow by
    /// a quarter past the page at a time; false (nothing kept) when that
    /// would take more than `room` bytes beyond bytes().
    bool put(uint32_t page, const uint8_t* from, size_t room) {
        if (page >= pages_) {
            const uint32_t want = page + 1 + page / 4 + 16;
            if (bytes_for(want) - bytes() > room) return false;
            data_.resize(static_cast<size_t>(want) * page_bytes_);
            have_.resize((want + 63) / 64);
            pages_ = want;
        }
        memcpy(data_.data() + static_cast<size_t>(page) * page_bytes_, from, page_bytes_);
        have_[page / 64] |= uint64_t{1} << (page % 64);
        return true;
    }

    /// The bytes the copies take (their arrays, kept or not).
    size_t bytes() const { return bytes_for(pages_); }

 private:
    size_t bytes_for(uint32_t pages) const {
        return static_cast<size_t>(pages) * page_bytes_ + (pages + 63) / 64 * sizeof(uint64_t);
    }

    uint32_t page_bytes_;
    uint32_t pages_ = 0;  // pages the arrays cover
    std::vector<uint8_t> data_;
    std::vector<uint64_t> have_;  // bit p: page p's copy is kept
};

}  // namespace nmvec::filter

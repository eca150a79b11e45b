// zone_cache.h — copies of node-page zones (attr_filter.h's ZoneLayout)
// that can no longer change, kept by a backend from one scan to the next.
//
// A pass over every element (an exact pass, a sweep) judges each node page
// by its zone before it reads the page's filter values. The zone lies on
// the page it rules out, so judging it used to cost a pin, a lock and the
// page's first cache lines: for a category on a quarter of the pages, most
// of such a pass went to pages it then skipped. A zone only grows, and only
// when a record is added to its page; once every record of a page is
// written, its zone is final and a copy judges as well as the page. The
// copies are kept by page number, up to a number of bytes the caller grants.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace nmvec::filter {

class ZoneCache {
 public:
    explicit ZoneCache(uint32_t zone_bytes) : zone_bytes_(zone_bytes) {}

    uint32_t zone_bytes() const { return zone_bytes_; }

    /// The kept copy of page's zone, or nullptr when there is none.
    const uint8_t* find(uint32_t page) const {
        if (page >= pages_ || !((have_[page / 64] >> (page % 64)) & 1u)) return nullptr;
        return data_.data() + static_cast<size_t>(page) * zone_bytes_;
    }

    /// Keeps a copy of page's zone (zone_bytes() bytes). The arrays grow by
    /// a quarter past the page at a time; false (nothing kept) when that
    /// would take more than `room` bytes beyond bytes().
    bool put(uint32_t page, const uint8_t* zone, size_t room) {
        if (page >= pages_) {
            const uint32_t want = page + 1 + page / 4 + 16;
            if (bytes_for(want) - bytes() > room) return false;
            data_.resize(static_cast<size_t>(want) * zone_bytes_);
            have_.resize((want + 63) / 64);
            pages_ = want;
        }
        memcpy(data_.data() + static_cast<size_t>(page) * zone_bytes_, zone, zone_bytes_);
        have_[page / 64] |= uint64_t{1} << (page % 64);
        return true;
    }

    /// The bytes the copies take (their arrays, kept or not).
    size_t bytes() const { return bytes_for(pages_); }

 private:
    size_t bytes_for(uint32_t pages) const {
        return static_cast<size_t>(pages) * zone_bytes_ + (pages + 63) / 64 * sizeof(uint64_t);
    }

    uint32_t zone_bytes_;
    uint32_t pages_ = 0;  // pages the arrays cover
    std::vector<uint8_t> data_;
    std::vector<uint64_t> have_;  // bit p: page p's zone is kept
};

}  // namespace nmvec::filter

// memory.h — hints to the kernel about large buffers.
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace nmvec {

/// Ask for transparent huge pages on [p, p + bytes) (the whole 2 MiB pages
/// inside it), before the memory is first touched: a graph build walks
/// hundreds of megabytes of vectors at random, and with 4 KiB pages it pays a
/// TLB miss on nearly every vector and a page fault per 4 KiB while loading.
/// A hint only: does nothing where THP is off or unsupported.
void advise_huge_pages(void* p, size_t bytes) noexcept;

/// Allocator handing out 64-byte aligned memory: vectors of a multiple of 64
/// bytes stored back to back then all start on a cache line, and SIMD loads
/// over them never straddle two lines.
template <class T>
struct CacheLineAllocator {
    using value_type = T;
    CacheLineAllocator() = default;
    template <class U>
    CacheLineAllocator(const CacheLineAllocator<U>&) noexcept {}
    T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(64))); }
    void deallocate(T* p, size_t) noexcept { ::operator delete(p, std::align_val_t(64)); }
    template <class U>
    bool operator==(const CacheLineAllocator<U>&) const noexcept {
        return true;
    }
    template <class U>
    bool operator!=(const CacheLineAllocator<U>&) const noexcept {
        return false;
    }
};

/// Buffers whose start is on a cache line.
using AlignedFloats = std::vector<float, CacheLineAllocator<float>>;
using AlignedBytes = std::vector<char, CacheLineAllocator<char>>;

}  // namespace nmvec

// memory.h — hints to the kernel about large buffers.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>
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

/// Allocator whose construct() with no arguments default-initialises:
/// resize() on a vector of trivial elements then leaves the new elements
/// unwritten instead of zeroing them, for buffers filled right after they
/// grow (a scan's candidates: zeroing them first was a measurable share of
/// a query).
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
    template <class U>
    struct rebind {
        using other = DefaultInitAllocator<U>;
    };
    DefaultInitAllocator() = default;
    template <class U>
    DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
    template <class U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible<U>::value) {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

/// A vector whose resize() does not zero new trivial elements.
template <class T>
using UninitVector = std::vector<T, DefaultInitAllocator<T>>;

/// Buffers whose start is on a cache line.
using AlignedFloats = std::vector<float, CacheLineAllocator<float>>;
using AlignedBytes = std::vector<char, CacheLineAllocator<char>>;

}  // namespace nmvec

// memory.h — hints to the kernel about large buffers.
#pragma once

#include <cstddef>

namespace nmvec {

/// Ask for transparent huge pages on [p, p + bytes) (the whole 2 MiB pages
/// inside it), before the memory is first touched: a graph build walks
/// hundreds of megabytes of vectors at random, and with 4 KiB pages it pays a
/// TLB miss on nearly every vector and a page fault per 4 KiB while loading.
/// A hint only: does nothing where THP is off or unsupported.
void advise_huge_pages(void* p, size_t bytes) noexcept;

}  // namespace nmvec

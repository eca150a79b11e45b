// cxx_context.h — C++ objects owned by a Postgres memory context.
//
// A C++ object that must survive a Postgres error (a scan state full of
// std::vectors, say) is placement-new'd into its own memory context, and a
// reset callback on that context runs its destructor. Whether the context
// is deleted normally (endscan) or by error cleanup (transaction abort), the
// destructor runs exactly once, so a longjmp through code using the object
// leaks nothing.
#pragma once

#include <new>
#include <utility>

#include "pg.h"

namespace nmvec::pg {

template <typename T>
void destroy_in_context(void* arg) {
    static_cast<T*>(arg)->~T();
}

/// New T(args...) in a fresh child context of `parent`; the context (and T)
/// dies with the parent or with MemoryContextDelete(context_of(obj)).
template <typename T, typename... Args>
T* new_in_context(MemoryContext parent, const char* name, Args&&... args) {
    MemoryContext cxt =
        AllocSetContextCreateInternal(parent, name, ALLOCSET_SMALL_SIZES);  // name: a string literal
    void* mem = MemoryContextAllocZero(cxt, MAXALIGN(sizeof(T)) + sizeof(MemoryContextCallback));
    auto* cb = reinterpret_cast<MemoryContextCallback*>(static_cast<char*>(mem) + MAXALIGN(sizeof(T)));
    T* obj = new (mem) T(std::forward<Args>(args)...);  // may throw: the context is then just freed memory
    cb->func = destroy_in_context<T>;
    cb->arg = obj;
    MemoryContextRegisterResetCallback(cxt, cb);
    return obj;
}

}  // namespace nmvec::pg

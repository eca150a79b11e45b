// guard.h — the C++ / Postgres error boundary (see DESIGN.md).
//
// Two directions:
//  * C++ -> Postgres: every SQL-callable function is defined with
//    NMVEC_FUNCTION(name). Its body runs inside nmvec::pg::guarded(), which
//    catches every exception, lets the C++ frames unwind (destructors run),
//    copies the message into plain storage, and only then calls ereport.
//    No exception ever reaches Postgres.
//  * Postgres -> C++: a Postgres call that may ereport while C++ objects with
//    destructors are alive goes through nmvec::pg::pg_call(), which runs it
//    under PG_TRY and rethrows the error as nmvec::pg::PgError. No C++
//    exception is ever thrown inside the PG_TRY block itself.
//
// Bodies that hold no objects with non-trivial destructors may call Postgres
// directly (palloc, PG_GETARG_*): a longjmp over trivially destructible
// frames is harmless.
#pragma once

#include "pg.h"

#include "../core/error.h"

namespace nmvec::pg {

/// A Postgres error caught by pg_call, carried through C++ frames.
class PgError : public std::exception {
 public:
    explicit PgError(ErrorData* edata) : edata_(edata) {}
    const char* what() const noexcept override {
        return edata_->message ? edata_->message : "postgres error";
    }
    ErrorData* edata() const noexcept { return edata_; }

 private:
    ErrorData* edata_;  // palloc'd copy, lives in the caller's memory context
};

/// What guarded() keeps of an exception once the C++ frames are gone.
struct CaughtError {
    int sqlstate;
    char message[1024];
    char detail[1024];
    char hint[512];
    ErrorData* pg;  // set when the exception was a PgError: rethrown as is
};

void capture(CaughtError& out, const Error& e) noexcept;
void capture(CaughtError& out, const PgError& e) noexcept;
void capture(CaughtError& out, const char* what, int sqlstate) noexcept;
[[noreturn]] void raise(const CaughtError& err);

/// Run body() and turn any exception into an ereport(ERROR) after unwinding.
template <typename Body>
Datum guarded(Body&& body) {
    CaughtError err;
    err.pg = nullptr;
    try {
        return body();
    } catch (const Error& e) {
        capture(err, e);
    } catch (const PgError& e) {
        capture(err, e);
    } catch (const std::bad_alloc&) {
        capture(err, "out of memory", ERRCODE_OUT_OF_MEMORY);
    } catch (const std::exception& e) {
        capture(err, e.what(), ERRCODE_INTERNAL_ERROR);
    } catch (...) {
        capture(err, "unknown C++ exception", ERRCODE_INTERNAL_ERROR);
    }
    raise(err);  // the exception object and every C++ frame are gone now
}

/// Run a Postgres call that may ereport, from C++ code that owns objects with
/// destructors; a Postgres error comes back as a thrown PgError.
template <typename Fn>
void pg_call(Fn&& fn) {
    MemoryContext cxt = CurrentMemoryContext;
    ErrorData* volatile edata = nullptr;
    PG_TRY();
    { fn(); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(cxt);
        edata = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();
    if (edata != nullptr) throw PgError(edata);
}

}  // namespace nmvec::pg

/// Define a V1 SQL-callable function whose body is guarded C++:
///   NMVEC_FUNCTION(vector_dims) { ... return Int32GetDatum(n); }
#define NMVEC_FUNCTION(name)                                                            \
    static Datum name##_body([[maybe_unused]] FunctionCallInfo fcinfo);                 \
    extern "C" {                                                                        \
    PG_FUNCTION_INFO_V1(name);                                                          \
    }                                                                                   \
    extern "C" Datum name(PG_FUNCTION_ARGS) {                                           \
        return nmvec::pg::guarded([fcinfo]() -> Datum { return name##_body(fcinfo); }); \
    }                                                                                   \
    static Datum name##_body([[maybe_unused]] FunctionCallInfo fcinfo)

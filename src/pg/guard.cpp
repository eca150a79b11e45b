// guard.cpp — see guard.h.
#include "guard.h"

namespace nmvec::pg {
namespace {

int sqlstate_of(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::InvalidTextRepresentation:
            return ERRCODE_INVALID_TEXT_REPRESENTATION;
        case ErrorKind::InvalidBinaryRepresentation:
            return ERRCODE_INVALID_BINARY_REPRESENTATION;
        case ErrorKind::DataException:
        case ErrorKind::DimensionMismatch:
            return ERRCODE_DATA_EXCEPTION;
        case ErrorKind::OutOfRange:
            return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
        case ErrorKind::InvalidParameter:
            return ERRCODE_INVALID_PARAMETER_VALUE;
        case ErrorKind::ProgramLimitExceeded:
            return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
        case ErrorKind::FeatureNotSupported:
            return ERRCODE_FEATURE_NOT_SUPPORTED;
        case ErrorKind::Internal:
            break;
    }
    return ERRCODE_INTERNAL_ERROR;
}

void copy_text(char* dst, size_t cap, const char* src) noexcept {
    if (src == nullptr) {
        dst[0] = '\0';
        return;
    }
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

}  // namespace

void capture(CaughtError& out, const Error& e) noexcept {
    out.sqlstate = sqlstate_of(e.kind());
    copy_text(out.message, sizeof(out.message), e.what());
    copy_text(out.detail, sizeof(out.detail), e.detail().c_str());
    copy_text(out.hint, sizeof(out.hint), e.hint().c_str());
}

void capture(CaughtError& out, const PgError& e) noexcept { out.pg = e.edata(); }

void capture(CaughtError& out, const char* what, int sqlstate) noexcept {
    out.sqlstate = sqlstate;
    copy_text(out.message, sizeof(out.message), what);
    out.detail[0] = '\0';
    out.hint[0] = '\0';
}

void raise(const CaughtError& err) {
    if (err.pg != nullptr) ReThrowError(err.pg);
    ereport(ERROR,
            (errcode(err.sqlstate), errmsg("%s", err.message),
             err.detail[0] ? errdetail("%s", err.detail) : 0, err.hint[0] ? errhint("%s", err.hint) : 0));
    pg_unreachable();
}

}  // namespace nmvec::pg

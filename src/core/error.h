// error.h — the one exception type the core throws.
//
// The core never talks to Postgres. It reports problems by throwing
// nmvec::Error, whose Kind the Postgres glue (src/pg/guard.h) maps to a
// SQLSTATE after all C++ destructors have run.
#pragma once

#include <stdexcept>
#include <string>

namespace nmvec {

/// What went wrong, in terms the glue can map to a SQLSTATE.
enum class ErrorKind {
    InvalidTextRepresentation,  ///< malformed text input (22P02)
    InvalidBinaryRepresentation,///< malformed binary input (22P03)
    DataException,              ///< NaN, Infinity, other bad values (22000)
    OutOfRange,                 ///< value out of range for the type (22003)
    DimensionMismatch,          ///< operands of different dims (22000)
    InvalidParameter,           ///< bad argument or option (22023)
    ProgramLimitExceeded,       ///< e.g. more than the max dims (54000)
    FeatureNotSupported,        ///< (0A000)
    Internal,                   ///< a bug (XX000)
};

/// Exception thrown by the core. `what()` is the primary message (lower-case,
/// no trailing period, Postgres style); detail and hint are full sentences.
class Error : public std::runtime_error {
   public:
    Error(ErrorKind kind, const std::string& message, std::string detail = {}, std::string hint = {})
        : std::runtime_error(message), kind_(kind), detail_(std::move(detail)), hint_(std::move(hint)) {}

    ErrorKind kind() const noexcept { return kind_; }
    const std::string& detail() const noexcept { return detail_; }
    const std::string& hint() const noexcept { return hint_; }

   private:
    ErrorKind kind_;
    std::string detail_;
    std::string hint_;
};

}  // namespace nmvec

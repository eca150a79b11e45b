// options.h — nmvec-gen's command line. Implemented in options.cpp.
#pragma once

#include <stdexcept>
#include <string>

#include "generator.h"

namespace nmvec::gen {

enum class Format { Jsonl, CopyBinary, Both };

/// The parsed command line.
struct Options {
    Config cfg;
    Format format = Format::Jsonl;
    std::string out = "-";  ///< ledger.jsonl, or the COPY file with copy-binary; "-" is stdout
    std::string copy_out;   ///< the COPY file with --format both
    std::string queries_out;
    std::string truth_out;
    std::string verify;  ///< non-empty: verify this ledger instead of generating
    int threads = 0;     ///< formatting threads; 0: one per CPU
    bool help = false;
};

/// A bad command line; what() is the message for the user.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Parse argv[1..argc). Accepts "--flag value" and "--flag=value".
Options parse_options(int argc, const char* const* argv);

/// The --help text.
std::string usage();

/// Parse a start time: unix seconds, or YYYY-MM-DD[THH:MM:SS[Z]] in UTC.
/// Throws UsageError.
uint64_t parse_time(const std::string& s);

}  // namespace nmvec::gen

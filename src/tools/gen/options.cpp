// options.cpp — command-line parsing for nmvec-gen (see options.h).
#include "options.h"

#include <charconv>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

namespace nmvec::gen {

namespace {

uint64_t parse_u64(const std::string& flag, const std::string& v, uint64_t max = UINT64_MAX) {
    uint64_t x = 0;
    auto res = std::from_chars(v.data(), v.data() + v.size(), x);
    if (v.empty() || res.ec != std::errc() || res.ptr != v.data() + v.size())
        throw UsageError(flag + ": expected a non-negative integer, got \"" + v + "\"");
    if (x > max) throw UsageError(flag + ": " + v + " is larger than the maximum " + std::to_string(max));
    return x;
}

double parse_double(const std::string& flag, const std::string& v, double lo, double hi) {
    double x = 0;
    auto res = std::from_chars(v.data(), v.data() + v.size(), x);
    if (v.empty() || res.ec != std::errc() || res.ptr != v.data() + v.size())
        throw UsageError(flag + ": expected a number, got \"" + v + "\"");
    if (!(x >= lo && x <= hi))
        throw UsageError(flag + ": " + v + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) +
                         "]");
    return x;
}

/// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
/// (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

uint64_t parse_time(const std::string& s) {
    const std::string flag = "--start-time";
    if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) return parse_u64(flag, s);
    unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    int used = 0;
    bool ok = false;
    if (std::sscanf(s.c_str(), "%4u-%2u-%2u%n", &y, &mo, &d, &used) == 3 && size_t(used) == s.size()) {
        ok = true;
    } else if (std::sscanf(s.c_str(), "%4u-%2u-%2uT%2u:%2u:%2u%n", &y, &mo, &d, &h, &mi, &se, &used) == 6) {
        ok = size_t(used) == s.size() || (size_t(used) + 1 == s.size() && s.back() == 'Z');
    }
    static constexpr unsigned kMonthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (!ok || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > kMonthDays[mo - 1] || h > 23 || mi > 59 ||
        se > 59)
        throw UsageError(flag + ": expected unix seconds or YYYY-MM-DD[THH:MM:SS[Z]] (UTC), got \"" + s +
                         "\"");
    return static_cast<uint64_t>(days_from_civil(y, mo, d)) * 86400 + h * 3600 + mi * 60 + se;
}

std::string usage() {
    return R"(Usage: nmvec-gen [options]            generate synthetic nm-monitor events
       nmvec-gen --verify FILE          check a ledger.jsonl hash chain

Generates a deterministic fleet of nm-monitor v2 ledger blocks (same options,
same bytes) with pre-computed embeddings. See docs/ledger.md.

Generation:
  --rows N            events to generate (default 10000)
  --dims D            embedding dimensions, 1..16000 (default 384; 768 for
                      larger models, 64 like nm-monitor's own feature vectors)
  --seed S            random seed, unsigned 64-bit (default 1)
  --hosts H           hosts in the fleet (tenants) (default 100)
  --host-skew S       Zipf exponent of host sizes (default 1.1)
  --start-time T      first event time: unix seconds or YYYY-MM-DD[THH:MM:SS[Z]]
                      (UTC) (default 2025-10-01T00:00:00Z)
  --rate R            mean events per second over the fleet (default 1)
  --outlier-rate P    share of events with an outlier embedding (default 0.005)

Output:
  --out FILE          main output, "-" for stdout (default -)
  --format F          jsonl (default): ledger.jsonl lines to --out
                      copy-binary: PostgreSQL COPY BINARY of the events table to --out
                      both: ledger.jsonl to --out and COPY BINARY to --copy-out
  --copy-out FILE     the COPY BINARY file with --format both
  --truth-out FILE    heights (= events.id) of outlier events, one per line
  --queries Q         number of held-out query vectors (needs --queries-out)
  --queries-out FILE  query vectors in the vector text form, one "[...]" per line

Other:
  --threads N         formatting threads (default: one per CPU); the output
                      does not depend on it
  --verify FILE       recompute every hash, check heights and prev_hash links;
                      exit 1 at the first broken line ("-" reads stdin)
  --help              this text

Example:
  nmvec-gen --rows 1000000 --dims 384 --hosts 500 --seed 7 --out ledger.jsonl \
            --format both --copy-out events.pgcopy --truth-out outliers.txt \
            --queries 1000 --queries-out queries.txt
)";
}

Options parse_options(int argc, const char* const* argv) {
    Options o;
    Config& c = o.cfg;
    std::set<std::string> seen;
    using Setter = std::function<void(const std::string& flag, const std::string& value)>;
    const std::map<std::string, Setter> setters = {
        {"--rows", [&](auto& f, auto& v) { c.rows = parse_u64(f, v); }},
        {"--dims", [&](auto& f, auto& v) { c.dims = static_cast<int>(parse_u64(f, v, 16000)); }},
        {"--seed", [&](auto& f, auto& v) { c.seed = parse_u64(f, v); }},
        {"--hosts", [&](auto& f, auto& v) { c.hosts = static_cast<uint32_t>(parse_u64(f, v, 1000000)); }},
        {"--host-skew", [&](auto& f, auto& v) { c.host_skew = parse_double(f, v, 0, 10); }},
        {"--start-time", [&](auto&, auto& v) { c.start_time = parse_time(v); }},
        {"--rate", [&](auto& f, auto& v) { c.rate = parse_double(f, v, 1e-9, 1e9); }},
        {"--outlier-rate", [&](auto& f, auto& v) { c.outlier_rate = parse_double(f, v, 0, 1); }},
        {"--queries", [&](auto& f, auto& v) { c.queries = parse_u64(f, v); }},
        {"--threads", [&](auto& f, auto& v) { o.threads = static_cast<int>(parse_u64(f, v, 1024)); }},
        {"--out", [&](auto&, auto& v) { o.out = v; }},
        {"--copy-out", [&](auto&, auto& v) { o.copy_out = v; }},
        {"--queries-out", [&](auto&, auto& v) { o.queries_out = v; }},
        {"--truth-out", [&](auto&, auto& v) { o.truth_out = v; }},
        {"--verify", [&](auto&, auto& v) { o.verify = v; }},
        {"--format",
         [&](auto& f, auto& v) {
             if (v == "jsonl")
                 o.format = Format::Jsonl;
             else if (v == "copy-binary")
                 o.format = Format::CopyBinary;
             else if (v == "both")
                 o.format = Format::Both;
             else
                 throw UsageError(f + ": expected jsonl, copy-binary or both, got \"" + v + "\"");
         }},
    };
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            o.help = true;
            continue;
        }
        std::string flag = arg, value;
        bool inline_value = false;
        if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
            flag = arg.substr(0, eq);
            value = arg.substr(eq + 1);
            inline_value = true;
        }
        auto it = setters.find(flag);
        if (it == setters.end())
            throw UsageError(arg.rfind("-", 0) == 0 ? "unknown option " + flag
                                                    : "unexpected argument \"" + arg + "\"");
        if (!inline_value) {
            if (i + 1 >= argc) throw UsageError(flag + ": missing value");
            value = argv[++i];
        }
        if (!seen.insert(flag).second) throw UsageError(flag + " given more than once");
        static const std::set<std::string> kFileFlags = {"--out", "--copy-out", "--queries-out",
                                                         "--truth-out", "--verify"};
        if (value.empty() && kFileFlags.count(flag)) throw UsageError(flag + ": empty file name");
        it->second(flag, value);
    }
    if (o.help) return o;

    if (!o.verify.empty()) {
        if (seen.size() > 1) throw UsageError("--verify takes no other options");
        return o;
    }
    if (o.format == Format::Both && o.copy_out.empty())
        throw UsageError("--format both needs --copy-out FILE");
    if (o.format != Format::Both && !o.copy_out.empty())
        throw UsageError("--copy-out is only used with --format both (copy-binary writes to --out)");
    if (c.queries > 0 && o.queries_out.empty()) throw UsageError("--queries needs --queries-out FILE");
    if (c.queries == 0 && !o.queries_out.empty()) throw UsageError("--queries-out needs --queries Q (Q > 0)");

    // No two outputs may be the same file (stdout included).
    std::set<std::string> files;
    for (const std::string* f : {&o.out, &o.copy_out, &o.queries_out, &o.truth_out})
        if (!f->empty() && !files.insert(*f).second)
            throw UsageError("two outputs go to the same file: " + (*f == "-" ? std::string("stdout") : *f));
    try {
        validate(c);
    } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
    }
    return o;
}

}  // namespace nmvec::gen

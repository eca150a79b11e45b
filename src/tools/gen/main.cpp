// main.cpp — nmvec-gen: deterministic synthetic nm-monitor ledger, COPY and
// query files, and a ledger chain verifier. See docs/ledger.md.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ledger.h"
#include "ledger_verify.h"
#include "options.h"
#include "run.h"

using namespace nmvec::gen;

namespace {

/// An output file (or stdout), closed with an error check.
class OutFile {
 public:
    explicit OutFile(const std::string& path) : path_(path) {
        if (path == "-") {
            // stdout outlives this object: give it a buffer that lives as long.
            static std::vector<char> stdout_buf(kBufferSize);
            f_ = stdout;
            std::setvbuf(f_, stdout_buf.data(), _IOFBF, stdout_buf.size());
        } else {
            f_ = std::fopen(path.c_str(), "wb");
            if (!f_) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
            buf_.resize(kBufferSize);
            std::setvbuf(f_, buf_.data(), _IOFBF, buf_.size());
        }
    }
    ~OutFile() {
        if (f_ && f_ != stdout) std::fclose(f_);
    }
    OutFile(const OutFile&) = delete;
    OutFile& operator=(const OutFile&) = delete;

    std::FILE* get() const { return f_; }

    void close() {
        bool bad = std::fflush(f_) != 0 || std::ferror(f_);
        if (f_ != stdout) bad = std::fclose(f_) != 0 || bad;
        f_ = nullptr;
        if (bad) throw std::runtime_error("cannot write " + (path_ == "-" ? std::string("stdout") : path_));
    }

 private:
    static constexpr size_t kBufferSize = 4 << 20;
    std::string path_;
    std::FILE* f_ = nullptr;
    std::vector<char> buf_;
};

int run_verify(const std::string& path) {
    nmvec::VerifyReport r;
    try {
        r = nmvec::verify_ledger(path);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nmvec-gen: %s\n", e.what());
        return 2;
    }
    nmvec::print_verify_report(stdout, path, r);
    if (!r.ok) {
        std::fprintf(stderr, "nmvec-gen: %s: line %" PRIu64 ": %s\n", path.c_str(), r.error_line,
                     r.error.c_str());
        return 1;
    }
    return 0;
}

int run_generate(const Options& o) {
    auto t0 = std::chrono::steady_clock::now();
    std::unique_ptr<OutFile> ledger, copy, truth, queries;
    if (o.format != Format::CopyBinary) ledger = std::make_unique<OutFile>(o.out);
    if (o.format == Format::CopyBinary) copy = std::make_unique<OutFile>(o.out);
    if (o.format == Format::Both) copy = std::make_unique<OutFile>(o.copy_out);
    if (!o.truth_out.empty()) truth = std::make_unique<OutFile>(o.truth_out);
    if (!o.queries_out.empty()) queries = std::make_unique<OutFile>(o.queries_out);

    Outputs out;
    out.ledger = ledger ? ledger->get() : nullptr;
    out.copy = copy ? copy->get() : nullptr;
    out.truth = truth ? truth->get() : nullptr;
    out.queries = queries ? queries->get() : nullptr;
    int threads =
        o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    RunStats s = generate(o.cfg, out, threads);
    for (auto* f : {&ledger, &copy, &truth, &queries})
        if (*f) (*f)->close();

    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr,
                 "nmvec-gen: %" PRIu64 " events (%" PRIu64 " outliers), %d-d, %u hosts, %s .. %s; %" PRIu64
                 " queries; %.2f s (%.0f events/s, %d threads)\n",
                 s.rows, s.outliers, o.cfg.dims, o.cfg.hosts,
                 s.rows ? nmvec::utc_iso8601(s.first_timestamp).c_str() : "-",
                 s.rows ? nmvec::utc_iso8601(s.last_timestamp).c_str() : "-", s.queries, secs,
                 secs > 0 ? double(s.rows) / secs : 0.0, threads);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    try {
        o = parse_options(argc, argv);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "nmvec-gen: %s\nTry 'nmvec-gen --help'.\n", e.what());
        return 2;
    }
    if (o.help) {
        std::fputs(usage().c_str(), stdout);
        return 0;
    }
    if (!o.verify.empty()) return run_verify(o.verify);
    try {
        return run_generate(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nmvec-gen: %s\n", e.what());
        return 1;
    }
}

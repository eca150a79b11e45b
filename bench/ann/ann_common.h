// ann_common.h: shared helpers of the bench/ann programs (ann_prep, ann_gt,
// ann_baseline, ann_interp). Implemented in ann_common.cpp.
//
// File formats (all little-endian, as written on x86-64):
//   .fvecs  per vector: int32 dim, then dim float32 (the TEXMEX/ann-benchmarks format)
//   .ivecs  per row:    int32 k,   then k int32
//   .i32    a raw array of int32, no header
// Writers go through a temporary file and rename(2), so a reader never sees a
// half-written file and an interrupted run leaves no output that looks valid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ann {

/// Row-major n x d matrix of float32 vectors.
struct FloatMatrix {
    size_t n = 0;             ///< number of vectors
    size_t d = 0;             ///< dimensions per vector
    std::vector<float> data;  ///< n * d values

    const float* row(size_t i) const { return data.data() + i * d; }
};

/// Row-major n x k matrix of int32 (neighbour ids; -1 pads rows with fewer matches).
struct IdMatrix {
    size_t n = 0;               ///< rows (queries)
    size_t k = 0;               ///< ids per row
    std::vector<int32_t> data;  ///< n * k ids

    const int32_t* row(size_t i) const { return data.data() + i * k; }
};

/// Prints "<program>: <message>" to stderr and exits with status 1.
[[noreturn]] void die(const std::string& message);

/// Sets the program name used by die() and log_line().
void set_program_name(const char* argv0);

/// Prints "[hh:mm:ss] <program>: <message>" to stderr.
void log_line(const std::string& message);

/// printf into a std::string.
std::string strprintf(const char* format, ...) __attribute__((format(printf, 1, 2)));

/// Reads at most max_rows vectors of an .fvecs file; every vector must have the same dim.
FloatMatrix read_fvecs(const std::string& path, size_t max_rows = SIZE_MAX);
void write_fvecs(const std::string& path, const float* data, size_t n, size_t d);

/// Reads at most max_rows rows of an .ivecs file; every row must have the same length.
IdMatrix read_ivecs(const std::string& path, size_t max_rows = SIZE_MAX);
void write_ivecs(const std::string& path, const int32_t* data, size_t n, size_t k);

std::vector<int32_t> read_i32(const std::string& path);
void write_i32(const std::string& path, const std::vector<int32_t>& values);

/// Writes text through a temporary file and rename(2).
void write_text(const std::string& path, const std::string& text);

bool file_exists(const std::string& path);
/// Modification time in nanoseconds since the epoch; dies if the file is missing.
int64_t file_mtime_ns(const std::string& path);
/// mkdir -p.
void make_dirs(const std::string& path);

/// Seconds on a monotonic clock.
double now_s();

/// Current resident set size and the process's peak RSS, in MiB.
double rss_mib();
double peak_rss_mib();
/// CPU time (user + system) consumed so far by the calling thread, in seconds.
double thread_cpu_s();
/// CPU time (user + system) consumed so far by the whole process, in seconds.
double process_cpu_s();

/// Share of the machine's CPU time (all cores) that was busy during the next
/// window_s seconds, from /proc/stat. Called while this process sleeps, it
/// measures what other processes use: 0 = idle machine, 1 = all cores busy.
double machine_busy_share(double window_s);
/// Measures, over an interval, how much CPU other processes used: from /proc/stat's
/// busy time of all cores (steal included) minus this process's CPU time.
class OthersMeter {
 public:
    OthersMeter();
    /// Cores' worth of CPU that other processes (and the hypervisor) used since
    /// construction: 0 = none, 1 = one core's worth all along. -1 if unknown.
    double others_cores() const;

 private:
    unsigned long long busy0_ = 0, total0_ = 0;
    double cpu0_, wall0_;
    bool ok_;
};

/// Waits up to max_wait_s until machine_busy_share(0.5) <= threshold. Returns the
/// last share measured (so the caller can record how quiet the machine was).
double wait_for_quiet(double max_wait_s, double threshold);
/// Returns freed heap memory to the OS (malloc_trim), so RSS deltas mean something.
void trim_heap();

/// Sets the number of threads used by OpenMP (FAISS) and, when the BLAS loaded at
/// run time is OpenBLAS, by OpenBLAS too (looked up with dlsym, so the program
/// still links against the generic libblas.so.3 of Debian's alternatives).
void set_threads(int threads);
/// One line naming the BLAS in use, e.g. "OpenBLAS 0.3.21 ... (openblas_set_num_threads found)".
std::string blas_description();

/// Command-line options "--name value" and flags "--name" (a flag is an option
/// followed by another option or by nothing); "--help" is recognised.
/// Every option read through get*() is marked used; finish() rejects the rest.
class Options {
 public:
    /// usage is printed for --help (exit 0) and after errors (exit 2).
    Options(int argc, char** argv, std::string usage);

    bool has(const std::string& name) const;
    /// True if --name was given (as a flag, without a value).
    bool flag(const std::string& name);
    std::string get(const std::string& name, const std::string& fallback);
    std::string get_required(const std::string& name);
    long get_int(const std::string& name, long fallback);
    double get_double(const std::string& name, double fallback);
    /// Comma-separated list of integers, e.g. "1,2".
    std::vector<long> get_int_list(const std::string& name, const std::vector<long>& fallback);
    /// Comma-separated list of doubles, e.g. "0.9,0.95".
    std::vector<double> get_double_list(const std::string& name, const std::vector<double>& fallback);
    /// Dies (exit 2) if an option was given that no get*() asked for.
    void finish() const;
    [[noreturn]] void usage_error(const std::string& message) const;

 private:
    std::string usage_;
    std::map<std::string, std::string> values_;
    mutable std::map<std::string, bool> used_;
};

/// Splits on a separator character, keeping empty fields.
std::vector<std::string> split(const std::string& text, char separator);

}  // namespace ann

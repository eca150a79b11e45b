// ann_common.cpp: file formats, options, clocks, memory and thread control for bench/ann.
#include "ann_common.h"

#include <dlfcn.h>
#include <malloc.h>
#include <omp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <algorithm>
#include <memory>

namespace ann {

namespace {

std::string g_program = "ann";

struct FileCloser {
    void operator()(FILE* f) const {
        if (f) fclose(f);
    }
};
using File = std::unique_ptr<FILE, FileCloser>;

File open_or_die(const std::string& path, const char* mode) {
    File f(fopen(path.c_str(), mode));
    if (!f) die(strprintf("cannot open %s: %s", path.c_str(), strerror(errno)));
    return f;
}

/// Writes a file through path + ".tmp.<pid>" and renames it into place.
class AtomicWriter {
 public:
    explicit AtomicWriter(const std::string& path)
        : path_(path), tmp_(path + ".tmp." + std::to_string(getpid())), file_(open_or_die(tmp_, "wb")) {}

    void write(const void* data, size_t bytes) {
        if (bytes && fwrite(data, 1, bytes, file_.get()) != bytes)
            die(strprintf("write to %s failed: %s", tmp_.c_str(), strerror(errno)));
    }

    void commit() {
        FILE* f = file_.release();
        if (fclose(f) != 0) die(strprintf("close of %s failed: %s", tmp_.c_str(), strerror(errno)));
        if (rename(tmp_.c_str(), path_.c_str()) != 0)
            die(strprintf("rename %s -> %s failed: %s", tmp_.c_str(), path_.c_str(), strerror(errno)));
    }

    ~AtomicWriter() {
        if (file_) {
            file_.reset();
            unlink(tmp_.c_str());
        }
    }

 private:
    std::string path_;
    std::string tmp_;
    File file_;
};

/// Reads fixed-length records "int32 len, len x 4-byte values" (fvecs/ivecs).
template <typename T>
std::vector<T> read_vecs(const std::string& path, size_t max_rows, size_t* rows, size_t* dim) {
    File f = open_or_die(path, "rb");
    int32_t len = 0;
    if (fread(&len, sizeof len, 1, f.get()) != 1) {
        *rows = 0;
        *dim = 0;
        return {};
    }
    if (len <= 0) die(strprintf("%s: bad vector length %d", path.c_str(), len));
    struct stat st;
    if (fstat(fileno(f.get()), &st) != 0) die(strprintf("stat %s: %s", path.c_str(), strerror(errno)));
    const size_t record = sizeof(int32_t) + size_t(len) * sizeof(T);
    if (size_t(st.st_size) % record != 0)
        die(strprintf("%s: size %lld is not a multiple of the record size %zu", path.c_str(),
                      static_cast<long long>(st.st_size), record));
    size_t n = size_t(st.st_size) / record;
    if (n > max_rows) n = max_rows;
    std::vector<T> out(n * size_t(len));
    for (size_t i = 0; i < n; ++i) {
        if (i > 0) {
            int32_t this_len = 0;
            if (fread(&this_len, sizeof this_len, 1, f.get()) != 1 || this_len != len)
                die(strprintf("%s: row %zu has length %d, expected %d", path.c_str(), i, this_len, len));
        }
        if (fread(out.data() + i * size_t(len), sizeof(T), size_t(len), f.get()) != size_t(len))
            die(strprintf("%s: short read in row %zu", path.c_str(), i));
    }
    *rows = n;
    *dim = size_t(len);
    return out;
}

template <typename T>
void write_vecs(const std::string& path, const T* data, size_t n, size_t d) {
    AtomicWriter w(path);
    const int32_t len = static_cast<int32_t>(d);
    for (size_t i = 0; i < n; ++i) {
        w.write(&len, sizeof len);
        w.write(data + i * d, d * sizeof(T));
    }
    w.commit();
}

std::string clock_string() {
    time_t t = time(nullptr);
    struct tm tm;
    localtime_r(&t, &tm);
    char buf[16];
    strftime(buf, sizeof buf, "%H:%M:%S", &tm);
    return buf;
}

}  // namespace

void die(const std::string& message) {
    fprintf(stderr, "%s: error: %s\n", g_program.c_str(), message.c_str());
    exit(1);
}

void set_program_name(const char* argv0) {
    const char* slash = strrchr(argv0, '/');
    g_program = slash ? slash + 1 : argv0;
}

void log_line(const std::string& message) {
    fprintf(stderr, "[%s] %s: %s\n", clock_string().c_str(), g_program.c_str(), message.c_str());
}

std::string strprintf(const char* format, ...) {
    va_list args;
    va_start(args, format);
    va_list copy;
    va_copy(copy, args);
    const int len = vsnprintf(nullptr, 0, format, copy);
    va_end(copy);
    std::string out(len > 0 ? size_t(len) : 0, '\0');
    if (len > 0) vsnprintf(&out[0], size_t(len) + 1, format, args);
    va_end(args);
    return out;
}

FloatMatrix read_fvecs(const std::string& path, size_t max_rows) {
    FloatMatrix m;
    m.data = read_vecs<float>(path, max_rows, &m.n, &m.d);
    return m;
}

void write_fvecs(const std::string& path, const float* data, size_t n, size_t d) {
    write_vecs(path, data, n, d);
}

IdMatrix read_ivecs(const std::string& path, size_t max_rows) {
    IdMatrix m;
    m.data = read_vecs<int32_t>(path, max_rows, &m.n, &m.k);
    return m;
}

void write_ivecs(const std::string& path, const int32_t* data, size_t n, size_t k) {
    write_vecs(path, data, n, k);
}

std::vector<int32_t> read_i32(const std::string& path) {
    File f = open_or_die(path, "rb");
    struct stat st;
    if (fstat(fileno(f.get()), &st) != 0) die(strprintf("stat %s: %s", path.c_str(), strerror(errno)));
    if (st.st_size % 4 != 0) die(path + ": size is not a multiple of 4");
    std::vector<int32_t> out(size_t(st.st_size) / 4);
    if (fread(out.data(), 4, out.size(), f.get()) != out.size()) die(path + ": short read");
    return out;
}

void write_i32(const std::string& path, const std::vector<int32_t>& values) {
    AtomicWriter w(path);
    w.write(values.data(), values.size() * sizeof(int32_t));
    w.commit();
}

void write_text(const std::string& path, const std::string& text) {
    AtomicWriter w(path);
    w.write(text.data(), text.size());
    w.commit();
}

bool file_exists(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

int64_t file_mtime_ns(const std::string& path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) die(strprintf("stat %s: %s", path.c_str(), strerror(errno)));
    return int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

void make_dirs(const std::string& path) {
    if (path.empty()) return;
    for (size_t pos = 1;; ++pos) {
        pos = path.find('/', pos);
        const std::string prefix = path.substr(0, pos);
        if (mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST)
            die(strprintf("mkdir %s: %s", prefix.c_str(), strerror(errno)));
        if (pos == std::string::npos) break;
    }
}

double now_s() {
    using clock = std::chrono::steady_clock;
    return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

double rss_mib() {
    File f(fopen("/proc/self/statm", "r"));
    long pages = 0, resident = 0;
    if (!f || fscanf(f.get(), "%ld %ld", &pages, &resident) != 2) return 0.0;
    return double(resident) * double(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

double peak_rss_mib() {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

double thread_cpu_s() {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double process_cpu_s() {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

namespace {

/// Busy and total jiffies of all cores, from the "cpu" line of /proc/stat.
bool read_cpu_jiffies(unsigned long long* busy, unsigned long long* total) {
    File f(fopen("/proc/stat", "r"));
    unsigned long long v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if (!f || fscanf(f.get(), "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                     &v[4], &v[5], &v[6], &v[7]) != 8)
        return false;
    *total = v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
    *busy = *total - v[3] - v[4];  // minus idle and iowait
    return true;
}

}  // namespace

double machine_busy_share(double window_s) {
    unsigned long long b0, t0, b1, t1;
    if (!read_cpu_jiffies(&b0, &t0)) return -1.0;
    usleep(useconds_t(window_s * 1e6));
    if (!read_cpu_jiffies(&b1, &t1) || t1 <= t0) return -1.0;
    return double(b1 - b0) / double(t1 - t0);
}

OthersMeter::OthersMeter()
    : cpu0_(process_cpu_s()), wall0_(now_s()), ok_(read_cpu_jiffies(&busy0_, &total0_)) {}

double OthersMeter::others_cores() const {
    unsigned long long busy1, total1;
    const double wall = now_s() - wall0_, cpu = process_cpu_s() - cpu0_;
    if (!ok_ || !read_cpu_jiffies(&busy1, &total1) || wall <= 0) return -1.0;
    const double busy_s = double(busy1 - busy0_) / double(sysconf(_SC_CLK_TCK));
    return std::max(0.0, (busy_s - cpu) / wall);
}

double wait_for_quiet(double max_wait_s, double threshold) {
    const double start = now_s();
    double share = machine_busy_share(0.5);
    bool told = false;
    while (share > threshold && now_s() - start < max_wait_s) {
        if (!told)
            log_line(strprintf("machine busy (%.0f%% of all cores), waiting up to %.0f s", share * 100,
                               max_wait_s));
        told = true;
        share = machine_busy_share(0.5);
    }
    if (told)
        log_line(strprintf("%s after %.0f s (%.0f%% busy)", share > threshold ? "still busy" : "quiet",
                           now_s() - start, share * 100));
    return share;
}

void trim_heap() { malloc_trim(0); }

void set_threads(int threads) {
    omp_set_num_threads(threads);
    using SetFn = void (*)(int);
    if (auto fn = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(threads);
}

std::string blas_description() {
    using ConfigFn = char* (*)();
    if (auto fn = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
        using NumFn = int (*)();
        auto num = reinterpret_cast<NumFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
        return strprintf("OpenBLAS (%s), %d threads", fn(), num ? num() : -1);
    }
    Dl_info info;
    auto sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
    if (sgemm && dladdr(sgemm, &info) && info.dli_fname) return std::string("BLAS from ") + info.dli_fname;
    return "unknown BLAS";
}

Options::Options(int argc, char** argv, std::string usage) : usage_(std::move(usage)) {
    set_program_name(argv[0]);
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            fputs(usage_.c_str(), stdout);
            exit(0);
        }
        if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) usage_error("unexpected argument '" + arg + "'");
        std::string name = arg.substr(2), value;
        const size_t eq = name.find('=');
        if (eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
        } else if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0) {
            value = argv[++i];
        }
        if (values_.count(name)) usage_error("option --" + name + " given twice");
        values_[name] = value;
    }
}

bool Options::has(const std::string& name) const { return values_.count(name) != 0; }

bool Options::flag(const std::string& name) {
    auto it = values_.find(name);
    if (it == values_.end()) return false;
    used_[name] = true;
    if (!it->second.empty()) usage_error("--" + name + " takes no value");
    return true;
}

std::string Options::get(const std::string& name, const std::string& fallback) {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    used_[name] = true;
    if (it->second.empty()) usage_error("--" + name + " needs a value");
    return it->second;
}

std::string Options::get_required(const std::string& name) {
    if (!has(name)) usage_error("--" + name + " is required");
    return get(name, "");
}

long Options::get_int(const std::string& name, long fallback) {
    if (!has(name)) return fallback;
    const std::string text = get(name, "");
    char* end = nullptr;
    errno = 0;
    const long v = strtol(text.c_str(), &end, 10);
    if (errno || end == text.c_str() || *end) usage_error("--" + name + ": not an integer: '" + text + "'");
    return v;
}

double Options::get_double(const std::string& name, double fallback) {
    if (!has(name)) return fallback;
    const std::string text = get(name, "");
    char* end = nullptr;
    errno = 0;
    const double v = strtod(text.c_str(), &end);
    if (errno || end == text.c_str() || *end) usage_error("--" + name + ": not a number: '" + text + "'");
    return v;
}

std::vector<long> Options::get_int_list(const std::string& name, const std::vector<long>& fallback) {
    if (!has(name)) return fallback;
    std::vector<long> out;
    for (const std::string& item : split(get(name, ""), ',')) {
        char* end = nullptr;
        errno = 0;
        const long v = strtol(item.c_str(), &end, 10);
        if (errno || end == item.c_str() || *end)
            usage_error("--" + name + ": not an integer: '" + item + "'");
        out.push_back(v);
    }
    return out;
}

std::vector<double> Options::get_double_list(const std::string& name, const std::vector<double>& fallback) {
    if (!has(name)) return fallback;
    std::vector<double> out;
    for (const std::string& item : split(get(name, ""), ',')) {
        char* end = nullptr;
        errno = 0;
        const double v = strtod(item.c_str(), &end);
        if (errno || end == item.c_str() || *end) usage_error("--" + name + ": not a number: '" + item + "'");
        out.push_back(v);
    }
    return out;
}

void Options::finish() const {
    for (const auto& kv : values_)
        if (!used_.count(kv.first)) usage_error("unknown option --" + kv.first);
}

void Options::usage_error(const std::string& message) const {
    fprintf(stderr, "%s: %s\n\n%s", g_program.c_str(), message.c_str(), usage_.c_str());
    exit(2);
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        const size_t pos = text.find(separator, start);
        out.push_back(text.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
        if (pos == std::string::npos) break;
        start = pos + 1;
    }
    return out;
}

}  // namespace ann

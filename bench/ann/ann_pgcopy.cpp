// ann_pgcopy: PostgreSQL COPY BINARY streams for the scale runs whose data
// does not fit the disk twice (bench/scale/ivf.sh --stream).
//
//   ann_pgcopy split --rows N --tail-out FILE < COPY BINARY > COPY BINARY
//       the first N tuples of the stream go to stdout, the rest to FILE, each
//       a complete COPY BINARY stream (header and trailer).
//   ann_pgcopy fvecs --out FILE.fvecs --labels FILE.i32 < COPY BINARY
//       the vectors (last field of each tuple) as bench/ann's .fvecs, and a
//       labels file of zeros (the scale runs have no label filters).
//   ann_pgcopy knn --queries FILE [--k 10] [--out FILE] < COPY BINARY
//       exact k nearest (L2, computed in double) of each query among the
//       vectors of the stream (the last field of each tuple, in nmvec's
//       vector send form); prints "qid kth_distance" per query (qid from 0,
//       in the order of FILE, one "[x,y,...]" per line).
//
// One pass, memory bounded by a batch of vectors: the stream is never stored.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <queue>
#include <sstream>
#include <string>
#include <vector>

#include "ann_common.h"

namespace {

const char kSignature[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\xff', '\r', '\n', '\0'};

/// Buffered reader of a byte stream (stdin).
class Reader {
 public:
    explicit Reader(FILE* f) : f_(f), buf_(1 << 22) {}
    /// Reads exactly n bytes into out (appends); dies on a short stream.
    void read(size_t n, std::string& out) {
        while (n > 0) {
            if (pos_ == len_) fill();
            const size_t take = std::min(n, len_ - pos_);
            out.append(buf_.data() + pos_, take);
            pos_ += take;
            n -= take;
        }
    }
    uint64_t consumed() const { return consumed_; }

 private:
    void fill() {
        len_ = fread(buf_.data(), 1, buf_.size(), f_);
        pos_ = 0;
        if (len_ == 0) ann::die("the COPY BINARY stream ends early (no trailer)");
        consumed_ += len_;
    }
    FILE* f_;
    std::vector<char> buf_;
    size_t pos_ = 0, len_ = 0;
    uint64_t consumed_ = 0;
};

int32_t be32(const char* p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return static_cast<int32_t>(__builtin_bswap32(v));
}
int16_t be16(const char* p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return static_cast<int16_t>(__builtin_bswap16(v));
}

/// Reads the header; returns its bytes (to write it out again).
std::string read_header(Reader& in) {
    std::string h;
    in.read(19, h);
    if (memcmp(h.data(), kSignature, 11) != 0) ann::die("not a COPY BINARY stream (bad signature)");
    const int32_t ext = be32(h.data() + 15);
    if (ext < 0) ann::die("bad COPY BINARY header extension length");
    in.read(static_cast<size_t>(ext), h);
    return h;
}

/// Reads one tuple into t (its bytes, field count included); false at the
/// trailer. last_field is set to the offset and length of the last field
/// (length -1: NULL).
bool read_tuple(Reader& in, std::string& t, size_t& last_off, int32_t& last_len) {
    t.clear();
    in.read(2, t);
    const int16_t fields = be16(t.data());
    if (fields == -1) return false;
    if (fields <= 0) ann::die(ann::strprintf("bad field count %d", fields));
    for (int f = 0; f < fields; ++f) {
        in.read(4, t);
        const int32_t len = be32(t.data() + t.size() - 4);
        last_off = t.size();
        last_len = len;
        if (len < -1) ann::die("bad field length");
        if (len > 0) in.read(static_cast<size_t>(len), t);
    }
    return true;
}

/// The vector (nmvec's send form: int16 dims, int16 unused, big-endian
/// float4s) in the last field of tuple t (at off, len bytes) into *out;
/// returns its dimensions. Dies on anything else (tuple n, for the message).
size_t append_vector(const std::string& t, size_t off, int32_t len, uint64_t n, std::vector<float>* out) {
    if (len < 4)
        ann::die(ann::strprintf("tuple %llu: the last field is not a vector", (unsigned long long)n));
    const char* v = t.data() + off;
    const int dims = be16(v);
    if (dims < 1 || len != 4 + 4 * dims)
        ann::die(ann::strprintf("tuple %llu: a malformed vector (%d dimensions in %d bytes)",
                                (unsigned long long)n, dims, len));
    out->resize(static_cast<size_t>(dims));
    for (int j = 0; j < dims; ++j) {
        const int32_t bits = be32(v + 4 + 4 * j);
        memcpy(&(*out)[j], &bits, 4);
    }
    return out->size();
}

void write_all(FILE* f, const std::string& s, const char* what) {
    if (fwrite(s.data(), 1, s.size(), f) != s.size()) ann::die(std::string("write failed: ") + what);
}

int split(uint64_t rows, const std::string& tail_path) {
    Reader in(stdin);
    const std::string header = read_header(in);
    FILE* tail = fopen(tail_path.c_str(), "wb");
    if (tail == nullptr) ann::die("cannot create " + tail_path);
    static char out_buf[1 << 22];
    setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
    write_all(stdout, header, "stdout");
    write_all(tail, header, tail_path.c_str());
    const std::string trailer("\xff\xff", 2);
    std::string t;
    size_t off;
    int32_t len;
    uint64_t n = 0;
    while (read_tuple(in, t, off, len)) {
        if (n == rows) write_all(stdout, trailer, "stdout");
        write_all(n < rows ? stdout : tail, t, n < rows ? "stdout" : tail_path.c_str());
        ++n;
    }
    if (n <= rows) write_all(stdout, trailer, "stdout");
    write_all(tail, trailer, tail_path.c_str());
    if (fflush(stdout) != 0 || fclose(tail) != 0) ann::die("write failed");
    ann::log_line(
        ann::strprintf("%llu tuples: %llu to stdout, %llu to %s", static_cast<unsigned long long>(n),
                       static_cast<unsigned long long>(std::min(n, rows)),
                       static_cast<unsigned long long>(n > rows ? n - rows : 0), tail_path.c_str()));
    return 0;
}

std::vector<std::vector<double>> read_queries(const std::string& path) {
    std::ifstream f(path);
    if (!f) ann::die("cannot open " + path);
    std::vector<std::vector<double>> qs;
    std::string line;
    while (std::getline(f, line)) {
        if (line.empty()) continue;
        for (char& c : line)
            if (c == '[' || c == ']' || c == ',') c = ' ';
        std::istringstream s(line);
        std::vector<double> q;
        double x;
        while (s >> x) q.push_back(x);
        if (q.empty()) ann::die("an empty query in " + path);
        if (!qs.empty() && q.size() != qs[0].size()) ann::die("queries of different dimensions in " + path);
        qs.push_back(std::move(q));
    }
    if (qs.empty()) ann::die("no queries in " + path);
    return qs;
}

int knn(const std::string& queries_path, size_t k, const std::string& out_path) {
    const auto qs = read_queries(queries_path);
    const size_t d = qs[0].size(), nq = qs.size();
    Reader in(stdin);
    read_header(in);
    constexpr size_t kBatch = 1 << 16;
    std::vector<double> batch;
    batch.reserve(kBatch * d);
    // Per query: a max-heap of the k smallest squared distances so far.
    std::vector<std::priority_queue<double>> best(nq);
    uint64_t n = 0;
    const double t0 = ann::now_s();
    auto flush = [&]() {
        const size_t rows = batch.size() / d;
#pragma omp parallel for schedule(dynamic, 1)
        for (size_t qi = 0; qi < nq; ++qi) {
            const double* q = qs[qi].data();
            auto& heap = best[qi];
            for (size_t r = 0; r < rows; ++r) {
                const double* x = batch.data() + r * d;
                double acc = 0;
                for (size_t j = 0; j < d; ++j) {
                    const double diff = x[j] - q[j];
                    acc += diff * diff;
                }
                if (heap.size() < k) {
                    heap.push(acc);
                } else if (acc < heap.top()) {
                    heap.pop();
                    heap.push(acc);
                }
            }
        }
        batch.clear();
    };
    std::string t;
    std::vector<float> vec;
    size_t off;
    int32_t len;
    while (read_tuple(in, t, off, len)) {
        if (append_vector(t, off, len, n, &vec) != d)
            ann::die(ann::strprintf("tuple %llu: a vector of %zu dimensions, the queries have %zu",
                                    (unsigned long long)n, vec.size(), d));
        batch.insert(batch.end(), vec.begin(), vec.end());
        ++n;
        if (batch.size() == kBatch * d) flush();
        if (n % 5000000 == 0)
            ann::log_line(ann::strprintf("%llu vectors (%.0f s)", (unsigned long long)n, ann::now_s() - t0));
    }
    flush();
    std::string out;
    for (size_t qi = 0; qi < nq; ++qi) {
        if (best[qi].size() < k) ann::die(ann::strprintf("fewer than %zu vectors in the stream", k));
        out += ann::strprintf("%zu %.9g\n", qi, std::sqrt(best[qi].top()));
    }
    if (out_path.empty() || out_path == "-")
        fputs(out.c_str(), stdout);
    else
        ann::write_text(out_path, out);
    ann::log_line(ann::strprintf("%llu vectors, %zu queries, k %zu: %.0f s", (unsigned long long)n, nq, k,
                                 ann::now_s() - t0));
    return 0;
}

/// The stream's vectors (last field of each tuple) as an .fvecs file, and a
/// labels file of as many zeros (what bench/ann's programs read), one
/// vector at a time.
int fvecs(const std::string& out_path, const std::string& labels_path) {
    Reader in(stdin);
    read_header(in);
    const std::string tmp = out_path + ".tmp";
    FILE* f = fopen(tmp.c_str(), "wb");
    if (f == nullptr) ann::die("cannot create " + tmp);
    std::string t;
    std::vector<float> vec;
    size_t off;
    int32_t len;
    uint64_t n = 0;
    size_t d = 0;
    while (read_tuple(in, t, off, len)) {
        const size_t dims = append_vector(t, off, len, n, &vec);
        if (n == 0) d = dims;
        if (dims != d)
            ann::die(ann::strprintf("tuple %llu: %zu dimensions, not %zu", (unsigned long long)n, dims, d));
        const int32_t di = static_cast<int32_t>(dims);
        if (fwrite(&di, 4, 1, f) != 1 || fwrite(vec.data(), 4, dims, f) != dims)
            ann::die("write failed: " + tmp);
        ++n;
    }
    if (fclose(f) != 0 || rename(tmp.c_str(), out_path.c_str()) != 0) ann::die("write failed: " + out_path);
    ann::write_i32(labels_path, std::vector<int32_t>(n, 0));
    ann::log_line(ann::strprintf("%llu vectors of %zu dimensions", (unsigned long long)n, d));
    return 0;
}

[[noreturn]] void usage(int status) {
    fputs(
        "usage: ann_pgcopy split --rows N --tail-out FILE < COPY BINARY > COPY BINARY\n"
        "       ann_pgcopy knn --queries FILE [--k 10] [--out FILE] < COPY BINARY\n"
        "       ann_pgcopy fvecs --out FILE.fvecs --labels FILE.i32 < COPY BINARY\n"
        "  split: the first N tuples to stdout, the rest to FILE (both complete streams)\n"
        "  knn:   exact L2 distance of each query's k-th nearest vector (the last field\n"
        "         of each tuple, nmvec's vector send form): \"qid distance\" lines\n"
        "  fvecs: those vectors as an .fvecs file, and as many zero labels\n",
        status == 0 ? stdout : stderr);
    exit(status);
}

}  // namespace

int main(int argc, char** argv) {
    ann::set_program_name(argv[0]);
    if (argc < 2) usage(2);
    const std::string cmd = argv[1];
    if (cmd == "--help" || cmd == "-h") usage(0);
    std::string tail_out, queries, out, labels;
    long long rows = -1, k = 10;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i], v;
        const auto eq = a.find('=');
        if (eq != std::string::npos) {
            v = a.substr(eq + 1);
            a = a.substr(0, eq);
        } else if (a == "--help") {
            usage(0);
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            usage(2);
        }
        char* end = nullptr;
        if (a == "--rows")
            rows = strtoll(v.c_str(), &end, 10);
        else if (a == "--k")
            k = strtoll(v.c_str(), &end, 10);
        else if (a == "--tail-out")
            tail_out = v;
        else if (a == "--queries")
            queries = v;
        else if (a == "--out")
            out = v;
        else if (a == "--labels")
            labels = v;
        else
            usage(2);
        if (end != nullptr && (*end != '\0' || v.empty())) usage(2);
    }
    if (cmd == "split") {
        if (rows < 0 || tail_out.empty()) usage(2);
        return split(static_cast<uint64_t>(rows), tail_out);
    }
    if (cmd == "fvecs") {
        if (out.empty() || labels.empty()) usage(2);
        return fvecs(out, labels);
    }
    if (cmd == "knn") {
        if (queries.empty() || k < 1) usage(2);
        return knn(queries, static_cast<size_t>(k), out);
    }
    usage(2);
}

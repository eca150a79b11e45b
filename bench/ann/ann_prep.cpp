// ann_prep: converts a data set into the files every bench/ann program and the SQL
// side read (see README.md, "Data directory").
//
//   ann_prep --set fashion-mnist --out DIR [--sample FRACTION] [--src DIR] [--force]
//
// fashion-mnist comes from Debian's dataset-fashion-mnist package: the 60 000
// train images are the base rows, the 10 000 t10k images the queries; 784
// dimensions, the raw 0..255 pixel values as float32, L2 distance.
#include <cmath>
#include <cstdio>
#include <cstring>

#include <unistd.h>

#include "ann_common.h"

namespace {

const char* kUsage =
    "usage: ann_prep --set fashion-mnist --out DIR [--sample FRACTION] [--src DIR] [--force]\n"
    "\n"
    "Writes DIR/base.fvecs, DIR/query.fvecs, DIR/base_labels.i32, DIR/query_labels.i32 and\n"
    "DIR/dataset.txt. --sample F keeps the first round(F*60000) base vectors and the first\n"
    "round(F*10000) queries (default 1). --src is the directory holding the gzipped IDX files\n"
    "(default /usr/share/datasets/fashion-mnist). Does nothing if DIR/dataset.txt already\n"
    "describes the same set and sample, unless --force.\n";

/// Reads a gzipped file through "gzip -dc" (no zlib dependency).
std::vector<unsigned char> read_gzip(const std::string& path) {
    if (!ann::file_exists(path)) ann::die("missing " + path + " (apt-get install dataset-fashion-mnist)");
    const std::string command = "gzip -dc '" + path + "'";
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) ann::die("cannot run: " + command);
    std::vector<unsigned char> out;
    unsigned char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, pipe)) > 0) out.insert(out.end(), buf, buf + got);
    if (pclose(pipe) != 0) ann::die("failed: " + command);
    return out;
}

uint32_t big_endian_u32(const unsigned char* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}

/// IDX3 (magic 0x803): n images of rows x cols unsigned bytes. Returns the first max_n as float32.
ann::FloatMatrix read_idx_images(const std::string& path, size_t max_n) {
    const std::vector<unsigned char> raw = read_gzip(path);
    if (raw.size() < 16 || big_endian_u32(raw.data()) != 0x803) ann::die(path + ": not an IDX3 image file");
    const size_t n = big_endian_u32(raw.data() + 4);
    const size_t d = size_t(big_endian_u32(raw.data() + 8)) * big_endian_u32(raw.data() + 12);
    if (raw.size() != 16 + n * d) ann::die(path + ": size does not match its header");
    ann::FloatMatrix m;
    m.n = std::min(n, max_n);
    m.d = d;
    m.data.resize(m.n * d);
    for (size_t i = 0; i < m.n * d; ++i) m.data[i] = float(raw[16 + i]);
    return m;
}

/// IDX1 (magic 0x801): n unsigned-byte labels. Returns the first max_n as int32.
std::vector<int32_t> read_idx_labels(const std::string& path, size_t max_n) {
    const std::vector<unsigned char> raw = read_gzip(path);
    if (raw.size() < 8 || big_endian_u32(raw.data()) != 0x801) ann::die(path + ": not an IDX1 label file");
    const size_t n = big_endian_u32(raw.data() + 4);
    if (raw.size() != 8 + n) ann::die(path + ": size does not match its header");
    std::vector<int32_t> out(std::min(n, max_n));
    for (size_t i = 0; i < out.size(); ++i) out[i] = raw[8 + i];
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    ann::Options opt(argc, argv, kUsage);
    const std::string set = opt.get_required("set");
    const std::string out = opt.get_required("out");
    const double sample = opt.get_double("sample", 1.0);
    const std::string src = opt.get("src", "/usr/share/datasets/fashion-mnist");
    const bool force = opt.flag("force");
    opt.finish();
    if (set != "fashion-mnist") opt.usage_error("unknown --set '" + set + "' (known: fashion-mnist)");
    if (!(sample > 0.0 && sample <= 1.0)) opt.usage_error("--sample must be in (0, 1]");

    const size_t full_base = 60000, full_query = 10000;
    const size_t n_base = size_t(std::llround(sample * double(full_base)));
    const size_t n_query = size_t(std::llround(sample * double(full_query)));
    if (n_base == 0 || n_query == 0) opt.usage_error("--sample is too small");

    const std::string description = ann::strprintf(
        "set=fashion-mnist\nsample=%.6g\nbase=%zu\nqueries=%zu\ndim=784\nmetric=l2\n"
        "source=%s/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz\n",
        sample, n_base, n_query, src.c_str());
    const std::string meta_path = out + "/dataset.txt";
    if (!force && ann::file_exists(meta_path)) {
        FILE* f = fopen(meta_path.c_str(), "r");
        std::string old;
        char buf[4096];
        size_t got;
        while (f && (got = fread(buf, 1, sizeof buf, f)) > 0) old.append(buf, got);
        if (f) fclose(f);
        const char* files[] = {"base.fvecs", "query.fvecs", "base_labels.i32", "query_labels.i32"};
        bool complete = old == description;
        for (const char* name : files) complete = complete && ann::file_exists(out + "/" + name);
        if (complete) {
            ann::log_line(out + " is up to date (" + std::to_string(n_base) + " base, " +
                          std::to_string(n_query) + " queries); --force rewrites it");
            return 0;
        }
    }

    const double t0 = ann::now_s();
    ann::make_dirs(out);
    const ann::FloatMatrix base = read_idx_images(src + "/train-images-idx3-ubyte.gz", n_base);
    const ann::FloatMatrix query = read_idx_images(src + "/t10k-images-idx3-ubyte.gz", n_query);
    const std::vector<int32_t> base_labels = read_idx_labels(src + "/train-labels-idx1-ubyte.gz", n_base);
    const std::vector<int32_t> query_labels = read_idx_labels(src + "/t10k-labels-idx1-ubyte.gz", n_query);
    if (base.n != n_base || query.n != n_query || base_labels.size() != n_base ||
        query_labels.size() != n_query)
        ann::die("the data set has fewer vectors than expected");

    // dataset.txt goes last: its presence marks a complete directory.
    if (ann::file_exists(meta_path) && unlink(meta_path.c_str()) != 0) ann::die("cannot remove " + meta_path);
    ann::write_fvecs(out + "/base.fvecs", base.data.data(), base.n, base.d);
    ann::write_fvecs(out + "/query.fvecs", query.data.data(), query.n, query.d);
    ann::write_i32(out + "/base_labels.i32", base_labels);
    ann::write_i32(out + "/query_labels.i32", query_labels);
    ann::write_text(meta_path, description);
    ann::log_line(ann::strprintf("wrote %zu base and %zu query vectors (%zu-d) to %s in %.1f s", base.n,
                                 query.n, base.d, out.c_str(), ann::now_s() - t0));
    return 0;
}

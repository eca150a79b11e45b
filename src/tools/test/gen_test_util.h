// Helpers shared by the nmvec-gen tests: run the generator into files under
// the GoogleTest temp dir and read them back.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "run.h"

namespace nmvec::gen::test {

/// The files of one generator run.
struct GenFiles {
    std::string ledger, copy, truth, queries;
};

inline std::string temp_path(const std::string& name) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return ::testing::TempDir() + "nmvec_" + info->test_suite_name() + "_" + info->name() + "_" + name;
}

/// Run the generator with all outputs (COPY and queries optional) to files
/// named after the current test and `tag`.
inline GenFiles run_to_files(const Config& cfg, const std::string& tag, bool with_copy = false,
                             int threads = 2, RunStats* stats = nullptr) {
    GenFiles f{temp_path(tag + ".jsonl"), with_copy ? temp_path(tag + ".pgcopy") : "",
               temp_path(tag + ".truth"), cfg.queries ? temp_path(tag + ".queries") : ""};
    Outputs out;
    out.ledger = std::fopen(f.ledger.c_str(), "wb");
    out.truth = std::fopen(f.truth.c_str(), "wb");
    if (with_copy) out.copy = std::fopen(f.copy.c_str(), "wb");
    if (cfg.queries) out.queries = std::fopen(f.queries.c_str(), "wb");
    RunStats s = generate(cfg, out, threads);
    for (std::FILE* fp : {out.ledger, out.copy, out.truth, out.queries})
        if (fp) std::fclose(fp);
    if (stats) *stats = s;
    return f;
}

inline std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void spit(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

inline std::vector<std::string> read_lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

}  // namespace nmvec::gen::test

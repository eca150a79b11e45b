// nmvec-gen: determinism, chain validity, format, distributions, embeddings,
// COPY BINARY, queries, command line.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gen_test_util.h"
#include "generator.h"
#include "ledger.h"
#include "ledger_verify.h"
#include "options.h"
#include "run.h"
#include "writers.h"

namespace nmvec::gen::test {
namespace {

namespace dom = simdjson::dom;

/// Parse "[x,y,...]" starting at text[pos] with from_chars (exact floats).
std::vector<float> parse_floats(std::string_view text) {
    std::vector<float> v;
    EXPECT_EQ(text.front(), '[');
    const char* p = text.data() + 1;
    const char* end = text.data() + text.size();
    while (p < end && *p != ']') {
        float x = 0;
        auto res = std::from_chars(p, end, x);
        EXPECT_EQ(res.ec, std::errc());
        v.push_back(x);
        p = res.ptr;
        if (*p == ',') ++p;
    }
    return v;
}

/// The embedding array of a ledger line.
std::vector<float> embedding_of(const std::string& line) {
    auto at = line.find("\"embedding\":");
    EXPECT_NE(at, std::string::npos);
    return parse_floats(std::string_view(line).substr(at + 12, line.size() - at - 13));
}

/// The raw text of the "data" member of a ledger line.
std::string data_of(const std::string& line) {
    auto a = line.find(",\"data\":") + 8, b = line.find(",\"metadata\":");
    return line.substr(a, b - a);
}

double norm(const std::vector<float>& v) {
    double s = 0;
    for (float x : v) s += double(x) * x;
    return std::sqrt(s);
}

Config small(uint64_t rows = 3000, int dims = 16) {
    Config c;
    c.rows = rows;
    c.dims = dims;
    c.hosts = 20;
    c.seed = 7;
    return c;
}

// ------------------------------------------------------------ determinism

TEST(GenDeterminism, SameSeedSameBytes) {
    Config c = small();
    c.queries = 50;
    c.outlier_rate = 0.02;
    GenFiles a = run_to_files(c, "a", true, 2);
    GenFiles b = run_to_files(c, "b", true, 2);
    EXPECT_EQ(slurp(a.ledger), slurp(b.ledger));
    EXPECT_EQ(slurp(a.copy), slurp(b.copy));
    EXPECT_EQ(slurp(a.truth), slurp(b.truth));
    EXPECT_EQ(slurp(a.queries), slurp(b.queries));
    EXPECT_FALSE(slurp(a.truth).empty());
}

TEST(GenDeterminism, ThreadCountDoesNotChangeBytes) {
    Config c = small(8000, 500);  // several batches
    GenFiles one = run_to_files(c, "t1", true, 1);
    GenFiles three = run_to_files(c, "t3", true, 3);
    EXPECT_EQ(slurp(one.ledger), slurp(three.ledger));
    EXPECT_EQ(slurp(one.copy), slurp(three.copy));
    EXPECT_EQ(slurp(one.truth), slurp(three.truth));
}

TEST(GenDeterminism, DifferentSeedDiffers) {
    Config c = small();
    GenFiles a = run_to_files(c, "a");
    c.seed = 8;
    GenFiles b = run_to_files(c, "b");
    auto la = read_lines(a.ledger), lb = read_lines(b.ledger);
    ASSERT_EQ(la.size(), lb.size());
    EXPECT_NE(la[0], lb[0]);
    EXPECT_NE(la.back(), lb.back());
}

TEST(GenDeterminism, PrefixOfLongerRunIsIdentical) {
    // Events do not depend on how many follow: --rows 1000 is a prefix of --rows 3000.
    GenFiles a = run_to_files(small(1000), "short");
    GenFiles b = run_to_files(small(3000), "long");
    std::string sa = slurp(a.ledger), sb = slurp(b.ledger);
    EXPECT_EQ(sa, sb.substr(0, sa.size()));
}

// ------------------------------------------------------------ chain

TEST(GenChain, Verifies) {
    GenFiles f = run_to_files(small(5000), "ok");
    VerifyReport r = verify_ledger(f.ledger);
    EXPECT_TRUE(r.ok) << "line " << r.error_line << ": " << r.error;
    EXPECT_EQ(r.blocks, 5000u);
    EXPECT_EQ(r.last_height, 5000u);
    EXPECT_EQ(r.hosts, 20u);
    EXPECT_EQ(r.embedding_dims.size(), 1u);
    EXPECT_EQ(r.embedding_dims[16], 5000u);
    EXPECT_EQ(r.last_hash.size(), 64u);
}

TEST(GenChain, FlippedPayloadByteFailsAtThatLine) {
    GenFiles f = run_to_files(small(3000), "flip");
    auto lines = read_lines(f.ledger);
    const size_t target = 1234;  // 1-based line number
    std::string& line = lines[target - 1];
    // Change one letter inside the payload: still valid JSON, different hash.
    size_t at = line.find(",\"data\":{\"") + 10;
    line[at] = line[at] == 'x' ? 'y' : 'x';
    std::string bytes;
    for (auto& l : lines) bytes += l + "\n";
    spit(f.ledger + ".bad", bytes);
    VerifyReport r = verify_ledger(f.ledger + ".bad");
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error_line, target);
    EXPECT_NE(r.error.find("hash"), std::string::npos) << r.error;
    EXPECT_EQ(r.blocks, target - 1);
}

TEST(GenChain, BrokenLinksAreFoundAtTheirLine) {
    GenFiles f = run_to_files(small(500), "links");
    auto lines = read_lines(f.ledger);
    auto verify_with = [&](std::vector<std::string> ls) {
        std::string bytes;
        for (auto& l : ls) bytes += l + "\n";
        spit(f.ledger + ".bad", bytes);
        return verify_ledger(f.ledger + ".bad");
    };
    {  // a missing line: the next one's height skips
        auto ls = lines;
        ls.erase(ls.begin() + 99);
        VerifyReport r = verify_with(ls);
        EXPECT_EQ(r.error_line, 100u);
        EXPECT_NE(r.error.find("height"), std::string::npos) << r.error;
    }
    {  // two lines swapped
        auto ls = lines;
        std::swap(ls[9], ls[10]);
        EXPECT_EQ(verify_with(ls).error_line, 10u);
    }
    {  // not JSON
        auto ls = lines;
        ls[41][0] = '[';
        VerifyReport r = verify_with(ls);
        EXPECT_EQ(r.error_line, 42u);
    }
    {  // a blank line is skipped, but still counted for line numbers
        auto ls = lines;
        ls.insert(ls.begin() + 5, "");
        std::swap(ls[20], ls[21]);
        EXPECT_EQ(verify_with(ls).error_line, 21u);
    }
    {  // keys of data reordered: nm-monitor hashes the sorted form, so still valid
        auto ls = lines;
        std::string& l = ls[7];
        std::string data = data_of(l);
        dom::parser parser;
        dom::object obj = parser.parse(data);
        std::string rev = "{";
        std::vector<std::string> members;
        for (auto kv : obj)
            members.push_back("\"" + std::string(kv.key) + "\":" + simdjson::minify(kv.value));
        std::reverse(members.begin(), members.end());
        for (size_t i = 0; i < members.size(); ++i) rev += (i ? "," : "") + members[i];
        rev += "}";
        l.replace(l.find(data), data.size(), rev);
        VerifyReport r = verify_with(ls);
        EXPECT_TRUE(r.ok) << r.error;
    }
}

TEST(GenChain, V1RecordsBeforeAV2Chain) {
    // A file may start with v1 records (their own chain), then a v2 chain
    // starting again at height 1.
    GenFiles f = run_to_files(small(50), "mixed");
    std::string v1, prev;
    for (uint64_t i = 0; i < 3; ++i) {
        std::string details = "{\"bridge\":\"ovsbr0\",\"port\":\"veth10" + std::to_string(i) + "\"}";
        std::string hash = to_hex(record_v1_hash(prev, 1727800000 + i, "ovs_add_port", details));
        v1 += "{\"ts\":" + std::to_string(1727800000 + i) +
              ",\"action\":\"ovs_add_port\",\"details\":" + details + ",\"prev_hash\":\"" + prev +
              "\",\"hash\":\"" + hash + "\"}\n";
        prev = hash;
    }
    spit(f.ledger + ".mixed", v1 + slurp(f.ledger));
    VerifyReport r = verify_ledger(f.ledger + ".mixed");
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.records_v1, 3u);
    EXPECT_EQ(r.blocks, 50u);
    v1[v1.find("veth101")] = 'V';
    spit(f.ledger + ".mixed", v1 + slurp(f.ledger));
    r = verify_ledger(f.ledger + ".mixed");
    EXPECT_EQ(r.error_line, 2u);
    EXPECT_NE(r.error.find("v1 hash"), std::string::npos) << r.error;
}

// ------------------------------------------------------------ format

void expect_sorted_keys(dom::element e, const std::string& where) {
    if (e.is_object()) {
        std::string prev;
        bool first = true;
        for (auto kv : dom::object(e)) {
            std::string k(kv.key);
            EXPECT_TRUE(first || prev < k) << where << ": key " << k << " after " << prev;
            prev = k;
            first = false;
            expect_sorted_keys(kv.value, where + "." + k);
        }
    } else if (e.is_array()) {
        for (dom::element x : dom::array(e)) expect_sorted_keys(x, where + "[]");
    }
}

TEST(GenFormat, FieldOrderAndSortedPayloadKeys) {
    GenFiles f = run_to_files(small(3000), "fmt");
    const std::vector<std::string> want = {"timestamp", "height",   "prev_hash", "hash",     "producer",
                                           "category",  "action",   "user",      "hostname", "pid",
                                           "data",      "metadata", "signature", "embedding"};
    dom::parser parser;
    uint64_t line_no = 0, prev_ts = 0;
    std::string prev_hash;
    for (const std::string& line : read_lines(f.ledger)) {
        ++line_no;
        dom::object obj = parser.parse(line);
        std::vector<std::string> keys;
        for (auto kv : obj) keys.emplace_back(kv.key);
        ASSERT_EQ(keys, want) << "line " << line_no;
        EXPECT_EQ(uint64_t(obj["height"]), line_no);
        EXPECT_EQ(std::string_view(obj["prev_hash"]), prev_hash);
        std::string hash{std::string_view(obj["hash"])};
        EXPECT_EQ(hash.size(), 64u);
        EXPECT_EQ(hash.find_first_not_of("0123456789abcdef"), std::string::npos);
        prev_hash = hash;
        uint64_t ts = obj["timestamp"];
        EXPECT_GE(ts, prev_ts);
        prev_ts = ts;
        EXPECT_LE(uint64_t(obj["pid"]), uint64_t(INT32_MAX));
        EXPECT_TRUE(obj["data"].is_object());
        expect_sorted_keys(obj["data"], "line " + std::to_string(line_no) + " data");
        EXPECT_EQ(dom::object(obj["metadata"]).size(), 0u);
        EXPECT_TRUE(obj["signature"].is_null());
        // The data text is already serde_json's canonical form.
        std::string canon;
        append_canonical_json(canon, obj["data"]);
        EXPECT_EQ(canon, data_of(line));
        // Compact like serde_json: no whitespace outside strings.
        std::string minified(line.size(), '\0');
        size_t len = 0;
        ASSERT_EQ(simdjson::minify(line.data(), line.size(), minified.data(), len), simdjson::SUCCESS);
        EXPECT_EQ(minified.substr(0, len), line);
    }
    EXPECT_EQ(line_no, 3000u);
}

TEST(GenFormat, PayloadShapes) {
    // Each kind carries the payload fields nm-monitor writes for it.
    GenFiles f = run_to_files(small(20000, 4), "shapes");
    std::map<std::string, std::set<std::string>> keys;  // action -> top-level data keys
    dom::parser parser;
    for (const std::string& line : read_lines(f.ledger)) {
        dom::object obj = parser.parse(line);
        std::string action{std::string_view(obj["action"])};
        std::string ks;
        for (auto kv : dom::object(obj["data"])) ks += std::string(kv.key) + ",";
        keys[action].insert(ks);
        if (action == "apply_state") {
            dom::object res = obj["data"]["result"];
            EXPECT_TRUE(res["changes_applied"].is_array());
            EXPECT_TRUE(res["errors"].is_array());
            EXPECT_TRUE(res["success"].is_bool());
            dom::element cp = res["checkpoint"];
            if (!cp.is_null()) {
                EXPECT_TRUE(cp["backend_checkpoint"].is_null());
                EXPECT_EQ(std::string_view(cp["id"]).substr(0, 8), "network-");
                EXPECT_EQ(int64_t(cp["timestamp"]), int64_t(uint64_t(obj["timestamp"])));
            }
        }
    }
    using S = std::set<std::string>;
    EXPECT_EQ(keys["interface_created"], S{"bridge,container_id,interface,original,vmid,"});
    EXPECT_EQ(keys["interface_rename"], S{"bridge,container_id,new,old,vmid,"});
    EXPECT_EQ(keys["interface_removed"], S{"bridge,interface,"});
    EXPECT_EQ(keys["ovs_add_port"], S{"bridge,port,"});
    EXPECT_EQ(keys["ovs_del_port"], S{"bridge,port,"});
    EXPECT_EQ(keys["apply_state"], S{"plugin,result,"});
    EXPECT_EQ(keys["rollback"], S{"checkpoint_id,plugin,"});
    EXPECT_EQ(keys.size(), 16u);  // 17 kinds, "modified" shared by config and policy
}

// ------------------------------------------------------------ distributions

TEST(GenDistribution, CategorySkewAsConfigured) {
    RunStats s;
    run_to_files(small(200000, 2), "skew", false, 2, &s);
    const auto& kinds = event_kinds();
    double total_weight = 0;
    for (size_t k = 0; k < kinds.size(); ++k) {
        double expected = kinds[k].weight * 200000;
        total_weight += kinds[k].weight;
        // Kinds are drawn independently: binomial counts, 5 sigma.
        EXPECT_NEAR(double(s.kinds[k]), expected, 5 * std::sqrt(expected) + 1)
            << kinds[k].category << "/" << kinds[k].action;
    }
    EXPECT_NEAR(total_weight, 1.0, 1e-12);
}

TEST(GenDistribution, ZipfHostSizes) {
    Config c = small(300000, 2);
    c.hosts = 300;
    c.host_skew = 1.1;
    GenFiles f = run_to_files(c, "zipf");
    Fleet fleet(c);
    std::map<std::string, uint32_t> index;
    for (uint32_t h = 0; h < fleet.size(); ++h) index[fleet.hostname(h)] = h;
    std::vector<double> count(c.hosts);
    dom::parser parser;
    for (const std::string& line : read_lines(f.ledger)) {
        dom::object obj = parser.parse(line);
        count[index.at(std::string(std::string_view(obj["hostname"])))]++;
    }
    // Top hosts get their Zipf share (bursts add variance: 15%).
    for (uint32_t h = 0; h < 5; ++h)
        EXPECT_NEAR(count[h] / c.rows, fleet.share(h), 0.15 * fleet.share(h)) << h;
    // Least-squares slope of log(count) against log(rank) over ranks 1..100.
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    const int n = 100;
    for (int r = 1; r <= n; ++r) {
        double x = std::log(r), y = std::log(std::max(1.0, count[r - 1]));
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    EXPECT_NEAR(slope, -c.host_skew, 0.15);
}

TEST(GenDistribution, DailyRhythmAndBursts) {
    Config c = small(100000, 2);
    c.rate = 0.5;  // about 2.7 days
    GenFiles f = run_to_files(c, "rhythm");
    std::vector<double> by_hour(24);
    dom::parser parser;
    uint64_t prev_ts = 0, close_same_host = 0, pairs = 0;
    std::string prev_host;
    for (const std::string& line : read_lines(f.ledger)) {
        dom::object obj = parser.parse(line);
        uint64_t ts = obj["timestamp"];
        by_hour[(ts % 86400) / 3600]++;
        std::string host{std::string_view(obj["hostname"])};
        if (pairs++ && host == prev_host && ts - prev_ts <= 2) close_same_host++;
        prev_ts = ts;
        prev_host = host;
    }
    // Peak at 14:00 UTC, trough at 02:00: the rate swings by 1.6 / 0.4.
    double peak = by_hour[13] + by_hour[14] + by_hour[15], trough = by_hour[1] + by_hour[2] + by_hour[3];
    EXPECT_GT(peak, 2.5 * trough);
    // Bursts: runs of events on one host within seconds, far more often
    // than independent draws of hosts would give (about 1 in 6 events is in
    // a burst).
    Fleet fleet(c);
    double same_host = 0;  // chance that two independent events share a host
    for (uint32_t h = 0; h < fleet.size(); ++h) same_host += fleet.share(h) * fleet.share(h);
    EXPECT_GT(double(close_same_host) / pairs, same_host + 0.1);
}

// ------------------------------------------------------------ embeddings

TEST(GenEmbedding, UnitNormAndRequestedDims) {
    for (int dims : {1, 3, 64, 384, 768}) {
        Config c = small(300, dims);
        c.outlier_rate = 0.1;
        c.queries = 20;
        GenFiles f = run_to_files(c, "dims" + std::to_string(dims));
        for (const std::string& line : read_lines(f.ledger)) {
            auto v = embedding_of(line);
            ASSERT_EQ(v.size(), size_t(dims));
            EXPECT_NEAR(norm(v), 1.0, 1e-5);
        }
        auto q = read_lines(f.queries);
        ASSERT_EQ(q.size(), 20u);
        for (const std::string& line : q) {
            auto v = parse_floats(line);
            ASSERT_EQ(v.size(), size_t(dims));
            EXPECT_NEAR(norm(v), 1.0, 1e-5);
        }
    }
}

TEST(GenEmbedding, OutliersAreFarFromAllCentres) {
    Config c = small(20000, 384);
    c.outlier_rate = 0.01;
    GenFiles f = run_to_files(c, "outliers");
    Fleet fleet(c);
    EmbeddingModel model(c, fleet);
    std::set<uint64_t> truth;
    for (const std::string& l : read_lines(f.truth)) truth.insert(std::stoull(l));
    EXPECT_NEAR(double(truth.size()), 200, 5 * std::sqrt(200.0));

    const auto nk = event_kinds().size();
    std::vector<double> normal_sim, outlier_sim;  // cosine similarity to the nearest kind centre
    uint64_t height = 0;
    for (const std::string& line : read_lines(f.ledger)) {
        ++height;
        auto v = embedding_of(line);
        double best = -1;
        for (size_t k = 0; k < nk; ++k) {
            const float* ctr = model.centre(int(k));
            double dot = 0;
            for (int i = 0; i < c.dims; ++i) dot += double(v[i]) * ctr[i];
            best = std::max(best, dot);
        }
        (truth.count(height) ? outlier_sim : normal_sim).push_back(best);
    }
    ASSERT_EQ(outlier_sim.size(), truth.size());
    std::sort(normal_sim.begin(), normal_sim.end());
    std::sort(outlier_sim.begin(), outlier_sim.end());
    // Every outlier is farther from its nearest centre than every normal event.
    EXPECT_LT(outlier_sim.back(), normal_sim.front());
    EXPECT_LT(outlier_sim.back(), 0.3);
    EXPECT_GT(normal_sim.front(), 0.4);
}

TEST(GenEmbedding, QueriesAreHeldOut) {
    Config c = small(2000, 32);
    c.queries = 100;
    GenFiles f = run_to_files(c, "q");
    std::set<std::vector<float>> ledger;
    for (const std::string& line : read_lines(f.ledger)) ledger.insert(embedding_of(line));
    for (const std::string& line : read_lines(f.queries)) EXPECT_EQ(ledger.count(parse_floats(line)), 0u);
}

// ------------------------------------------------------------ COPY BINARY

uint64_t be(const std::string& s, size_t& at, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(s[at++]);
    return v;
}

TEST(GenCopy, HeaderTuplesAndFieldsMatchTheLedger) {
    Config c = small(2500, 24);
    GenFiles f = run_to_files(c, "copy", true);
    std::string bin = slurp(f.copy);
    auto lines = read_lines(f.ledger);
    ASSERT_GE(bin.size(), 21u);
    EXPECT_EQ(bin.substr(0, 11), std::string("PGCOPY\n\xff\r\n\0", 11));
    size_t at = 11;
    EXPECT_EQ(be(bin, at, 4), 0u);  // flags
    EXPECT_EQ(be(bin, at, 4), 0u);  // header extension
    dom::parser parser;
    size_t tuples = 0;
    for (;;) {
        ASSERT_LE(at + 2, bin.size());
        auto nfields = static_cast<int16_t>(be(bin, at, 2));
        if (nfields == -1) break;
        ASSERT_EQ(nfields, kEventColumns);
        ASSERT_LT(tuples, lines.size());
        const std::string& line = lines[tuples++];
        dom::object obj = parser.parse(line);
        std::vector<std::string> field;
        for (int i = 0; i < nfields; ++i) {
            auto len = static_cast<int32_t>(be(bin, at, 4));
            ASSERT_GE(len, 0);
            ASSERT_LE(at + size_t(len), bin.size());
            field.push_back(bin.substr(at, size_t(len)));
            at += size_t(len);
        }
        size_t p = 0;
        EXPECT_EQ(be(field[0], p, 8), uint64_t(obj["height"]));  // id
        p = 0;
        auto us = static_cast<int64_t>(be(field[1], p, 8));  // ts
        const uint64_t unix_ts = obj["timestamp"];
        EXPECT_EQ(us, (static_cast<int64_t>(unix_ts) - 946684800) * 1000000);
        EXPECT_EQ(field[2], std::string_view(obj["hostname"]));  // tenant
        EXPECT_EQ(field[3], std::string_view(obj["category"]));
        EXPECT_EQ(field[4], std::string_view(obj["action"]));
        EXPECT_EQ(field[5], std::string_view(obj["user"]));
        p = 0;
        EXPECT_EQ(be(field[6], p, 4), uint64_t(obj["pid"]));
        EXPECT_EQ(field[7], "\x01" + data_of(line));  // jsonb version 1 + text
        EXPECT_EQ(field[8], std::string_view(obj["hash"]));
        p = 0;
        ASSERT_EQ(field[9].size(), 4u + 4u * c.dims);
        EXPECT_EQ(be(field[9], p, 2), uint64_t(c.dims));
        EXPECT_EQ(be(field[9], p, 2), 0u);
        auto want = embedding_of(line);
        for (int i = 0; i < c.dims; ++i) {
            auto bits = static_cast<uint32_t>(be(field[9], p, 4));
            float x;
            std::memcpy(&x, &bits, 4);
            ASSERT_EQ(x, want[i]) << "tuple " << tuples << " dim " << i;
        }
    }
    EXPECT_EQ(tuples, lines.size());
    EXPECT_EQ(tuples, 2500u);
    EXPECT_EQ(at, bin.size());  // nothing after the trailer
}

// ------------------------------------------------------------ command line

Options parse(std::vector<std::string> args) {
    args.insert(args.begin(), "nmvec-gen");
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    return parse_options(int(argv.size()), argv.data());
}

TEST(GenCli, ParsesFlags) {
    Options o = parse({"--rows",
                       "1000",
                       "--dims=768",
                       "--seed",
                       "42",
                       "--hosts",
                       "7",
                       "--start-time",
                       "2026-01-02T03:04:05Z",
                       "--format",
                       "both",
                       "--out",
                       "l.jsonl",
                       "--copy-out",
                       "e.pgcopy",
                       "--outlier-rate",
                       "0.01",
                       "--queries",
                       "5",
                       "--queries-out",
                       "q.txt",
                       "--truth-out",
                       "t.txt"});
    EXPECT_EQ(o.cfg.rows, 1000u);
    EXPECT_EQ(o.cfg.dims, 768);
    EXPECT_EQ(o.cfg.seed, 42u);
    EXPECT_EQ(o.cfg.hosts, 7u);
    EXPECT_EQ(o.cfg.start_time, 1767323045u);
    EXPECT_EQ(o.format, Format::Both);
    EXPECT_EQ(o.cfg.outlier_rate, 0.01);
    EXPECT_EQ(o.cfg.queries, 5u);
    EXPECT_EQ(parse_time("2025-10-01"), 1759276800u);
    EXPECT_EQ(parse_time("1759276800"), 1759276800u);
    EXPECT_EQ(parse_time("2024-02-29T23:59:59"), 1709251199u);
    EXPECT_EQ(parse({"--verify", "x.jsonl"}).verify, "x.jsonl");
    EXPECT_TRUE(parse({"--help"}).help);
}

TEST(GenCli, RejectsBadArguments) {
    const std::vector<std::vector<std::string>> bad = {
        {"--rows", "-5"},
        {"--rows", "12x"},
        {"--rows"},
        {"--dims", "0"},
        {"--dims", "16001"},
        {"--hosts", "0"},
        {"--seed", "18446744073709551616"},
        {"--outlier-rate", "1.5"},
        {"--outlier-rate", "nan"},
        {"--start-time", "2025-13-01"},
        {"--start-time", "yesterday"},
        {"--format", "csv"},
        {"--format", "both"},  // needs --copy-out
        {"--copy-out", "x"},   // only with both
        {"--queries", "10"},   // needs --queries-out
        {"--queries-out", "q"},
        {"--out", "a", "--truth-out", "a"},
        {"--out", ""},
        {"--rows", "1", "--rows", "2"},
        {"--bogus"},
        {"stray"},
        {"--verify", "x", "--rows", "5"},
    };
    for (const auto& args : bad) {
        std::string joined;
        for (auto& a : args) joined += a + " ";
        EXPECT_THROW(parse(args), UsageError) << joined;
    }
}

int run_binary(const std::string& args) {
    int status = std::system((std::string(NMVEC_GEN_BINARY) + " " + args + " >/dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(GenCli, BinaryExitCodes) {
    std::string ledger = temp_path("cli.jsonl");
    EXPECT_EQ(run_binary("--help"), 0);
    EXPECT_EQ(run_binary("--rows nope"), 2);
    EXPECT_EQ(run_binary("--rows 300 --dims 8 --out " + ledger), 0);
    EXPECT_EQ(run_binary("--verify " + ledger), 0);
    EXPECT_EQ(run_binary("--verify - < " + ledger), 0);
    std::string bytes = slurp(ledger);
    bytes[bytes.find("\"height\":7") + 9] = '8';
    spit(ledger, bytes);
    EXPECT_EQ(run_binary("--verify " + ledger), 1);
    EXPECT_EQ(run_binary("--verify " + temp_path("missing.jsonl")), 2);
}

}  // namespace
}  // namespace nmvec::gen::test

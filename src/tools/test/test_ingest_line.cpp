// nmvec-ingest's line layer: LineParser (fields, every reject reason,
// float32 rounding, sidecar .vec files) and ChainChecker (breaks reported
// once, no cascade, resumable state), against hand-built lines and
// nmvec-gen ledgers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "copy_row.h"
#include "gen_test_util.h"
#include "ledger.h"
#include "ledger_line.h"
#include "run.h"

namespace nmvec::ingest {
namespace {

using gen::test::read_lines;
using gen::test::run_to_files;
using gen::test::spit;

// ------------------------------------------------------------ line builders

/// A JSON object as ordered (key, raw JSON value) members, so a test can drop
/// or replace one member and keep the rest.
struct Obj {
    std::vector<std::pair<std::string, std::string>> members;

    std::string text() const {
        std::string s = "{";
        for (size_t i = 0; i < members.size(); ++i)
            s += (i ? "," : "") + std::string("\"") + members[i].first + "\":" + members[i].second;
        return s + "}";
    }
    Obj& set(const std::string& k, const std::string& raw) {
        for (auto& m : members)
            if (m.first == k) {
                m.second = raw;
                return *this;
            }
        members.emplace_back(k, raw);
        return *this;
    }
    Obj& erase(const std::string& k) {
        for (size_t i = 0; i < members.size(); ++i)
            if (members[i].first == k) members.erase(members.begin() + i);
        return *this;
    }
};

std::string q(const std::string& s) { return "\"" + s + "\""; }

const char* const kData = "{\"bridge\":\"ovsbr0\",\"port\":\"veth123\"}";

/// A valid v2 block (hash computed with block_hash) with `embedding` raw.
Obj v2_block(uint64_t height, const std::string& prev, const std::string& embedding = "[0.5,-0.25,1]",
             uint64_t ts = 1759276800) {
    BlockHashInput in;
    in.height = height;
    in.prev_hash = prev;
    in.timestamp = ts;
    in.producer = "network-plugin";
    in.category = "interface";
    in.action = "interface_created";
    in.user = "system";
    in.hostname = "pve-01";
    in.pid = 4242;
    in.data_json = kData;
    Obj o;
    o.set("timestamp", std::to_string(ts))
        .set("height", std::to_string(height))
        .set("prev_hash", q(prev))
        .set("hash", q(to_hex(block_hash(in))))
        .set("producer", q("network-plugin"))
        .set("category", q("interface"))
        .set("action", q("interface_created"))
        .set("user", q("system"))
        .set("hostname", q("pve-01"))
        .set("pid", "4242")
        .set("data", kData)
        .set("metadata", "{}")
        .set("signature", "null");
    if (!embedding.empty()) o.set("embedding", embedding);
    return o;
}

/// A valid v1 record.
Obj v1_record(uint64_t ts, const std::string& prev, const std::string& port = "veth100",
              const std::string& embedding = "[0.5,-0.25,1]") {
    std::string details = "{\"bridge\":\"ovsbr0\",\"port\":\"" + port + "\"}";
    Obj o;
    o.set("ts", std::to_string(ts))
        .set("action", q("ovs_add_port"))
        .set("details", details)
        .set("prev_hash", q(prev))
        .set("hash", q(to_hex(record_v1_hash(prev, ts, "ovs_add_port", details))));
    if (!embedding.empty()) o.set("embedding", embedding);
    return o;
}

std::string hash_of(const Obj& o) {
    for (auto& m : o.members)
        if (m.first == "hash") return m.second.substr(1, 64);
    return "";
}

/// n chained v1 records (ports <port_prefix>0, 1, ...); *last gets the last hash.
std::vector<std::string> v1_chain(uint64_t n, const std::string& port_prefix, std::string* last) {
    std::vector<std::string> ls;
    std::string prev;
    for (uint64_t i = 0; i < n; ++i) {
        Obj r = v1_record(1727800000 + i, prev, port_prefix + std::to_string(i));
        prev = hash_of(r);
        ls.push_back(r.text());
    }
    *last = prev;
    return ls;
}

/// Parse with `opts`; returns the reason ("" if accepted).
std::string reject_reason(const std::string& line, ParseOptions opts = {}) {
    LineParser p(std::move(opts));
    Event ev;
    std::string reason;
    bool ok = p.parse(line, ev, reason);
    if (ok) return "";
    EXPECT_FALSE(reason.empty());
    return reason;
}

Event parse_ok(const std::string& line, ParseOptions opts = {}) {
    LineParser p(std::move(opts));
    Event ev;
    std::string reason;
    EXPECT_TRUE(p.parse(line, ev, reason)) << reason << "\n" << line.substr(0, 300);
    return ev;
}

/// The "embedding" array of a generated line, read with from_chars (strtof rounding).
std::vector<float> floats_of(const std::string& line) {
    auto at = line.find("\"embedding\":[") + 13;
    std::vector<float> v;
    const char* p = line.data() + at;
    const char* end = line.data() + line.size();
    while (p < end && *p != ']') {
        float x = 0;
        auto res = std::from_chars(p, end, x);
        EXPECT_EQ(res.ec, std::errc());
        v.push_back(x);
        p = res.ptr + (*res.ptr == ',' ? 1 : 0);
    }
    return v;
}

gen::Config small(uint64_t rows, int dims = 16) {
    gen::Config c;
    c.rows = rows;
    c.dims = dims;
    c.hosts = 20;
    c.seed = 11;
    return c;
}

// ------------------------------------------------------------ valid lines

TEST(IngestParse, V2LineFields) {
    Obj o = v2_block(7, std::string(64, 'a'));
    o.set("metadata", "{\"zone\":\"b\",\"env\":\"prod\"}");
    // Metadata changes the hash: recompute by hand.
    BlockHashInput in;
    in.height = 7;
    std::string prev(64, 'a');
    in.prev_hash = prev;
    in.timestamp = 1759276800;
    in.producer = "network-plugin";
    in.category = "interface";
    in.action = "interface_created";
    in.user = "system";
    in.hostname = "pve-01";
    in.pid = 4242;
    in.data_json = kData;
    in.metadata = {{"zone", "b"}, {"env", "prod"}};
    o.set("hash", q(to_hex(block_hash(in))));
    Event ev = parse_ok(o.text());
    EXPECT_EQ(ev.kind, Event::Kind::V2Block);
    EXPECT_EQ(ev.height, 7u);
    EXPECT_EQ(ev.timestamp, 1759276800u);
    EXPECT_EQ(ev.prev_hash, prev);
    EXPECT_EQ(ev.hash, hash_of(o));
    EXPECT_EQ(ev.computed_hash, ev.hash);
    EXPECT_EQ(ev.producer, "network-plugin");
    EXPECT_EQ(ev.category, "interface");
    EXPECT_EQ(ev.action, "interface_created");
    EXPECT_EQ(ev.user, "system");
    EXPECT_EQ(ev.hostname, "pve-01");
    EXPECT_EQ(ev.pid, 4242u);
    EXPECT_EQ(ev.data_json, kData);
    EXPECT_EQ(ev.metadata_json, "{\"env\":\"prod\",\"zone\":\"b\"}");
    EXPECT_EQ(ev.embedding, (std::vector<float>{0.5f, -0.25f, 1.0f}));
    EXPECT_FALSE(ev.embedding_from_sidecar);
}

TEST(IngestParse, DataIsCanonicalisedAndHashedThatWay) {
    // Keys out of order and spaces: nm-monitor hashes the sorted compact form.
    Obj o = v2_block(1, "");
    o.set("data", "{ \"port\" : \"veth123\", \"bridge\":\"ovsbr0\" }");
    Event ev = parse_ok(o.text());
    EXPECT_EQ(ev.data_json, kData);
    EXPECT_EQ(ev.computed_hash, ev.hash);
    // signature may be absent; any JSON is a valid data value.
    o.erase("signature").set("data", "[1,2.5,null,true,\"x\"]");
    ev = parse_ok(o.text());
    EXPECT_EQ(ev.data_json, "[1,2.5,null,true,\"x\"]");
    EXPECT_NE(ev.computed_hash, ev.hash);  // the payload changed, the stored hash did not
}

TEST(IngestParse, V1LineFields) {
    Obj o = v1_record(1727800000, "", "veth7");
    Event ev = parse_ok(o.text());
    EXPECT_EQ(ev.kind, Event::Kind::V1Record);
    EXPECT_EQ(ev.height, 0u);
    EXPECT_EQ(ev.timestamp, 1727800000u);
    EXPECT_EQ(ev.action, "ovs_add_port");
    EXPECT_EQ(ev.prev_hash, "");
    EXPECT_EQ(ev.hash, hash_of(o));
    EXPECT_EQ(ev.computed_hash, ev.hash);
    EXPECT_EQ(ev.data_json, "{\"bridge\":\"ovsbr0\",\"port\":\"veth7\"}");
    EXPECT_EQ(ev.embedding.size(), 3u);
}

/// `o` with the member `key` (raw JSON `value`) put first.
Obj with_first(Obj o, const std::string& key, const std::string& value) {
    o.members.insert(o.members.begin(), {key, value});
    return o;
}

TEST(IngestParse, EmbeddingIsTheTopLevelMemberWhereverItIs) {
    const std::vector<float> want{0.5f, -0.25f, 1.0f};
    // first, in the middle, last
    Obj last = v2_block(1, "");
    Obj first = with_first(v2_block(1, "", ""), "embedding", "[0.5,-0.25,1]");
    Obj middle = v2_block(1, "", "");
    middle.members.insert(middle.members.begin() + 5, {"embedding", "[0.5,-0.25,1]"});
    for (const Obj& o : {last, first, middle}) {
        Event ev = parse_ok(o.text());
        EXPECT_EQ(ev.embedding, want) << o.text();
        EXPECT_EQ(ev.computed_hash, ev.hash) << o.text();
        EXPECT_EQ(ev.user, "system");
    }
    // "embedding" inside data, metadata or a string does not count, before or after
    for (const std::string& data : {std::string("{\"embedding\":[9,9,9]}"),
                                    std::string("[{\"embedding\":[9,9,9]},[\"embedding\",[8]]]"),
                                    std::string("\"\\\"embedding\\\":[9,9,9]\"")}) {
        Obj o = v2_block(1, "").set("data", data);
        EXPECT_EQ(parse_ok(o.text()).embedding, want) << o.text();
        EXPECT_EQ(parse_ok(with_first(o, "x", data).text()).embedding, want) << o.text();
    }
    Obj meta = v2_block(1, "").set("metadata", "{\"embedding\":\"[9,9,9]\"}");
    EXPECT_EQ(parse_ok(meta.text()).embedding, want);
    Obj str = v2_block(1, "").set("user", R"("a\",\"embedding\":[9,9,9],\"b")");
    EXPECT_EQ(parse_ok(str.text()).embedding, want);
    EXPECT_EQ(parse_ok(str.text()).user, R"(a","embedding":[9,9,9],"b)");
    // escapes (a quote, a backslash) at every place relative to 16-byte blocks
    for (size_t pad = 0; pad < 40; ++pad) {
        const std::string raw = std::string(pad, 'x') + R"(\\\"embedding\":[9,9]\\)";
        Obj o = v2_block(1, "").set("user", q(raw));
        Event ev = parse_ok(o.text());
        EXPECT_EQ(ev.embedding, want) << pad;
        EXPECT_EQ(ev.user, std::string(pad, 'x') + R"(\"embedding":[9,9]\)") << pad;
        EXPECT_EQ(parse_ok(with_first(o, "y" + raw, "1").text()).embedding, want) << pad;
        // the decoy in the string would be taken if the string were misread
        EXPECT_EQ(reject_reason(v2_block(1, "", "[]").set("user", q(raw)).text()),
                  "embedding has 0 elements, expected 1 to 16000")
            << pad;
    }
    // A member named embedding by escapes is the same member name.
    EXPECT_EQ(parse_ok(with_first(v2_block(1, ""), "embe\\u0064ding", "[7,7]").text()).embedding,
              (std::vector<float>{7, 7}));
    EXPECT_EQ(parse_ok(with_first(v2_block(1, ""), "a\\\"embedding", "[7,7]").text()).embedding, want);
    // A repeated member: the first one counts.
    Obj twice = v2_block(1, "");
    twice.members.emplace_back("embedding", "[4,5]");
    EXPECT_EQ(parse_ok(twice.text()).embedding, want);
    EXPECT_EQ(parse_ok(with_first(twice, "embedding", "[6]").text()).embedding, std::vector<float>{6});
    // whitespace around and inside the array
    std::string spaced = v2_block(1, "", " [ 0.5 ,\t-0.25 ,1 ] ").text();
    EXPECT_EQ(parse_ok(spaced).embedding, want);
    spaced.replace(spaced.find("\"embedding\":"), 12, "\"embedding\" \r\n:");
    EXPECT_EQ(parse_ok(spaced).embedding, want);
    EXPECT_EQ(parse_ok(" \t" + v2_block(1, "").text() + " \r").embedding, want);
    // ... also when the member that counts is an empty array (rejected) and
    // another one would have been a good embedding
    const char* empty = "embedding has 0 elements, expected 1 to 16000";
    EXPECT_EQ(reject_reason(with_first(v2_block(1, "", "[1,2]"), "embe\\u0064ding", "[]").text()), empty);
    EXPECT_EQ(reject_reason(v2_block(1, "", "[]").set("data", "{\"embedding\":[1,2]}").text()), empty);
    EXPECT_EQ(reject_reason(with_first(v2_block(1, "", "[1,2]"), "embedding", "[]").text()), empty);
    // v1 records too
    EXPECT_EQ(parse_ok(with_first(v1_record(1, "", "p", ""), "embedding", "[0.5,-0.25,1]").text()).embedding,
              want);
}

TEST(IngestReject, EmbeddingElementsAndTheLineAroundThem) {
    auto emb = [](const std::string& raw) { return reject_reason(v2_block(1, "", raw).text()); };
    EXPECT_EQ(emb("[1,\"2\",3]"), "embedding element 1 is not a number");
    EXPECT_EQ(emb("[1,2,[3]]"), "embedding element 2 is not a number");
    EXPECT_EQ(emb("[null]"), "embedding element 0 is not a number");
    EXPECT_EQ(emb("[0.5,{}]"), "embedding element 1 is not a number");
    EXPECT_EQ(emb("{\"a\":1}"), "\"embedding\" is not an array");
    EXPECT_EQ(emb("\"[1,2]\""), "\"embedding\" is not an array");
    for (const char* bad : {"[1,2,]", "[1,,2]", "[,1]", "[01]", "[1 2]", "[.5]", "[1.]", "[-]", "[1e]",
                            "[+1]", "[0x1]", "[1,2", "[1e400]"}) {
        std::string r = emb(bad);
        EXPECT_EQ(r.rfind("invalid JSON: ", 0), 0u) << bad << " -> " << r;
    }
    // the line around a valid embedding still decides
    std::string line = v2_block(1, "").text();
    std::string broken = line;
    broken.replace(broken.find("\"user\":"), 7, "\"user\"");
    EXPECT_EQ(reject_reason(broken).rfind("invalid JSON: ", 0), 0u);
    EXPECT_EQ(reject_reason(line + "]").rfind("invalid JSON: ", 0), 0u);
    EXPECT_EQ(reject_reason(line.substr(0, line.size() - 1) + ",}").rfind("invalid JSON: ", 0), 0u);
    EXPECT_EQ(reject_reason(v2_block(1, "").erase("hostname").text()), "missing field \"hostname\"");
    EXPECT_EQ(reject_reason(v2_block(1, "").set("pid", "-1").text()), "\"pid\" is not a u32");
    // the same reason as for the whole line when both the embedding and a field are wrong
    EXPECT_EQ(reject_reason(v2_block(1, "", "[1,\"x\"]").erase("user").text()), "missing field \"user\"");
    ParseOptions d2;
    d2.dims = 2;
    EXPECT_EQ(reject_reason(v2_block(1, "", "[1,2,3]").set("pid", "\"x\"").text(), d2),
              "\"pid\" is not a u32");
    // -0 as an integer and as a decimal
    Event ev = parse_ok(v2_block(1, "", "[-0,-0.0,0]").text());
    ASSERT_EQ(ev.embedding.size(), 3u);
    EXPECT_FALSE(std::signbit(ev.embedding[0]));
    EXPECT_TRUE(std::signbit(ev.embedding[1]));
    EXPECT_FALSE(std::signbit(ev.embedding[2]));
}

TEST(IngestParse, ReusedEventIsFullyOverwritten) {
    LineParser p({});
    Event ev;
    std::string reason;
    ASSERT_TRUE(p.parse(v2_block(3, std::string(64, 'b'), "[1,2,3,4]").text(), ev, reason)) << reason;
    ASSERT_TRUE(p.parse(v1_record(5, "", "veth1", "[9]").text(), ev, reason)) << reason;
    EXPECT_EQ(ev.kind, Event::Kind::V1Record);
    EXPECT_EQ(ev.height, 0u);
    EXPECT_EQ(ev.producer, "");
    EXPECT_EQ(ev.category, "");
    EXPECT_EQ(ev.user, "");
    EXPECT_EQ(ev.hostname, "");
    EXPECT_EQ(ev.pid, 0u);
    EXPECT_EQ(ev.metadata_json, "");
    EXPECT_EQ(ev.embedding, std::vector<float>{9.0f});
}

TEST(IngestParse, GeneratedLedgerParsesExactly) {
    auto f = run_to_files(small(300, 24), "gen");
    auto lines = read_lines(f.ledger);
    ASSERT_EQ(lines.size(), 300u);
    ParseOptions opts;
    opts.dims = 24;
    LineParser p(opts);
    Event ev;
    std::string reason;
    for (size_t i = 0; i < lines.size(); ++i) {
        ASSERT_TRUE(p.parse(lines[i], ev, reason)) << "line " << i + 1 << ": " << reason;
        EXPECT_EQ(ev.height, i + 1);
        EXPECT_EQ(ev.computed_hash, ev.hash) << "line " << i + 1;
        EXPECT_EQ(ev.embedding, floats_of(lines[i])) << "line " << i + 1;
        EXPECT_EQ(ev.metadata_json, "{}");
    }
}

// ------------------------------------------------------------ rejects

TEST(IngestReject, EveryV2FieldMissing) {
    for (const char* k : {"timestamp", "height", "prev_hash", "hash", "producer", "category", "action",
                          "user", "hostname", "pid", "data", "metadata", "embedding"}) {
        Obj o = v2_block(1, "");
        o.erase(k);
        EXPECT_EQ(reject_reason(o.text()), std::string("missing field \"") + k + "\"");
    }
    EXPECT_EQ(reject_reason(v2_block(1, "").erase("signature").text()), "");
}

TEST(IngestReject, EveryV1FieldMissing) {
    for (const char* k : {"ts", "action", "details", "prev_hash", "hash", "embedding"})
        EXPECT_EQ(reject_reason(v1_record(1, "").erase(k).text()),
                  std::string("missing field \"") + k + "\"");
}

TEST(IngestReject, V2WrongTypes) {
    const std::string good(64, 'c');
    const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
        {"timestamp", "\"1759276800\"", "\"timestamp\" is not a u64"},
        {"timestamp", "-1", "\"timestamp\" is not a u64"},
        {"timestamp", "1.5", "\"timestamp\" is not a u64"},
        {"timestamp", "1e3", "\"timestamp\" is not a u64"},
        {"height", "true", "\"height\" is not a u64"},
        {"height", "null", "\"height\" is not a u64"},
        {"pid", "4294967296", "\"pid\" is not a u32"},
        {"pid", "-1", "\"pid\" is not a u32"},
        {"pid", "\"1\"", "\"pid\" is not a u32"},
        {"prev_hash", "5", "\"prev_hash\" is not a string"},
        {"prev_hash", "\"abc\"", "\"prev_hash\" is neither empty nor 64 lower-case hex digits"},
        {"hash", "null", "\"hash\" is not a string"},
        {"hash", "\"\"", "\"hash\" is not 64 lower-case hex digits"},
        {"hash", q(std::string(63, 'a')), "\"hash\" is not 64 lower-case hex digits"},
        {"hash", q(std::string(64, 'A')), "\"hash\" is not 64 lower-case hex digits"},
        {"hash", q(std::string(63, 'a') + "g"), "\"hash\" is not 64 lower-case hex digits"},
        {"producer", "1", "\"producer\" is not a string"},
        {"category", "null", "\"category\" is not a string"},
        {"action", "[]", "\"action\" is not a string"},
        {"user", "{}", "\"user\" is not a string"},
        {"hostname", "true", "\"hostname\" is not a string"},
        {"hostname", "\"a\\u0000b\"", "\"hostname\" contains a NUL character"},
        {"data", "{\"k\":[\"\\u0000\"]}", "\"data\" contains a NUL character"},
        {"metadata", "[]", "\"metadata\" is not an object"},
        {"metadata", "null", "\"metadata\" is not an object"},
        {"metadata", "{\"k\":1}", "\"metadata\" value \"k\" is not a string"},
        {"signature", "\"sig\"", "\"signature\" is not null"},
        {"signature", "{}", "\"signature\" is not null"},
        {"embedding", "\"[1,2]\"", "\"embedding\" is not an array"},
        {"embedding", "null", "\"embedding\" is not an array"},
        {"embedding", "[1,\"2\",3]", "embedding element 1 is not a number"},
        {"embedding", "[1,2,[3]]", "embedding element 2 is not a number"},
    };
    for (const auto& [key, raw, want] : cases) {
        Obj o = v2_block(1, "");
        o.set(key, raw);
        EXPECT_EQ(reject_reason(o.text()), want) << key << "=" << raw;
    }
    // The limits themselves are fine (the hash no longer matches, which is
    // the chain checker's business, not a reject).
    EXPECT_EQ(reject_reason(v2_block(1, "").set("pid", "4294967295").text()), "");
    EXPECT_EQ(reject_reason(v2_block(1, "").set("height", "18446744073709551615").text()), "");
    EXPECT_EQ(reject_reason(v2_block(1, "").set("prev_hash", q(good)).text()), "");
}

TEST(IngestReject, HashDigitsAtEveryPlace) {
    // Each character just outside 0-9 and a-f, at places in each 16-byte
    // quarter of the hash: refused; the bounds themselves: accepted.
    const std::string ok(64, '0');
    for (size_t at : {0u, 15u, 16u, 31u, 32u, 47u, 48u, 63u}) {
        for (const char* bad : {"/", ":", "`", "g", "A", "F", " ", "\xc3\xa9"}) {
            std::string h = ok;
            const size_t len = std::strlen(bad);  // "\xc3\xa9" (e acute) takes two places
            h.replace(std::min(at, 64 - len), len, bad);
            EXPECT_EQ(reject_reason(v2_block(1, "").set("hash", q(h)).text()),
                      "\"hash\" is not 64 lower-case hex digits")
                << at << " " << bad;
        }
        for (char good : {'0', '9', 'a', 'f'}) {
            std::string h = ok;
            h[at] = good;
            EXPECT_EQ(reject_reason(v2_block(1, "").set("hash", q(h)).text()), "") << at << " " << good;
        }
    }
}

TEST(IngestReject, V1WrongTypes) {
    EXPECT_EQ(reject_reason(v1_record(1, "").set("ts", "\"1\"").text()), "\"ts\" is not a u64");
    EXPECT_EQ(reject_reason(v1_record(1, "").set("action", "7").text()), "\"action\" is not a string");
    EXPECT_EQ(reject_reason(v1_record(1, "").set("hash", "\"x\"").text()),
              "\"hash\" is not 64 lower-case hex digits");
    EXPECT_EQ(reject_reason(v1_record(1, "").set("prev_hash", "[]").text()), "\"prev_hash\" is not a string");
    EXPECT_EQ(reject_reason(v1_record(1, "").set("details", "\"\\u0000\"").text()),
              "\"details\" contains a NUL character");
}

TEST(IngestReject, NotARecord) {
    EXPECT_EQ(reject_reason("{}"), "not a ledger record");
    EXPECT_EQ(reject_reason("{\"foo\":1,\"hash\":\"x\"}"), "not a ledger record");
    EXPECT_EQ(reject_reason("[1,2]"), "not a JSON object");
    EXPECT_EQ(reject_reason("42"), "not a JSON object");
    EXPECT_EQ(reject_reason(""), "blank line");
    EXPECT_EQ(reject_reason(" \t\r"), "blank line");
    EXPECT_TRUE(LineParser::is_blank(" \r"));
    EXPECT_FALSE(LineParser::is_blank(" x"));
}

TEST(IngestReject, InvalidJson) {
    std::string line = v2_block(1, "").text();
    for (const std::string& bad : std::vector<std::string>{
             line.substr(0, line.size() - 1), "{\"height\":", "{'a':1}", line + "x",
             v2_block(1, "", "[1,NaN,2]").text(), v2_block(1, "", "[1,Infinity]").text()}) {
        std::string r = reject_reason(bad);
        EXPECT_EQ(r.rfind("invalid JSON: ", 0), 0u) << bad << " -> " << r;
        EXPECT_GT(r.size(), 14u) << "the simdjson message follows";
    }
}

TEST(IngestReject, TooLong) {
    ParseOptions small_limit;
    small_limit.max_line_bytes = 100;
    std::string line = v2_block(1, "").text();
    ASSERT_GT(line.size(), 100u);
    EXPECT_EQ(reject_reason(line, small_limit), "line longer than 100 bytes");
    small_limit.max_line_bytes = line.size();
    EXPECT_EQ(reject_reason(line, small_limit), "");
    // The default limit, 16 MiB.
    std::string huge = v2_block(1, "").text();
    huge.insert(1, (16u << 20) + 1 - huge.size(), ' ');
    EXPECT_EQ(reject_reason(huge), "line longer than 16777216 bytes");
    huge.erase(1, 1);  // exactly 16 MiB of valid JSON is accepted
    EXPECT_EQ(reject_reason(huge), "");
}

TEST(IngestReject, Dims) {
    ParseOptions d3;
    d3.dims = 3;
    EXPECT_EQ(reject_reason(v2_block(1, "", "[1,2]").text(), d3), "embedding has 2 elements, expected 3");
    EXPECT_EQ(reject_reason(v2_block(1, "", "[1,2,3,4]").text(), d3), "embedding has 4 elements, expected 3");
    EXPECT_EQ(reject_reason(v2_block(1, "", "[1,2,3]").text(), d3), "");
    ParseOptions d384;
    d384.dims = 384;
    std::string e383 = "[0";
    for (int i = 1; i < 383; ++i) e383 += ",0";
    e383 += "]";
    EXPECT_EQ(reject_reason(v1_record(1, "", "v", e383).text(), d384),
              "embedding has 383 elements, expected 384");
    // dims 0: any length from 1 to 16000.
    EXPECT_EQ(reject_reason(v2_block(1, "", "[]").text()), "embedding has 0 elements, expected 1 to 16000");
    std::string e(1 + 2 * 15999, ',');
    for (size_t i = 0; i < e.size(); i += 2) e[i] = '1';
    EXPECT_EQ(reject_reason(v2_block(1, "", "[" + e + "]").text()), "");
    EXPECT_EQ(reject_reason(v2_block(1, "", "[" + e + ",1]").text()),
              "embedding has 16001 elements, expected 1 to 16000");
}

TEST(IngestReject, NonFiniteAsFloat32) {
    // JSON has no NaN/Infinity; a literal beyond float32's range stands for them.
    EXPECT_EQ(reject_reason(v2_block(1, "", "[0,1e39,0]").text()), "embedding element 1 is not finite");
    EXPECT_EQ(reject_reason(v2_block(1, "", "[-1e39]").text()), "embedding element 0 is not finite");
    EXPECT_EQ(reject_reason(v2_block(1, "", "[1,2,1e308]").text()), "embedding element 2 is not finite");
    // Just above the rounding threshold to infinity (2^128 - 2^103 = 3.40282357e38).
    EXPECT_EQ(reject_reason(v2_block(1, "", "[3.4028236e38]").text()), "embedding element 0 is not finite");
    EXPECT_EQ(parse_ok(v2_block(1, "", "[3.4028235e38]").text()).embedding[0], FLT_MAX);
}

TEST(IngestParse, EmbeddingRoundsLikeStrtof) {
    auto one = [](const std::string& lit) {
        return parse_ok(v2_block(1, "", "[" + lit + "]").text()).embedding;
    };
    // Tiny values round as strtof does: to a subnormal or to zero, not rejected.
    EXPECT_EQ(one("1e-45")[0], std::strtof("1e-45", nullptr));
    EXPECT_GT(one("1e-45")[0], 0.0f);
    EXPECT_EQ(one("1e-50")[0], 0.0f);
    EXPECT_EQ(one("-1e-300")[0], 0.0f);
    EXPECT_TRUE(std::signbit(one("-1e-300")[0]));
    EXPECT_EQ(one("7")[0], 7.0f);
    EXPECT_EQ(one("-0.1")[0], -0.1f);
    // Decimal text just above / below the midpoint between 1 and the next
    // float (1 + 2^-24 = 1.000000059604644775390625): as a double both are
    // exactly the midpoint, which (float) would round to even (1.0); strtof
    // rounds the text itself.
    EXPECT_EQ(one("1.00000005960464477539062500001")[0], std::nextafterf(1.0f, 2.0f));
    EXPECT_EQ(one("1.00000005960464477539062499999")[0], 1.0f);
    EXPECT_EQ(one("1.000000059604644775390625")[0], 1.0f);  // the midpoint itself: to even
    // Just below the overflow threshold 2^128 - 2^103: strtof gives FLT_MAX,
    // while the double is the threshold, which (float) rounds to infinity.
    EXPECT_EQ(one("340282356779733661637539395458142568447.99")[0], FLT_MAX);
    EXPECT_EQ(reject_reason(v2_block(1, "", "[3.40282356779733661637539395458142568448e38]").text()),
              "embedding element 0 is not finite");
    // Several such elements in one line, and integers.
    auto v = one("1.00000005960464477539062500001,2,-1.00000005960464477539062500001,16777217");
    ASSERT_EQ(v.size(), 4u);
    EXPECT_EQ(v[0], std::nextafterf(1.0f, 2.0f));
    EXPECT_EQ(v[1], 2.0f);
    EXPECT_EQ(v[2], -std::nextafterf(1.0f, 2.0f));
    EXPECT_EQ(v[3], 16777216.0f);
}

TEST(IngestParse, EmbeddingOptional) {
    ParseOptions opt;
    opt.require_embedding = false;
    Event ev = parse_ok(v2_block(1, "", "").text(), opt);
    EXPECT_TRUE(ev.embedding.empty());
    ev = parse_ok(v1_record(1, "", "v", "").text(), opt);
    EXPECT_TRUE(ev.embedding.empty());
}

// ------------------------------------------------------------ sidecar

class IngestSidecar : public ::testing::Test {
 protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        dir_ = ::testing::TempDir() + "nmvec_IngestSidecar_" + info->name();
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        opts_.vectors_dir = dir_;
        opts_.dims = 3;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    void write_vec(const std::string& hash, const std::string& body) {
        spit(dir_ + "/" + hash + ".vec", body);
    }
    static std::string vec_json(const std::string& hash, const std::string& vector) {
        return "{\n  \"hash\": \"" + hash + "\",\n  \"vector\": " + vector +
               ",\n  \"metadata\": {\"action\": \"x\", \"timestamp\": 1}\n}\n";
    }

    std::string dir_;
    ParseOptions opts_;
};

TEST_F(IngestSidecar, LineWithoutEmbeddingReadsVecFile) {
    Obj o = v2_block(1, "", "");
    std::string h = hash_of(o);
    write_vec(h, vec_json(h, "[0.25, 0.5, -1e-50]"));
    Event ev = parse_ok(o.text(), opts_);
    EXPECT_TRUE(ev.embedding_from_sidecar);
    EXPECT_EQ(ev.embedding, (std::vector<float>{0.25f, 0.5f, 0.0f}));
    // v1 lines too.
    Obj r = v1_record(9, "", "v", "");
    write_vec(hash_of(r), vec_json(hash_of(r), "[1,2,3]"));
    ev = parse_ok(r.text(), opts_);
    EXPECT_EQ(ev.embedding, (std::vector<float>{1, 2, 3}));
}

TEST_F(IngestSidecar, InlineEmbeddingWins) {
    Obj o = v2_block(1, "", "[7,8,9]");
    write_vec(hash_of(o), vec_json(hash_of(o), "[1,2,3]"));
    Event ev = parse_ok(o.text(), opts_);
    EXPECT_FALSE(ev.embedding_from_sidecar);
    EXPECT_EQ(ev.embedding, (std::vector<float>{7, 8, 9}));
}

TEST_F(IngestSidecar, MissingSidecarIsNoEmbedding) {
    Obj o = v2_block(1, "", "");
    EXPECT_EQ(reject_reason(o.text(), opts_),
              "missing field \"embedding\" and no sidecar " + hash_of(o) + ".vec");
    opts_.require_embedding = false;
    Event ev = parse_ok(o.text(), opts_);
    EXPECT_TRUE(ev.embedding.empty());
    EXPECT_FALSE(ev.embedding_from_sidecar);
}

TEST_F(IngestSidecar, BadSidecarsAreRejected) {
    Obj o = v2_block(1, "", "");
    std::string h = hash_of(o), path = dir_ + "/" + h + ".vec";
    write_vec(h, vec_json(std::string(64, 'f'), "[1,2,3]"));
    EXPECT_EQ(reject_reason(o.text(), opts_), "sidecar " + path + " is for another hash");
    write_vec(h, "{\"vector\":[1,2,3]}");
    EXPECT_EQ(reject_reason(o.text(), opts_), "sidecar " + path + " has no \"hash\"");
    write_vec(h, "{\"hash\":\"" + h + "\"}");
    EXPECT_EQ(reject_reason(o.text(), opts_), "sidecar " + path + " has no \"vector\"");
    write_vec(h, vec_json(h, "[1,2]"));
    EXPECT_EQ(reject_reason(o.text(), opts_), "sidecar vector has 2 elements, expected 3");
    write_vec(h, vec_json(h, "[1,1e39,2]"));
    EXPECT_EQ(reject_reason(o.text(), opts_), "sidecar vector element 1 is not finite");
    write_vec(h, vec_json(h, "{}"));
    EXPECT_EQ(reject_reason(o.text(), opts_), "sidecar \"vector\" is not an array");
    write_vec(h, "{\"hash\":");
    EXPECT_EQ(reject_reason(o.text(), opts_).rfind("sidecar " + path + ": invalid JSON: ", 0), 0u);
    // Exact strtof rounding reads the sidecar's digits too.
    write_vec(h, vec_json(h, "[1.00000005960464477539062500001,0,0]"));
    EXPECT_EQ(parse_ok(o.text(), opts_).embedding[0], std::nextafterf(1.0f, 2.0f));
}

// ------------------------------------------------------------ chain

/// Parse all non-blank lines and run them through `c`; 1-based line numbers
/// start at first_line.
std::vector<ChainBreak> check_lines(const std::vector<std::string>& lines, ChainChecker& c,
                                    uint64_t first_line = 1) {
    LineParser p({});
    Event ev;
    std::string reason;
    std::vector<ChainBreak> out;
    for (size_t i = 0; i < lines.size(); ++i) {
        if (LineParser::is_blank(lines[i])) continue;
        EXPECT_TRUE(p.parse(lines[i], ev, reason)) << "line " << first_line + i << ": " << reason;
        c.check(ev, first_line + i, out);
    }
    return out;
}

std::vector<ChainBreak> check_lines(const std::vector<std::string>& lines) {
    ChainChecker c;
    return check_lines(lines, c);
}

std::string describe(const std::vector<ChainBreak>& b) {
    std::string s;
    for (auto& x : b) s += std::to_string(x.line) + " " + x.kind + ": " + x.detail + "\n";
    return s;
}

class IngestChain : public ::testing::Test {
 protected:
    void SetUp() override {
        lines_store_ = read_lines(run_to_files(small(600), "chain").ledger);
        lines_ = &lines_store_;
    }
    std::vector<std::string> lines_store_;
    const std::vector<std::string>* lines_ = nullptr;
};

TEST_F(IngestChain, CleanLedgerHasNoBreaks) {
    ASSERT_EQ(lines_->size(), 600u);
    ChainChecker c;
    auto b = check_lines(*lines_, c);
    EXPECT_TRUE(b.empty()) << describe(b);
    EXPECT_EQ(c.state().height, 600u);
    EXPECT_TRUE(c.state().any);
    EXPECT_EQ(c.state().hash, parse_ok(lines_->back()).hash);
    EXPECT_EQ(c.state().v1_hash, "");
}

TEST_F(IngestChain, DeletedLineIsOneGap) {
    auto ls = *lines_;
    ls.erase(ls.begin() + 99);  // height 100 is gone
    auto b = check_lines(ls);
    ASSERT_EQ(b.size(), 1u) << describe(b);
    EXPECT_EQ(b[0].line, 100u);
    EXPECT_EQ(b[0].kind, "gap");
    EXPECT_EQ(b[0].detail, "height 101 after 99");
}

TEST_F(IngestChain, RepeatedLineIsOneGap) {
    auto ls = *lines_;
    ls.insert(ls.begin() + 41, ls[40]);  // height 41 twice
    auto b = check_lines(ls);
    ASSERT_EQ(b.size(), 1u) << describe(b);
    EXPECT_EQ(b[0].line, 42u);
    EXPECT_EQ(b[0].kind, "gap");
    EXPECT_EQ(b[0].detail, "height 41 after 41");
}

TEST_F(IngestChain, FlippedPayloadByteIsTamperedAtThatLineOnly) {
    auto ls = *lines_;
    std::string& l = ls[233];
    size_t at = l.find(",\"data\":{\"") + 10;
    l[at] = l[at] == 'x' ? 'y' : 'x';
    auto b = check_lines(ls);
    ASSERT_EQ(b.size(), 1u) << describe(b);
    EXPECT_EQ(b[0].line, 234u);
    EXPECT_EQ(b[0].kind, "tampered");
    EXPECT_NE(b[0].detail.find("does not match the recomputed"), std::string::npos) << b[0].detail;
}

TEST_F(IngestChain, ModifiedPrevHashIsAFork) {
    auto ls = *lines_;
    std::string& l = ls[299];
    size_t at = l.find("\"prev_hash\":\"") + 13 + 5;
    l[at] = l[at] == '0' ? '1' : '0';
    auto b = check_lines(ls);
    ASSERT_EQ(b.size(), 1u) << describe(b);
    EXPECT_EQ(b[0].line, 300u);
    EXPECT_EQ(b[0].kind, "fork");
    EXPECT_EQ(b[0].detail.rfind("prev_hash ", 0), 0u) << b[0].detail;
    EXPECT_NE(b[0].detail.find("is not the hash of height 299"), std::string::npos) << b[0].detail;
    // The hash covers prev_hash, so the line is also tampered: said in the detail.
    EXPECT_NE(b[0].detail.find("does not match the recomputed"), std::string::npos) << b[0].detail;
}

TEST_F(IngestChain, ReplacedLineForksOnBothSides) {
    // A line replaced by a self-consistent block on a wrong predecessor: a
    // fork there (not tampered: its hash matches its fields), and another at
    // the next line, which links to the original.
    auto ls = *lines_;
    Obj o = v2_block(10, std::string(64, 'e'));
    ls[9] = o.text();
    auto b = check_lines(ls);
    ASSERT_EQ(b.size(), 2u) << describe(b);
    EXPECT_EQ(b[0].line, 10u);
    EXPECT_EQ(b[0].kind, "fork");
    EXPECT_EQ(b[0].detail.find("recomputed"), std::string::npos) << b[0].detail;
    EXPECT_EQ(b[1].line, 11u);
    EXPECT_EQ(b[1].kind, "fork");
}

TEST_F(IngestChain, BlankLinesKeepLineNumbers) {
    auto ls = *lines_;
    ls.insert(ls.begin() + 5, "");
    ls.erase(ls.begin() + 51);  // original height 51 (at index 51 after the insert)
    auto b = check_lines(ls);
    ASSERT_EQ(b.size(), 1u) << describe(b);
    EXPECT_EQ(b[0].line, 52u);
    EXPECT_EQ(b[0].detail, "height 52 after 50");
}

TEST_F(IngestChain, V1ThenV2IsNotABreak) {
    std::string prev;
    std::vector<std::string> ls = v1_chain(4, "veth10", &prev);
    ls.insert(ls.end(), lines_->begin(), lines_->begin() + 50);
    ChainChecker c;
    auto b = check_lines(ls, c);
    EXPECT_TRUE(b.empty()) << describe(b);
    EXPECT_EQ(c.state().v1_hash, prev);
    EXPECT_EQ(c.state().height, 50u);

    // A changed v1 payload: tampered there only; a broken v1 link: fork.
    auto bad = ls;
    bad[1][bad[1].find("veth101")] = 'V';
    b = check_lines(bad);
    ASSERT_EQ(b.size(), 1u) << describe(b);
    EXPECT_EQ(b[0].line, 2u);
    EXPECT_EQ(b[0].kind, "tampered");
    EXPECT_EQ(b[0].detail.rfind("v1 hash", 0), 0u) << b[0].detail;
    bad = ls;
    bad.erase(bad.begin() + 1);
    b = check_lines(bad);
    ASSERT_EQ(b.size(), 1u) << describe(b);
    EXPECT_EQ(b[0].line, 2u);
    EXPECT_EQ(b[0].kind, "fork");
    EXPECT_EQ(b[0].detail.rfind("v1 prev_hash", 0), 0u) << b[0].detail;
}

TEST_F(IngestChain, SecondChainIsARestart) {
    auto ls = *lines_;
    ls.resize(100);
    ls.insert(ls.end(), lines_->begin(), lines_->begin() + 20);
    auto b = check_lines(ls);
    ASSERT_EQ(b.size(), 1u) << describe(b);
    EXPECT_EQ(b[0].line, 101u);
    EXPECT_EQ(b[0].kind, "restart");
    EXPECT_EQ(b[0].detail, "a new chain at height 1 after height 100");
}

TEST_F(IngestChain, ChainNotStartingAtOne) {
    std::vector<std::string> ls(lines_->begin() + 10, lines_->begin() + 30);
    auto b = check_lines(ls);
    ASSERT_EQ(b.size(), 1u) << describe(b);
    EXPECT_EQ(b[0].line, 1u);
    EXPECT_EQ(b[0].kind, "gap");
    // Genesis with a non-empty prev_hash.
    b = check_lines({v2_block(1, std::string(64, 'd')).text()});
    ASSERT_EQ(b.size(), 1u) << describe(b);
    EXPECT_EQ(b[0].kind, "fork");
}

TEST_F(IngestChain, StateRestoreResumesLikeOnePass) {
    // Some breaks before and after the split point, and a v1 prefix.
    std::string prev;
    std::vector<std::string> ls = v1_chain(3, "veth", &prev);
    ls.insert(ls.end(), lines_->begin(), lines_->end());
    ls.erase(ls.begin() + 3 + 99);
    ls[3 + 400][ls[3 + 400].find(",\"data\":{\"") + 10] ^= 1;
    ls.erase(ls.begin() + 3 + 450);

    ChainChecker one;
    auto want = check_lines(ls, one);
    ASSERT_EQ(want.size(), 3u) << describe(want);

    for (size_t split : {size_t(1), size_t(3), size_t(4), size_t(102), size_t(403), size_t(500)}) {
        ChainChecker first;
        std::vector<std::string> a(ls.begin(), ls.begin() + split), rest(ls.begin() + split, ls.end());
        auto got = check_lines(a, first);
        ChainChecker::State saved = first.state();  // as if persisted and read back
        ChainChecker second;
        second.restore(saved);
        auto more = check_lines(rest, second, split + 1);
        got.insert(got.end(), more.begin(), more.end());
        EXPECT_EQ(describe(got), describe(want)) << "split after line " << split;
        EXPECT_EQ(second.state().height, one.state().height);
        EXPECT_EQ(second.state().hash, one.state().hash);
        EXPECT_EQ(second.state().v1_hash, one.state().v1_hash);
    }
}

// ------------------------------------------------------------ COPY rows

TEST(IngestCopy, RowsInBinaryCopyFormat) {
    // A v2 block (every column) and a v1 record (NULL where it has no
    // value), byte for byte, streamed in two pieces as nmvec-ingest sends.
    Event v2;
    v2.kind = Event::Kind::V2Block;
    v2.height = 0x0102030405060708ULL;
    v2.timestamp = 946684801;  // one second after Postgres' epoch
    v2.hostname = "h";
    v2.category = "cat";
    v2.action = "a";
    v2.user = "u";
    v2.pid = 0x01020304;
    v2.data_json = "{}";
    v2.hash = "ab";
    v2.embedding = {1.0f, -2.0f, 0.5f, 3.0f, 8.0f};  // four at a time, then one
    Event v1 = v2;
    v1.kind = Event::Kind::V1Record;
    v1.timestamp = 946684800;
    using namespace std::string_literals;
    const std::string header = "PGCOPY\n\xff\r\n\0"s + "\0\0\0\0"s + "\0\0\0\0"s;
    const std::string emb = "\0\0\0\x18"s + "\0\x05\0\0"s + "\x3f\x80\0\0"s + "\xc0\0\0\0"s + "\x3f\0\0\0"s +
                            "\x40\x40\0\0"s + "\x41\0\0\0"s;
    const std::string row2 = "\0\x0a"s + "\0\0\0\x08\x01\x02\x03\x04\x05\x06\x07\x08"s +
                             "\0\0\0\x08\0\0\0\0\0\x0f\x42\x40"s + "\0\0\0\x01h"s +
                             "\0\0\0\x03"
                             "cat"s +
                             "\0\0\0\x01"
                             "a"s +
                             "\0\0\0\x01u"s + "\0\0\0\x04\x01\x02\x03\x04"s + "\0\0\0\x03\x01{}"s +
                             "\0\0\0\x02"
                             "ab"s +
                             emb;
    const std::string null = "\xff\xff\xff\xff";
    const std::string row1 = "\0\x0a"s + null + "\0\0\0\x08\0\0\0\0\0\0\0\0"s + null + null +
                             "\0\0\0\x01"
                             "a"s +
                             null + null + "\0\0\0\x03\x01{}"s +
                             "\0\0\0\x02"
                             "ab"s +
                             emb;
    CopyRows rows;
    rows.reset();
    rows.add(v2);
    EXPECT_EQ(rows.rows(), 1u);
    EXPECT_EQ(std::string(rows.unsent()), header + row2);
    rows.sent();
    rows.add(v1);
    EXPECT_EQ(rows.rows(), 2u);
    EXPECT_EQ(rows.finish(), row1 + "\xff\xff");
    // Tuples encoded apart (as the parse-ahead thread does): the same bytes.
    std::string appended = "x";
    CopyRows::encode(v2, appended);
    EXPECT_EQ(appended, "x" + row2);
    const EventRow r1 = CopyRows::row(v1);
    std::string raw(copy_tuple_size(r1), '?');
    write_copy_tuple(raw.data(), r1);
    EXPECT_EQ(raw, row1);
    EXPECT_EQ(CopyRows::check(v1), "");
    v1.embedding.clear();
    EXPECT_EQ(CopyRows::check(v1), "no embedding");
}

}  // namespace
}  // namespace nmvec::ingest

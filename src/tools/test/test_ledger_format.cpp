// The ledger format primitives: serde_json-compatible JSON output, block and
// v1 record hashes (known answers computed independently with Python's
// hashlib), and the canonical re-serialisation used by the verifier.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <stdexcept>
#include <string>

#include "json_write.h"
#include "ledger.h"
#include "ledger_verify.h"

namespace {

std::string f64(double v) {
    std::string s;
    nmvec::json_append_f64(s, v);
    return s;
}

std::string canonical(const std::string& json) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.parse(json);
    std::string out;
    nmvec::append_canonical_json(out, doc);
    return out;
}

TEST(GenJson, StringEscapingLikeSerde) {
    std::string s;
    nmvec::json_append_string(s, "a\"b\\c/\n\t\r\b\f\x01\x1f\x7f é");
    EXPECT_EQ(s, "\"a\\\"b\\\\c/\\n\\t\\r\\b\\f\\u0001\\u001f\x7f é\"");
}

TEST(GenJson, F64LikeSerde) {
    // serde_json prints f64 with ryu: shortest digits, and this layout.
    EXPECT_EQ(f64(1.0), "1.0");
    EXPECT_EQ(f64(-2.5), "-2.5");
    EXPECT_EQ(f64(0.1), "0.1");
    EXPECT_EQ(f64(0.0), "0.0");
    EXPECT_EQ(f64(-0.0), "-0.0");
    EXPECT_EQ(f64(100.0), "100.0");
    EXPECT_EQ(f64(1e15), "1000000000000000.0");
    EXPECT_EQ(f64(1e16), "1e16");
    EXPECT_EQ(f64(1.2345678901234567e16), "1.2345678901234568e16");
    EXPECT_EQ(f64(123456.789), "123456.789");
    EXPECT_EQ(f64(0.001234), "0.001234");
    EXPECT_EQ(f64(0.00001), "0.00001");
    EXPECT_EQ(f64(1e-6), "1e-6");
    EXPECT_EQ(f64(1.5e-7), "1.5e-7");
    EXPECT_EQ(f64(5e-324), "5e-324");
    EXPECT_EQ(f64(1.7976931348623157e308), "1.7976931348623157e308");
    EXPECT_EQ(f64(1.0 / 0.0), "null");
}

TEST(GenJson, WriterRejectsUnsortedKeys) {
    std::string out;
    nmvec::JsonWriter w(out);
    w.begin_object();
    w.key("b");
    w.u64(1);
    EXPECT_THROW(w.key("a"), std::logic_error);
    EXPECT_THROW(w.key("b"), std::logic_error);  // duplicates too
    w.key("c");
    w.begin_array();
    w.boolean(true);
    w.null();
    w.i64(-3);
    w.end_array();
    w.end_object();
    EXPECT_EQ(out, "{\"b\":1,\"c\":[true,null,-3]}");
}

TEST(GenJson, CanonicalFormSortsKeysAndNormalisesNumbers) {
    EXPECT_EQ(canonical(R"({ "b": 1, "a": [1.0, 2e3, -0.5, 18446744073709551615, -3], "a\u00e9": "x\/y" })"),
              "{\"a\":[1.0,2000.0,-0.5,18446744073709551615,-3],\"a\xc3\xa9\":\"x/y\",\"b\":1}");
    // A repeated key keeps its last value, as serde_json's map does.
    EXPECT_EQ(canonical(R"({"k":1,"j":0,"k":2})"), "{\"j\":0,\"k\":2}");
    EXPECT_EQ(canonical(R"({"z":{"y":null,"x":true}})"), "{\"z\":{\"x\":true,\"y\":null}}");
}

TEST(GenLedgerHash, BlockKnownAnswer) {
    nmvec::BlockHashInput in;
    std::string prev;
    for (int i = 0; i < 32; ++i) prev += "ab";
    in.height = 42;
    in.prev_hash = prev;
    in.timestamp = 1759276800;
    in.producer = "network-plugin";
    in.category = "interface";
    in.action = "interface_created";
    in.user = "system";
    in.hostname = "pve-fra1-0001";
    in.pid = 4242;
    in.data_json = "{\"bridge\":\"ovsbr0\",\"note\":\"quote\\\" \xc3\xa9\",\"vmid\":101}";
    in.metadata = {{"b", "2"}, {"a", "1"}};  // hashed sorted: "a:1" "b:2"
    EXPECT_EQ(nmvec::to_hex(nmvec::block_hash(in)),
              "c4255553d5acb04de3d8063e1f7ac12439b6e27e604dcec306754b1f6b345e10");
}

TEST(GenLedgerHash, RecordV1KnownAnswer) {
    EXPECT_EQ(
        nmvec::to_hex(nmvec::record_v1_hash(
            "", 1727800000, "rename", "{\"bridge\":\"ovsbr0\",\"new\":\"vi101\",\"old\":\"veth101i0\"}")),
        "31404d85997fc4fe6267eee58d1d96531a4a89a2da1c5536f197c37ba5c175fc");
}

}  // namespace

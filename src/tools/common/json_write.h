// json_write.h — compact JSON output, byte-compatible with serde_json.
//
// nm-monitor writes its ledger with serde_json (no `preserve_order`), and the
// block hash covers `data` in exactly that compact form. So whatever nmvec
// writes or re-serialises for hashing must match serde_json byte for byte:
//   * no whitespace; object keys in byte order (serde_json's Value is a
//     BTreeMap<String, Value>);
//   * strings escape only `"`, `\` and control characters (\b \t \n \f \r,
//     others as \u00XX with lower-case hex); non-ASCII stays raw UTF-8;
//   * integers as plain decimal; f64 in ryu's shortest form with serde's
//     layout (1.0, 0.001, 1e21, 1.5e-7; non-finite becomes null).
// Implemented in json_write.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nmvec {

/// Append `s` as a JSON string literal (quotes included), serde_json escaping.
void json_append_string(std::string& out, std::string_view s);

/// Append an f64 as serde_json prints it (ryu shortest digits, serde layout).
void json_append_f64(std::string& out, double v);

/// Append an unsigned / signed integer in decimal.
void json_append_u64(std::string& out, uint64_t v);
void json_append_i64(std::string& out, int64_t v);

/// Streaming writer of compact JSON into a std::string. Commas are placed
/// automatically. Keys of each object must be given in strictly increasing
/// byte order — the writer throws std::logic_error otherwise — so output can
/// only ever have the sorted keys serde_json would produce.
class JsonWriter {
 public:
    explicit JsonWriter(std::string& out) : out_(out) {}

    void begin_object();
    void end_object();
    void begin_array();
    void end_array();

    /// Key of the next member of the innermost object.
    void key(std::string_view k);

    void string(std::string_view s);
    void u64(uint64_t v);
    void i64(int64_t v);
    void f64(double v);
    void boolean(bool v);
    void null();

 private:
    struct Level {
        bool object;
        bool first;
        std::string last_key;
    };
    void before_value();

    std::string& out_;
    std::vector<Level> stack_;
    bool after_key_ = false;
};

}  // namespace nmvec

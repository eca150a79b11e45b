// json_write.cpp — serde_json-compatible compact JSON output.
#include "json_write.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace nmvec {

void json_append_string(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    size_t run = 0;  // start of the pending run of bytes that need no escape
    for (size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
            case '"':
                out.append("\\\"");
                break;
            case '\\':
                out.append("\\\\");
                break;
            case '\b':
                out.append("\\b");
                break;
            case '\t':
                out.append("\\t");
                break;
            case '\n':
                out.append("\\n");
                break;
            case '\f':
                out.append("\\f");
                break;
            case '\r':
                out.append("\\r");
                break;
            default: {
                char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
                out.append(u, sizeof u);
            }
        }
    }
    out.append(s.data() + run, s.size() - run);
    out.push_back('"');
}

void json_append_f64(std::string& out, double v) {
    if (!std::isfinite(v)) {
        out.append("null");
        return;
    }
    if (v == 0) {
        out.append(std::signbit(v) ? "-0.0" : "0.0");
        return;
    }
    // Shortest round-trip digits from to_chars in scientific form, d.ddde±x,
    // then ryu's layout rules (ryu::pretty::format64, used by serde_json).
    char sci[32];
    auto res = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
    const char* p = sci;
    const char* end = res.ptr;
    if (*p == '-') {
        out.push_back('-');
        ++p;
    }
    char digits[20];
    int len = 0;
    for (; p < end && *p != 'e'; ++p)
        if (*p != '.') digits[len++] = *p;
    int exp10 = 0;
    std::from_chars(p + 1 + (p[1] == '+'), end, exp10);
    // The value is 0.d1d2...dn * 10^kk, i.e. 10^(kk-1) <= |v| < 10^kk, and
    // k is the power of ten of the last digit.
    int kk = exp10 + 1;
    int k = kk - len;
    if (0 <= k && kk <= 16) {  // 1234e7 -> 12340000000.0
        out.append(digits, len);
        out.append(k, '0');
        out.append(".0");
    } else if (0 < kk && kk <= 16) {  // 1234e-2 -> 12.34
        out.append(digits, kk);
        out.push_back('.');
        out.append(digits + kk, len - kk);
    } else if (-5 < kk && kk <= 0) {  // 1234e-6 -> 0.001234
        out.append("0.");
        out.append(-kk, '0');
        out.append(digits, len);
    } else {  // 1e30, 1234e30 -> 1.234e33
        out.push_back(digits[0]);
        if (len > 1) {
            out.push_back('.');
            out.append(digits + 1, len - 1);
        }
        out.push_back('e');
        json_append_i64(out, kk - 1);
    }
}

void json_append_u64(std::string& out, uint64_t v) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, res.ptr);
}

void json_append_i64(std::string& out, int64_t v) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, res.ptr);
}

void JsonWriter::before_value() {
    if (stack_.empty()) return;
    Level& top = stack_.back();
    if (top.object) {
        if (!after_key_) throw std::logic_error("JsonWriter: object member without a key");
        after_key_ = false;
        return;
    }
    if (!top.first) out_.push_back(',');
    top.first = false;
}

void JsonWriter::key(std::string_view k) {
    if (stack_.empty() || !stack_.back().object || after_key_)
        throw std::logic_error("JsonWriter: key outside an object");
    Level& top = stack_.back();
    if (!top.first && !(top.last_key < k))
        throw std::logic_error("JsonWriter: key \"" + std::string(k) + "\" is not in sorted order");
    if (!top.first) out_.push_back(',');
    top.first = false;
    top.last_key.assign(k);
    json_append_string(out_, k);
    out_.push_back(':');
    after_key_ = true;
}

void JsonWriter::begin_object() {
    before_value();
    out_.push_back('{');
    stack_.push_back(Level{true, true, {}});
}

void JsonWriter::end_object() {
    if (stack_.empty() || !stack_.back().object || after_key_)
        throw std::logic_error("JsonWriter: unbalanced end_object");
    stack_.pop_back();
    out_.push_back('}');
}

void JsonWriter::begin_array() {
    before_value();
    out_.push_back('[');
    stack_.push_back(Level{false, true, {}});
}

void JsonWriter::end_array() {
    if (stack_.empty() || stack_.back().object) throw std::logic_error("JsonWriter: unbalanced end_array");
    stack_.pop_back();
    out_.push_back(']');
}

void JsonWriter::string(std::string_view s) {
    before_value();
    json_append_string(out_, s);
}

void JsonWriter::u64(uint64_t v) {
    before_value();
    json_append_u64(out_, v);
}

void JsonWriter::i64(int64_t v) {
    before_value();
    json_append_i64(out_, v);
}

void JsonWriter::f64(double v) {
    before_value();
    json_append_f64(out_, v);
}

void JsonWriter::boolean(bool v) {
    before_value();
    out_.append(v ? "true" : "false");
}

void JsonWriter::null() {
    before_value();
    out_.append("null");
}

}  // namespace nmvec

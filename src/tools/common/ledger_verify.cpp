// ledger_verify.cpp — simdjson-based chain verification (see ledger_verify.h).
#include "ledger_verify.h"

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "json_write.h"
#include "ledger.h"

namespace nmvec {

namespace dom = simdjson::dom;

void append_canonical_json(std::string& out, const dom::element& value) {
    switch (value.type()) {
        case dom::element_type::OBJECT: {
            std::vector<std::pair<std::string_view, dom::element>> members;
            for (dom::key_value_pair kv : dom::object(value)) members.emplace_back(kv.key, kv.value);
            // Stable sort, then keep the last of equal keys: serde_json
            // inserts members into a BTreeMap one by one.
            std::stable_sort(members.begin(), members.end(),
                             [](const auto& a, const auto& b) { return a.first < b.first; });
            out.push_back('{');
            bool first = true;
            for (size_t i = 0; i < members.size(); ++i) {
                if (i + 1 < members.size() && members[i + 1].first == members[i].first) continue;
                if (!first) out.push_back(',');
                first = false;
                json_append_string(out, members[i].first);
                out.push_back(':');
                append_canonical_json(out, members[i].second);
            }
            out.push_back('}');
            break;
        }
        case dom::element_type::ARRAY: {
            out.push_back('[');
            bool first = true;
            for (dom::element e : dom::array(value)) {
                if (!first) out.push_back(',');
                first = false;
                append_canonical_json(out, e);
            }
            out.push_back(']');
            break;
        }
        case dom::element_type::STRING:
            json_append_string(out, std::string_view(value));
            break;
        case dom::element_type::INT64:
            json_append_i64(out, int64_t(value));
            break;
        case dom::element_type::UINT64:
            json_append_u64(out, uint64_t(value));
            break;
        case dom::element_type::DOUBLE:
            json_append_f64(out, double(value));
            break;
        case dom::element_type::BOOL:
            out.append(bool(value) ? "true" : "false");
            break;
        case dom::element_type::NULL_VALUE:
            out.append("null");
            break;
    }
}

namespace {

/// Thrown for a malformed line; caught per line and turned into the report.
struct LineError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Member `name` of `obj`, or a LineError if absent.
dom::element field(const dom::object& obj, const char* name) {
    dom::element e;
    if (obj.at_key(name).get(e) != simdjson::SUCCESS)
        throw LineError(std::string("missing field \"") + name + "\"");
    return e;
}

uint64_t field_u64(const dom::object& obj, const char* name, uint64_t max = UINT64_MAX) {
    dom::element e = field(obj, name);
    uint64_t v = 0;
    if (e.get_uint64().get(v) != simdjson::SUCCESS || v > max)
        throw LineError(std::string("field \"") + name + "\" is not an unsigned " +
                        (max == UINT32_MAX ? "32" : "64") + "-bit integer");
    return v;
}

std::string_view field_str(const dom::object& obj, const char* name) {
    std::string_view s;
    if (field(obj, name).get_string().get(s) != simdjson::SUCCESS)
        throw LineError(std::string("field \"") + name + "\" is not a string");
    return s;
}

std::string short_hash(std::string_view h) {
    return h.empty() ? "\"\"" : std::string(h.substr(0, 16)) + (h.size() > 16 ? "..." : "");
}

/// State carried from line to line.
class Verifier {
 public:
    explicit Verifier(VerifyReport& r) : r_(r) {}

    /// Check one non-blank line. Throws LineError.
    void line(const char* p, size_t len) {
        dom::element doc;
        auto err = parser_.parse(reinterpret_cast<const uint8_t*>(p), len, false).get(doc);
        if (err) throw LineError(std::string("invalid JSON: ") + simdjson::error_message(err));
        dom::object obj;
        if (doc.get_object().get(obj) != simdjson::SUCCESS) throw LineError("not a JSON object");
        if (obj.at_key("height").error() == simdjson::SUCCESS)
            block(obj);
        else if (obj.at_key("ts").error() == simdjson::SUCCESS)
            record_v1(obj);
        else
            throw LineError("neither a v2 block (no \"height\") nor a v1 record (no \"ts\")");
        dom::element emb;
        if (obj.at_key("embedding").get(emb) == simdjson::SUCCESS) {
            dom::array a;
            if (emb.get_array().get(a) != simdjson::SUCCESS) throw LineError("\"embedding\" is not an array");
            for (dom::element x : a)
                if (!x.is_number()) throw LineError("\"embedding\" holds a non-number");
            r_.embedding_dims[a.size()]++;
        }
    }

 private:
    void block(const dom::object& obj) {
        uint64_t height = field_u64(obj, "height");
        std::string_view prev = field_str(obj, "prev_hash");
        std::string_view hash = field_str(obj, "hash");
        BlockHashInput in;
        in.height = height;
        in.prev_hash = prev;
        in.timestamp = field_u64(obj, "timestamp");
        in.producer = field_str(obj, "producer");
        in.category = field_str(obj, "category");
        in.action = field_str(obj, "action");
        in.user = field_str(obj, "user");
        in.hostname = field_str(obj, "hostname");
        in.pid = static_cast<uint32_t>(field_u64(obj, "pid", UINT32_MAX));
        data_.clear();
        append_canonical_json(data_, field(obj, "data"));
        in.data_json = data_;
        dom::object meta;
        if (field(obj, "metadata").get_object().get(meta) != simdjson::SUCCESS)
            throw LineError("field \"metadata\" is not an object");
        for (dom::key_value_pair kv : meta) {
            std::string_view v;
            if (kv.value.get_string().get(v) != simdjson::SUCCESS)
                throw LineError("metadata value of \"" + std::string(kv.key) + "\" is not a string");
            in.set_metadata(kv.key, v);
        }
        dom::element sig = field(obj, "signature");
        if (!sig.is_null() && !sig.is_string())
            throw LineError("field \"signature\" is neither null nor a string");

        if (height != r_.last_height + 1)
            throw LineError(
                "height " + std::to_string(height) + " does not follow " +
                (r_.blocks ? "height " + std::to_string(r_.last_height) : std::string("genesis (1)")));
        if (prev != r_.last_hash)
            throw LineError("prev_hash " + short_hash(prev) + " does not link to the previous block's hash " +
                            short_hash(r_.last_hash));
        std::string computed = to_hex(block_hash(in));
        if (hash != computed)
            throw LineError("hash " + short_hash(hash) + " does not match the recomputed " +
                            short_hash(computed));

        if (r_.blocks == 0) r_.first_timestamp = in.timestamp;
        r_.last_timestamp = in.timestamp;
        r_.blocks++;
        r_.last_height = height;
        r_.last_hash.assign(hash);
        // Categories and hosts are few; look up without allocating.
        auto cat = r_.categories.find(std::string(in.category));
        if (cat == r_.categories.end()) cat = r_.categories.emplace(std::string(in.category), 0).first;
        cat->second++;
        if (hosts_.insert(std::string(in.hostname)).second) r_.hosts = hosts_.size();
    }

    void record_v1(const dom::object& obj) {
        uint64_t ts = field_u64(obj, "ts");
        std::string_view action = field_str(obj, "action");
        std::string_view prev = field_str(obj, "prev_hash");
        std::string_view hash = field_str(obj, "hash");
        data_.clear();
        append_canonical_json(data_, field(obj, "details"));
        if (prev != v1_last_hash_)
            throw LineError("v1 prev_hash " + short_hash(prev) +
                            " does not link to the previous record's hash " + short_hash(v1_last_hash_));
        std::string computed = to_hex(record_v1_hash(prev, ts, action, data_));
        if (hash != computed)
            throw LineError("v1 hash " + short_hash(hash) + " does not match the recomputed " +
                            short_hash(computed));
        v1_last_hash_.assign(hash);
        r_.records_v1++;
    }

    VerifyReport& r_;
    dom::parser parser_;
    std::string data_;
    std::string v1_last_hash_;
    std::unordered_set<std::string> hosts_;
};

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

VerifyReport verify_ledger(const std::string& path) {
    std::FILE* in = stdin;  // "-": read standard input
    std::unique_ptr<std::FILE, FileCloser> owned;
    if (path != "-") {
        owned.reset(std::fopen(path.c_str(), "rb"));
        if (!owned) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
        in = owned.get();
    }

    VerifyReport r;
    Verifier v(r);
    // Lines are parsed in place, so the buffer keeps SIMDJSON_PADDING
    // readable bytes after any line; a line longer than the buffer grows it.
    std::vector<char> buf((16u << 20) + simdjson::SIMDJSON_PADDING);
    size_t have = 0;  // bytes of buf in use
    uint64_t lineno = 0;
    bool eof = false;
    while (!eof) {
        size_t cap = buf.size() - simdjson::SIMDJSON_PADDING;
        size_t got = std::fread(buf.data() + have, 1, cap - have, in);
        if (got < cap - have) {
            if (std::ferror(in))
                throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
            eof = true;
        }
        have += got;
        size_t pos = 0;
        while (pos < have) {
            const char* start = buf.data() + pos;
            const char* nl = static_cast<const char*>(std::memchr(start, '\n', have - pos));
            if (!nl && !eof) break;  // incomplete line: read more
            size_t len = nl ? static_cast<size_t>(nl - start) : have - pos;
            pos += len + (nl ? 1 : 0);
            ++lineno;
            size_t trimmed = len;
            if (trimmed > 0 && start[trimmed - 1] == '\r') --trimmed;
            if (std::all_of(start, start + trimmed, [](char c) { return c == ' ' || c == '\t'; })) continue;
            r.lines++;
            try {
                v.line(start, trimmed);
            } catch (const LineError& e) {
                r.ok = false;
                r.error_line = lineno;
                r.error = e.what();
                return r;
            }
        }
        std::memmove(buf.data(), buf.data() + pos, have - pos);
        have -= pos;
        if (have == buf.size() - simdjson::SIMDJSON_PADDING) buf.resize(buf.size() * 2);
    }
    return r;
}

void print_verify_report(std::FILE* out, const std::string& path, const VerifyReport& r) {
    if (!r.ok)
        std::fprintf(out, "%s: BROKEN at line %" PRIu64 ": %s\n", path.c_str(), r.error_line,
                     r.error.c_str());
    else
        std::fprintf(out, "%s: OK\n", path.c_str());
    std::fprintf(out, "  lines read      %" PRIu64 "\n", r.lines);
    std::fprintf(out, "  v2 blocks       %" PRIu64, r.blocks);
    if (r.blocks) std::fprintf(out, " (heights 1..%" PRIu64 ")", r.last_height);
    std::fprintf(out, "\n");
    if (r.records_v1) std::fprintf(out, "  v1 records      %" PRIu64 "\n", r.records_v1);
    if (r.blocks) {
        std::fprintf(out, "  time            %s .. %s\n", utc_iso8601(r.first_timestamp).c_str(),
                     utc_iso8601(r.last_timestamp).c_str());
        std::fprintf(out, "  hosts           %" PRIu64 "\n", r.hosts);
        std::vector<std::pair<uint64_t, std::string>> cats;
        for (const auto& [c, n] : r.categories) cats.emplace_back(n, c);
        std::sort(cats.rbegin(), cats.rend());
        std::fprintf(out, "  categories     ");
        for (const auto& [n, c] : cats) std::fprintf(out, " %s=%" PRIu64, c.c_str(), n);
        std::fprintf(out, "\n");
        std::fprintf(out, "  head hash       %s\n", r.last_hash.c_str());
    }
    if (!r.embedding_dims.empty()) {
        std::fprintf(out, "  embeddings     ");
        for (const auto& [d, n] : r.embedding_dims) std::fprintf(out, " %" PRIu64 " x %" PRIu64 "-d", n, d);
        std::fprintf(out, "\n");
    }
}

}  // namespace nmvec

// ledger_line.cpp — see ledger_line.h.
#include "ledger_line.h"

#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "json_floats.h"
#include "json_write.h"
#include "ledger.h"
#include "ledger_verify.h"

namespace nmvec::ingest {

namespace dom = simdjson::dom;

namespace {

/// Thrown inside parse() for a rejected line; never leaves it.
struct Reject {
    std::string reason;
};

[[noreturn]] void reject(std::string reason) { throw Reject{std::move(reason)}; }

std::string quoted(std::string_view name) { return "\"" + std::string(name) + "\""; }

/// The top-level members of a line that LineParser reads, found in one pass
/// over the object (for a repeated name, the first, as at_key would find).
class Members {
 public:
    explicit Members(const dom::object& obj) {
        for (dom::key_value_pair kv : obj) {
            const int k = index_of(kv.key);
            if (k >= 0 && !found_[k]) {
                found_[k] = true;
                el_[k] = kv.value;
            }
        }
    }
    /// Is the member there? (`name` is one of kNames.)
    bool has(std::string_view name) const { return found_[known(name)]; }
    bool get(std::string_view name, dom::element& e) const {
        const int k = known(name);
        if (found_[k]) e = el_[k];
        return found_[k];
    }

 private:
    static constexpr const char* kNames[] = {
        "timestamp", "height", "prev_hash", "hash",     "producer",  "category", "action",  "user",
        "hostname",  "pid",    "data",      "metadata", "signature", "ts",       "details", "embedding"};
    static constexpr int kCount = sizeof kNames / sizeof kNames[0];

    static int index_of(std::string_view key) {
        for (int k = 0; k < kCount; ++k)
            if (key == kNames[k]) return k;
        return -1;
    }
    static int known(std::string_view name) {
        const int k = index_of(name);
        if (k < 0) std::abort();  // a name missing from kNames: a bug here
        return k;
    }

    dom::element el_[kCount];
    bool found_[kCount] = {};
};

dom::element field(const Members& obj, std::string_view name) {
    dom::element e;
    if (!obj.get(name, e)) reject("missing field " + quoted(name));
    return e;
}

bool has(const Members& obj, std::string_view name) { return obj.has(name); }

uint64_t field_u64(const Members& obj, std::string_view name) {
    uint64_t v = 0;
    if (field(obj, name).get_uint64().get(v) != simdjson::SUCCESS) reject(quoted(name) + " is not a u64");
    return v;
}

uint32_t field_u32(const Members& obj, std::string_view name) {
    uint64_t v = 0;
    if (field(obj, name).get_uint64().get(v) != simdjson::SUCCESS || v > UINT32_MAX)
        reject(quoted(name) + " is not a u32");
    return static_cast<uint32_t>(v);
}

std::string_view field_str(const Members& obj, std::string_view name) {
    std::string_view s;
    if (field(obj, name).get_string().get(s) != simdjson::SUCCESS) reject(quoted(name) + " is not a string");
    if (s.find('\0') != std::string_view::npos) reject(quoted(name) + " contains a NUL character");
    return s;
}

bool is_hex64(std::string_view s) {
    if (s.size() != 64) return false;
#if defined(__SSE2__)
    // Per byte: b - '0' <= 9 or b - 'a' <= 5 (unsigned), 16 bytes at a time.
    unsigned ok = 0xffffffffu;
    for (int i = 0; i < 4; ++i) {
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + 16 * i));
        const __m128i d = _mm_sub_epi8(b, _mm_set1_epi8('0'));
        const __m128i a = _mm_sub_epi8(b, _mm_set1_epi8('a'));
        const __m128i hex = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d),
                                         _mm_cmpeq_epi8(_mm_min_epu8(a, _mm_set1_epi8(5)), a));
        ok &= static_cast<unsigned>(_mm_movemask_epi8(hex));
    }
    return ok == 0xffff;
#else
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
#endif
}

std::string_view field_hash(const Members& obj, std::string_view name, bool empty_ok) {
    std::string_view s = field_str(obj, name);
    if (!(is_hex64(s) || (empty_ok && s.empty())))
        reject(quoted(name) + (empty_ok ? " is neither empty nor 64 lower-case hex digits"
                                        : " is not 64 lower-case hex digits"));
    return s;
}

/// True if some string (key or value) in `e` holds a NUL character.
bool holds_nul(const dom::element& e) {
    switch (e.type()) {
        case dom::element_type::OBJECT:
            for (dom::key_value_pair kv : dom::object(e))
                if (kv.key.find('\0') != std::string_view::npos || holds_nul(kv.value)) return true;
            return false;
        case dom::element_type::ARRAY:
            for (dom::element x : dom::array(e))
                if (holds_nul(x)) return true;
            return false;
        case dom::element_type::STRING:
            return std::string_view(e).find('\0') != std::string_view::npos;
        default:
            return false;
    }
}

/// `name` (any JSON) in canonical compact form into `out`.
void field_json(const Members& obj, std::string_view name, std::string& out) {
    dom::element e = field(obj, name);
    // Postgres jsonb cannot store \u0000.
    if (holds_nul(e)) reject(quoted(name) + " contains a NUL character");
    out.clear();
    nmvec::append_canonical_json(out, e);
}

/// The float32 that strtof would give for the decimal text that simdjson read
/// as `d`, when that can be told from `d` alone. Rounding the text to double
/// and then to float differs from rounding it to float directly only when the
/// double lands exactly halfway between two adjacent floats (the text may have
/// been slightly above or below); then `*exact` is set false.
float to_float(double d, bool* exact) {
    *exact = true;
    float f = static_cast<float>(d);
    if (static_cast<double>(f) == d) return f;
    // The two float32 values around d, with 2^128 standing for infinity.
    const double big = std::ldexp(1.0, 128);
    double a = std::isinf(f) ? std::copysign(double(FLT_MAX), d) : double(f);
    double b;
    if (std::fabs(a) < std::fabs(d)) {
        float up = std::nextafterf(static_cast<float>(a), d > 0 ? INFINITY : -INFINITY);
        b = std::isinf(up) ? std::copysign(big, d) : double(up);
    } else {
        float down = std::nextafterf(static_cast<float>(a), 0.0f);
        b = a;
        a = double(down);
    }
    if (d == (a + b) / 2) *exact = false;  // a + b is exact in double
    return f;
}

/// out = the hex of d, in out's own buffer.
void set_hex(std::string& out, const Sha256Digest& d) {
    out.resize(64);
    to_hex(d, out.data());
}

inline bool is_json_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/// Offset of the first '"' or '\\' in s at or after i; s.size() if none.
inline size_t quote_or_backslash(std::string_view s, size_t i) {
#if defined(__SSE2__)
    for (; i + 16 <= s.size(); i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
        const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')))));
        if (m) return i + static_cast<size_t>(__builtin_ctz(m));
    }
#endif
    for (; i < s.size(); ++i)
        if (s[i] == '"' || s[i] == '\\') return i;
    return s.size();
}

/// Offset of the '[' opening the value of the first member named `key` of
/// the top-level object in `s`, found by following strings and nesting
/// alone (as any JSON reader splits the text, whether or not the rest is
/// valid); npos if there is no such member, if its value is not an array,
/// or if a member name before it holds an escape (it might spell `key`).
size_t find_top_level_array(std::string_view s, std::string_view key) {
    const size_t n = s.size();
    auto skip_ws = [&](size_t j) {
        while (j < n && is_json_ws(s[j])) ++j;
        return j;
    };
    size_t i = skip_ws(0);
    if (i == n || s[i] != '{') return std::string_view::npos;
    int depth = 1;
    ++i;
    while (i < n) {
        const char c = s[i];
        if (c == '"') {
            const size_t start = ++i;
            bool escaped = false;
            for (;;) {
                i = quote_or_backslash(s, i);
                if (i >= n) return std::string_view::npos;
                if (s[i] == '"') break;
                escaped = true;
                i += 2;  // the backslash and the character it escapes
            }
            const size_t stop = i++;
            if (depth == 1) {
                size_t j = skip_ws(i);
                if (j < n && s[j] == ':') {  // a member name
                    if (escaped) return std::string_view::npos;
                    if (s.substr(start, stop - start) == key) {
                        j = skip_ws(j + 1);
                        return j < n && s[j] == '[' ? j : std::string_view::npos;
                    }
                    i = j + 1;
                }
            }
            continue;
        }
        if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) return std::string_view::npos;
        }
        ++i;
    }
    return std::string_view::npos;
}

}  // namespace

// ------------------------------------------------------------ LineParser

struct LineParser::Impl {
    ParseOptions opts;
    dom::parser parser;          // the line
    dom::parser sidecar_parser;  // a .vec file (the line's elements stay valid)
    std::vector<char> buf;       // the line, padded for simdjson
    std::vector<char> sidecar_buf;
    std::string scratch;
    Float32ArrayReader floats;

    explicit Impl(ParseOptions o) : opts(std::move(o)) {}

    /// Copy `len` bytes to `b`, followed by simdjson's padding.
    static const char* padded(std::vector<char>& b, const char* p, size_t len) {
        if (b.size() < len + simdjson::SIMDJSON_PADDING) b.resize(len + simdjson::SIMDJSON_PADDING);
        std::memcpy(b.data(), p, len);
        std::memset(b.data() + len, 0, simdjson::SIMDJSON_PADDING);
        return b.data();
    }

    void parse(std::string_view line, Event& ev);
    bool parse_fast(std::string_view line, Event& ev);
    bool fields(size_t len, Event& ev, dom::element& embedding);
    void embedding(const dom::element& e, const char* what, const std::vector<char>& text, size_t text_len,
                   std::string_view key, std::vector<float>& out);
    bool sidecar(std::string_view hash, std::vector<float>& out);
};

/// Validate an embedding array `e` (called `what` in reasons) into `out`.
/// `text`/`text_len` is the padded JSON document it came from and `key` its
/// top-level member name, to re-read an element's digits when needed.
void LineParser::Impl::embedding(const dom::element& e, const char* what, const std::vector<char>& text,
                                 size_t text_len, std::string_view key, std::vector<float>& out) {
    dom::array arr;
    if (e.get_array().get(arr) != simdjson::SUCCESS)
        reject((key == "embedding" ? "" : "sidecar ") + quoted(key) + " is not an array");
    size_t n = arr.size();
    if (opts.dims ? n != opts.dims : (n < 1 || n > kMaxEmbeddingDims))
        reject(std::string(what) + " has " + std::to_string(n) + " elements, expected " +
               (opts.dims ? std::to_string(opts.dims) : "1 to " + std::to_string(kMaxEmbeddingDims)));
    out.clear();
    out.reserve(n);
    std::vector<size_t> inexact;
    size_t i = 0;
    for (dom::element x : arr) {
        double d = 0;
        if (x.get_double().get(d) != simdjson::SUCCESS)
            reject(std::string(what) + " element " + std::to_string(i) + " is not a number");
        bool exact = true;
        float f = to_float(d, &exact);
        if (!exact) inexact.push_back(i);
        if (!std::isfinite(f) && exact)
            reject(std::string(what) + " element " + std::to_string(i) + " is not finite");
        out.push_back(f);
        ++i;
    }
    if (inexact.empty()) return;
    // Rare: re-read those elements' digits and round them with strtof.
    simdjson::ondemand::parser od;
    simdjson::ondemand::document doc;
    simdjson::ondemand::array oarr;
    if (od.iterate(text.data(), text_len, text.size()).get(doc) != simdjson::SUCCESS ||
        doc.find_field_unordered(key).get_array().get(oarr) != simdjson::SUCCESS)
        reject(std::string(what) + " could not be re-read");
    size_t idx = 0, next = 0;
    for (auto item : oarr) {
        if (next == inexact.size()) break;
        simdjson::ondemand::value v;
        if (item.get(v) != simdjson::SUCCESS) reject(std::string(what) + " could not be re-read");
        if (idx == inexact[next]) {
            std::string_view tok = v.raw_json_token();
            scratch.assign(tok.data(), tok.size());
            float f = std::strtof(scratch.c_str(), nullptr);
            if (!std::isfinite(f))
                reject(std::string(what) + " element " + std::to_string(idx) + " is not finite");
            out[idx] = f;
            ++next;
        }
        ++idx;
    }
    if (next != inexact.size()) reject(std::string(what) + " could not be re-read");
}

/// Read <vectors_dir>/<hash>.vec into `out`. false if there is no such file.
bool LineParser::Impl::sidecar(std::string_view hash, std::vector<float>& out) {
    std::string path = opts.vectors_dir + "/" + std::string(hash) + ".vec";
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) {
        if (errno == ENOENT) return false;
        reject("cannot open sidecar " + path + ": " + std::strerror(errno));
    }
    std::string bytes;
    char chunk[65536];
    size_t got;
    bool too_long = false;
    while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
        bytes.append(chunk, got);
        if (bytes.size() > opts.max_line_bytes) {
            too_long = true;
            break;
        }
    }
    bool failed = std::ferror(f);
    int err = errno;
    std::fclose(f);
    if (failed) reject("cannot read sidecar " + path + ": " + std::strerror(err));
    if (too_long)
        reject("sidecar " + path + " longer than " + std::to_string(opts.max_line_bytes) + " bytes");
    padded(sidecar_buf, bytes.data(), bytes.size());
    dom::element doc;
    auto jerr =
        sidecar_parser.parse(reinterpret_cast<const uint8_t*>(sidecar_buf.data()), bytes.size(), false)
            .get(doc);
    if (jerr) reject("sidecar " + path + ": invalid JSON: " + simdjson::error_message(jerr));
    dom::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) reject("sidecar " + path + " is not a JSON object");
    dom::element h;
    std::string_view hs;
    if (obj.at_key("hash").get(h) != simdjson::SUCCESS) reject("sidecar " + path + " has no \"hash\"");
    if (h.get_string().get(hs) != simdjson::SUCCESS || hs != hash)
        reject("sidecar " + path + " is for another hash");
    dom::element v;
    if (obj.at_key("vector").get(v) != simdjson::SUCCESS) reject("sidecar " + path + " has no \"vector\"");
    embedding(v, "sidecar vector", sidecar_buf, bytes.size(), "vector", out);
    return true;
}

/// Parse buf[0, len) and fill every member of ev but the embedding; true and
/// `embedding` if the line has an "embedding" member.
bool LineParser::Impl::fields(size_t len, Event& ev, dom::element& embedding) {
    dom::element doc;
    auto err = parser.parse(reinterpret_cast<const uint8_t*>(buf.data()), len, false).get(doc);
    if (err) reject(std::string("invalid JSON: ") + simdjson::error_message(err));
    dom::object object;
    if (doc.get_object().get(object) != simdjson::SUCCESS) reject("not a JSON object");
    const Members obj(object);

    // Which format: any member only v2 has, else any only v1 has, so that a
    // line missing one field is reported as such rather than as unknown.
    static const char* const kV2Only[] = {"timestamp", "height", "producer", "category", "user",
                                          "hostname",  "pid",    "data",     "metadata", "signature"};
    bool v2 = std::any_of(std::begin(kV2Only), std::end(kV2Only), [&](const char* k) { return has(obj, k); });
    bool v1 = !v2 && (has(obj, "ts") || has(obj, "details"));
    if (!v2 && !v1) reject("not a ledger record");

    if (v2) {
        ev.kind = Event::Kind::V2Block;
        ev.timestamp = field_u64(obj, "timestamp");
        ev.height = field_u64(obj, "height");
        ev.prev_hash.assign(field_hash(obj, "prev_hash", true));
        ev.hash.assign(field_hash(obj, "hash", false));
        ev.producer.assign(field_str(obj, "producer"));
        ev.category.assign(field_str(obj, "category"));
        ev.action.assign(field_str(obj, "action"));
        ev.user.assign(field_str(obj, "user"));
        ev.hostname.assign(field_str(obj, "hostname"));
        ev.pid = field_u32(obj, "pid");
        field_json(obj, "data", ev.data_json);
        dom::element meta_el = field(obj, "metadata");
        dom::object meta;
        if (meta_el.get_object().get(meta) != simdjson::SUCCESS) reject("\"metadata\" is not an object");
        BlockHashInput in;
        for (dom::key_value_pair kv : meta) {
            std::string_view v;
            if (kv.value.get_string().get(v) != simdjson::SUCCESS)
                reject("\"metadata\" value " + quoted(kv.key) + " is not a string");
            if (kv.key.find('\0') != std::string_view::npos || v.find('\0') != std::string_view::npos)
                reject("\"metadata\" contains a NUL character");
            in.set_metadata(kv.key, v);
        }
        ev.metadata_json.clear();
        nmvec::append_canonical_json(ev.metadata_json, meta_el);
        dom::element sig;
        if (obj.get("signature", sig) && !sig.is_null()) reject("\"signature\" is not null");
        in.height = ev.height;
        in.prev_hash = ev.prev_hash;
        in.timestamp = ev.timestamp;
        in.producer = ev.producer;
        in.category = ev.category;
        in.action = ev.action;
        in.user = ev.user;
        in.hostname = ev.hostname;
        in.pid = ev.pid;
        in.data_json = ev.data_json;
        set_hex(ev.computed_hash, block_hash(in));
    } else {
        ev.kind = Event::Kind::V1Record;
        ev.height = 0;
        ev.timestamp = field_u64(obj, "ts");
        ev.action.assign(field_str(obj, "action"));
        field_json(obj, "details", ev.data_json);
        ev.prev_hash.assign(field_hash(obj, "prev_hash", true));
        ev.hash.assign(field_hash(obj, "hash", false));
        ev.producer.clear();
        ev.category.clear();
        ev.user.clear();
        ev.hostname.clear();
        ev.pid = 0;
        ev.metadata_json.clear();
        set_hex(ev.computed_hash, record_v1_hash(ev.prev_hash, ev.timestamp, ev.action, ev.data_json));
    }
    return obj.get("embedding", embedding);
}

/// The common line, quickly: its "embedding" array read by
/// Float32ArrayReader, and simdjson given the rest of the line with that
/// array emptied (the same document to every check but the embedding's, and
/// a tenth of the bytes). false, with `ev` unspecified, when the line is
/// anything else (no inline embedding, an element the fast reader does not
/// take, the wrong length, any reject): the caller then parses it whole,
/// which gives the same result or the reject reason.
bool LineParser::Impl::parse_fast(std::string_view line, Event& ev) {
    const size_t open = find_top_level_array(line, "embedding");
    if (open == std::string_view::npos) return false;
    const char* close = floats.read(line.data() + open + 1, line.data() + line.size(),
                                    opts.dims ? opts.dims : kMaxEmbeddingDims, ev.embedding);
    if (!close || (opts.dims && ev.embedding.size() != opts.dims)) return false;
    const size_t from = static_cast<size_t>(close - line.data());
    const size_t len = open + 1 + (line.size() - from);
    if (buf.size() < len + simdjson::SIMDJSON_PADDING) buf.resize(len + simdjson::SIMDJSON_PADDING);
    std::memcpy(buf.data(), line.data(), open + 1);
    std::memcpy(buf.data() + open + 1, line.data() + from, line.size() - from);
    std::memset(buf.data() + len, 0, simdjson::SIMDJSON_PADDING);
    try {
        dom::element emb;
        dom::array arr;
        // The array found must be the one the parser sees as "embedding".
        if (!fields(len, ev, emb) || emb.get_array().get(arr) != simdjson::SUCCESS || arr.size() != 0)
            return false;
    } catch (const Reject&) {
        return false;
    }
    ev.embedding_from_sidecar = false;
    return true;
}

void LineParser::Impl::parse(std::string_view line, Event& ev) {
    if (line.size() > opts.max_line_bytes)
        reject("line longer than " + std::to_string(opts.max_line_bytes) + " bytes");
    if (LineParser::is_blank(line)) reject("blank line");
    if (parse_fast(line, ev)) return;
    padded(buf, line.data(), line.size());
    dom::element emb;
    const bool has_embedding = fields(line.size(), ev, emb);
    ev.embedding.clear();
    ev.embedding_from_sidecar = false;
    if (has_embedding) {
        embedding(emb, "embedding", buf, line.size(), "embedding", ev.embedding);
    } else if (!opts.vectors_dir.empty() && sidecar(ev.hash, ev.embedding)) {
        ev.embedding_from_sidecar = true;
    } else if (opts.require_embedding) {
        reject(opts.vectors_dir.empty() ? "missing field \"embedding\""
                                        : "missing field \"embedding\" and no sidecar " + ev.hash + ".vec");
    }
}

LineParser::LineParser(ParseOptions opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}
LineParser::~LineParser() = default;
LineParser::LineParser(LineParser&&) noexcept = default;
LineParser& LineParser::operator=(LineParser&&) noexcept = default;

const ParseOptions& LineParser::options() const { return impl_->opts; }

bool LineParser::is_blank(std::string_view line) {
    return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

bool LineParser::parse(std::string_view line, Event& ev, std::string& reason) {
    try {
        impl_->parse(line, ev);
        return true;
    } catch (Reject& r) {
        reason = std::move(r.reason);
    } catch (const std::bad_alloc&) {
        reason = "out of memory";
    }
    return false;
}

// ------------------------------------------------------------ ChainChecker

namespace {

std::string short_hash(std::string_view h) {
    return h.empty() ? "\"\"" : std::string(h.substr(0, 16)) + (h.size() > 16 ? "..." : "");
}

}  // namespace

void ChainChecker::check(const Event& ev, uint64_t line_no, std::vector<ChainBreak>& out) {
    std::string kind, detail;
    auto add = [&](const char* k, std::string d) {
        if (kind.empty()) {
            kind = k;
            detail = std::move(d);
        } else {
            detail += "; " + d;
        }
    };
    const bool tampered = ev.hash != ev.computed_hash;
    auto tamper_detail = [&] {
        return "hash " + short_hash(ev.hash) + " does not match the recomputed " +
               short_hash(ev.computed_hash);
    };

    if (ev.kind == Event::Kind::V1Record) {
        if (ev.prev_hash != s_.v1_hash)
            add("fork", "v1 prev_hash " + short_hash(ev.prev_hash) +
                            " is not the previous v1 record's hash " + short_hash(s_.v1_hash));
        if (tampered) add("tampered", "v1 " + tamper_detail());
        s_.v1_hash = ev.hash;
    } else {
        bool links = ev.prev_hash == s_.hash;
        if (!s_.any) {
            if (ev.height != 1)
                add("gap", "height " + std::to_string(ev.height) + " at the start of the chain (expected 1)");
            else if (!links)
                add("fork", "prev_hash " + short_hash(ev.prev_hash) + " at genesis (expected \"\")");
        } else if (ev.height == 1 && ev.prev_hash.empty()) {
            add("restart", "a new chain at height 1 after height " + std::to_string(s_.height));
        } else if (ev.height != s_.height + 1) {
            add("gap", "height " + std::to_string(ev.height) + " after " + std::to_string(s_.height));
        } else if (!links) {
            add("fork", "prev_hash " + short_hash(ev.prev_hash) + " is not the hash of height " +
                            std::to_string(s_.height) + " (" + short_hash(s_.hash) + ")");
        }
        if (tampered) add("tampered", tamper_detail());
        s_.height = ev.height;
        s_.hash = ev.hash;
        s_.any = true;
    }
    if (!kind.empty()) out.push_back(ChainBreak{line_no, std::move(kind), std::move(detail)});
}

ChainChecker::State ChainChecker::state() const { return s_; }

void ChainChecker::restore(const State& s) { s_ = s; }

}  // namespace nmvec::ingest

// attr_filter.h — an index's filter columns, as stored beside each element,
// and the conditions of a WHERE clause on them, evaluated without the heap.
//
// Record: a null bitmap (one bit per column, set = NULL, ceil(columns / 8)
// bytes), then each column's value at its width (1, 2, 4 or 8 bytes,
// native byte order), in column order, unaligned (read with memcpy). Every
// column type a record holds is an integer in disguise whose order is the
// type's order: int2/int4/int8, bool (0/1), date (days), timestamp and
// timestamptz (microseconds). Values are compared as int64.
//
// A Filter is the AND of conditions (column op value, IN (values), IS
// [NOT] NULL). compile() folds each column's conditions into one test: an
// inclusive range [lo, hi], values it must be one of (IN; several IN lists
// intersect), values it must not be (<>), and what it says about NULL.
// Any comparison is false on NULL (SQL's three-valued logic: a row whose
// WHERE is not true is not returned), so a column with a comparison and IS
// NULL can match nothing; impossible() tells the caller before it walks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <vector>

namespace nmvec::filter {

/// The stored layout of the filter columns of one index.
struct RecordLayout {
    std::vector<uint8_t> widths;    // bytes of each column's value: 1, 2, 4 or 8
    std::vector<uint32_t> offsets;  // where each value starts in the record
    uint32_t null_bytes = 0;
    uint32_t bytes = 0;  // the whole record

    /// Columns of the given widths (each 1, 2, 4 or 8; at most 32 columns).
    static RecordLayout of(const std::vector<uint8_t>& widths) {
        if (widths.size() > 32) throw std::invalid_argument("at most 32 filter columns");
        RecordLayout l;
        l.widths = widths;
        l.null_bytes = static_cast<uint32_t>((widths.size() + 7) / 8);
        uint32_t off = l.null_bytes;
        for (uint8_t w : widths) {
            if (w != 1 && w != 2 && w != 4 && w != 8) throw std::invalid_argument("filter column width");
            l.offsets.push_back(off);
            off += w;
        }
        l.bytes = off;
        return l;
    }
    size_t columns() const { return widths.size(); }

    bool is_null(const uint8_t* rec, size_t col) const { return (rec[col / 8] >> (col % 8)) & 1u; }
    int64_t value(const uint8_t* rec, size_t col) const {
        const uint8_t* p = rec + offsets[col];
        switch (widths[col]) {
            case 1: {
                int8_t v;
                memcpy(&v, p, 1);
                return v;
            }
            case 2: {
                int16_t v;
                memcpy(&v, p, 2);
                return v;
            }
            case 4: {
                int32_t v;
                memcpy(&v, p, 4);
                return v;
            }
            default: {
                int64_t v;
                memcpy(&v, p, 8);
                return v;
            }
        }
    }
    /// Writes column col of rec (null, or v truncated to the column's width:
    /// the caller stores values of the column's own type).
    void set(uint8_t* rec, size_t col, bool null, int64_t v) const {
        const uint8_t bit = static_cast<uint8_t>(1u << (col % 8));
        if (null) {
            rec[col / 8] |= bit;
            v = 0;
        } else {
            rec[col / 8] &= static_cast<uint8_t>(~bit);
        }
        uint8_t* p = rec + offsets[col];
        switch (widths[col]) {
            case 1: {
                const int8_t x = static_cast<int8_t>(v);
                memcpy(p, &x, 1);
                break;
            }
            case 2: {
                const int16_t x = static_cast<int16_t>(v);
                memcpy(p, &x, 2);
                break;
            }
            case 4: {
                const int32_t x = static_cast<int32_t>(v);
                memcpy(p, &x, 4);
                break;
            }
            default:
                memcpy(p, &v, 8);
        }
    }
};

/// A zone: what the records of one node page hold, so that a pass over
/// every element skips a page none of whose records can pass. Per column:
/// whether a NULL and whether a value occurs (two 32-bit masks, bit =
/// column), the smallest and largest value (int64 each), and a 256-bit set
/// of the values' hashes. All zero is the empty zone, which is what a new
/// page holds. A zone only grows (records are added, never changed), so a
/// filter it rules out can match none of its records: min/max prune ranges
/// (a time window over rows appended in time order skips every page outside
/// it), the hash set prunes equality and IN (a tenant absent from a page).
struct ZoneLayout {
    static constexpr uint32_t kHeader = 8;
    static constexpr uint32_t kBitBytes = 32;
    static constexpr uint32_t kPerColumn = 16 + kBitBytes;

    static uint32_t bytes(const RecordLayout& l) {
        return kHeader + kPerColumn * static_cast<uint32_t>(l.columns());
    }
    /// The hash set's bit of value v (Fibonacci hashing: consecutive and
    /// evenly spaced values land on different bits).
    static uint32_t bit_of(int64_t v) {
        return static_cast<uint32_t>((static_cast<uint64_t>(v) * 0x9E3779B97F4A7C15ull) >> 56);
    }
    /// Widens zone to cover record rec.
    static void add(uint8_t* zone, const RecordLayout& l, const uint8_t* rec) {
        uint32_t has_null, has_value;
        memcpy(&has_null, zone, 4);
        memcpy(&has_value, zone + 4, 4);
        for (size_t c = 0; c < l.columns(); ++c) {
            const uint32_t bit = 1u << c;
            if (l.is_null(rec, c)) {
                has_null |= bit;
                continue;
            }
            const int64_t v = l.value(rec, c);
            uint8_t* col = zone + kHeader + kPerColumn * c;
            int64_t lo, hi;
            memcpy(&lo, col, 8);
            memcpy(&hi, col + 8, 8);
            if (!(has_value & bit)) lo = hi = v;
            lo = std::min(lo, v);
            hi = std::max(hi, v);
            memcpy(col, &lo, 8);
            memcpy(col + 8, &hi, 8);
            const uint32_t b = bit_of(v);
            col[16 + b / 8] |= static_cast<uint8_t>(1u << (b % 8));
            has_value |= bit;
        }
        memcpy(zone, &has_null, 4);
        memcpy(zone + 4, &has_value, 4);
    }
    /// Widens zone to cover every record `other` covers (the zone of both
    /// sets of records: add() over the two in any order gives the same bytes).
    static void merge(uint8_t* zone, const RecordLayout& l, const uint8_t* other) {
        uint32_t has_null, has_value, o_null, o_value;
        memcpy(&has_null, zone, 4);
        memcpy(&has_value, zone + 4, 4);
        memcpy(&o_null, other, 4);
        memcpy(&o_value, other + 4, 4);
        for (size_t c = 0; c < l.columns(); ++c) {
            const uint32_t bit = 1u << c;
            if (!(o_value & bit)) continue;
            uint8_t* col = zone + kHeader + kPerColumn * c;
            const uint8_t* ocol = other + kHeader + kPerColumn * c;
            int64_t lo, hi, olo, ohi;
            memcpy(&lo, col, 8);
            memcpy(&hi, col + 8, 8);
            memcpy(&olo, ocol, 8);
            memcpy(&ohi, ocol + 8, 8);
            if (!(has_value & bit)) lo = olo, hi = ohi;
            lo = std::min(lo, olo);
            hi = std::max(hi, ohi);
            memcpy(col, &lo, 8);
            memcpy(col + 8, &hi, 8);
            for (uint32_t b = 0; b < kBitBytes; ++b) col[16 + b] |= ocol[16 + b];
        }
        has_null |= o_null;
        has_value |= o_value;
        memcpy(zone, &has_null, 4);
        memcpy(zone + 4, &has_value, 4);
    }
};

enum class Op : uint8_t { kLt, kLe, kEq, kGe, kGt, kNe, kIn, kIsNull, kIsNotNull };

class Filter {
 public:
    /// column op value (kLt .. kNe).
    void add(size_t col, Op op, int64_t value) { conds_.push_back({col, op, value, {}}); }
    /// column IN (values) (NULLs among the values already dropped: they match nothing).
    void add_in(size_t col, std::vector<int64_t> values) {
        conds_.push_back({col, Op::kIn, 0, std::move(values)});
    }
    /// column IS NULL / IS NOT NULL.
    void add_null_test(size_t col, bool is_null) {
        conds_.push_back({col, is_null ? Op::kIsNull : Op::kIsNotNull, 0, {}});
    }
    /// A condition no row satisfies (a comparison with NULL).
    void add_false() { never_ = true; }
    bool empty() const { return conds_.empty() && !never_; }

    /// Folds the conditions into one test per column of `layout`; call
    /// before passes(). Throws std::invalid_argument for a column out of range.
    void compile(const RecordLayout& layout) {
        layout_ = &layout;
        tests_.clear();
        impossible_ = never_;
        std::vector<int> test_of(layout.columns(), -1);
        for (const Cond& c : conds_) {
            if (c.col >= layout.columns()) throw std::invalid_argument("filter column out of range");
            if (test_of[c.col] < 0) {
                test_of[c.col] = static_cast<int>(tests_.size());
                tests_.push_back(Test{});
                tests_.back().col = c.col;
            }
            Test& t = tests_[test_of[c.col]];
            switch (c.op) {
                case Op::kIsNull:
                    t.need_null = true;
                    break;
                case Op::kIsNotNull:
                    t.need_value = true;
                    break;
                case Op::kLt:
                    t.need_value = true;
                    if (c.value == std::numeric_limits<int64_t>::min())
                        t.hi = std::numeric_limits<int64_t>::min(),
                        t.lo = std::numeric_limits<int64_t>::max();
                    else
                        t.hi = std::min(t.hi, c.value - 1);
                    break;
                case Op::kLe:
                    t.need_value = true, t.hi = std::min(t.hi, c.value);
                    break;
                case Op::kEq:
                    t.need_value = true, t.lo = std::max(t.lo, c.value), t.hi = std::min(t.hi, c.value);
                    break;
                case Op::kGe:
                    t.need_value = true, t.lo = std::max(t.lo, c.value);
                    break;
                case Op::kGt:
                    t.need_value = true;
                    if (c.value == std::numeric_limits<int64_t>::max())
                        t.lo = std::numeric_limits<int64_t>::max(),
                        t.hi = std::numeric_limits<int64_t>::min();
                    else
                        t.lo = std::max(t.lo, c.value + 1);
                    break;
                case Op::kNe:
                    t.need_value = true, t.ne.push_back(c.value);
                    break;
                case Op::kIn: {
                    t.need_value = true;
                    std::vector<int64_t> v = c.values;
                    std::sort(v.begin(), v.end());
                    v.erase(std::unique(v.begin(), v.end()), v.end());
                    if (t.has_in) {
                        std::vector<int64_t> both;
                        std::set_intersection(t.in.begin(), t.in.end(), v.begin(), v.end(),
                                              std::back_inserter(both));
                        t.in.swap(both);
                    } else {
                        t.in.swap(v);
                        t.has_in = true;
                    }
                    break;
                }
            }
        }
        for (Test& t : tests_) {
            std::sort(t.ne.begin(), t.ne.end());
            t.ne.erase(std::unique(t.ne.begin(), t.ne.end()), t.ne.end());
            if (t.has_in) {  // keep only IN values within the range and not excluded
                std::vector<int64_t> keep;
                for (int64_t v : t.in)
                    if (v >= t.lo && v <= t.hi && !std::binary_search(t.ne.begin(), t.ne.end(), v))
                        keep.push_back(v);
                t.in.swap(keep);
            }
            if (t.need_null && t.need_value) impossible_ = true;
            if (t.need_value && (t.lo > t.hi || (t.has_in && t.in.empty()))) impossible_ = true;
            if (t.need_value && !t.has_in && t.lo == t.hi &&
                std::binary_search(t.ne.begin(), t.ne.end(), t.lo))
                impossible_ = true;
        }
    }

    /// True when no record can pass (after compile()).
    bool impossible() const { return impossible_; }

    /// False when no record of a zone (ZoneLayout, same record layout) can
    /// pass; true when some may (after compile()).
    bool zone_may_pass(const uint8_t* zone) const {
        if (impossible_) return false;
        uint32_t has_null, has_value;
        memcpy(&has_null, zone, 4);
        memcpy(&has_value, zone + 4, 4);
        for (const Test& t : tests_) {
            const uint32_t bit = 1u << t.col;
            if (t.need_null && !(has_null & bit)) return false;
            if (!t.need_value) continue;
            if (!(has_value & bit)) return false;
            const uint8_t* col = zone + ZoneLayout::kHeader + ZoneLayout::kPerColumn * t.col;
            int64_t lo, hi;
            memcpy(&lo, col, 8);
            memcpy(&hi, col + 8, 8);
            if (hi < t.lo || lo > t.hi) return false;
            const uint8_t* bits = col + 16;
            auto in_set = [&](int64_t v) {
                const uint32_t b = ZoneLayout::bit_of(v);
                return v >= lo && v <= hi && ((bits[b / 8] >> (b % 8)) & 1u);
            };
            if (t.has_in) {
                if (std::none_of(t.in.begin(), t.in.end(), in_set)) return false;
            } else if (t.lo == t.hi && !in_set(t.lo)) {
                return false;
            }
            // Every value is the one <> rules out.
            if (lo == hi && !t.ne.empty() && std::binary_search(t.ne.begin(), t.ne.end(), lo)) return false;
        }
        return true;
    }

    /// Which of `count` (at most 64) records, `stride` bytes apart from
    /// recs, pass every condition: bit i for record i (after compile()).
    /// What passes() says of each, a condition at a time over all of them
    /// (an exact pass checks every record of a page: 2 to 4 times faster).
    uint64_t pass_mask(const uint8_t* recs, size_t stride, uint32_t count) const {
        if (impossible_ || count == 0) return 0;
        uint64_t mask = count >= 64 ? ~uint64_t{0} : (uint64_t{1} << count) - 1;
        for (const Test& t : tests_) {
            switch (layout_->widths[t.col]) {
                case 1:
                    mask &= test_mask<int8_t>(t, recs, stride, count);
                    break;
                case 2:
                    mask &= test_mask<int16_t>(t, recs, stride, count);
                    break;
                case 4:
                    mask &= test_mask<int32_t>(t, recs, stride, count);
                    break;
                default:
                    mask &= test_mask<int64_t>(t, recs, stride, count);
                    break;
            }
            if (mask == 0) break;
        }
        return mask;
    }

    /// Whether the record passes every condition (after compile()).
    bool passes(const uint8_t* rec) const {
        if (impossible_) return false;
        for (const Test& t : tests_) {
            const bool null = layout_->is_null(rec, t.col);
            if (null) {
                if (t.need_value) return false;
                continue;
            }
            if (t.need_null) return false;
            const int64_t v = layout_->value(rec, t.col);
            if (v < t.lo || v > t.hi) return false;
            if (t.has_in && !std::binary_search(t.in.begin(), t.in.end(), v)) return false;
            if (!t.ne.empty() && std::binary_search(t.ne.begin(), t.ne.end(), v)) return false;
        }
        return true;
    }

 private:
    struct Cond {
        size_t col;
        Op op;
        int64_t value;
        std::vector<int64_t> values;
    };
    struct Test {
        size_t col = 0;
        bool need_null = false, need_value = false, has_in = false;
        int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
        std::vector<int64_t> in, ne;
    };
    /// pass_mask's bits for one test, values stored as T.
    template <class T>
    uint64_t test_mask(const Test& t, const uint8_t* recs, size_t stride, uint32_t count) const {
        const uint32_t off = layout_->offsets[t.col];
        const size_t null_byte = t.col / 8;
        const unsigned null_bit = t.col % 8;
        const bool plain = !t.has_in && t.ne.empty();
        uint64_t keep = 0;
        if (plain) {
            // Without branches: a pass over every element reads each page's
            // values from the cache (read ahead), and the branches of a
            // range that 10 % pass, at random, then cost more than the loads
            // (perf: the range's compare was the loop's hottest instruction).
            const bool null_ok = !t.need_value, value_ok = !t.need_null;
            for (uint32_t i = 0; i < count; ++i) {
                const uint8_t* rec = recs + i * stride;
                const bool null = (rec[null_byte] >> null_bit) & 1u;
                T raw;
                memcpy(&raw, rec + off, sizeof raw);
                const int64_t v = raw;
                const bool in = (v >= t.lo) & (v <= t.hi) & value_ok;
                keep |= uint64_t{null ? null_ok : in} << i;
            }
            return keep;
        }
        for (uint32_t i = 0; i < count; ++i) {
            const uint8_t* rec = recs + i * stride;
            bool ok;
            if ((rec[null_byte] >> null_bit) & 1u) {
                ok = !t.need_value;
            } else if (t.need_null) {
                ok = false;
            } else {
                T raw;
                memcpy(&raw, rec + off, sizeof raw);
                const int64_t v = raw;
                ok = v >= t.lo && v <= t.hi;
                if (ok && !plain) {
                    if (t.has_in && !std::binary_search(t.in.begin(), t.in.end(), v)) ok = false;
                    if (ok && !t.ne.empty() && std::binary_search(t.ne.begin(), t.ne.end(), v)) ok = false;
                }
            }
            keep |= uint64_t{ok} << i;
        }
        return keep;
    }

    std::vector<Cond> conds_;
    std::vector<Test> tests_;
    const RecordLayout* layout_ = nullptr;
    bool never_ = false, impossible_ = false;
};

}  // namespace nmvec::filter

// Unit tests for src/core/attr_filter.h: the stored filter columns and the
// compiled WHERE conditions, against a plain evaluation of each condition.
#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <vector>

#include "attr_filter.h"
#include "page_copies.h"

using namespace nmvec::filter;

namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min(), kMax = std::numeric_limits<int64_t>::max();

struct Row {
    std::vector<bool> null;
    std::vector<int64_t> v;
};

struct Cond {
    size_t col;
    Op op;
    int64_t value;
    std::vector<int64_t> values;
};

/// SQL's answer for one condition on one row: a comparison with NULL is not true.
bool plain(const Cond& c, const Row& r) {
    const bool null = r.null[c.col];
    if (c.op == Op::kIsNull) return null;
    if (c.op == Op::kIsNotNull) return !null;
    if (null) return false;
    const int64_t v = r.v[c.col];
    switch (c.op) {
        case Op::kLt:
            return v < c.value;
        case Op::kLe:
            return v <= c.value;
        case Op::kEq:
            return v == c.value;
        case Op::kGe:
            return v >= c.value;
        case Op::kGt:
            return v > c.value;
        case Op::kNe:
            return v != c.value;
        case Op::kIn:
            return std::find(c.values.begin(), c.values.end(), v) != c.values.end();
        default:
            return false;
    }
}

int64_t clamp_to(uint8_t width, int64_t v) {
    switch (width) {
        case 1:
            return static_cast<int8_t>(v);
        case 2:
            return static_cast<int16_t>(v);
        case 4:
            return static_cast<int32_t>(v);
        default:
            return v;
    }
}

}  // namespace

TEST(AttrFilter, LayoutRoundTripsEveryWidthAndNull) {
    auto l = RecordLayout::of({1, 2, 4, 8, 8, 1, 2, 4, 1});
    EXPECT_EQ(l.null_bytes, 2u);
    EXPECT_EQ(l.bytes, 2u + 1 + 2 + 4 + 8 + 8 + 1 + 2 + 4 + 1);
    std::vector<uint8_t> rec(l.bytes, 0xAB);
    const int64_t vals[] = {-128, -32768, std::numeric_limits<int32_t>::min(), kMin, kMax, 127, 32767, 7, 1};
    for (size_t c = 0; c < l.columns(); ++c) l.set(rec.data(), c, c == 4, vals[c]);
    for (size_t c = 0; c < l.columns(); ++c) {
        EXPECT_EQ(l.is_null(rec.data(), c), c == 4) << c;
        if (c != 4) {
            EXPECT_EQ(l.value(rec.data(), c), vals[c]) << c;
        }
    }
    l.set(rec.data(), 4, false, 5);  // clearing the null bit
    EXPECT_FALSE(l.is_null(rec.data(), 4));
    EXPECT_EQ(l.value(rec.data(), 4), 5);
    EXPECT_THROW(RecordLayout::of({3}), std::invalid_argument);
    EXPECT_THROW(RecordLayout::of(std::vector<uint8_t>(33, 4)), std::invalid_argument);
}

TEST(AttrFilter, MatchesPlainEvaluationOfRandomConditions) {
    // Three columns of small value ranges (so that conditions often meet),
    // a tenth of the values NULL, 1 to 5 random conditions, 2,000 filters
    // of 200 rows each: compiled passes() equals the AND of the plain
    // conditions, and impossible() is only said of filters no row passes.
    const std::vector<uint8_t> widths = {2, 4, 8};
    auto l = RecordLayout::of(widths);
    std::mt19937_64 rng(11);
    auto small = [&]() { return static_cast<int64_t>(rng() % 21) - 10; };
    std::vector<Row> rows(200);
    std::vector<std::vector<uint8_t>> recs;
    for (Row& r : rows) {
        std::vector<uint8_t> rec(l.bytes);
        for (size_t c = 0; c < widths.size(); ++c) {
            r.null.push_back(rng() % 10 == 0);
            r.v.push_back(r.null.back() ? 0 : small());
            l.set(rec.data(), c, r.null[c], r.v[c]);
        }
        recs.push_back(rec);
    }
    size_t impossible = 0, passing_total = 0;
    for (int trial = 0; trial < 2000; ++trial) {
        std::vector<Cond> conds;
        Filter f;
        const int n = 1 + static_cast<int>(rng() % 5);
        for (int i = 0; i < n; ++i) {
            Cond c{rng() % widths.size(), static_cast<Op>(rng() % 9), small(), {}};
            if (c.op == Op::kIn) {
                const int k = static_cast<int>(rng() % 4);  // IN () of none matches nothing
                for (int j = 0; j < k; ++j) c.values.push_back(small());
                f.add_in(c.col, c.values);
            } else if (c.op == Op::kIsNull || c.op == Op::kIsNotNull) {
                f.add_null_test(c.col, c.op == Op::kIsNull);
            } else {
                f.add(c.col, c.op, c.value);
            }
            conds.push_back(c);
        }
        f.compile(l);
        size_t passing = 0;
        for (size_t i = 0; i < rows.size(); ++i) {
            bool want = true;
            for (const Cond& c : conds) want = want && plain(c, rows[i]);
            ASSERT_EQ(f.passes(recs[i].data()), want) << "trial " << trial << " row " << i;
            passing += want;
        }
        if (f.impossible()) {
            ++impossible;
            EXPECT_EQ(passing, 0u) << "trial " << trial;
        }
        passing_total += passing;
        // pass_mask over runs of 1 to 64 records of one contiguous block
        // says of each what passes() says.
        for (size_t from = 0; from < rows.size();) {
            const uint32_t count =
                static_cast<uint32_t>(std::min<size_t>(1 + rng() % 64, rows.size() - from));
            std::vector<uint8_t> block;
            for (uint32_t i = 0; i < count; ++i)
                block.insert(block.end(), recs[from + i].begin(), recs[from + i].end());
            const uint64_t mask = f.pass_mask(block.data(), l.bytes, count);
            for (uint32_t i = 0; i < count; ++i) {
                ASSERT_EQ((mask >> i) & 1u, f.passes(recs[from + i].data()) ? 1u : 0u)
                    << "trial " << trial << " row " << from + i;
            }
            if (count < 64) {
                EXPECT_EQ(mask >> count, 0u);
            }
            from += count;
        }
    }
    EXPECT_GT(impossible, 100u);      // the generator does make contradictions
    EXPECT_GT(passing_total, 5000u);  // and filters that pass rows
}

TEST(AttrFilter, ExtremesAndWidths) {
    auto l = RecordLayout::of({8, 1});
    std::vector<uint8_t> lo(l.bytes), hi(l.bytes), mid(l.bytes);
    l.set(lo.data(), 0, false, kMin);
    l.set(hi.data(), 0, false, kMax);
    l.set(mid.data(), 0, false, 0);
    for (auto* r : {&lo, &hi, &mid}) l.set(r->data(), 1, false, clamp_to(1, 1));
    Filter lt_min;
    lt_min.add(0, Op::kLt, kMin);
    lt_min.compile(l);
    EXPECT_TRUE(lt_min.impossible());
    Filter gt_max;
    gt_max.add(0, Op::kGt, kMax);
    gt_max.compile(l);
    EXPECT_TRUE(gt_max.impossible());
    Filter le_min;
    le_min.add(0, Op::kLe, kMin);
    le_min.compile(l);
    EXPECT_TRUE(le_min.passes(lo.data()));
    EXPECT_FALSE(le_min.passes(mid.data()));
    Filter ge_max;
    ge_max.add(0, Op::kGe, kMax);
    ge_max.compile(l);
    EXPECT_TRUE(ge_max.passes(hi.data()));
    EXPECT_FALSE(ge_max.passes(mid.data()));
    Filter eq_ne;  // = 5 AND <> 5
    eq_ne.add(0, Op::kEq, 5);
    eq_ne.add(0, Op::kNe, 5);
    eq_ne.compile(l);
    EXPECT_TRUE(eq_ne.impossible());
    Filter never;  // a comparison with NULL
    never.add_false();
    never.compile(l);
    EXPECT_FALSE(never.empty());
    EXPECT_TRUE(never.impossible());
    EXPECT_FALSE(never.passes(mid.data()));
    Filter none;
    none.compile(l);
    EXPECT_TRUE(none.empty());
    EXPECT_TRUE(none.passes(lo.data()));
    Filter bad;
    bad.add(2, Op::kEq, 1);
    EXPECT_THROW(bad.compile(l), std::invalid_argument);
}

TEST(AttrFilter, ZoneNeverRulesOutAPassingRecord) {
    // Random zones of 1 to 60 records (a tenth of the values NULL, small
    // ranges so that conditions meet) and random filters: whenever a record
    // of the zone passes, zone_may_pass() says so; and it does rule out a
    // share of the zones none of whose records passes (it is not "always
    // true").
    const std::vector<uint8_t> widths = {1, 4, 8};
    auto l = RecordLayout::of(widths);
    const uint32_t zb = ZoneLayout::bytes(l);
    EXPECT_EQ(zb, ZoneLayout::kHeader + 3 * ZoneLayout::kPerColumn);
    std::mt19937_64 rng(17);
    size_t pruned = 0, empty_zones = 0;
    for (int trial = 0; trial < 4000; ++trial) {
        const int64_t spread = 1 + static_cast<int64_t>(rng() % 40);
        auto val = [&]() { return static_cast<int64_t>(rng() % (2 * spread + 1)) - spread; };
        std::vector<uint8_t> zone(zb, 0);
        const size_t nrec = 1 + rng() % 60;
        std::vector<std::vector<uint8_t>> recs;
        for (size_t i = 0; i < nrec; ++i) {
            std::vector<uint8_t> rec(l.bytes);
            for (size_t c = 0; c < widths.size(); ++c) l.set(rec.data(), c, rng() % 10 == 0, val());
            ZoneLayout::add(zone.data(), l, rec.data());
            recs.push_back(rec);
        }
        Filter f;
        const int n = 1 + static_cast<int>(rng() % 3);
        for (int i = 0; i < n; ++i) {
            const size_t col = rng() % widths.size();
            const Op op = static_cast<Op>(rng() % 9);
            if (op == Op::kIn) {
                std::vector<int64_t> vs;
                for (int j = 0, k = static_cast<int>(rng() % 4); j < k; ++j) vs.push_back(2 * val());
                f.add_in(col, vs);
            } else if (op == Op::kIsNull || op == Op::kIsNotNull) {
                f.add_null_test(col, op == Op::kIsNull);
            } else {
                f.add(col, op, 2 * val());  // values beyond the records' range too
            }
        }
        f.compile(l);
        bool any = false;
        for (const auto& r : recs) any = any || f.passes(r.data());
        if (any) {
            ASSERT_TRUE(f.zone_may_pass(zone.data())) << "trial " << trial;
        } else {
            ++empty_zones;
            pruned += !f.zone_may_pass(zone.data());
        }
    }
    EXPECT_GT(empty_zones, 500u);
    EXPECT_GT(pruned, empty_zones / 3);
}

TEST(AttrFilter, MergedZoneIsTheZoneOfBothRecordSets) {
    // Zones of random record sets (NULLs, empty sets, one column always
    // NULL in some sets) merged pairwise and in a chain: the same bytes as
    // one zone that every record was added to, whichever order.
    const std::vector<uint8_t> widths = {2, 8, 1};
    auto l = RecordLayout::of(widths);
    const uint32_t zb = ZoneLayout::bytes(l);
    std::mt19937_64 rng(23);
    for (int trial = 0; trial < 500; ++trial) {
        const size_t sets = 1 + rng() % 6;
        std::vector<uint8_t> all(zb, 0), chain(zb, 0), reverse(zb, 0);
        std::vector<std::vector<uint8_t>> zones;
        for (size_t s = 0; s < sets; ++s) {
            std::vector<uint8_t> z(zb, 0);
            const size_t nrec = rng() % 8;  // 0: an empty zone
            const bool col2_null = rng() % 3 == 0;
            for (size_t i = 0; i < nrec; ++i) {
                std::vector<uint8_t> rec(l.bytes);
                for (size_t c = 0; c < widths.size(); ++c) {
                    const int64_t lim = widths[c] == 1 ? 100 : widths[c] == 2 ? 30000 : 100000;
                    const int64_t v = static_cast<int64_t>(rng() % (2 * lim)) - lim;
                    l.set(rec.data(), c, (c == 2 && col2_null) || rng() % 7 == 0, v);
                }
                ZoneLayout::add(z.data(), l, rec.data());
                ZoneLayout::add(all.data(), l, rec.data());
            }
            zones.push_back(z);
        }
        for (const auto& z : zones) ZoneLayout::merge(chain.data(), l, z.data());
        for (size_t s = sets; s-- > 0;) ZoneLayout::merge(reverse.data(), l, zones[s].data());
        ASSERT_EQ(chain, all) << "trial " << trial;
        ASSERT_EQ(reverse, all) << "trial " << trial;
    }
    // Merging an empty zone changes nothing; into an empty one, copies.
    std::vector<uint8_t> z(zb, 0), empty(zb, 0), copy(zb, 0);
    std::vector<uint8_t> rec(l.bytes);
    l.set(rec.data(), 0, false, -5);
    l.set(rec.data(), 1, true, 0);
    l.set(rec.data(), 2, false, 7);
    ZoneLayout::add(z.data(), l, rec.data());
    const std::vector<uint8_t> before = z;
    ZoneLayout::merge(z.data(), l, empty.data());
    EXPECT_EQ(z, before);
    ZoneLayout::merge(copy.data(), l, z.data());
    EXPECT_EQ(copy, z);
}

TEST(AttrFilter, ZonesPruneTimeWindowsAndAbsentTenants) {
    // Rows appended in time order, 50 to a zone, 100 tenants in turn: a
    // window over 1 % of the time range leaves 1 or 2 zones of 100; a tenant
    // that a zone does not hold is ruled out in most zones; the empty
    // (all-zero) zone passes only a filter without conditions.
    auto l = RecordLayout::of({8, 4});
    const uint32_t zb = ZoneLayout::bytes(l);
    std::vector<std::vector<uint8_t>> zones(100, std::vector<uint8_t>(zb, 0));
    for (int64_t i = 0; i < 5000; ++i) {
        std::vector<uint8_t> rec(l.bytes);
        l.set(rec.data(), 0, false, 1'700'000'000'000'000 + i * 1'000'000);  // one a second, in us
        l.set(rec.data(), 1, false, (i * 7) % 100);
        ZoneLayout::add(zones[i / 50].data(), l, rec.data());
    }
    Filter window;
    window.add(0, Op::kGe, 1'700'000'000'000'000 + 2000 * 1'000'000LL);
    window.add(0, Op::kLt, 1'700'000'000'000'000 + 2050 * 1'000'000LL);
    window.compile(l);
    size_t left = 0;
    for (const auto& z : zones) left += window.zone_may_pass(z.data());
    EXPECT_EQ(left, 1u);
    Filter tenant;
    tenant.add(1, Op::kEq, 42);
    tenant.compile(l);
    size_t tenant_left = 0;
    for (const auto& z : zones) tenant_left += tenant.zone_may_pass(z.data());
    // Each zone holds 50 of the 100 tenants: half can hold 42, and the
    // 256-bit set rules out most of the others.
    EXPECT_GE(tenant_left, 50u);
    EXPECT_LE(tenant_left, 70u);
    Filter in_list;
    in_list.add_in(1, {42, 43});
    in_list.compile(l);
    size_t in_left = 0;
    for (const auto& z : zones) in_left += in_list.zone_may_pass(z.data());
    EXPECT_GE(in_left, tenant_left);
    const std::vector<uint8_t> empty(zb, 0);
    EXPECT_FALSE(window.zone_may_pass(empty.data()));
    EXPECT_FALSE(tenant.zone_may_pass(empty.data()));
    Filter is_null;
    is_null.add_null_test(1, true);
    is_null.compile(l);
    EXPECT_FALSE(is_null.zone_may_pass(zones[0].data()));  // no NULL stored
    Filter none;
    none.compile(l);
    EXPECT_TRUE(none.zone_may_pass(empty.data()));
}

TEST(AttrFilter, PageCopiesAreKeptWithinTheirRoom) {
    // Kept copies read back byte for byte, also after the arrays grew for a
    // later page; a page never kept has none; a page that would take more
    // room than granted is not kept, and what was kept stays.
    constexpr uint32_t kZone = 56;
    PageCopies c(kZone);
    EXPECT_EQ(c.find(0), nullptr);
    EXPECT_EQ(c.bytes(), 0u);
    auto zone_of = [](uint32_t page) {
        std::vector<uint8_t> z(kZone);
        for (uint32_t i = 0; i < kZone; ++i) z[i] = static_cast<uint8_t>(page * 31 + i);
        return z;
    };
    ASSERT_TRUE(c.put(3, zone_of(3).data(), 1 << 20));
    const size_t small = c.bytes();
    EXPECT_GE(small, 4u * kZone);
    ASSERT_TRUE(c.put(1000, zone_of(1000).data(), 1 << 20));
    EXPECT_GT(c.bytes(), small);
    for (uint32_t p : {3u, 1000u}) {
        ASSERT_NE(c.find(p), nullptr) << p;
        EXPECT_EQ(memcmp(c.find(p), zone_of(p).data(), kZone), 0) << p;
    }
    for (uint32_t p : {0u, 2u, 4u, 999u, 1001u, 5000u}) EXPECT_EQ(c.find(p), nullptr) << p;
    // Within the arrays: no more room needed.
    EXPECT_TRUE(c.fits(1001, 0));
    EXPECT_FALSE(c.fits(100000, 1000));
    EXPECT_TRUE(c.fits(100000, size_t{1} << 30));
    ASSERT_TRUE(c.put(1001, zone_of(1001).data(), 0));
    EXPECT_NE(c.find(1001), nullptr);
    // Past them, with too little room: not kept.
    const size_t before = c.bytes();
    EXPECT_FALSE(c.put(100000, zone_of(100000).data(), 1000));
    EXPECT_EQ(c.find(100000), nullptr);
    EXPECT_EQ(c.bytes(), before);
    EXPECT_EQ(memcmp(c.find(3), zone_of(3).data(), kZone), 0);
    // Sized for the pages the caller counts: later pages need no more room.
    PageCopies sized(kZone);
    ASSERT_TRUE(sized.put(0, zone_of(0).data(), 1 << 20, 5000));
    EXPECT_GE(sized.bytes(), 5000u * kZone);
    EXPECT_TRUE(sized.put(4999, zone_of(4999).data(), 0));
    EXPECT_EQ(memcmp(sized.find(4999), zone_of(4999).data(), kZone), 0);
    EXPECT_EQ(memcmp(sized.find(0), zone_of(0).data(), kZone), 0);
    EXPECT_EQ(sized.find(2500), nullptr);
}

// generator.cpp — the synthetic fleet, event process and embedding model.
#include "generator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "json_write.h"
#include "ledger.h"
#include "rng.h"

namespace nmvec::gen {

namespace {

// Purposes of derived seeds; each is combined with the user's seed.
constexpr uint64_t kTagModel = 0x100;
constexpr uint64_t kTagFleet = 0x200;
constexpr uint64_t kTagEvents = 0x300;     // + stream
constexpr uint64_t kTagHostState = 0x400;  // + stream
constexpr uint64_t kTagEmbedding = 0x500;  // + stream

// Event process.
constexpr double kBurstStart = 0.01;     // chance that an arrival starts a burst on its host
constexpr double kBurstMean = 20;        // mean events in a burst after the first
constexpr double kBurstGap = 0.5;        // mean seconds between events of a burst
constexpr double kDailyAmplitude = 0.6;  // rate swings by +-60% over the day...
constexpr double kPeakHourUtc = 14;      // ...peaking at 14:00 UTC
constexpr double kWeekendFactor = 0.6;   // Saturday and Sunday
constexpr double kRestartChance = 2e-4;  // per event: the host's agent restarts (new pid)
constexpr double kApplyFailure = 0.08;   // apply_state that fails (success false, errors)

// Embedding model: sizes of the parts of a normal event's vector before
// normalisation (the kind centre has norm 1).
constexpr double kVariantOffset = 0.35;   // norm of a payload variant's offset
constexpr double kHostOffset = 0.25;      // norm of a host group's offset
constexpr double kPrincipalVar = 0.20;    // total variance along the principal directions
constexpr double kPrincipalDecay = 0.75;  // scale ratio of successive principal directions
constexpr double kDiagVar = 0.15;         // total variance of the per-dimension noise
constexpr uint32_t kMaxHostGroups = 16;

const std::vector<EventKind> kKinds = {
    // Network: what nm-monitor's legacy Ledger::append writes (category
    // "interface"), and port/connectivity events through add_data.
    {"interface", "interface_created", "network-plugin", Family::Network, 0.200},
    {"interface", "interface_rename", "network-plugin", Family::Network, 0.120},
    {"interface", "interface_removed", "network-plugin", Family::Network, 0.160},
    {"port", "ovs_add_port", "network-plugin", Family::Network, 0.150},
    {"port", "ovs_del_port", "network-plugin", Family::Network, 0.110},
    {"interface", "apply_state", "network-plugin", Family::Network, 0.100},
    {"interface", "rollback", "network-plugin", Family::Network, 0.015},
    {"connectivity", "link_down", "network-plugin", Family::Network, 0.020},
    {"connectivity", "link_up", "network-plugin", Family::Network, 0.020},
    // The other declared plugins, at lower rates.
    {"config", "modified", "settings-plugin", Family::Settings, 0.030},
    {"policy", "modified", "settings-plugin", Family::Settings, 0.010},
    {"authentication", "login", "user-plugin", Family::Users, 0.020},
    {"authentication", "login_failed", "user-plugin", Family::Users, 0.005},
    {"session", "logout", "user-plugin", Family::Users, 0.015},
    {"snapshot", "created", "storage-plugin", Family::Storage, 0.015},
    {"backup", "completed", "storage-plugin", Family::Storage, 0.005},
    {"mount", "mounted", "storage-plugin", Family::Storage, 0.005},
};

enum KindIndex : uint16_t {
    kCreated,
    kRename,
    kRemoved,
    kAddPort,
    kDelPort,
    kApplyState,
    kRollback,
    kLinkDown,
    kLinkUp,
    kConfig,
    kPolicy,
    kLogin,
    kLoginFailed,
    kLogout,
    kSnapshot,
    kBackup,
    kMount,
};

constexpr const char* kSites[] = {"fra1", "ams2", "lon1", "nyc3", "sfo2", "sgp1", "tor1", "blr1"};
constexpr std::string_view kBridges[] = {"ovsbr0", "ovsbr1"};
constexpr std::string_view kPlugins[] = {"net", "netcfg"};
constexpr std::string_view kUsers[] = {"root@pam", "alice@pve",  "bob@pve",
                                       "ops@pam",  "backup@pbs", "carol@pve"};
constexpr std::string_view kSettingsUsers[] = {"admin", "root@pam"};

std::string vi(uint32_t vmid) { return "vi" + std::to_string(vmid); }

void unit_random(Rng& r, float* out, int dims) {
    double ss = 0;
    for (int i = 0; i < dims; ++i) {
        double x = r.normal();
        out[i] = static_cast<float>(x);
        ss += x * x;
    }
    auto inv = static_cast<float>(1 / std::sqrt(ss));
    for (int i = 0; i < dims; ++i) out[i] *= inv;
}

void normalize(float* v, int dims) {
    double ss = 0;
    for (int i = 0; i < dims; ++i) ss += double(v[i]) * v[i];
    if (ss == 0) {  // astronomically unlikely; keep the output a unit vector
        v[0] = 1;
        return;
    }
    double inv = 1 / std::sqrt(ss);
    for (int i = 0; i < dims; ++i) v[i] = static_cast<float>(v[i] * inv);
}

/// Relative event rate at unix time t: daily cosine, quieter weekends,
/// normalised to mean 1 over a week.
double rhythm(double t) {
    double day = std::floor(t / 86400);
    double hour = (t - day * 86400) / 3600;
    auto dow = static_cast<int64_t>(day + 4) % 7;  // 1970-01-01 was a Thursday; 0 = Sunday
    double r = 1 + kDailyAmplitude * std::cos(2 * M_PI * (hour - kPeakHourUtc) / 24);
    if (dow == 0 || dow == 6) r *= kWeekendFactor;
    return r / ((5 + 2 * kWeekendFactor) / 7);
}

}  // namespace

const std::vector<EventKind>& event_kinds() { return kKinds; }

void validate(const Config& cfg) {
    auto fail = [](const std::string& m) { throw std::invalid_argument(m); };
    if (cfg.dims < 1 || cfg.dims > 16000) fail("dims must be between 1 and 16000");
    if (cfg.hosts < 1) fail("hosts must be at least 1");
    if (!(cfg.host_skew >= 0 && cfg.host_skew <= 10)) fail("host skew must be between 0 and 10");
    if (!(cfg.rate > 0 && cfg.rate <= 1e9)) fail("rate must be positive (events per second)");
    if (!(cfg.outlier_rate >= 0 && cfg.outlier_rate <= 1)) fail("outlier rate must be between 0 and 1");
    if (cfg.start_time > (uint64_t{1} << 40)) fail("start time is too far in the future");
}

// ---------------------------------------------------------------- Fleet

Fleet::Fleet(const Config& cfg) : n_groups_(std::min(cfg.hosts, kMaxHostGroups)) {
    names_.reserve(cfg.hosts);
    cdf_.reserve(cfg.hosts);
    groups_.reserve(cfg.hosts);
    double total = 0;
    char name[64];
    for (uint32_t h = 0; h < cfg.hosts; ++h) {
        uint64_t bits = derive_seed(cfg.seed, kTagFleet, h);
        std::snprintf(name, sizeof name, "pve-%s-%04u", kSites[bits % 8], h + 1);
        names_.emplace_back(name);
        total += std::pow(double(h) + 1, -cfg.host_skew);
        cdf_.push_back(total);
        groups_.push_back(static_cast<uint32_t>((bits >> 8) % n_groups_));
    }
    for (double& c : cdf_) c /= total;
    cdf_.back() = 1;
}

double Fleet::share(uint32_t host) const { return cdf_[host] - (host ? cdf_[host - 1] : 0); }

uint32_t Fleet::pick(double u) const {
    auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
    return static_cast<uint32_t>(std::min<size_t>(it - cdf_.begin(), cdf_.size() - 1));
}

// ---------------------------------------------------------------- EventStream

namespace {

/// What the generator remembers about one host between its events.
struct HostState {
    uint32_t pid = 0;
    uint32_t next_vmid = 100;
    uint64_t last_checkpoint = 0;  ///< timestamp of its last checkpoint (0: none yet)
    uint16_t live[8] = {};         ///< vmids with an interface, oldest first
    uint8_t n_live = 0;
    uint8_t bridges = 1;
};

uint32_t new_pid(Rng& r) { return static_cast<uint32_t>(r.between(1000, 4194303)); }

/// A container interface comes up: a new vmid, remembered as live.
uint32_t new_vmid(HostState& h) {
    uint32_t v = h.next_vmid;
    h.next_vmid = v >= 9999 ? 100 : v + 1;
    if (h.n_live == 8) {
        std::copy(h.live + 1, h.live + 8, h.live);
        --h.n_live;
    }
    h.live[h.n_live++] = static_cast<uint16_t>(v);
    return v;
}

/// A live vmid (a new one if none).
uint32_t some_vmid(HostState& h, Rng& r) { return h.n_live ? h.live[r.below(h.n_live)] : new_vmid(h); }

/// A live vmid that goes away (an unseen one if none is live).
uint32_t drop_vmid(HostState& h, Rng& r) {
    if (!h.n_live) return static_cast<uint32_t>(r.between(100, 9999));
    auto i = r.below(h.n_live);
    uint32_t v = h.live[i];
    std::copy(h.live + i + 1, h.live + h.n_live, h.live + i);
    --h.n_live;
    return v;
}

std::string ip(Rng& r) {
    return "10." + std::to_string(r.below(4)) + "." + std::to_string(r.below(256)) + "." +
           std::to_string(r.between(2, 254));
}

}  // namespace

struct EventStream::State {
    const Config& cfg;
    const Fleet& fleet;
    Rng rng;
    std::vector<HostState> hosts;
    std::vector<double> kind_cdf;
    double clock = 0;  ///< seconds since start_time
    uint64_t height = 0;
    uint64_t burst_left = 0;
    uint32_t burst_host = 0;

    State(const Config& c, const Fleet& f, Stream stream)
        : cfg(c), fleet(f), rng(derive_seed(c.seed, kTagEvents + stream)), hosts(f.size()) {
        for (uint32_t h = 0; h < f.size(); ++h) {
            Rng r(derive_seed(c.seed, kTagHostState + stream, h));
            hosts[h].pid = new_pid(r);
            hosts[h].next_vmid = static_cast<uint32_t>(r.between(100, 999));
            hosts[h].bridges = r.chance(0.3) ? 2 : 1;
        }
        double total = 0;
        for (const auto& k : kKinds) kind_cdf.push_back(total += k.weight);
        for (double& x : kind_cdf) x /= total;
    }

    void payload(Event& ev, HostState& h);
};

EventStream::EventStream(const Config& cfg, const Fleet& fleet, Stream stream)
    : s_(std::make_unique<State>(cfg, fleet, stream)) {}

EventStream::~EventStream() = default;

void EventStream::next(Event& ev) {
    State& s = *s_;
    Rng& r = s.rng;
    uint32_t host;
    if (s.burst_left > 0) {
        --s.burst_left;
        s.clock += kBurstGap * r.exponential();
        host = s.burst_host;
    } else {
        double now = double(s.cfg.start_time) + s.clock;
        s.clock += r.exponential() / (s.cfg.rate * rhythm(now));
        host = s.fleet.pick(r.uniform());
        if (r.chance(kBurstStart)) {
            s.burst_left = 1 + r.geometric(kBurstMean - 1);
            s.burst_host = host;
        }
    }
    ev.height = ++s.height;
    ev.timestamp = s.cfg.start_time + static_cast<uint64_t>(s.clock);
    ev.host = host;
    double u = r.uniform();
    ev.kind = static_cast<uint16_t>(std::min<size_t>(
        std::upper_bound(s.kind_cdf.begin(), s.kind_cdf.end(), u) - s.kind_cdf.begin(), kKinds.size() - 1));
    HostState& h = s.hosts[host];
    if (r.chance(kRestartChance)) h.pid = new_pid(r);
    ev.pid = h.pid;
    ev.user = "system";
    ev.variant = 0;
    ev.data.clear();
    s.payload(ev, h);
}

void EventStream::State::payload(Event& ev, HostState& h) {
    Rng& r = rng;
    JsonWriter w(ev.data);
    w.begin_object();
    uint8_t bridge = h.bridges > 1 && r.chance(0.4) ? 1 : 0;
    switch (ev.kind) {
        case kCreated:
        case kRename: {
            uint32_t v = ev.kind == kCreated ? new_vmid(h) : some_vmid(h, r);
            ev.variant = bridge;
            w.key("bridge");
            w.string(kBridges[bridge]);
            w.key("container_id");
            w.string(std::to_string(v));
            if (ev.kind == kCreated) {
                w.key("interface");
                w.string(vi(v));
                w.key("original");
                w.string("veth" + std::to_string(v) + "i0");
            } else {
                w.key("new");
                w.string(vi(v));
                w.key("old");
                w.string("veth" + std::to_string(v) + "i0");
            }
            w.key("vmid");
            w.u64(v);
            break;
        }
        case kRemoved:
            ev.variant = bridge;
            w.key("bridge");
            w.string(kBridges[bridge]);
            w.key("interface");
            w.string(vi(drop_vmid(h, r)));
            break;
        case kAddPort:
        case kDelPort: {
            uint32_t v = ev.kind == kAddPort ? some_vmid(h, r) : drop_vmid(h, r);
            ev.variant = bridge;
            w.key("bridge");
            w.string(kBridges[bridge]);
            w.key("port");
            w.string(vi(v));
            break;
        }
        case kApplyState: {
            uint8_t plugin = r.chance(0.7) ? 0 : 1;
            bool failed = r.chance(kApplyFailure);
            ev.variant = static_cast<uint8_t>(plugin + 2 * failed);
            w.key("plugin");
            w.string(kPlugins[plugin]);
            w.key("result");
            w.begin_object();
            w.key("changes_applied");
            w.begin_array();
            for (uint64_t n = r.below(failed ? 2 : 4); n > 0; --n) {
                uint32_t v = some_vmid(h, r);
                switch (r.below(3)) {
                    case 0:
                        w.string("add-port " + std::string(kBridges[bridge]) + " " + vi(v));
                        break;
                    case 1:
                        w.string("set interface " + vi(v) + " mtu_request=9000");
                        break;
                    default:
                        w.string("set port " + vi(v) + " tag=" + std::to_string(100 + r.below(20)));
                }
            }
            w.end_array();
            w.key("checkpoint");
            if (r.chance(0.1)) {
                w.null();
            } else {
                h.last_checkpoint = ev.timestamp;
                w.begin_object();
                w.key("backend_checkpoint");
                w.null();
                w.key("id");
                w.string("network-" + std::to_string(ev.timestamp));
                w.key("plugin");
                w.string(kPlugins[plugin]);
                w.key("state_snapshot");
                w.begin_object();
                w.key("bridges");
                w.begin_array();
                for (uint8_t b = 0; b < h.bridges; ++b) {
                    w.begin_object();
                    w.key("name");
                    w.string(kBridges[b]);
                    w.key("ports");
                    w.begin_array();
                    for (uint8_t i = b; i < h.n_live; i += h.bridges) w.string(vi(h.live[i]));
                    w.end_array();
                    w.end_object();
                }
                w.end_array();
                w.end_object();
                w.key("timestamp");
                w.i64(static_cast<int64_t>(ev.timestamp));
                w.end_object();
            }
            w.key("errors");
            w.begin_array();
            if (failed) {
                switch (r.below(3)) {
                    case 0:
                        w.string("ovs-vsctl: no bridge named \"" + std::string(kBridges[1 - bridge]) + "\"");
                        break;
                    case 1:
                        w.string("ovs-vsctl: no port named \"" + vi(some_vmid(h, r)) + "\"");
                        break;
                    default:
                        w.string("timeout waiting for NetworkManager (30s)");
                }
            }
            w.end_array();
            w.key("success");
            w.boolean(!failed);
            w.end_object();
            break;
        }
        case kRollback: {
            uint8_t plugin = r.chance(0.7) ? 0 : 1;
            ev.variant = plugin;
            uint64_t cp =
                h.last_checkpoint ? h.last_checkpoint : ev.timestamp - std::min<uint64_t>(ev.timestamp, 3600);
            w.key("checkpoint_id");
            w.string("network-" + std::to_string(cp));
            w.key("plugin");
            w.string(kPlugins[plugin]);
            break;
        }
        case kLinkDown:
        case kLinkUp: {
            uint8_t nic = r.chance(0.8) ? 0 : 1;
            ev.variant = nic;
            w.key("carrier");
            w.boolean(ev.kind == kLinkUp);
            w.key("interface");
            w.string(nic ? "eno2" : "eno1");
            if (ev.kind == kLinkDown) {
                w.key("reason");
                w.string(r.chance(0.7) ? "carrier lost" : "admin down");
            } else {
                w.key("speed_mbps");
                w.u64(nic ? 1000 : 10000);
            }
            break;
        }
        case kConfig: {
            static constexpr const char* kKeys[] = {"ledger.max_size_mb", "bridge.uplink", "naming.template",
                                                    "monitor.include_prefixes"};
            static constexpr const char* kOld[] = {"100", "eno1", "vi{container}", "veth,tap"};
            static constexpr const char* kNew[] = {"200", "bond0", "vi{container}_{index}", "veth,tap,fwpr"};
            auto k = r.below(4);
            ev.variant = static_cast<uint8_t>(k);
            ev.user = kSettingsUsers[r.chance(0.7) ? 0 : 1];
            bool revert = r.chance(0.3);
            w.key("file");
            w.string("/etc/ovs-port-agent/config.toml");
            w.key("key");
            w.string(kKeys[k]);
            w.key("new");
            w.string(revert ? kOld[k] : kNew[k]);
            w.key("old");
            w.string(revert ? kNew[k] : kOld[k]);
            break;
        }
        case kPolicy: {
            static constexpr const char* kKeys[] = {"allow_dynamic_ports", "rename_enabled"};
            auto k = r.below(2);
            bool on = r.chance(0.5);
            ev.variant = static_cast<uint8_t>(k);
            ev.user = kSettingsUsers[r.chance(0.7) ? 0 : 1];
            w.key("key");
            w.string(kKeys[k]);
            w.key("new");
            w.string(on ? "true" : "false");
            w.key("old");
            w.string(on ? "false" : "true");
            w.key("policy");
            w.string("default");
            break;
        }
        case kLogin:
        case kLoginFailed: {
            std::string_view user = kUsers[r.below(std::size(kUsers))];
            ev.user = user;
            uint8_t v = r.chance(0.6) ? 0 : 1;
            ev.variant = v;
            w.key("method");
            w.string(ev.kind == kLogin ? (v ? "pve" : "pam") : "pam");
            if (ev.kind == kLoginFailed) {
                w.key("reason");
                w.string(v ? "account locked" : "authentication failure");
            }
            w.key("remote_addr");
            w.string(ip(r));
            w.key("username");
            w.string(user);
            break;
        }
        case kLogout: {
            std::string_view user = kUsers[r.below(std::size(kUsers))];
            ev.user = user;
            w.key("duration_s");
            w.u64(30 + r.geometric(1800));
            w.key("username");
            w.string(user);
            break;
        }
        case kSnapshot:
            w.key("path");
            w.string("/var/lib/ovs-port-agent");
            w.key("snapshot");
            w.string("/var/lib/blockchain/snapshots/" + std::to_string(ev.timestamp));
            w.key("subvolume");
            w.string("@ovs-port-agent");
            break;
        case kBackup: {
            uint8_t offsite = r.chance(0.3) ? 1 : 0;
            ev.variant = offsite;
            w.key("bytes");
            w.u64(r.between(1u << 20, 1u << 30));
            w.key("duration_s");
            w.u64(r.between(5, offsite ? 3600 : 600));
            w.key("target");
            w.string(offsite ? "pbs-offsite" : "pbs-local");
            break;
        }
        case kMount:
        default:
            w.key("device");
            w.string("/dev/sdb1");
            w.key("fstype");
            w.string("btrfs");
            w.key("path");
            w.string("/var/lib/blockchain");
            break;
    }
    w.end_object();
}

void chain(Event& ev, const Fleet& fleet, std::string& prev) {
    const EventKind& k = kKinds[ev.kind];
    BlockHashInput in;
    in.height = ev.height;
    in.prev_hash = prev;
    in.timestamp = ev.timestamp;
    in.producer = k.producer;
    in.category = k.category;
    in.action = k.action;
    in.user = ev.user;
    in.hostname = fleet.hostname(ev.host);
    in.pid = ev.pid;
    in.data_json = ev.data;
    ev.prev_hash = prev;
    ev.hash.resize(64);
    to_hex(block_hash(in), ev.hash.data());
    prev = ev.hash;
}

// ---------------------------------------------------------------- EmbeddingModel

EmbeddingModel::EmbeddingModel(const Config& cfg, const Fleet& fleet)
    : dims_(cfg.dims), seed_(cfg.seed), outlier_rate_(cfg.outlier_rate) {
    const size_t d = size_t(dims_);
    const size_t nk = kKinds.size();
    Rng r(derive_seed(cfg.seed, kTagModel));
    std::vector<float> u(d);

    // Kind centres share directions with their category and family, so that
    // related kinds are closer to each other than unrelated ones.
    std::vector<std::string_view> categories;
    std::vector<float> family_dirs(4 * d), category_dirs;
    for (int f = 0; f < 4; ++f) unit_random(r, &family_dirs[f * d], dims_);
    centres_.resize(nk * d);
    for (size_t k = 0; k < nk; ++k) {
        auto c = std::find(categories.begin(), categories.end(), kKinds[k].category);
        if (c == categories.end()) {
            categories.push_back(kKinds[k].category);
            category_dirs.resize(categories.size() * d);
            unit_random(r, &category_dirs[(categories.size() - 1) * d], dims_);
            c = categories.end() - 1;
        }
        const float* fam = &family_dirs[size_t(kKinds[k].family) * d];
        const float* cat = &category_dirs[size_t(c - categories.begin()) * d];
        unit_random(r, u.data(), dims_);
        float* out = &centres_[k * d];
        for (size_t i = 0; i < d; ++i) out[i] = 0.5f * fam[i] + 0.5f * cat[i] + 0.7f * u[i];
        normalize(out, dims_);
    }

    bases_.resize(nk * kMaxVariants * d);
    for (size_t k = 0; k < nk; ++k)
        for (int v = 0; v < kMaxVariants; ++v) {
            unit_random(r, u.data(), dims_);
            float* out = &bases_[(k * kMaxVariants + v) * d];
            for (size_t i = 0; i < d; ++i) out[i] = centres_[k * d + i] + float(kVariantOffset) * u[i];
        }

    pcs_.resize(nk * kPrincipalDirections * d);
    for (size_t j = 0; j < pcs_.size() / d; ++j) unit_random(r, &pcs_[j * d], dims_);
    double sum = 0;
    for (int j = 0; j < kPrincipalDirections; ++j) sum += std::pow(kPrincipalDecay, 2 * j);
    for (int j = 0; j < kPrincipalDirections; ++j)
        pc_scale_.push_back(
            static_cast<float>(std::sqrt(kPrincipalVar / sum) * std::pow(kPrincipalDecay, j)));

    hosts_.resize(size_t(fleet.groups()) * d);
    for (uint32_t g = 0; g < fleet.groups(); ++g) {
        float* out = &hosts_[g * d];
        unit_random(r, out, dims_);
        for (size_t i = 0; i < d; ++i) out[i] *= float(kHostOffset);
    }

    // Per-dimension scales, log-uniform over [1/3, 3], total variance kDiagVar.
    diag_.resize(d);
    double ss = 0;
    for (size_t i = 0; i < d; ++i) {
        double s = std::exp(std::log(3.0) * (2 * r.uniform() - 1));
        diag_[i] = static_cast<float>(s);
        ss += s * s;
    }
    for (float& s : diag_) s = static_cast<float>(s * std::sqrt(kDiagVar / ss));
}

bool EmbeddingModel::embed(const Event& ev, uint32_t host_group, Stream stream, float* out) const {
    const size_t d = size_t(dims_);
    Rng r(derive_seed(seed_, kTagEmbedding + stream, ev.height));
    if (r.uniform() < outlier_rate_) {
        unit_random(r, out, dims_);
        return true;
    }
    const float* base = &bases_[(size_t(ev.kind) * kMaxVariants + ev.variant) * d];
    const float* host = &hosts_[size_t(host_group) * d];
    for (size_t i = 0; i < d; ++i) out[i] = base[i] + host[i];
    for (int j = 0; j < kPrincipalDirections; ++j) {
        auto z = static_cast<float>(r.normal()) * pc_scale_[j];
        const float* pc = &pcs_[(size_t(ev.kind) * kPrincipalDirections + j) * d];
        for (size_t i = 0; i < d; ++i) out[i] += z * pc[i];
    }
    for (size_t i = 0; i < d; ++i) out[i] += diag_[i] * static_cast<float>(r.normal());
    normalize(out, dims_);
    return false;
}

}  // namespace nmvec::gen

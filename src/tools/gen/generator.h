// generator.h — the synthetic nm-monitor fleet behind nmvec-gen.
//
// A fleet of hosts (Zipf-distributed sizes) runs nm-monitor; their events
// form one v2 ledger chain. Events arrive as a Poisson process whose rate
// follows a daily and weekly rhythm, with occasional bursts on one host;
// kinds (category, action) are drawn from a skewed table using the payload
// shapes nm-monitor writes (shared/reference/nm-monitor-ledger.md). Each
// event's embedding comes from a mixture model: a centre per kind plus a
// payload-variant offset and a host-group offset, anisotropic noise (a few
// strong principal directions per kind plus per-dimension noise of varying
// scale), unit-normalised; a small fraction are outliers drawn uniformly on
// the sphere, far from every centre.
//
// Determinism: the event stream is one sequential generator; the embedding
// of block h is a function of (seed, stream, h) and the event alone, so the
// output does not depend on the number of threads. Only fully specified
// arithmetic is used (rng.h), with floating-point contraction off.
// Implemented in generator.cpp; output formats in writers.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nmvec::gen {

/// Everything that determines the generated data. Same Config => same bytes.
struct Config {
    uint64_t rows = 10000;             ///< ledger events (blocks)
    int dims = 384;                    ///< embedding dimensions
    uint64_t seed = 1;                 ///< master seed
    uint32_t hosts = 100;              ///< fleet size (tenants)
    double host_skew = 1.1;            ///< Zipf exponent s of host sizes: share of rank r ~ r^-s
    uint64_t start_time = 1759276800;  ///< unix seconds of the first event (2025-10-01T00:00:00Z)
    double rate = 1.0;                 ///< mean events per second over the whole fleet
    double outlier_rate = 0.005;       ///< probability that an event's embedding is an outlier
    uint64_t queries = 0;              ///< held-out query events
};

/// Throws std::invalid_argument naming the first out-of-range field.
void validate(const Config& cfg);

/// Which nm-monitor plugin family a kind belongs to.
enum class Family : uint8_t { Network, Settings, Users, Storage };

/// One kind of event: a (category, action) pair and its configured share.
struct EventKind {
    std::string_view category;
    std::string_view action;
    std::string_view producer;  ///< the plugin's producer string, e.g. "network-plugin"
    Family family;
    double weight;  ///< share of all events (the table sums to 1)
};

/// Payload variants per kind with their own sub-centre (Event::variant).
constexpr int kMaxVariants = 4;

/// The kinds generated, in a fixed order (Event::kind indexes this).
const std::vector<EventKind>& event_kinds();

/// One event of the stream. Before chaining, prev_hash and hash are empty.
struct Event {
    uint64_t height = 0;     ///< 1-based position in its stream
    uint64_t timestamp = 0;  ///< unix seconds, non-decreasing
    uint32_t host = 0;       ///< index into Fleet; 0 is the busiest host
    uint32_t pid = 0;
    uint16_t kind = 0;  ///< index into event_kinds()
    uint8_t variant = 0;
    std::string_view user;  ///< points into static storage
    std::string data;       ///< payload, compact JSON with sorted keys
    std::string prev_hash;  ///< "" at genesis
    std::string hash;       ///< 64 lower-case hex
};

/// The hosts: names, Zipf weights and embedding host groups.
class Fleet {
 public:
    explicit Fleet(const Config& cfg);

    uint32_t size() const { return static_cast<uint32_t>(names_.size()); }
    const std::string& hostname(uint32_t host) const { return names_[host]; }
    /// Expected share of events of `host` (Zipf weight, normalised).
    double share(uint32_t host) const;
    /// Host drawn with probability share(host), from a uniform u in [0, 1).
    uint32_t pick(double u) const;
    /// Embedding sub-cluster of the host.
    uint32_t group(uint32_t host) const { return groups_[host]; }
    uint32_t groups() const { return n_groups_; }

 private:
    std::vector<std::string> names_;
    std::vector<double> cdf_;
    std::vector<uint32_t> groups_;
    uint32_t n_groups_;
};

/// Stream identifiers: the ledger and the held-out queries never share
/// random numbers.
enum Stream : uint64_t { kLedgerStream = 1, kQueryStream = 2 };

/// The sequential event process (times, hosts, kinds, payloads).
class EventStream {
 public:
    EventStream(const Config& cfg, const Fleet& fleet, Stream stream);
    ~EventStream();
    EventStream(const EventStream&) = delete;
    EventStream& operator=(const EventStream&) = delete;

    /// Fill `ev` with the next event (height, timestamp, host, pid, kind,
    /// variant, user, data). Does not touch prev_hash/hash.
    void next(Event& ev);

 private:
    struct State;
    std::unique_ptr<State> s_;
};

/// Set ev.prev_hash to `prev` and ev.hash to the block hash; then `prev`
/// becomes ev.hash. `prev` starts as "".
void chain(Event& ev, const Fleet& fleet, std::string& prev);

/// The embedding mixture model.
class EmbeddingModel {
 public:
    EmbeddingModel(const Config& cfg, const Fleet& fleet);

    int dims() const { return dims_; }

    /// Write the unit-norm embedding of `ev` (from stream `stream`) to
    /// out[0..dims). Returns true if it is an outlier.
    bool embed(const Event& ev, uint32_t host_group, Stream stream, float* out) const;

    /// Unit centre of kind k (before variant and host offsets).
    const float* centre(int kind) const { return &centres_[size_t(kind) * dims_]; }

 private:
    int dims_;
    uint64_t seed_;
    double outlier_rate_;
    std::vector<float> centres_;   ///< kinds x dims
    std::vector<float> bases_;     ///< (kind, variant) x dims: centre + variant offset
    std::vector<float> pcs_;       ///< (kind, j) x dims: principal noise directions
    std::vector<float> pc_scale_;  ///< per j
    std::vector<float> hosts_;     ///< host groups x dims
    std::vector<float> diag_;      ///< per-dimension noise scale
};

/// Number of principal noise directions per kind.
constexpr int kPrincipalDirections = 8;

}  // namespace nmvec::gen

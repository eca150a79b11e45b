// run.cpp — a three-stage pipeline over batches of events:
//   1. generate: the event stream and the hash chain, sequential (cheap: the
//      hash does not cover the embedding);
//   2. format: embeddings and output bytes, in parallel, each thread taking
//      a contiguous range of the batch into its own buffer;
//   3. write: the buffers in order.
// Batch k is formatted while batch k+1 is generated and batch k-1 written,
// so three batch slots rotate. The bytes never depend on the thread count:
// every value is a function of the seed and the event, and ranges are
// concatenated in order.
#include "run.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>
#include <stdexcept>
#include <string>
#include <vector>

#include "writers.h"

namespace nmvec::gen {

namespace {

void write(std::FILE* f, const std::string& s) {
    if (f && !s.empty() && std::fwrite(s.data(), 1, s.size(), f) != s.size())
        throw std::runtime_error(std::string("write failed: ") + std::strerror(errno));
}

/// One batch in flight.
struct Slot {
    std::vector<Event> events;
    size_t n = 0;
    std::vector<char> outlier;
    std::vector<std::string> ledger, copy;  ///< per thread range, in order
};

}  // namespace

RunStats generate(const Config& cfg, const Outputs& out, int cfg_threads) {
    validate(cfg);
    if (event_kinds().size() > sizeof(RunStats::kinds) / sizeof(uint64_t))
        throw std::logic_error("RunStats::kinds is too small for event_kinds()");
    const int dims = cfg.dims;
    const Fleet fleet(cfg);
    const EmbeddingModel model(cfg, fleet);
    RunStats stats;

    // About 16 MB of ledger text per batch, whatever the dimensions.
    const size_t batch = std::clamp<size_t>((16u << 20) / (16 * size_t(dims) + 400), 16, 4096);
    const int threads = std::max(1, cfg_threads);
    Slot slots[3];
    for (Slot& s : slots) {
        s.events.resize(batch);
        s.outlier.resize(batch);
        s.ledger.resize(out.ledger ? threads : 0);
        s.copy.resize(out.copy ? threads : 0);
    }

    EventStream stream(cfg, fleet, kLedgerStream);
    std::string prev;
    uint64_t generated = 0;
    auto generate_batch = [&](Slot& s) {
        s.n = static_cast<size_t>(std::min<uint64_t>(batch, cfg.rows - generated));
        for (size_t i = 0; i < s.n; ++i) {
            Event& ev = s.events[i];
            stream.next(ev);
            chain(ev, fleet, prev);
            stats.kinds[ev.kind]++;
            if (ev.height == 1) stats.first_timestamp = ev.timestamp;
            stats.last_timestamp = ev.timestamp;
        }
        generated += s.n;
    };
    auto format_range = [&](Slot& s, int t) {
        const size_t lo = s.n * size_t(t) / size_t(threads), hi = s.n * size_t(t + 1) / size_t(threads);
        std::vector<float> v(static_cast<size_t>(dims));
        if (out.ledger) s.ledger[t].clear();
        if (out.copy) s.copy[t].clear();
        for (size_t i = lo; i < hi; ++i) {
            const Event& ev = s.events[i];
            s.outlier[i] = model.embed(ev, fleet.group(ev.host), kLedgerStream, v.data());
            if (out.ledger) append_ledger_line(s.ledger[t], ev, fleet, v.data(), dims);
            if (out.copy) append_copy_tuple(s.copy[t], ev, fleet, v.data(), dims);
        }
    };
    std::string truth;
    auto write_batch = [&](Slot& s) {
        for (std::string& part : s.ledger) write(out.ledger, part);
        for (std::string& part : s.copy) write(out.copy, part);
        truth.clear();
        for (size_t i = 0; i < s.n; ++i)
            if (s.outlier[i]) {
                stats.outliers++;
                truth += std::to_string(s.events[i].height);
                truth += '\n';
            }
        write(out.truth, truth);
        stats.rows += s.n;
    };

    if (out.copy) {
        std::string header;
        append_copy_header(header);
        write(out.copy, header);
    }
    // Slot k % 3 holds batch k. Each round formats batch k while generating
    // batch k+1 and writing batch k-1.
    const uint64_t nbatches = (cfg.rows + batch - 1) / batch;
    if (nbatches > 0) generate_batch(slots[0]);
    for (uint64_t k = 0; k < nbatches; ++k) {
        std::vector<std::future<void>> tasks;
        if (k + 1 < nbatches)
            tasks.push_back(std::async(std::launch::async, generate_batch, std::ref(slots[(k + 1) % 3])));
        if (k > 0) tasks.push_back(std::async(std::launch::async, write_batch, std::ref(slots[(k - 1) % 3])));
        for (int t = 1; t < threads; ++t)
            tasks.push_back(std::async(std::launch::async, format_range, std::ref(slots[k % 3]), t));
        std::exception_ptr failed;
        try {
            format_range(slots[k % 3], 0);
        } catch (...) {
            failed = std::current_exception();
        }
        // Join all before rethrowing: they use this frame's state.
        for (auto& f : tasks) try {
                f.get();
            } catch (...) {
                if (!failed) failed = std::current_exception();
            }
        if (failed) std::rethrow_exception(failed);
    }
    if (nbatches > 0) write_batch(slots[(nbatches - 1) % 3]);
    if (out.copy) {
        std::string trailer;
        append_copy_trailer(trailer);
        write(out.copy, trailer);
    }

    if (out.queries && cfg.queries > 0) {
        // Held-out events: the same fleet and model, but their own stream of
        // times, kinds, payloads and noise, so none of them is in the ledger.
        EventStream qstream(cfg, fleet, kQueryStream);
        Event ev;
        std::vector<float> v(static_cast<size_t>(dims));
        std::string text;
        for (uint64_t q = 0; q < cfg.queries; ++q) {
            qstream.next(ev);
            model.embed(ev, fleet.group(ev.host), kQueryStream, v.data());
            text.clear();
            append_vector_line(text, v.data(), dims);
            write(out.queries, text);
        }
        stats.queries = cfg.queries;
    }
    return stats;
}

}  // namespace nmvec::gen

// run.cpp — batch pipeline: the event stream and hash chain run sequentially
// (cheap: the hash does not cover the embedding), embedding and formatting
// of a batch run in parallel, and the batch is written in order.
#include "run.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "writers.h"

namespace nmvec::gen {

namespace {

constexpr size_t kBatch = 4096;

void write(std::FILE* f, const std::string& s) {
    if (!s.empty() && std::fwrite(s.data(), 1, s.size(), f) != s.size())
        throw std::runtime_error(std::string("write failed: ") + std::strerror(errno));
}

}  // namespace

RunStats generate(const Config& cfg, const Outputs& out) {
    validate(cfg);
    if (event_kinds().size() > sizeof(RunStats::kinds) / sizeof(uint64_t))
        throw std::logic_error("RunStats::kinds is too small for event_kinds()");
    const int dims = cfg.dims;
    Fleet fleet(cfg);
    EmbeddingModel model(cfg, fleet);
    RunStats stats;

    std::vector<Event> events(kBatch);
    std::vector<float> emb(kBatch * size_t(dims));
    std::vector<char> outlier(kBatch);
    std::vector<std::string> lines(out.ledger ? kBatch : 0), tuples(out.copy ? kBatch : 0);
    std::string text;

    if (out.copy) {
        text.clear();
        append_copy_header(text);
        write(out.copy, text);
    }
    EventStream stream(cfg, fleet, kLedgerStream);
    std::string prev;
    for (uint64_t done = 0; done < cfg.rows;) {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(kBatch, cfg.rows - done));
        for (size_t i = 0; i < n; ++i) {
            stream.next(events[i]);
            chain(events[i], fleet, prev);
        }
#pragma omp parallel for schedule(dynamic, 64)
        for (size_t i = 0; i < n; ++i) {
            const Event& ev = events[i];
            float* v = &emb[i * size_t(dims)];
            outlier[i] = model.embed(ev, fleet.group(ev.host), kLedgerStream, v);
            if (out.ledger) {
                lines[i].clear();
                append_ledger_line(lines[i], ev, fleet, v, dims);
            }
            if (out.copy) {
                tuples[i].clear();
                append_copy_tuple(tuples[i], ev, fleet, v, dims);
            }
        }
        text.clear();
        for (size_t i = 0; i < n; ++i) {
            if (out.ledger) write(out.ledger, lines[i]);
            if (out.copy) write(out.copy, tuples[i]);
            if (outlier[i]) {
                stats.outliers++;
                text += std::to_string(events[i].height);
                text += '\n';
            }
            stats.kinds[events[i].kind]++;
        }
        if (out.truth) write(out.truth, text);
        if (done == 0) stats.first_timestamp = events[0].timestamp;
        stats.last_timestamp = events[n - 1].timestamp;
        done += n;
        stats.rows = done;
    }
    if (out.copy) {
        text.clear();
        append_copy_trailer(text);
        write(out.copy, text);
    }

    if (out.queries && cfg.queries > 0) {
        // Held-out events: the same fleet and model, but their own stream of
        // times, kinds, payloads and noise, so none of them is in the ledger.
        EventStream qstream(cfg, fleet, kQueryStream);
        Event ev;
        std::vector<float> v(static_cast<size_t>(dims));
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

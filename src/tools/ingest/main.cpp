// main.cpp — nmvec-ingest: load nm-monitor's ledger.jsonl into a table of
// events with COPY BINARY, checking the hash chain on the way, exactly once
// across restarts. README, "nmvec-ingest", is the manual.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <memory>
#include <string_view>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "copy_row.h"
#include "line_reader.h"
#include "ledger_line.h"
#include "pg_sink.h"
#include "sha256.h"

using namespace nmvec::ingest;

namespace {

// Exit codes (README lists them).
constexpr int kExitOk = 0;          // every line loaded, the chain intact
constexpr int kExitReported = 1;    // finished; some lines rejected or chain breaks reported
constexpr int kExitUsage = 2;       // bad command line
constexpr int kExitFailed = 3;      // the file or the database failed us
constexpr int kExitStrictStop = 4;  // --strict stopped at a chain break

struct Options {
    std::string ledger, dsn, table = "events", rejects, vectors_dir, source;
    size_t batch = 5000;
    size_t dims = 0;
    bool create_table = false;
    bool strict = false;
    int retry_seconds = 60;
    bool follow = false;
    int poll_ms = 200;
};

// Set by SIGINT/SIGTERM: finish the batch, commit, print the summary, exit.
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

const char* kUsage =
    "usage: nmvec-ingest [options] LEDGER.jsonl\n"
    "\n"
    "Load nm-monitor's ledger into a PostgreSQL table with COPY BINARY, checking the hash\n"
    "chain as it reads. A restart goes on after the last committed line (exactly once).\n"
    "\n"
    "  --dsn CONNINFO      libpq connection string (default: the PG* environment)\n"
    "  --table NAME        target table (default events)\n"
    "  --create-table      create the table and its hnsw index if missing (needs --dims)\n"
    "  --dims D            embedding length every line must have (default: any)\n"
    "  --batch N           lines per transaction (default 5000)\n"
    "  --vectors DIR       read a line's embedding from DIR/<hash>.vec when it has none inline\n"
    "  --rejects FILE      where refused lines go (default LEDGER.rejects)\n"
    "  --source NAME       the name progress is kept under (default: the ledger's absolute path)\n"
    "  --strict            stop at the first chain break (default: report it and go on)\n"
    "  --follow            at the end of the ledger, wait for more lines (and follow the file\n"
    "                      through rotation or truncation) until SIGINT/SIGTERM\n"
    "  --poll-ms MS        how often --follow looks for new lines (default 200)\n"
    "  --retry-seconds S   how long to keep reconnecting to a server that went away (default 60)\n"
    "  --help              this text\n"
    "\n"
    "Exit status: 0 all loaded and the chain intact; 1 finished, with rejected lines or chain\n"
    "breaks (reported on stderr and in the rejects file); 2 bad command line; 3 the file or the\n"
    "database failed; 4 --strict stopped at a chain break.\n";

Options parse(int argc, char** argv) {
    Options o;
    auto need = [&](int& i, const std::string& flag) -> std::string {
        if (i + 1 >= argc) throw UsageError(flag + " needs a value");
        return argv[++i];
    };
    auto number = [](const std::string& flag, const std::string& v, size_t lo, size_t hi) {
        char* end = nullptr;
        errno = 0;
        unsigned long long n = std::strtoull(v.c_str(), &end, 10);
        if (v.empty() || *end || errno || v[0] == '-' || n < lo || n > hi)
            throw UsageError(flag + " must be a whole number from " + std::to_string(lo) + " to " +
                             std::to_string(hi));
        return static_cast<size_t>(n);
    };
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            std::exit(kExitOk);
        } else if (a == "--dsn")
            o.dsn = need(i, a);
        else if (a == "--table")
            o.table = need(i, a);
        else if (a == "--create-table")
            o.create_table = true;
        else if (a == "--dims")
            o.dims = number(a, need(i, a), 1, 16000);
        else if (a == "--batch")
            o.batch = number(a, need(i, a), 1, 1000000);
        else if (a == "--vectors")
            o.vectors_dir = need(i, a);
        else if (a == "--rejects")
            o.rejects = need(i, a);
        else if (a == "--source")
            o.source = need(i, a);
        else if (a == "--follow")
            o.follow = true;
        else if (a == "--poll-ms")
            o.poll_ms = static_cast<int>(number(a, need(i, a), 10, 60000));
        else if (a == "--strict")
            o.strict = true;
        else if (a == "--retry-seconds")
            o.retry_seconds = static_cast<int>(number(a, need(i, a), 0, 86400));
        else if (!a.empty() && a[0] == '-')
            throw UsageError("unknown option " + a);
        else if (o.ledger.empty())
            o.ledger = a;
        else
            throw UsageError("more than one ledger given");
    }
    if (o.ledger.empty()) throw UsageError("no ledger given");
    if (o.create_table && o.dims == 0) throw UsageError("--create-table needs --dims");
    if (o.rejects.empty()) o.rejects = o.ledger + ".rejects";
    if (o.source.empty()) {
        char* p = realpath(o.ledger.c_str(), nullptr);
        if (!p) throw std::runtime_error("cannot open " + o.ledger + ": " + std::strerror(errno));
        o.source = p;
        std::free(p);
    }
    return o;
}

// The chain state travels with the progress row as text.
std::string save_chain(const ChainChecker::State& s) {
    return std::to_string(s.height) + " " + (s.hash.empty() ? "-" : s.hash) + " " +
           (s.v1_hash.empty() ? "-" : s.v1_hash) + " " + (s.any ? "1" : "0");
}

ChainChecker::State load_chain(const std::string& t) {
    ChainChecker::State s;
    char h[80] = {}, v1[80] = {};
    unsigned long long height = 0;
    int any = 0;
    if (std::sscanf(t.c_str(), "%llu %79s %79s %d", &height, h, v1, &any) != 4)
        throw std::runtime_error("the stored chain state \"" + t + "\" is not one this tool wrote");
    s.height = height;
    s.hash = std::string(h) == "-" ? "" : h;
    s.v1_hash = std::string(v1) == "-" ? "" : v1;
    s.any = any != 0;
    return s;
}

std::string line_digest(std::string_view line) { return nmvec::to_hex(nmvec::sha256(line)); }

/// Lines read and parsed ahead by a worker thread, in chunks, while the
/// caller checks the chain of, encodes and sends the lines before them, so
/// that reading and parsing (most of the client's work) overlap the rest
/// and go on while the caller waits for the server. Lines come out in file
/// order with what the parser said of each. A fixed set of chunks goes round
/// (free, with the worker, ready, with the caller), so their items, with
/// the strings and vectors in them, are reused.
///
/// The worker reads the LineReader from construction until the end of the
/// file; next() then returns false, and only then, until next() is called
/// again, may the caller use the reader itself (seek, reopen, ...).
class ParseAhead {
 public:
    struct Item {
        LineRef line;
        uint64_t end_offset = 0;  ///< file offset just past the line
        bool blank = false;
        bool ok = false;  ///< parsed; else `reason` says why not
        std::string reason;
        Event ev;
        std::string refused;     ///< if ok: CopyRows::check(ev), empty if the row fits the table
        std::string_view tuple;  ///< if ok and not refused: ev's COPY tuple, in its chunk (see chunk_done)
        size_t tuple_at = 0, tuple_len = 0;  ///< where in the chunk's tuples (tuple_len 0: none)
    };

    ParseAhead(LineReader& in, const ParseOptions& opts, bool whole_only)
        : in_(in), parser_(opts), whole_only_(whole_only) {
        for (Chunk& c : chunks_) free_.push_back(&c);
        worker_ = std::thread([this] { work(); });
    }
    ~ParseAhead() {
        {
            std::lock_guard<std::mutex> g(m_);
            quit_ = true;
        }
        to_worker_.notify_all();
        worker_.join();
    }
    ParseAhead(const ParseAhead&) = delete;
    ParseAhead& operator=(const ParseAhead&) = delete;

    /// The next line; false when the file has nothing more for now. The
    /// caller may swap the item's members with its own (to keep them past
    /// the next call): the item is reused either way. Its `tuple` stays
    /// valid until the call after chunk_done().
    /// The item next() gave last is the last of its chunk: the next call
    /// hands the chunk, and the bytes of its tuples, back to the worker.
    bool chunk_done() const { return cur_ && idx_ == cur_->n; }

    bool next(Item*& out) {
        if (cur_ && idx_ < cur_->n) {
            out = &cur_->items[idx_++];
            return true;
        }
        std::unique_lock<std::mutex> l(m_);
        for (;;) {
            if (cur_) {  // used up: back to the worker
                free_.push_back(cur_);
                cur_ = nullptr;
                idx_ = 0;
                to_worker_.notify_one();
            }
            if (at_end_) {  // called again after the end: read on
                at_end_ = false;
                reading_ = true;
                to_worker_.notify_one();
            }
            to_caller_.wait(l, [&] { return !ready_.empty() || !reading_; });
            if (ready_.empty()) {  // the worker is at the end of the file, and waits
                at_end_ = true;
                return false;
            }
            cur_ = ready_.front();
            ready_.pop_front();
            if (cur_->n > 0) {
                out = &cur_->items[idx_++];
                return true;
            }
        }
    }

 private:
    static constexpr size_t kChunk = 256;  ///< lines per chunk
    static constexpr size_t kChunks = 8;   ///< chunks going round

    /// The COPY tuples of a chunk's rows one after another, so that runs of
    /// them go to libpq as they are (reused, and never zeroed).
    struct Tuples {
        std::unique_ptr<char[]> bytes;
        size_t size = 0, cap = 0;
        char* extend(size_t n) {
            if (size + n > cap) {
                const size_t c = std::max(2 * cap, size + n);
                std::unique_ptr<char[]> b(new char[c]);
                if (size) std::memcpy(b.get(), bytes.get(), size);
                bytes = std::move(b);
                cap = c;
            }
            char* p = bytes.get() + size;
            size += n;
            return p;
        }
    };

    struct Chunk {
        std::vector<Item> items = std::vector<Item>(kChunk);
        size_t n = 0;  ///< items[0, n) are lines
        Tuples tuples;
    };

    void work() {
        for (;;) {
            Chunk* c;
            {
                std::unique_lock<std::mutex> l(m_);
                to_worker_.wait(l, [&] { return quit_ || (reading_ && !free_.empty()); });
                if (quit_) return;
                c = free_.front();
                free_.pop_front();
            }
            c->n = 0;
            c->tuples.size = 0;
            while (c->n < kChunk) {
                Item& it = c->items[c->n];
                if (!in_.next(it.line, whole_only_)) break;
                it.end_offset = in_.offset();
                it.blank = LineParser::is_blank(it.line.text);
                it.ok = !it.blank && parser_.parse(it.line.text, it.ev, it.reason);
                it.tuple = {};
                it.tuple_len = 0;
                if (it.ok) {  // encoded here, where the event is in this core's cache
                    it.refused = CopyRows::check(it.ev);
                    if (it.refused.empty()) {
                        const nmvec::EventRow row = CopyRows::row(it.ev);
                        const size_t len = nmvec::copy_tuple_size(row);
                        it.tuple_at = c->tuples.size;
                        it.tuple_len = len;
                        nmvec::write_copy_tuple(c->tuples.extend(len), row);
                    }
                }
                ++c->n;
            }
            for (size_t i = 0; i < c->n; ++i) {
                Item& it = c->items[i];
                if (it.tuple_len)
                    it.tuple = std::string_view(c->tuples.bytes.get() + it.tuple_at, it.tuple_len);
            }
            {
                std::lock_guard<std::mutex> g(m_);
                ready_.push_back(c);
                if (c->n < kChunk) reading_ = false;  // the end of the file, for now
            }
            to_caller_.notify_one();
        }
    }

    LineReader& in_;
    LineParser parser_;  // the worker's
    const bool whole_only_;
    Chunk chunks_[kChunks];
    Chunk* cur_ = nullptr;  ///< being used (caller)
    size_t idx_ = 0;
    std::mutex m_;  // guards what follows
    std::condition_variable to_worker_, to_caller_;
    std::deque<Chunk*> free_, ready_;
    bool reading_ = true;  ///< the worker reads (until the end of the file)
    bool at_end_ = false;  ///< next() said false since the worker stopped
    bool quit_ = false;
    std::thread worker_;
};

/// A line read since the last commit.
struct Pending {
    uint64_t line_no = 0;
    uint64_t end_offset = 0;  ///< file offset just past it
    LineRef text;
    Event ev;
    bool load = false;          ///< false: blank or rejected (consumed, loads nothing)
    bool rejected = false;      ///< written to the rejects file
    ChainChecker::State chain;  ///< the chain state after it
};

struct Totals {
    uint64_t lines = 0, rows = 0, rejects = 0, breaks = 0;
};

class Ingest {
 public:
    explicit Ingest(const Options& o) : o_(o), sink_(o.dsn, o.table, o.source) {}
    ~Ingest() {
        if (rejects_) std::fclose(rejects_);
    }
    Ingest(const Ingest&) = delete;
    Ingest& operator=(const Ingest&) = delete;

    int run() {
        connect_with_retry();
        sink_.prepare(o_.create_table ? o_.dims : 0);
        rejects_ = std::fopen(o_.rejects.c_str(), "ab");
        if (!rejects_) throw std::runtime_error("cannot open " + o_.rejects + ": " + std::strerror(errno));
        LineReader in(o_.ledger);
        in_ = &in;
        for (;;) {
            try {
                position(in);
                return load(in);
            } catch (const ConnectionLost& e) {
                std::fprintf(stderr, "nmvec-ingest: %s; reconnecting, then resuming after the last commit\n",
                             e.what());
                for (size_t i = 0; i < npend_; ++i) {  // they will be read again: count them once
                    --totals_.lines;
                    if (pending_[i].rejected) --totals_.rejects;
                }
                release_pending();
                streaming_ = false;
                run_ = {};
                connect_with_retry();
            }
        }
    }

 private:
    static ParseOptions parse_opts(const Options& o) {
        ParseOptions p;
        p.dims = o.dims;
        p.vectors_dir = o.vectors_dir;
        return p;
    }

    void connect_with_retry() {
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(o_.retry_seconds);
        for (;;) {
            try {
                sink_.connect();
                return;
            } catch (const ConnectionLost& e) {
                if (std::chrono::steady_clock::now() >= until) throw std::runtime_error(e.what());
                std::fprintf(stderr, "nmvec-ingest: %s; retrying\n", e.what());
                std::this_thread::sleep_for(std::chrono::seconds(1));
            }
        }
    }

    /// Position the reader after the last committed line, checking that the
    /// line ending there is still the one committed (same bytes).
    void position(LineReader& in) {
        Progress p = sink_.load();
        chain_ = ChainChecker();
        line_no_ = 0;
        if (!p.found) {
            in.seek(0);
            return;
        }
        const uint64_t size = in.size();
        const char* fix = " Load it under another --source, or delete its row from nmvec_ingest_progress.";
        std::string changed;  // why the committed offset no longer applies
        if (!p.file_id.empty() && p.file_id != in.file_id())
            changed = "is another file than the one loaded before (rotated or replaced)";
        else if (p.offset > size)
            changed = "is shorter (" + std::to_string(size) + " bytes) than the " + std::to_string(p.offset) +
                      " bytes already loaded from it (truncated or replaced)";
        else if (p.offset > 0) {
            std::string tail = in.before(p.offset, ParseOptions{}.max_line_bytes + 2);
            std::string_view t(tail);
            if (!t.empty() && t.back() == '\n') t.remove_suffix(1);
            size_t nl = t.rfind('\n');
            std::string_view last = nl == std::string_view::npos ? t : t.substr(nl + 1);
            if (line_digest(last) != p.last_hash)
                changed = "has another line ending at byte " + std::to_string(p.offset) +
                          " than the one committed there (replaced)";
        }
        if (!changed.empty()) {
            if (!o_.follow) throw std::runtime_error(o_.ledger + " " + changed + "." + fix);
            // --follow: a rotated or truncated ledger goes on in a new file
            std::fprintf(stderr,
                         "nmvec-ingest: %s %s; --follow loads it from its start (lines the earlier file got "
                         "after its line %" PRIu64 " were not loaded)\n",
                         o_.ledger.c_str(), changed.c_str(), p.line);
            chain_.restore(load_chain(p.chain));
            in.seek(0);
            return;
        }
        chain_.restore(load_chain(p.chain));
        in.seek(p.offset);
        line_no_ = p.line;
    }

    int load(LineReader& in) {
        std::vector<ChainBreak> breaks;
        bool stopped = false;
        shown_at_ = std::chrono::steady_clock::now();
        shown_offset_ = read_offset_ = in.offset();
        shown_rows_ = 0;
        ChainChecker::State before;  // --strict: the chain before the line
        ParseAhead ahead(in, parse_opts(o_), o_.follow);
        ParseAhead::Item* it = nullptr;
        for (;;) {
            while (!g_stop && ahead.next(it)) {
                // The slots of pending_ are reused, and swapped with the
                // item's members, so that no line allocates.
                if (npend_ == pending_.size()) pending_.emplace_back();
                Pending& p = pending_[npend_];
                std::swap(p.text, it->line);
                p.line_no = ++line_no_;
                p.end_offset = read_offset_ = it->end_offset;
                p.load = false;
                p.rejected = false;
                if (!it->blank) {
                    if (!it->ok) {
                        reject(p, it->reason);
                        p.rejected = true;
                    } else {
                        std::swap(p.ev, it->ev);
                        breaks.clear();
                        if (o_.strict) before = chain_.current();
                        chain_.check(p.ev, p.line_no, breaks);
                        if (!breaks.empty() && o_.strict) {
                            chain_.restore(before);
                            report(breaks);
                            stopped = true;
                            break;
                        }
                        report(breaks);
                        if (it->refused.empty()) {
                            p.load = true;
                            stream(it->tuple);
                        } else {
                            reject(p, it->refused);
                            p.rejected = true;
                        }
                    }
                }
                ++totals_.lines;
                p.chain = chain_.current();
                ++npend_;
                if (ahead.chunk_done()) send_run();  // before its tuples go back to the worker
                if (npend_ >= o_.batch) flush();
                show_progress(in, false);
            }
            flush();
            if (!o_.follow || g_stop || stopped) break;
            follow_file(in);
        }
        if (tty_ && shown_any_) std::fputc('\n', stderr);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
        std::fprintf(stderr,
                     "nmvec-ingest: %s: %" PRIu64 " lines read, %" PRIu64 " rows loaded into %s, %" PRIu64
                     " rejected (%s), %" PRIu64 " chain breaks%s; %.1f s, %.0f rows/s\n",
                     o_.ledger.c_str(), totals_.lines, totals_.rows, o_.table.c_str(), totals_.rejects,
                     o_.rejects.c_str(), totals_.breaks, stopped ? " (stopped by --strict)" : "", s,
                     s > 0 ? totals_.rows / s : 0.0);
        if (stopped) return kExitStrictStop;
        return totals_.rejects || totals_.breaks ? kExitReported : kExitOk;
    }

    /// At the end of the ledger with --follow: switch to the new file after a
    /// rotation, start over after a truncation, else wait a poll interval.
    void follow_file(LineReader& in) {
        const std::string now = in.path_id();
        if (!now.empty() && now != in.file_id()) {
            if (in.partial())
                reject(line_no_ + 1, "(" + std::to_string(in.partial()) + " bytes)",
                       "unfinished last line of the rotated file");
            std::fprintf(stderr, "nmvec-ingest: %s was rotated; following the new file\n", o_.ledger.c_str());
            in.reopen();
            line_no_ = 0;
            read_offset_ = 0;
            return;
        }
        if (in.size() < in.offset() + in.partial()) {
            std::fprintf(stderr, "nmvec-ingest: %s was truncated; following it from its start\n",
                         o_.ledger.c_str());
            in.seek(0);
            line_no_ = 0;
            read_offset_ = 0;
            return;
        }
        show_progress(in, false);
        std::this_thread::sleep_for(std::chrono::milliseconds(o_.poll_ms));
    }

    /// Progress on stderr: on a terminal one line redrawn twice a second,
    /// otherwise a log line every 5 s. Rates are over the last interval; with
    /// --follow, lag is how far the committed rows are behind the file's end.
    void show_progress(LineReader& in, bool force) {
        const auto now = std::chrono::steady_clock::now();
        const double dt = std::chrono::duration<double>(now - shown_at_).count();
        if (!force && dt < (tty_ ? 0.5 : 5.0)) return;
        const uint64_t off = read_offset_;  // (the worker may be reading on)
        const double mb = off >= shown_offset_ ? (off - shown_offset_) / 1e6 : 0.0;
        char lag[64] = "";
        if (o_.follow) {
            const uint64_t size = in.size();
            std::snprintf(lag, sizeof(lag), ", lag %.1f MB", size > off ? (size - off) / 1e6 : 0.0);
        }
        std::fprintf(stderr,
                     "%snmvec-ingest: %" PRIu64 " lines, %" PRIu64 " rows, %.0f rows/s, %.1f MB/s, %" PRIu64
                     " rejected, %" PRIu64 " chain breaks%s%s",
                     tty_ ? "\r" : "", totals_.lines, totals_.rows, (totals_.rows - shown_rows_) / dt,
                     mb / dt, totals_.rejects, totals_.breaks, lag, tty_ ? "\033[K" : "\n");
        std::fflush(stderr);
        shown_any_ = true;
        shown_at_ = now;
        shown_offset_ = off;
        shown_rows_ = totals_.rows;
    }

    void report(const std::vector<ChainBreak>& breaks) {
        for (const ChainBreak& b : breaks) {
            ++totals_.breaks;
            if (tty_ && shown_any_) std::fputs("\r\033[K", stderr);  // over the progress line
            std::fprintf(stderr, "nmvec-ingest: %s:%" PRIu64 ": chain %s: %s\n", o_.ledger.c_str(), b.line,
                         b.kind.c_str(), b.detail.c_str());
        }
    }

    void reject(const Pending& p, const std::string& reason) { reject(p.line_no, p.text.text, reason); }
    void reject(uint64_t line_no, std::string_view text, const std::string& reason) {
        ++totals_.rejects;
        text = text.substr(0, 4096);
        text = text.substr(0, text.find('\0'));  // as far as C can print it
        std::fprintf(rejects_, "%s:%" PRIu64 ": %s\t%.*s\n", o_.ledger.c_str(), line_no, reason.c_str(),
                     static_cast<int>(text.size()), text.data());
        if (std::fflush(rejects_) != 0)
            throw std::runtime_error("cannot write " + o_.rejects + ": " + std::strerror(errno));
    }

    Progress after(const Pending& p) const {
        Progress pr;
        pr.found = true;
        pr.line = p.line_no;
        pr.offset = p.end_offset;
        pr.last_hash = line_digest(p.text.text);
        pr.chain = save_chain(p.chain);
        pr.file_id = file_id_;
        return pr;
    }

    /// Send a row of the batch being read to the server now, so that it
    /// works on the batch while the rest is parsed.
    /// Consecutive tuples of a chunk (they lie one after another) go to
    /// libpq in one piece, straight from the chunk.
    void stream(std::string_view tuple) {
        if (!streaming_) {
            sink_.begin_copy();
            stream_.reset();  // the header
            sink_.send(stream_.unsent());
            stream_.sent();
            streaming_ = true;
            streamed_ = 0;
        }
        if (!run_.empty() && tuple.data() == run_.data() + run_.size()) {
            run_ = std::string_view(run_.data(), run_.size() + tuple.size());
        } else {
            send_run();
            run_ = tuple;
        }
        ++streamed_;
        if (run_.size() >= kSendBytes) send_run();
    }
    void send_run() {
        if (run_.empty()) return;
        sink_.send(run_);
        run_ = {};
    }

    /// Commit the batch read since the last commit, with its progress.
    void flush() {
        if (npend_ == 0) return;
        file_id_ = in_ ? in_->file_id() : std::string();
        const Progress pr = after(pending_[npend_ - 1]);
        if (streaming_) {
            send_run();
            streaming_ = false;
            sink_.send(stream_.finish());  // the trailer
            std::string refused;
            if (sink_.end_copy(pr, refused))
                totals_.rows += streamed_;
            else
                commit(0, npend_);  // a row was refused: find it
        } else {
            sink_.record(pr);
        }
        release_pending();
    }

    /// Forget the pending lines (their slots stay for the next batch, but not
    /// the blocks of the file they point into).
    void release_pending() {
        for (size_t i = 0; i < npend_; ++i) pending_[i].text.block.reset();
        npend_ = 0;
    }

    /// Commit pending_[lo, hi) in one transaction. If the server refuses it
    /// (a row breaks a constraint of the table, say), split it until the
    /// refused lines are alone: those are rejected with the server's reason,
    /// the rest loads.
    void commit(size_t lo, size_t hi) {
        rows_.reset();
        for (size_t i = lo; i < hi; ++i)
            if (pending_[i].load) rows_.add(pending_[i].ev);
        const Progress pr = after(pending_[hi - 1]);
        if (rows_.rows() == 0) {
            sink_.record(pr);
            return;
        }
        const size_t n = rows_.rows();
        std::string err;
        if (sink_.write(rows_.finish(), pr, err)) {
            totals_.rows += n;
            return;
        }
        if (hi - lo == 1) {
            reject(pending_[lo], "the server refused the row: " + err);
            sink_.record(pr);
            return;
        }
        size_t mid = lo + (hi - lo) / 2;
        commit(lo, mid);
        commit(mid, hi);
    }

    static constexpr size_t kSendBytes = 256 << 10;

    const Options& o_;
    PgSink sink_;
    ChainChecker chain_;
    CopyRows rows_;    ///< commit()'s batches
    CopyRows stream_;  ///< the header and trailer of the batch being streamed
    bool streaming_ = false;
    std::string_view run_;  ///< tuples not yet given to libpq (in a parse-ahead chunk)
    size_t streamed_ = 0;   ///< rows of the batch being streamed
    const std::chrono::steady_clock::time_point started_ =
        std::chrono::steady_clock::now();  // for the summary
    bool tty_ = isatty(fileno(stderr)) == 1;
    bool shown_any_ = false;
    std::chrono::steady_clock::time_point shown_at_;
    uint64_t shown_offset_ = 0, shown_rows_ = 0;
    uint64_t read_offset_ = 0;      ///< just past the last line taken from the parse-ahead
    LineReader* in_ = nullptr;      ///< the ledger being read
    std::string file_id_;           ///< its file id at the last flush
    std::vector<Pending> pending_;  ///< [0, npend_): the lines read since the last commit
    size_t npend_ = 0;
    uint64_t line_no_ = 0;
    std::FILE* rejects_ = nullptr;
    Totals totals_;
};

}  // namespace

int main(int argc, char** argv) {
    Options o;
    try {
        o = parse(argc, argv);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "nmvec-ingest: %s\n%s", e.what(), "Try nmvec-ingest --help.\n");
        return kExitUsage;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nmvec-ingest: %s\n", e.what());
        return kExitFailed;
    }
    struct sigaction sa = {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    try {
        Ingest ing(o);
        return ing.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nmvec-ingest: %s\n", e.what());
        return kExitFailed;
    }
}

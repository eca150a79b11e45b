// ivf_insert.cpp — inserts into an ivf index.
//
// An insert finds its list (the nearest centroid) and appends its record
// to that list's buffer in backend memory; a list's buffer is written to
// the index when it holds a page of records (append_records: as many
// records to a WAL record as fit the tail page), and every buffer of the
// backend before its transaction commits or prepares (a pre-commit
// callback), so a committed row is always in the index. Rows a transaction
// inserted are invisible to other sessions until it commits, so the
// buffering changes nothing they could see; this backend's own scans,
// vacuums and nmvec_ivf_stats calls write the index's buffer first. A
// buffer is keyed by the index and its relfilenode, and only the buffer of
// the index's current relfilenode is ever written: after TRUNCATE, REINDEX
// or a rewrite in the transaction (which rebuilt the index from the table)
// the older one is dropped at commit; if a savepoint rollback undoes the
// rebuild, the older one is the current one again and is written, the
// newer one dropped. After an abort, all are dropped.
//
// Writing one WAL record per page instead of one per row is what makes a
// COPY into an ivf-indexed table cheap: GenericXLog compares the whole
// written part of a page for every record it logs.
//
// The insert helper (ivf.insert_helper, on by default where there are two
// cores or more): for a RaBitQ index whose centroids the backend has
// cached, rows are gathered in batches (heap TID and vector, normalised by the helper; up
// to 1,024 rows, 2 MB of vectors); a full batch goes to a helper thread of the backend (a
// nmvec::Worker: pure computation, no Postgres calls, signals blocked),
// which chooses each row's list and encodes it while the backend goes on
// with the next rows; the backend collects the batch when the next one is
// full, or at any point that writes the buffers above (so nothing a flush
// promises changes), and only then buffers its records. A batch not full
// at a flush is computed by the backend itself, so one-row INSERTs never
// wait on the thread. When the backend would wait for the oldest batch,
// it takes back the newest one the thread has not started and computes it
// itself (Worker::take): the two share the work when the thread's part is
// the larger (1,000 lists and more). What an aborted transaction handed to
// the thread is dropped with its buffers (the job owns its memory). It
// makes a COPY's wall time shorter, not its CPU time: both cores are used.
#include <algorithm>
#include <deque>
#include <thread>
#include <unordered_map>

#include "ivf_am.h"
#include "worker.h"

extern "C" {
#include "access/parallel.h"
#include "access/relation.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
}

namespace nmvec::pg::ivf {

bool g_insert_helper = true;

namespace {

/// Bytes all buffers of one index may hold before they are all written.
constexpr size_t kMaxBufferedBytes = 4u << 20;
/// A batch handed to the insert helper holds up to this many bytes of
/// vectors, and at most kBatchMaxRows rows (1,024 rows of 384-d: 1.5 MB),
/// at least kBatchMinRows. Large batches: waking the sleeping helper cost
/// up to about a millisecond on these VMs, and with 128-row batches a COPY
/// at 1,000 lists spent a fifth of its time waiting for that.
constexpr size_t kBatchBytes = 2u << 20;
constexpr uint32 kBatchMaxRows = 1024, kBatchMinRows = 16;
/// Batches an index may have with the helper at once (more than one, so
/// the backend rarely waits for a wake-up).
constexpr size_t kMaxInflight = 3;

uint32 batch_rows(uint32 dims) {
    const size_t rows = kBatchBytes / (sizeof(float) * std::max<uint32>(dims, 1));
    return static_cast<uint32>(std::clamp<size_t>(rows, kBatchMinRows, kBatchMaxRows));
}

/// Batch::lists entry of a row not indexed (a zero vector under cosine).
constexpr uint32 kSkipRow = UINT32_MAX;

/// Rows whose list and code are computed together (by the helper thread or,
/// for a batch not full at a flush, by the backend).
struct Batch {
    uint32 dims = 0, code_bytes = 0, attr_bytes = 0, rows = 0;
    nmvec::hnsw::Metric metric = nmvec::hnsw::Metric::L2;
    std::shared_ptr<const nmvec::CentroidSearch> centroids;
    std::shared_ptr<const nmvec::RabitqCodec> codec;
    std::vector<ItemPointerData> tids;
    std::vector<float> vecs;     // rows x dims, as float32, normalised by compute()
    std::vector<uint8_t> attrs;  // rows x attr_bytes: filter-column values
    std::vector<uint32> lists;
    std::vector<uint8_t> codes;  // rows x code_bytes
    std::shared_ptr<nmvec::Worker::Job> job;

    /// Lists and codes of every row (kSkipRow for a zero vector under
    /// cosine, which is not indexed), after normalising the vectors as
    /// the metric wants. Pure computation (any thread).
    void compute() {
        lists.resize(rows);
        codes.resize(static_cast<size_t>(rows) * code_bytes);
        for (uint32 r = 0; r < rows; ++r) {
            float* v = vecs.data() + static_cast<size_t>(r) * dims;
            if (!nmvec::hnsw::normalize_for(metric, v, dims)) {
                lists[r] = kSkipRow;
                continue;
            }
            lists[r] = centroids->nearest(v);
            codec->encode(v, centroids->centroid(lists[r]),
                          codes.data() + static_cast<size_t>(r) * code_bytes);
        }
    }
};

struct IndexBuffer {
    Oid index = InvalidOid;
    RelFileNode node{};
    uint32 rec_bytes = 0;
    std::unordered_map<uint32, std::vector<char>> lists;
    size_t bytes = 0;
    std::shared_ptr<Batch> pending;               // gathering rows
    std::deque<std::shared_ptr<Batch>> inflight;  // with the helper thread, oldest first
    // Batches collected, kept for reuse: a batch of 384-d rows is ~200 kB,
    // which malloc maps and unmaps, and an unmap in a process with two
    // threads costs a TLB shootdown (dear on these VMs).
    std::vector<std::shared_ptr<Batch>> spare;
    bool empty() const { return bytes == 0 && inflight.empty() && !(pending && pending->rows > 0); }
};

nmvec::Worker* g_worker = nullptr;

void stop_worker(int /*code*/, Datum /*arg*/) {
    delete g_worker;  // finishes what is queued, joins
    g_worker = nullptr;
}

/// The backend's helper thread, started on first use; null when the
/// machine has one core or the thread cannot start.
nmvec::Worker* worker() {
    static bool tried = false;
    if (g_worker == nullptr && !tried) {
        tried = true;
        if (std::thread::hardware_concurrency() < 2) return nullptr;
        try {
            g_worker = new nmvec::Worker();
        } catch (const std::exception& e) {
            elog(DEBUG1, "nmvec: ivf insert helper not started: %s", e.what());
            return nullptr;
        }
        on_proc_exit(stop_worker, 0);
    }
    return g_worker;
}

// Backend-global, on the C++ heap; emptied at every transaction end.
std::vector<IndexBuffer>* g_buffers = nullptr;

/// The buffer of the index's current relfilenode, if any.
IndexBuffer* find_buffer(Relation index) {
    if (g_buffers == nullptr) return nullptr;
    for (IndexBuffer& b : *g_buffers)
        if (b.index == RelationGetRelid(index) && same_node(b.node, index->rd_node)) return &b;
    return nullptr;
}

/// Write one list's buffer and empty it.
void write_list(Relation index, const Layout& layout, IndexBuffer& b, uint32 list, std::vector<char>& bytes) {
    if (bytes.empty()) return;
    const uint32 n = static_cast<uint32>(bytes.size() / b.rec_bytes);
    append_records(index, layout, list, bytes.data(), n);
    b.bytes -= bytes.size();
    bytes.clear();
}

/// Write every list's buffer of `index` (open, locked, and b's relfilenode
/// its current one) into it.
void write_buffers(Relation index, const Layout& layout, IndexBuffer& b) {
    for (auto& [list, bytes] : b.lists) write_list(index, layout, b, list, bytes);
    b.lists.clear();
}

void buffer_record(Relation index, const Layout& l, uint32 list, ItemPointer tid, const void* code,
                   const uint8_t* attrs);

/// Buffer the records of a computed batch.
void buffer_batch(Relation index, const Layout& layout, Batch& batch) {
    for (uint32 r = 0; r < batch.rows; ++r)
        if (batch.lists[r] != kSkipRow)
            buffer_record(index, layout, batch.lists[r], &batch.tids[r],
                          batch.codes.data() + static_cast<size_t>(r) * batch.code_bytes,
                          batch.attrs.data() + static_cast<size_t>(r) * batch.attr_bytes);
}

/// Collect b's oldest batch with the helper thread, if any, and buffer it.
void collect_oldest(Relation index, const Layout& layout, IndexBuffer& b) {
    if (b.inflight.empty()) return;
    std::shared_ptr<Batch> done = std::move(b.inflight.front());
    b.inflight.pop_front();
    g_worker->wait(*done->job);
    done->job.reset();
    buffer_batch(index, layout, *done);
    done->rows = 0;
    done->tids.clear();
    done->vecs.clear();
    done->attrs.clear();
    if (b.spare.size() <= kMaxInflight) b.spare.push_back(std::move(done));
}

/// Everything b holds into its list buffers: the batches with the helper
/// thread, then the gathering one (computed here).
void drain(Relation index, const Layout& layout, IndexBuffer& b) {
    while (!b.inflight.empty()) collect_oldest(index, layout, b);
    if (b.pending && b.pending->rows > 0) {
        std::shared_ptr<Batch> batch = std::move(b.pending);
        b.pending.reset();
        batch->compute();
        buffer_batch(index, layout, *batch);
    }
}

/// Write everything b holds into `index` (open, locked, and b's
/// relfilenode its current one).
void write_all(Relation index, IndexBuffer& b) {
    if (b.empty()) return;
    Layout layout;
    read_layout(index, &layout);
    if (layout.rec_bytes != b.rec_bytes)
        elog(ERROR, "ivf index \"%s\" changed its record size", RelationGetRelationName(index));
    drain(index, layout, b);
    write_buffers(index, layout, b);
}

/// Write the buffers of the indexes' current relfilenodes. At commit the
/// others are dropped (their index was rebuilt from the table, or dropped);
/// before a statement they are kept (a savepoint rollback may make one
/// current again).
void flush_all(bool at_commit) {
    if (g_buffers == nullptr) return;
    for (IndexBuffer& b : *g_buffers) {
        if (b.empty()) continue;
        // Still locked by the inserting statements (RowExclusiveLock to the
        // transaction's end); gone if dropped in this transaction.
        Relation index = try_relation_open(b.index, RowExclusiveLock);
        if (index == nullptr) continue;
        if (same_node(index->rd_node, b.node)) write_all(index, b);
        relation_close(index, NoLock);
    }
    if (at_commit) {
        g_buffers->clear();
    } else {
        g_buffers->erase(std::remove_if(g_buffers->begin(), g_buffers->end(),
                                        [](const IndexBuffer& b) { return b.empty(); }),
                         g_buffers->end());
    }
}

void xact_callback(XactEvent event, void* /*arg*/) {
    switch (event) {
        case XACT_EVENT_PRE_COMMIT:
        case XACT_EVENT_PARALLEL_PRE_COMMIT:
        case XACT_EVENT_PRE_PREPARE:
            if (g_buffers != nullptr && !g_buffers->empty())
                nmvec::pg::guarded([]() -> Datum {
                    flush_all(true);
                    return 0;
                });
            break;
        default:  // commit, prepare, abort: nothing may be left
            if (g_buffers != nullptr) g_buffers->clear();
            break;
    }
}

/// Per-statement insert scratch (IndexInfo::ii_AmCache).
struct InsertState {
    Layout layout;
    std::shared_ptr<const nmvec::CentroidSearch> centroids;  // null: too big to cache, read per insert
    bool looked_up = false;
    AlignedBytes code;
    std::vector<uint8_t> attrs;  // the row's filter-column values
    std::vector<float> f32, dists, tmp;
};

InsertState* insert_state(IndexInfo* info) {
    if (info && info->ii_AmCache) return static_cast<InsertState*>(info->ii_AmCache);
    MemoryContext parent = info ? info->ii_Context : CurrentMemoryContext;
    InsertState* st = new_in_context<InsertState>(parent, "nmvec ivf insert");
    if (info) info->ii_AmCache = st;
    return st;
}

/// Fix the dims of an index built empty without a typmod (first insert).
void ensure_dims(Relation index, Layout* layout, int dims) {
    Buffer buf = ReadBuffer(index, kMetaBlock);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    GenericXLogState* st = GenericXLogStart(index);
    Meta* meta = page_meta(GenericXLogRegisterBuffer(st, buf, 0));
    if (meta->dims == 0) {
        meta->dims = static_cast<uint32>(dims);
        meta->rec_bytes = record_bytes(meta->dims, static_cast<ElemKind>(meta->elem_kind),
                                       static_cast<Quantizer>(meta->quantizer), meta->bits, meta->attr_bytes);
        GenericXLogFinish(st);
    } else {
        GenericXLogAbort(st);
    }
    UnlockReleaseBuffer(buf);
    read_layout(index, layout);
}

/// The backend's copy of a trained index's centroids, looked up once per
/// statement; null when too big to cache.
const nmvec::CentroidSearch* centroids_of(Relation index, InsertState& st) {
    if (!st.looked_up) {
        st.centroids = cached_centroids(index, st.layout, st.tmp);
        st.looked_up = true;
    }
    return st.centroids.get();
}

/// The list whose centroid is nearest to st.f32.
uint32 nearest_list(Relation index, InsertState& st) {
    const Layout& l = st.layout;
    if (!l.trained) return 0;
    if (const nmvec::CentroidSearch* c = centroids_of(index, st)) return c->nearest(st.f32.data());
    centroid_distances(index, l, st.f32.data(), st.dists);
    return static_cast<uint32>(std::min_element(st.dists.begin(), st.dists.end()) - st.dists.begin());
}

/// The buffer of `index` (its current relfilenode), created if need be.
IndexBuffer* buffer_for(Relation index, const Layout& l) {
    if (g_buffers == nullptr) g_buffers = new std::vector<IndexBuffer>();
    IndexBuffer* b = find_buffer(index);
    if (b != nullptr && b->rec_bytes != l.rec_bytes)
        elog(ERROR, "ivf index \"%s\" changed its record size", RelationGetRelationName(index));
    if (b == nullptr) {
        g_buffers->emplace_back();
        b = &g_buffers->back();
        b->index = RelationGetRelid(index);
        b->node = index->rd_node;
        b->rec_bytes = l.rec_bytes;
    }
    return b;
}

/// Buffer one record (its code, and its filter values: l.attrs.bytes at
/// attrs) for `list` of `index`; writes the list's buffer once it holds a
/// page, every list buffer of the index once they hold kMaxBufferedBytes.
void buffer_record(Relation index, const Layout& l, uint32 list, ItemPointer tid, const void* code,
                   const uint8_t* attrs) {
    IndexBuffer* b = buffer_for(index, l);
    std::vector<char>& bytes = b->lists[list];
    const size_t at = bytes.size();
    bytes.resize(at + l.rec_bytes);
    RecordHeader h{};
    h.heap_tid = *tid;
    memcpy(bytes.data() + at, &h, sizeof(h));
    memcpy(bytes.data() + at + sizeof(h), code, l.code_bytes());
    const uint32 attr_at = l.attr_offset();
    if (l.attrs.bytes > 0) memcpy(bytes.data() + at + attr_at, attrs, l.attrs.bytes);
    memset(bytes.data() + at + attr_at + l.attrs.bytes, 0, l.rec_bytes - attr_at - l.attrs.bytes);
    b->bytes += l.rec_bytes;
    if (bytes.size() >= kSliceBytes)
        write_list(index, l, *b, list, bytes);
    else if (b->bytes >= kMaxBufferedBytes)
        write_buffers(index, l, *b);
}

/// Gather a row for the helper thread (a RaBitQ index with cached
/// centroids); a full batch is handed over, and the oldest collected once
/// more than kMaxInflight are out.
void gather_row(Relation index, InsertState& st, ItemPointer tid) {
    const Layout& l = st.layout;
    IndexBuffer* b = buffer_for(index, l);
    if (!b->pending) {
        if (!b->spare.empty()) {
            b->pending = std::move(b->spare.back());
            b->spare.pop_back();
        } else {
            b->pending = std::make_shared<Batch>();
        }
        Batch& n = *b->pending;
        n.dims = l.dims;
        n.metric = l.metric;
        n.code_bytes = static_cast<uint32>(l.code_bytes());
        n.attr_bytes = l.attrs.bytes;
        n.centroids = st.centroids;
        n.codec = l.codec;
        n.tids.reserve(batch_rows(l.dims));
        n.vecs.reserve(static_cast<size_t>(batch_rows(l.dims)) * l.dims);
    }
    Batch& p = *b->pending;
    p.tids.push_back(*tid);
    p.vecs.insert(p.vecs.end(), st.f32.begin(), st.f32.end());
    p.attrs.insert(p.attrs.end(), st.attrs.begin(), st.attrs.end());
    if (++p.rows < batch_rows(l.dims)) return;
    std::shared_ptr<Batch> full = std::move(b->pending);
    b->pending.reset();
    full->job = g_worker->submit([full] { full->compute(); });
    b->inflight.push_back(std::move(full));
    // May write pages; b stays valid (no buffer is added).
    while (b->inflight.size() > kMaxInflight) {
        // The helper is behind (the oldest batch not done): rather than
        // wait, compute the newest batch it has not started here.
        if (!g_worker->done(*b->inflight.front()->job))
            for (auto it = b->inflight.rbegin(); it != b->inflight.rend(); ++it)
                if (g_worker->take(*(*it)->job)) {
                    (*it)->compute();
                    break;
                }
        collect_oldest(index, l, *b);
    }
}

}  // namespace

void flush_buffered(Relation index) {
    IndexBuffer* b = find_buffer(index);
    if (b != nullptr) write_all(index, *b);
}

namespace {

ExecutorStart_hook_type g_prev_executor_start = nullptr;

/// Every statement the executor starts sees the index whole: what earlier
/// statements of the transaction buffered is written first. (A COPY, which
/// does not go through the executor, keeps its buffers until the next
/// statement or the commit.) So parallel workers, which have buffers of
/// their own, never miss the leader's inserts, and a statement's inserts
/// are batched only within that statement.
void executor_start(QueryDesc* query, int eflags) {
    if (g_buffers != nullptr && !g_buffers->empty() && !IsParallelWorker())
        nmvec::pg::guarded([]() -> Datum {
            flush_all(false);
            return 0;
        });
    if (g_prev_executor_start)
        g_prev_executor_start(query, eflags);
    else
        standard_ExecutorStart(query, eflags);
}

}  // namespace

void register_insert_buffers() {
    RegisterXactCallback(xact_callback, nullptr);
    g_prev_executor_start = ExecutorStart_hook;
    ExecutorStart_hook = executor_start;
}

}  // namespace nmvec::pg::ivf

using namespace nmvec::pg::ivf;

extern "C" bool nmvec_ivf_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid,
                                 Relation /*heap*/, IndexUniqueCheck /*check*/, bool /*unchanged*/,
                                 IndexInfo* info) {
    bool inserted = false;
    nmvec::pg::guarded([&]() -> Datum {
        InsertState* st = insert_state(info);
        if (st->layout.rec_bytes == 0) read_layout(index, &st->layout);
        const int vcol = st->layout.vcol;
        if (isnull[vcol]) return 0;  // NULL vectors are not indexed
        if (st->layout.dims == 0) {  // built empty, no typmod: the first vector decides
            int dim = reinterpret_cast<const nmvec::pg::Vector*>(PG_DETOAST_DATUM(values[vcol]))->dim;
            ensure_dims(index, &st->layout, dim);
        }
        // A RaBitQ index whose centroids are cached: the row goes to the
        // helper thread's batches, which also normalise the vectors.
        const bool helper = g_insert_helper && st->layout.quantizer == kRabitq && st->layout.trained &&
                            !IsParallelWorker() && centroids_of(index, *st) != nullptr && worker() != nullptr;
        if (!prepare_vector(st->layout, values[vcol], st->code, st->f32, !helper))
            return 0;  // zero vector under cosine
        st->attrs.resize(st->layout.attrs.bytes);
        if (!st->attrs.empty())
            nmvec::pg::encode_filter_columns(st->layout.attrs, index, vcol, values, isnull, st->attrs.data());
        if (helper) {
            gather_row(index, *st, heap_tid);
            inserted = true;
            return 0;
        }
        const uint32 list = nearest_list(index, *st);
        if (st->layout.quantizer == kRabitq)
            rabitq_encode(index, st->layout, list, st->f32.data(),
                          st->centroids ? st->centroids->centroid(list) : nullptr, st->code);
        buffer_record(index, st->layout, list, heap_tid, st->code.data(), st->attrs.data());
        inserted = true;
        return 0;
    });
    return inserted;
}

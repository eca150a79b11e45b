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
#include <algorithm>
#include <unordered_map>

#include "ivf_am.h"

extern "C" {
#include "access/parallel.h"
#include "access/relation.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "storage/lmgr.h"
}

namespace nmvec::pg::ivf {
namespace {

/// Bytes all buffers of one index may hold before they are all written.
constexpr size_t kMaxBufferedBytes = 4u << 20;

struct IndexBuffer {
    Oid index = InvalidOid;
    RelFileNode node{};
    uint32 rec_bytes = 0;
    std::unordered_map<uint32, std::vector<char>> lists;
    size_t bytes = 0;
};

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
void write_all(Relation index, IndexBuffer& b) {
    if (b.bytes == 0) return;
    Layout layout;
    read_layout(index, &layout);
    if (layout.rec_bytes != b.rec_bytes)
        elog(ERROR, "ivf index \"%s\" changed its record size", RelationGetRelationName(index));
    for (auto& [list, bytes] : b.lists) write_list(index, layout, b, list, bytes);
    b.lists.clear();
}

/// Write the buffers of the indexes' current relfilenodes. At commit the
/// others are dropped (their index was rebuilt from the table, or dropped);
/// before a statement they are kept (a savepoint rollback may make one
/// current again).
void flush_all(bool at_commit) {
    if (g_buffers == nullptr) return;
    for (IndexBuffer& b : *g_buffers) {
        if (b.bytes == 0) continue;
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
                                        [](const IndexBuffer& b) { return b.bytes == 0; }),
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
                                       static_cast<Quantizer>(meta->quantizer), meta->bits);
        GenericXLogFinish(st);
    } else {
        GenericXLogAbort(st);
    }
    UnlockReleaseBuffer(buf);
    read_layout(index, layout);
}

/// The list whose centroid is nearest to st.f32.
uint32 nearest_list(Relation index, InsertState& st) {
    const Layout& l = st.layout;
    if (!l.trained) return 0;
    if (!st.looked_up) {
        st.centroids = cached_centroids(index, l, st.tmp);
        st.looked_up = true;
    }
    if (st.centroids) return st.centroids->nearest(st.f32.data());
    centroid_distances(index, l, st.f32.data(), st.dists);
    return static_cast<uint32>(std::min_element(st.dists.begin(), st.dists.end()) - st.dists.begin());
}

/// Buffer one record for `list` of `index`; writes the list's buffer once it
/// holds a page, every buffer of the index once they hold kMaxBufferedBytes.
void buffer_record(Relation index, const Layout& l, uint32 list, ItemPointer tid, const void* code) {
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
    std::vector<char>& bytes = b->lists[list];
    const size_t at = bytes.size();
    bytes.resize(at + l.rec_bytes);
    RecordHeader h{};
    h.heap_tid = *tid;
    memcpy(bytes.data() + at, &h, sizeof(h));
    memcpy(bytes.data() + at + sizeof(h), code, l.code_bytes());
    memset(bytes.data() + at + sizeof(h) + l.code_bytes(), 0, l.rec_bytes - sizeof(h) - l.code_bytes());
    b->bytes += l.rec_bytes;
    if (bytes.size() >= kSliceBytes)
        write_list(index, l, *b, list, bytes);
    else if (b->bytes >= kMaxBufferedBytes)
        write_all(index, *b);
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
    if (isnull[0]) return false;  // NULL vectors are not indexed
    bool inserted = false;
    nmvec::pg::guarded([&]() -> Datum {
        InsertState* st = insert_state(info);
        if (st->layout.rec_bytes == 0) read_layout(index, &st->layout);
        if (st->layout.dims == 0) {  // built empty, no typmod: the first vector decides
            int dim = reinterpret_cast<const nmvec::pg::Vector*>(PG_DETOAST_DATUM(values[0]))->dim;
            ensure_dims(index, &st->layout, dim);
        }
        if (!prepare_vector(st->layout, values[0], st->code, st->f32)) return 0;  // zero vector under cosine
        const uint32 list = nearest_list(index, *st);
        if (st->layout.quantizer == kRabitq)
            rabitq_encode(index, st->layout, list, st->f32.data(),
                          st->centroids ? st->centroids->centroid(list) : nullptr, st->code);
        buffer_record(index, st->layout, list, heap_tid, st->code.data());
        inserted = true;
        return 0;
    });
    return inserted;
}

-- nmvec demo: an nm-monitor-like events table with metadata and 384-d
-- embeddings, loaded in one statement, then searched with SQL filters.
-- (Exact scans: the ANN indexes come in later releases.)
\pset footer off
CREATE EXTENSION nmvec;
SELECT nmvec_build_info() AS "build";

CREATE TABLE events (
    id        bigint PRIMARY KEY,
    ts        timestamptz NOT NULL,
    tenant    text NOT NULL,          -- hostname: one tenant per host
    category  text NOT NULL,
    action    text NOT NULL,
    "user"    text NOT NULL,
    payload   jsonb NOT NULL,
    embedding vector(384) NOT NULL
);

-- 20,000 synthetic events: each (category, action) pair has its own centre
-- in embedding space; every event is its centre plus noise, unit-normalised.
-- Every 500th event is an outlier far from every centre.
INSERT INTO events
SELECT i,
       timestamptz '2026-11-01' + i * interval '13 seconds',
       'host-' || (i % 11),
       c.category, c.action, 'system',
       jsonb_build_object('bridge', 'ovsbr0', 'interface', 'vi' || (100 + i % 50)),
       l2_normalize((SELECT array_agg(CASE WHEN i % 500 = 0 THEN sin(i * d * 1.7)
                                           ELSE sin(c.k * 13.1 + d * 0.37)
                                                + 1.2 * ((hashint4(i * 397 + d) & 65535) / 65536.0 - 0.5) END)
                     FROM generate_series(1, 384) d)::vector(384))
FROM generate_series(1, 20000) i
JOIN LATERAL (SELECT k, category, action FROM (VALUES
        (0, 'interface', 'interface_created'), (1, 'interface', 'interface_removed'),
        (2, 'interface', 'interface_rename'),  (3, 'port', 'ovs_add_port'),
        (4, 'port', 'ovs_del_port'),          (5, 'state', 'apply_state'),
        (6, 'state', 'rollback')) v(k, category, action)
     WHERE k = (i * 7919) % 7) c ON true;
ANALYZE events;
SELECT count(*) AS events, pg_size_pretty(pg_total_relation_size('events')) AS size FROM events;

\echo
\echo '-- Events like event 4242 (cosine distance), same host, since Nov 2:'
SELECT e.id, e.ts, e.tenant, e.action, round((e.embedding <=> q.embedding)::numeric, 4) AS distance
FROM events e, (SELECT embedding, tenant FROM events WHERE id = 4242) q
WHERE e.tenant = q.tenant AND e.ts >= timestamptz '2026-11-02' AND e.id <> 4242
ORDER BY e.embedding <=> q.embedding
LIMIT 5;

\echo '-- Nearest neighbours by L2 of the first ovs_add_port event, among port events of any host:'
SELECT embedding AS q FROM events WHERE action = 'ovs_add_port' ORDER BY id LIMIT 1 \gset
SELECT id, tenant, action, round((embedding <-> :'q')::numeric, 4) AS l2
FROM events WHERE category = 'port'
ORDER BY embedding <-> :'q'
LIMIT 5;

\echo '-- Anomaly score: distance to the 5th nearest neighbour (host-3, its first 1,270 events):'
WITH sample AS (SELECT id, embedding FROM events WHERE tenant = 'host-3' AND id <= 14000)
SELECT s.id, e.action,
       round((SELECT embedding <=> s.embedding FROM sample o WHERE o.id <> s.id
              ORDER BY embedding <=> s.embedding OFFSET 4 LIMIT 1)::numeric, 4) AS score
FROM sample s JOIN events e USING (id)
ORDER BY score DESC
LIMIT 5;

\echo '-- Per-action centroids (avg over vectors) and how tight each cluster is:'
SELECT action, count(*) AS n,
       round(avg(embedding <=> c.centroid)::numeric, 4) AS mean_cosine_to_centroid
FROM events JOIN (SELECT action, avg(embedding) AS centroid FROM events GROUP BY action) c USING (action)
GROUP BY action ORDER BY action;

\echo '-- Operators: <-> L2, <#> negative inner product, <=> cosine, <+> L1:'
SELECT '[1,2,3]'::vector <-> '[4,6,3]' AS l2, '[1,2,3]'::vector <#> '[4,5,6]' AS neg_ip,
       '[1,0]'::vector <=> '[0,1]' AS cosine, '[1,2,3]'::vector <+> '[4,0,3]' AS l1,
       '[1.5,2.5]'::vector::halfvec AS as_halfvec;

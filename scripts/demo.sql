-- nmvec demo queries (scripts/demo.sh runs them while nmvec-ingest --follow
-- is still loading): an nm-monitor events table with metadata and 384-d
-- embeddings, an hnsw index (cosine) and a B-tree on (tenant, ts).
\pset footer off
SELECT count(*) AS events_loaded_so_far, max(id) AS last_height, max(ts) AS last_event FROM events;

\echo
\echo '-- Events like event 4242 (cosine distance through the hnsw index):'
SELECT embedding AS q FROM events WHERE id = 4242 \gset
SELECT id, ts, tenant, category, action, round((embedding <=> :'q')::numeric, 4) AS distance
FROM events WHERE id <> 4242
ORDER BY embedding <=> :'q'
LIMIT 5;

\echo '-- The same among other hosts, in the ledger''s last 3 hours (index + filter):'
SELECT max(ts) AS last_ts FROM events \gset
SELECT id, ts, tenant, action, round((embedding <=> :'q')::numeric, 4) AS distance
FROM events
WHERE tenant <> (SELECT tenant FROM events WHERE id = 4242) AND ts > :'last_ts'::timestamptz - interval '3 hours'
ORDER BY embedding <=> :'q'
LIMIT 5;

\echo '-- One tenant (host pve-fra1-0003): its events nearest to event 4242:'
SELECT id, ts, action, round((embedding <=> :'q')::numeric, 4) AS distance
FROM events WHERE tenant = 'pve-fra1-0003'
ORDER BY embedding <=> :'q'
LIMIT 5;

\echo '-- Anomaly score of the latest 10 events: cosine distance to their 5th nearest other event'
\echo '-- (nmvec_kth_distance, a top-6 through the index); the generator''s outlier event' :outlier 'for comparison:'
SELECT id, tenant, action, round(nmvec_kth_distance('events', 'embedding', embedding, 6)::numeric, 4) AS score
FROM ((SELECT * FROM events ORDER BY id DESC LIMIT 10)
      UNION ALL (SELECT * FROM events WHERE id = :outlier)) e
ORDER BY score DESC;

\echo '-- Per-action centroids (avg over vectors) and how tight each cluster is:'
SELECT action, count(*) AS n,
       round(avg(embedding <=> c.centroid)::numeric, 4) AS mean_cosine_to_centroid
FROM events JOIN (SELECT action, avg(embedding) AS centroid FROM events GROUP BY action) c USING (action)
GROUP BY action ORDER BY n DESC LIMIT 8;

\echo '-- Operators: <-> L2, <#> negative inner product, <=> cosine, <+> L1:'
SELECT '[1,2,3]'::vector <-> '[4,6,3]' AS l2, '[1,2,3]'::vector <#> '[4,5,6]' AS neg_ip,
       '[1,0]'::vector <=> '[0,1]' AS cosine, '[1,2,3]'::vector <+> '[4,0,3]' AS l1,
       '[1.5,2.5]'::vector::halfvec AS as_halfvec;

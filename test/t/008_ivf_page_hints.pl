# ivf scans remember, per backend, which shared buffer held each list page
# and which page followed it (read_block's hints, hnsw_storage.h), read a
# page through that buffer when it still holds it, and prefetch the next.
# Here one session scans, then the index's pages are pushed out of a small
# shared_buffers (pg_prewarm of a larger table), so the remembered buffers
# hold other pages, and the session scans again: same answers. Then REINDEX (a new relfilenode) and more rows, still in
# that session: every query row is its own nearest neighbour, filtered
# or not.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('hints');
$node->init;
$node->append_conf('postgresql.conf', "shared_buffers = 16MB\n");
$node->start;
$node->safe_psql('postgres', q{
  CREATE EXTENSION nmvec;
  CREATE EXTENSION pg_prewarm;
  CREATE EXTENSION pg_buffercache;
  CREATE TABLE t (id int PRIMARY KEY, g int, v vector(64));
  INSERT INTO t SELECT i, i % 5, ARRAY(SELECT (hashint4(i * 131 + k) % 10000) / 10000.0 FROM generate_series(1, 64) k)
    FROM generate_series(1, 20000) i;
  CREATE INDEX t_v ON t USING ivf (v, g) WITH (lists = 16);
  CREATE TABLE big (id int, pad text);
  INSERT INTO big SELECT i, repeat('x', 2000) FROM generate_series(1, 20000) i;
  CREATE TABLE q (qid int, id int);
  INSERT INTO q SELECT n, n * 997 % 20000 + 1 FROM generate_series(1, 40) n;
});
my $blocks = $node->safe_psql('postgres', q{SELECT pg_relation_size('t_v') / 8192});
ok($blocks > 100, "the index has $blocks blocks");

# Each query's 10 nearest ids (and, filtered, those of its own group).
my $answers = q{SELECT q.qid,
    array(SELECT t.id FROM t ORDER BY t.v <-> o.v LIMIT 10) AS ids,
    array(SELECT t.id FROM t WHERE t.g = o.g ORDER BY t.v <-> o.v LIMIT 10) AS fids
  FROM q JOIN t o ON o.id = q.id};
my $out = $node->safe_psql('postgres', qq{
  SET enable_seqscan = off;
  SET client_min_messages = warning;
  CREATE TEMP TABLE r1 AS $answers;
  SELECT count(*) FROM pg_prewarm('big', 'buffer');
  SELECT 'resident ' || count(*) FROM pg_buffercache WHERE relfilenode = pg_relation_filenode('t_v')
    AND reldatabase = (SELECT oid FROM pg_database WHERE datname = current_database());
  CREATE TEMP TABLE r2 AS $answers;
  SELECT 'differ ' || count(*) FROM r1 JOIN r2 USING (qid) WHERE r1.ids <> r2.ids OR r1.fids <> r2.fids;
  SELECT 'short ' || count(*) FROM r2 WHERE cardinality(ids) <> 10 OR cardinality(fids) <> 10;
  SELECT 'self ' || count(*) FROM r2 JOIN q USING (qid) WHERE r2.ids[1] = q.id AND r2.fids[1] = q.id;
  REINDEX INDEX t_v;
  INSERT INTO t SELECT i, i % 5, ARRAY(SELECT (hashint4(i * 131 + k) % 10000) / 10000.0 FROM generate_series(1, 64) k)
    FROM generate_series(20001, 24000) i;
  INSERT INTO q SELECT n, 20000 + n * 89 % 4000 + 1 FROM generate_series(41, 60) n;
  CREATE TEMP TABLE r3 AS $answers;
  SELECT 'after ' || count(*) FROM r3 JOIN q USING (qid)
    WHERE r3.ids[1] = q.id AND r3.fids[1] = q.id AND cardinality(r3.ids) = 10 AND cardinality(r3.fids) = 10;
});
my ($resident) = $out =~ /resident (\d+)/;
ok(defined $resident && $resident < $blocks / 2,
  "pg_prewarm pushed most of the index out of shared buffers ($resident of $blocks left)");
like($out, qr/differ 0\b/, 'same answers through stale page hints');
like($out, qr/short 0\b/, 'every query got 10 rows');
like($out, qr/self 40\b/, 'each query row is its own nearest neighbour, filtered or not');
like($out, qr/after 60\b/, 'after REINDEX and more rows, in the same session: all 60 queries find themselves');

$node->stop;
done_testing();

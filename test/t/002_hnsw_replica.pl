# A streaming replica in hot standby answers the same hnsw queries as the
# primary, through builds, inserts, deletes and vacuum; a pg_basebackup copy
# started elsewhere answers them too.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION nmvec');
$primary->safe_psql('postgres', q{
  CREATE TABLE t (id int, v vector(8));
  INSERT INTO t SELECT i, ARRAY(SELECT sin(i * k) FROM generate_series(1, 8) k) FROM generate_series(1, 3000) i;
  CREATE INDEX t_v ON t USING hnsw (v vector_l2_ops);
  CREATE INDEX t_c ON t USING hnsw (v vector_cosine_ops);
});
$primary->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
$standby->start;

# Changes after the base backup reach the standby through WAL only.
$primary->safe_psql('postgres', q{
  INSERT INTO t SELECT i, ARRAY(SELECT cos(i * k) FROM generate_series(1, 8) k) FROM generate_series(3001, 4000) i;
  DELETE FROM t WHERE id % 5 = 0;
  VACUUM t;
});
$primary->wait_for_catchup($standby);

my $q = q{SET enable_seqscan = off; SET hnsw.ef_search = 100;
  SELECT string_agg(id::text, ',') FROM (
    SELECT id FROM t ORDER BY v <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 10) s;
  SELECT string_agg(id::text, ',') FROM (
    SELECT id FROM t ORDER BY v <=> '[1,0,1,0,1,0,1,0]' LIMIT 10) s;
  SELECT elements, deleted FROM nmvec_index_stats('t_v');};
my $on_primary = $primary->safe_psql('postgres', $q);
is($standby->safe_psql('postgres', $q), $on_primary, 'hot standby returns the same results as the primary');
like($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), qr/^t$/, 'the standby is in recovery');

# A rabitq index built after the base backup: its centre pages (and codes)
# reach the standby through WAL only; the standby's scans code the query
# against that centre and must return what the primary's do.
$primary->safe_psql('postgres', q{
  CREATE TABLE r AS SELECT id, v FROM t;
  CREATE INDEX r_v ON r USING hnsw (v vector_l2_ops) WITH (quantizer = 'rabitq');
  INSERT INTO r SELECT i, ARRAY(SELECT cos(i + k) FROM generate_series(1, 8) k) FROM generate_series(6001, 6100) i;
});
$primary->wait_for_catchup($standby);
my $rq = q{SET enable_seqscan = off;
  SELECT string_agg(id::text, ',') FROM (
    SELECT id FROM r ORDER BY v <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 50) s;};
my $rq_primary = $primary->safe_psql('postgres', $rq);
is(scalar(split(/,/, $rq_primary)), 50, 'the rabitq index returns 50 rows on the primary');
is($standby->safe_psql('postgres', $rq), $rq_primary, 'the standby returns the same rows through its rabitq index');

# Filter columns: an index built after the base backup, with rows added to
# its pending list and linked synchronously; the standby's scans check the
# same stored values (a filter that ruled in or out the wrong rows there
# would show as other ids).
$primary->safe_psql('postgres', q{
  CREATE TABLE f AS SELECT id, v, id % 7 AS tenant, timestamptz '2025-10-01' - id * interval '1 minute' AS ts,
                           'host-' || id % 5 AS host FROM t;
  CREATE INDEX f_v ON f USING hnsw (v vector_l2_ops, tenant, ts, host);
  INSERT INTO f SELECT i, ARRAY(SELECT cos(i + k) FROM generate_series(1, 8) k), i % 7, timestamptz '2025-10-01', 'host-' || i % 5
    FROM generate_series(7001, 7100) i;
  ALTER INDEX f_v SET (fastupdate = off);
  INSERT INTO f SELECT i, ARRAY(SELECT sin(i - k) FROM generate_series(1, 8) k), i % 7, timestamptz '2025-10-01', 'host-' || i % 5
    FROM generate_series(7101, 7200) i;
});
$primary->wait_for_catchup($standby);
my $fq = q{SET enable_seqscan = off;
  SELECT string_agg(id::text, ',') FROM (
    SELECT id FROM f WHERE tenant = 3 AND host <> 'host-1' ORDER BY v <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 30) s;
  SELECT count(*) FROM (SELECT id FROM f WHERE tenant IN (2, 4) AND ts > '2025-09-30'
    ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 5000) s;};
my $fq_primary = $primary->safe_psql('postgres', $fq);
my @frows = split(/\n/, $fq_primary);
is(scalar(split(/,/, $frows[0])), 30, 'the filtered index returns 30 rows on the primary');
is($standby->safe_psql('postgres', $fq), $fq_primary, 'the standby returns the same rows through filter columns');

# Sweep codes (an index with filter columns and 64 dimensions or more:
# src/pg/hnsw_page.h): the codes the build wrote and those inserts wrote,
# pending and linked, reach the standby through WAL; its exact pass, which
# bounds distances from them, returns the exact rows, as the primary's does.
# (An inserted row without its code would look as far as the centre: the
# built rows of the far cluster would all come before it.)
$primary->safe_psql('postgres', q{
  CREATE FUNCTION sw_vec(i int, c float8) RETURNS vector LANGUAGE sql IMMUTABLE AS
    $$ SELECT array_agg(c + 0.5 * sin(i * 0.7 + k) ORDER BY k)::vector(64) FROM generate_series(1, 64) k $$;
  -- 2,700 rows about the origin, 300 in a cluster far from it; the codes'
  -- centre lies near the origin
  CREATE TABLE sw AS SELECT i AS id, i % 10 AS label, sw_vec(i, CASE WHEN i > 2700 THEN 10 ELSE 0 END) AS v
    FROM generate_series(1, 3000) i;
  CREATE INDEX sw_v ON sw USING hnsw (v vector_l2_ops, label);
  -- inserted rows in the far cluster: pending (then merged), and linked at once
  INSERT INTO sw SELECT i, i % 10, sw_vec(i, 10) FROM generate_series(3001, 3300) i;
  ALTER INDEX sw_v SET (fastupdate = off);
  INSERT INTO sw SELECT i, i % 10, sw_vec(i, 10) FROM generate_series(3301, 3600) i;
  -- merged, so that the scan sweeps them with the rest (a scan reads the
  -- pending list's rows by their vectors)
  SELECT nmvec_flush('sw_v');
});
$primary->wait_for_catchup($standby);
my $swq = q{SELECT string_agg(id::text, ',' ORDER BY d, id) FROM (
    SELECT id, v <-> (SELECT v FROM sw WHERE id = 3305) AS d FROM sw WHERE label = 5
    ORDER BY v <-> (SELECT v FROM sw WHERE id = 3305) LIMIT 20) s};
my $sw_exact = $standby->safe_psql('postgres', "SET enable_indexscan = off; $swq");
is(scalar(split(/,/, $sw_exact)), 20, 'the exact answer has 20 rows');
is($standby->safe_psql('postgres', "SET enable_seqscan = off; SET hnsw.filter_mode = exact; $swq"),
  $sw_exact, 'the standby\'s exact pass over the sweep codes returns the exact rows');
is($primary->safe_psql('postgres', "SET enable_seqscan = off; SET hnsw.filter_mode = exact; $swq"),
  $sw_exact, 'so does the primary\'s');

# The pending list (fastupdate) on a hot standby: rows inserted on the
# primary and not merged yet are found there too, and a merge on the primary
# reaches the standby through WAL.
$primary->safe_psql('postgres', q{
  INSERT INTO t SELECT i, ARRAY(SELECT sin(i + k) FROM generate_series(1, 8) k) FROM generate_series(5001, 5200) i;
  INSERT INTO t VALUES (5300, '[9,-9,9,-9,9,-9,9,-9]');
});
$primary->wait_for_catchup($standby);
my $pending = q{SELECT pending FROM nmvec_index_stats('t_v')};
my $on_primary_pending = $primary->safe_psql('postgres', $pending);
cmp_ok($on_primary_pending, '>=', 201, "the primary has a pending list ($on_primary_pending)");
is($standby->safe_psql('postgres', $pending), $on_primary_pending, 'the standby has the same pending list');
my $find = q{SET enable_seqscan = off; SELECT id FROM t ORDER BY v <-> '[9,-9,9,-9,9,-9,9,-9]' LIMIT 1};
is($standby->safe_psql('postgres', $find), '5300', 'the standby finds a pending row by its own vector');
is($standby->safe_psql('postgres', $q), $primary->safe_psql('postgres', $q),
  'with a pending list the standby returns the same results as the primary');
my ($rc, $stdout, $stderr) = $standby->psql('postgres', q{SELECT nmvec_flush('t_v')});
like($stderr, qr/cannot flush an hnsw pending list during recovery/, 'nmvec_flush on the standby is refused');
$primary->safe_psql('postgres', q{SELECT nmvec_flush('t_v')});
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', $pending), '0', 'the merge on the primary reached the standby');
is($standby->safe_psql('postgres', $find), '5300', 'the standby finds the merged row');
is($standby->safe_psql('postgres', $q), $primary->safe_psql('postgres', $q),
  'after the merge the standby returns the same results as the primary');
$on_primary = $primary->safe_psql('postgres', $q);

# A pg_basebackup copy, started as its own server.
$primary->backup('b2');
my $copy = PostgreSQL::Test::Cluster->new('copy');
$copy->init_from_backup($primary, 'b2');
$copy->start;
is($copy->safe_psql('postgres', $q), $on_primary, 'a pg_basebackup copy returns the same results');
$copy->safe_psql('postgres',
  q{INSERT INTO t SELECT i, ARRAY(SELECT sin(i) FROM generate_series(1, 8) k) FROM generate_series(9001, 9010) i});
is($copy->safe_psql('postgres', 'SELECT count(*) FROM t WHERE id > 9000'), '10', 'the copy takes inserts');

$copy->stop;
$standby->stop;
$primary->stop;
done_testing();

# The ivf index through crashes and replication: kill -9 during a bulk
# insert (records appended to list pages, some of them spanning pages),
# recovery, and a hot standby and a pg_basebackup copy answering the same
# queries as the primary through builds, inserts, deletes and vacuum.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "restart_after_crash = on\n");
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION nmvec');
# t: 16-d rows (t_l2: RaBitQ codes, the default; t_cos: flat, ivfflat's
# default); w: 2,500-d rows, whose 10,008-byte flat records span two pages.
$primary->safe_psql('postgres', q{
  CREATE TABLE t (id int PRIMARY KEY, v vector(16));
  INSERT INTO t SELECT i, ARRAY(SELECT (hashint4(i * 97 + k) % 10000) / 10000.0 FROM generate_series(1, 16) k)
    FROM generate_series(1, 3000) i;
  CREATE INDEX t_l2 ON t USING ivf (v) WITH (lists = 16);
  CREATE INDEX t_cos ON t USING ivfflat (v vector_cosine_ops) WITH (lists = 16);
  CREATE TABLE w (id int PRIMARY KEY, v vector(2500));
  INSERT INTO w SELECT i, ARRAY(SELECT sin(i * k) FROM generate_series(1, 2500) k) FROM generate_series(1, 40) i;
  CREATE INDEX w_l2 ON w USING ivf (v) WITH (lists = 4, quantizer = 'flat');
  CREATE TABLE f (id int, g int, v vector(16));
  INSERT INTO f SELECT i, i % 10, ARRAY(SELECT (hashint4(i * 31 + k) % 10000) / 10000.0 FROM generate_series(1, 16) k)
    FROM generate_series(1, 2000) i;
  CREATE INDEX f_gv ON f USING ivf (g, v) WITH (lists = 8);
});
$primary->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
$standby->start;

# Every committed row is its own nearest neighbour through the index; the
# whole index walked returns each row once.
my $self_missing = q{SET enable_seqscan = off; SET ivf.probes = 2;
  SELECT count(*) FROM t o WHERE o.id % 7 = 0 AND NOT EXISTS (
    SELECT 1 FROM (SELECT id FROM t ORDER BY v <-> o.v LIMIT 1) n WHERE n.id = o.id)};
my $walk = q{SET enable_seqscan = off;
  SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM t ORDER BY v <-> (SELECT v FROM t WHERE id = 1) LIMIT 1000000) s};

# --- crash during a bulk insert -----------------------------------------------------------
$primary->safe_psql('postgres',
  q{INSERT INTO t SELECT i, ARRAY(SELECT (hashint4(i * 97 + k) % 10000) / 10000.0 FROM generate_series(1, 16) k) FROM generate_series(3001, 4000) i;
    INSERT INTO w SELECT i, ARRAY(SELECT cos(i * k) FROM generate_series(1, 2500) k) FROM generate_series(41, 60) i;
    INSERT INTO f SELECT i, i % 10, ARRAY(SELECT sin(i * k) FROM generate_series(1, 16) k) FROM generate_series(2001, 3000) i});
my ($out, $err) = ('', '');
my $bulk = IPC::Run::start(
  [ 'psql', '-X', '-d', $primary->connstr('postgres'), '-c',
    q{INSERT INTO t SELECT i, ARRAY(SELECT (hashint4(i * 97 + k) % 10000) / 10000.0 FROM generate_series(1, 16) k) FROM generate_series(100001, 2000000) i} ],
  '>', \$out, '2>', \$err);
$primary->poll_query_until('postgres', q{SELECT records > 6000 FROM nmvec_ivf_stats('t_l2')})
  or die 'the bulk insert did not reach the index';
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
my $pid = $primary->safe_psql('postgres',
  q{SELECT pid FROM pg_stat_activity WHERE query LIKE 'INSERT INTO t SELECT%' AND pid <> pg_backend_pid()});
ok($pid =~ /^\d+$/, 'found the inserting backend');
kill 'KILL', $pid;
$bulk->finish;
$primary->poll_query_until('postgres', 'SELECT 1', '1') or die 'the server did not recover';
like(slurp_file($primary->logfile), qr/terminated by signal 9/, 'the server went through crash recovery');
is($primary->safe_psql('postgres', 'SELECT count(*) FROM t'), '4000', 'committed rows survive, the killed batch is gone');
is($primary->safe_psql('postgres', $self_missing), '0', 'after recovery every sampled committed row is found');
is($primary->safe_psql('postgres', $walk), '4000|4000', 'a full index walk returns every committed row once');
my $killed = $primary->safe_psql('postgres', q{SELECT records FROM nmvec_ivf_stats('t_l2')});
cmp_ok($killed, '>', 4000, "the index holds records of the killed batch ($killed)");
$primary->safe_psql('postgres', 'VACUUM t');
is($primary->safe_psql('postgres', q{SELECT records, rows_built FROM nmvec_ivf_stats('t_l2')}), '4000|3000',
  'vacuum marks the killed batch dead: 4,000 live records');
is($primary->safe_psql('postgres', q{SET enable_seqscan = off;
  SELECT count(*) FROM w o WHERE (SELECT id FROM w ORDER BY v <-> o.v LIMIT 1) = o.id}), '60',
  'rows whose records span pages are found after recovery');
# f: an index with a filter column (g, before the vector); every committed
# row of a group comes back through it, and only those.
my $fwalk = q{SET enable_seqscan = off;
  SELECT count(*), count(DISTINCT id), count(*) FILTER (WHERE g <> 3) FROM (SELECT id, g FROM f WHERE g = 3
    ORDER BY v <-> (SELECT v FROM f WHERE id = 1) LIMIT 1000000) s};
is($primary->safe_psql('postgres', $fwalk), '300|300|0',
  'a filtered walk of an index with a filter column returns the group\'s committed rows once');

# --- the standby follows through WAL -------------------------------------------------------
$primary->safe_psql('postgres', q{
  INSERT INTO t SELECT i, ARRAY(SELECT (hashint4(i * 89 - k) % 10000) / 10000.0 FROM generate_series(1, 16) k) FROM generate_series(5001, 5500) i;
  DELETE FROM t WHERE id % 5 = 0;
  VACUUM t;
  INSERT INTO w VALUES (61, ARRAY(SELECT 1.0 / k FROM generate_series(1, 2500) k));
  INSERT INTO f SELECT i, i % 10, ARRAY(SELECT cos(i * k) FROM generate_series(1, 16) k) FROM generate_series(3001, 3500) i;
  DELETE FROM f WHERE id % 3 = 0;
  VACUUM f;
});
$primary->wait_for_catchup($standby);
my $q = q{SET enable_seqscan = off;
  SELECT string_agg(id::text, ',') FROM (SELECT id FROM t ORDER BY v <-> '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]' LIMIT 10) s;
  SELECT string_agg(id::text, ',') FROM (SELECT id FROM t ORDER BY v <=> '[1,0,1,0,1,0,1,0,1,0,1,0,1,0,1,0]' LIMIT 10) s;
  SELECT id FROM w ORDER BY v <-> (SELECT v FROM w WHERE id = 61) LIMIT 1;
  SELECT string_agg(id::text, ',') FROM (SELECT id FROM f WHERE g = 7 ORDER BY v <-> (SELECT v FROM f WHERE id = 5) LIMIT 10) s;
  SELECT records, dead FROM nmvec_ivf_stats('t_l2');};
my $on_primary = $primary->safe_psql('postgres', $q);
is($standby->safe_psql('postgres', $q), $on_primary, 'the hot standby returns the same results as the primary');
like($on_primary, qr/\n61\n/, 'the wide row inserted last is found');
is($standby->safe_psql('postgres', $walk), $primary->safe_psql('postgres', $walk), 'the standby walks the same rows');
is($standby->safe_psql('postgres', $fwalk), $primary->safe_psql('postgres', $fwalk), 'the standby walks the same rows of a group');

# s: an index with list summaries and zone maps (a filter column, several
# pages a list), built while the standby runs: its pages reach the standby
# through WAL and survive a crash. cat is the cluster, so cat = 17 from a
# row of cluster 1 skips the lists of the other clusters.
$primary->safe_psql('postgres', q{
  CREATE TABLE s (id int, cat int, v vector(16));
  INSERT INTO s SELECT i, i % 20,
    ARRAY(SELECT (i % 20) * 10 + (hashint4(i * 7 + k) % 100) / 100.0 FROM generate_series(1, 16) k)
    FROM generate_series(1, 40000) i;
  CREATE INDEX s_v ON s USING ivf (v, cat) WITH (lists = 20);
});
my $sq = q{SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT id FROM s WHERE cat = 17
  ORDER BY v <-> (SELECT v FROM s WHERE id = 21) LIMIT 10) x};
my $s_exact = $primary->safe_psql('postgres', "SET enable_indexscan = off; SET enable_bitmapscan = off; $sq");
is($primary->safe_psql('postgres', "SET enable_seqscan = off; $sq"), $s_exact,
  'a scan that skips lists by their summaries returns the exact rows');
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', "SET enable_seqscan = off; $sq"), $s_exact,
  'the standby, which got the summaries through WAL, returns them too');
$primary->stop('immediate');
$primary->start;
is($primary->safe_psql('postgres', "SET enable_seqscan = off; $sq"), $s_exact,
  'after a crash the summaries give the same rows');

# --- a pg_basebackup copy --------------------------------------------------------------------
$primary->backup('b2');
my $copy = PostgreSQL::Test::Cluster->new('copy');
$copy->init_from_backup($primary, 'b2');
$copy->start;
is($copy->safe_psql('postgres', $q), $on_primary, 'a pg_basebackup copy returns the same results');
$copy->safe_psql('postgres',
  q{INSERT INTO t SELECT i, ARRAY(SELECT sin(i * k) FROM generate_series(1, 16) k) FROM generate_series(9001, 9010) i});
is($copy->safe_psql('postgres', q{SET enable_seqscan = off;
  SELECT count(*) FROM t o WHERE o.id > 9000 AND (SELECT id FROM t ORDER BY v <-> o.v LIMIT 1) = o.id}), '10',
  'the copy takes inserts and finds them');

# --- kill -9 during CREATE INDEX ---------------------------------------------------------------
# The build is killed while it assigns rows (after k-means); recovery leaves
# no index, and the same CREATE INDEX then succeeds.
$primary->safe_psql('postgres', q{
  CREATE TABLE big (id int, v vector(16));
  INSERT INTO big SELECT i, ARRAY[i % 997, i % 991, i % 983, i % 977, i % 971, i % 967, i % 953, i % 947,
                                  i % 941, i % 937, i % 929, i % 919, i % 911, i % 907, i % 887, i % 883]::real[]
    FROM generate_series(1, 600000) i;
});
($out, $err) = ('', '');
my $build = IPC::Run::start(
  [ 'psql', '-X', '-d', $primary->connstr('postgres'), '-c',
    q{SET max_parallel_maintenance_workers = 0; CREATE INDEX big_v ON big USING ivf (v) WITH (lists = 200)} ],
  '>', \$out, '2>', \$err);
$primary->poll_query_until('postgres',
  q{SELECT count(*) > 0 FROM pg_stat_progress_create_index
    WHERE phase IN ('building index: training centroids', 'building index: assigning rows')})
  or die 'the build did not reach its later phases';
$pid = $primary->safe_psql('postgres',
  q{SELECT pid FROM pg_stat_progress_create_index LIMIT 1});
ok($pid =~ /^\d+$/, 'found the building backend');
kill 'KILL', $pid;
$build->finish;
$primary->poll_query_until('postgres', 'SELECT 1', '1') or die 'the server did not recover';
is($primary->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'big_v'}), '0',
  'the killed build left no index');
$primary->safe_psql('postgres', q{CREATE INDEX big_v ON big USING ivf (v) WITH (lists = 200)});
is($primary->safe_psql('postgres', q{SELECT records FROM nmvec_ivf_stats('big_v')}), '600000',
  'the same CREATE INDEX succeeds after recovery');
is($primary->safe_psql('postgres', q{SET enable_seqscan = off;
  SELECT count(*) FROM big o WHERE o.id % 60000 = 1 AND (SELECT id FROM big ORDER BY v <-> o.v LIMIT 1) = o.id}),
  '10', 'and finds rows by their own vectors');

$copy->stop;
$standby->stop;
$primary->stop;
done_testing();

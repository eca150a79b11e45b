# kill -9 of the server during a bulk insert into a table with an hnsw
# index, then crash recovery: the index is consistent with the table and
# queries return the right rows.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nmvec');
$node->safe_psql('postgres', q{
  CREATE TABLE t (id int PRIMARY KEY, v vector(16));
  INSERT INTO t SELECT i, ARRAY(SELECT (hashint4(i * 97 + k) % 10000) / 10000.0 FROM generate_series(1, 16) k) FROM generate_series(1, 2000) i;
  CREATE INDEX t_v ON t USING hnsw (v) WITH (m = 8, ef_construction = 32);
});

# A committed batch, then a bulk insert that is killed half-way.
$node->safe_psql('postgres',
  q{INSERT INTO t SELECT i, ARRAY(SELECT (hashint4(i * 97 + k) % 10000) / 10000.0 FROM generate_series(1, 16) k) FROM generate_series(2001, 3000) i});
# The bulk insert runs in its own psql; once its (uncommitted) elements are
# in the index pages, the server is killed in the middle of it.
my ($out, $err) = ('', '');
my $bulk = IPC::Run::start(
  [ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
    q{INSERT INTO t SELECT i, ARRAY(SELECT (hashint4(i * 97 + k) % 10000) / 10000.0 FROM generate_series(1, 16) k) FROM generate_series(3001, 200000) i} ],
  '>', \$out, '2>', \$err);
$node->poll_query_until('postgres', q{SELECT elements > 4000 FROM nmvec_index_stats('t_v')})
  or die 'the bulk insert did not reach the index';
# Make the WAL of what the batch wrote so far durable (a segment switch
# flushes it), so that recovery replays some of its elements for VACUUM to
# remove: pending inserts write so little WAL that none of it may have
# reached the disk yet.
$node->safe_psql('postgres', 'SELECT pg_switch_wal()');
# SIGKILL the backend doing the insert: the postmaster takes that as a crash,
# kills every other backend and runs crash recovery from the WAL.
my $pid = $node->safe_psql('postgres',
  q{SELECT pid FROM pg_stat_activity WHERE query LIKE 'INSERT INTO t SELECT%' AND pid <> pg_backend_pid()});
ok($pid =~ /^\d+$/, 'found the inserting backend');
kill 'KILL', $pid;
$bulk->finish;
$node->poll_query_until('postgres', 'SELECT 1', '1') or die 'the server did not recover';
like(slurp_file($node->logfile), qr/terminated by signal 9/, 'the server went through crash recovery');

is($node->safe_psql('postgres', 'SELECT count(*) FROM t'), '3000', 'committed rows survive, the killed batch is gone');

# Every committed row is found by the index as its own nearest neighbour.
my $missing = $node->safe_psql('postgres', q{
  SET enable_seqscan = off; SET hnsw.ef_search = 200;
  SELECT count(*) FROM t o WHERE o.id % 37 = 0 AND NOT EXISTS (
    SELECT 1 FROM (SELECT id FROM t ORDER BY v <-> o.v LIMIT 1) n WHERE n.id = o.id);
});
cmp_ok($missing, '<=', 1, 'index finds the sampled committed rows after recovery');

# The killed batch left elements pointing at dead rows; vacuum removes them.
$node->safe_psql('postgres', 'VACUUM t');
my ($live, $deleted) = split /\|/, $node->safe_psql('postgres', q{SELECT elements, deleted FROM nmvec_index_stats('t_v')});
is($live, '3000', 'after vacuum the index holds exactly the committed rows');
cmp_ok($deleted, '>', 0, 'the killed batch\'s elements were removed');

# The index still takes inserts, and answers like an exact scan.
$node->safe_psql('postgres',
  q{INSERT INTO t SELECT i, ARRAY(SELECT (hashint4(i * 89 - k) % 10000) / 10000.0 FROM generate_series(1, 16) k) FROM generate_series(500001, 500500) i});
my $new_missing = $node->safe_psql('postgres', q{
  SET enable_seqscan = off; SET hnsw.ef_search = 200;
  SELECT count(*) FROM t o WHERE o.id > 500000 AND NOT EXISTS (
    SELECT 1 FROM (SELECT id FROM t ORDER BY v <-> o.v LIMIT 1) n WHERE n.id = o.id);
});
is($new_missing, '0', 'rows inserted after recovery are found');
my $recall = $node->safe_psql('postgres', q{
  CREATE FUNCTION top5(q vector, idx bool) RETURNS int[] LANGUAGE plpgsql AS $$
  DECLARE r int[];
  BEGIN
    IF idx THEN SET LOCAL enable_seqscan = off; SET LOCAL hnsw.ef_search = 200;
    ELSE SET LOCAL enable_indexscan = off; END IF;
    SELECT array_agg(id) INTO r FROM (SELECT id FROM t ORDER BY v <-> q LIMIT 5) s;
    RETURN r;
  END $$;
  SELECT sum((SELECT count(*) FROM unnest(top5(v, true)) x WHERE x = ANY (top5(v, false))))::float / (count(*) * 5)
  FROM t WHERE id % 150 = 1;
});
cmp_ok($recall, '>=', 0.95, "recall\@5 of index vs exact scan after recovery ($recall)");
like($node->safe_psql('postgres', q{SELECT elements FROM nmvec_index_stats('t_v')}), qr/^\d+$/, 'stats readable');

$node->stop;
done_testing();

# kill -9 of the server while a merge links the hnsw pending list into the
# graph, then crash recovery: every committed row is still found by its own
# vector, no element is linked twice, and a second merge finishes the job.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('merge_crash');
$node->init;
$node->append_conf('postgresql.conf', "restart_after_crash = on\nautovacuum = off\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nmvec');
my $vec = q{ARRAY(SELECT (hashint4(i * 97 + k) % 10000) / 10000.0 FROM generate_series(1, 16) k)};
$node->safe_psql('postgres', qq{
  CREATE TABLE t (id int PRIMARY KEY, v vector(16));
  INSERT INTO t SELECT i, $vec FROM generate_series(1, 2000) i;
  CREATE INDEX t_v ON t USING hnsw (v) WITH (m = 8, ef_construction = 32);
  INSERT INTO t SELECT i, $vec FROM generate_series(2001, 4000) i;
});
is($node->safe_psql('postgres', q{SELECT pending FROM nmvec_index_stats('t_v')}), '2000',
  'the committed inserts wait in the pending list');

# A merge slowed down (nmvec.merge_delay) so that it is killed half-way.
my ($out, $err) = ('', '');
my $merge = IPC::Run::start(
  [ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
    q{SET nmvec.merge_delay = 2; SELECT nmvec_flush('t_v')} ],
  '>', \$out, '2>', \$err);
$node->poll_query_until('postgres', q{SELECT pending < 1500 FROM nmvec_index_stats('t_v')})
  or die 'the merge did not start';
my $pid = $node->safe_psql('postgres',
  q{SELECT pid FROM pg_stat_activity WHERE query LIKE '%nmvec_flush%' AND pid <> pg_backend_pid()});
ok($pid =~ /^\d+$/, 'found the merging backend');
kill 'KILL', $pid;
$merge->finish;
$node->poll_query_until('postgres', 'SELECT 1', '1') or die 'the server did not recover';
like(slurp_file($node->logfile), qr/terminated by signal 9/, 'the server went through crash recovery');

my $pending = $node->safe_psql('postgres', q{SELECT pending FROM nmvec_index_stats('t_v')});
cmp_ok($pending, '>', 0, "the merge was cut short ($pending still pending)");
cmp_ok($pending, '<', 2000, 'part of the list was linked before the crash');
my $check = q{SELECT linked, pending, deleted, unwritten, duplicate_links, self_links, links_to_unwritten,
  pending_below_first, unreached FROM nmvec_index_check('t_v')};
my ($linked, $pend, $del, $unw, $dup, $self, $dangling, $below, $unreached) =
  split /\|/, $node->safe_psql('postgres', $check);
is($linked + $pend, 4000, 'every committed row has one element, linked or pending');
is("$dup|$self|$dangling|$below", '0|0|0|0', 'no link twice, no self link, no link to nothing');

# Every committed row is found by its own vector: the pending ones always
# (the scan reads them exactly), the linked ones but for the graph's
# approximation (ef_search as in test 001; a merge on two processes links
# elements at the same time, and a few of 4,000 may be missed then): at
# most 0.25 %. That nothing is lost is the full walk's check below.
my $self_found = q{SET enable_seqscan = off; SET hnsw.ef_search = 200;
  SELECT count(*) FROM t o WHERE (SELECT id FROM t ORDER BY v <-> o.v LIMIT 1) = o.id;};
cmp_ok($node->safe_psql('postgres', $self_found), '>=', 3990, 'rows are found first by their own vector after the crash');
is($node->safe_psql('postgres', q{SET enable_seqscan = off;
  SELECT count(*) || ',' || count(DISTINCT id) FROM (SELECT id FROM t ORDER BY v <-> v LIMIT 10000) s}),
  '4000,4000', 'a full walk returns every row once');

# Merging again links the rest (the element cut in the middle is linked
# again without duplicating its back links).
is($node->safe_psql('postgres', q{SELECT nmvec_flush('t_v')}), $pending, 'the second merge links what was left');
($linked, $pend, $del, $unw, $dup, $self, $dangling, $below, $unreached) =
  split /\|/, $node->safe_psql('postgres', $check);
is("$linked|$pend|$dup|$self|$dangling|$below", '4000|0|0|0|0|0', 'all linked, the lists sound');
# a merge on two processes can leave an element or two no list names (a
# displaced back link); without the pass that attaches them there were more
cmp_ok($unreached, '<=', 3, "at most a few elements no list names ($unreached)");
cmp_ok($node->safe_psql('postgres', $self_found), '>=', 3990, 'rows are found first by their own vector after the merge');
is($node->safe_psql('postgres', q{SET enable_seqscan = off;
  SELECT count(*) || ',' || count(DISTINCT id) FROM (SELECT id FROM t ORDER BY v <-> v LIMIT 10000) s}),
  '4000,4000', 'a full walk returns every row once after the merge');

# Inserts and merges go on.
$node->safe_psql('postgres', qq{INSERT INTO t SELECT i, $vec FROM generate_series(4001, 4500) i; VACUUM t});
is($node->safe_psql('postgres', q{SELECT pending FROM nmvec_index_stats('t_v')}), '0', 'VACUUM merged the new rows');
cmp_ok($node->safe_psql('postgres', $self_found), '>=', 4488, 'and they are found');

$node->stop;
done_testing();

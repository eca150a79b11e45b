# Cancelling an ivf CREATE INDEX while FAISS trains the centroids on its
# threads: the statement ends with the cancel's error, leaves no index
# behind, the backend stays usable, and the next build succeeds. The
# cancel is sent once pg_stat_progress_create_index reports the training
# phase, so it lands inside the k-means (not in the heap scans around it).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('cancel');
$node->init;
$node->append_conf('postgresql.conf', "max_parallel_maintenance_workers = 1\nmaintenance_work_mem = 256MB\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nmvec');
# 100,000 rows of 64 dims and 2,000 lists: 10 rounds of k-means over a
# 100,000-vector sample take seconds here, long enough to be caught.
$node->safe_psql('postgres', q{
  CREATE TABLE k (id int, v vector(64));
  INSERT INTO k SELECT i, (SELECT array_agg(((hashint4(i * 64 + d) % 1000) / 1000.0)::real) FROM generate_series(1, 64) d)::vector
    FROM generate_series(1, 100000) i;
});

my ($out, $err) = ('', '');
my $build = IPC::Run::start(
  [ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres'), '-c',
    'CREATE INDEX k_ivf ON k USING ivf (v) WITH (lists = 2000)' ],
  '>', \$out, '2>', \$err);
# The cancel goes out in the same query that sees the training phase.
ok($node->poll_query_until('postgres',
     q{SELECT coalesce(bool_or(pg_cancel_backend(pid)), false) FROM pg_stat_progress_create_index
        WHERE phase LIKE '%training centroids%'}),
   'cancel sent while the build was training');
$build->finish;
like($err, qr/canceling statement due to user request/, 'the build ends with the cancel error');
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'k_ivf'}), '0',
   'no index is left behind');
unlike(slurp_file($node->logfile), qr/terminated by signal|PANIC/, 'no backend crashed');

# The server and the extension work on: a smaller build succeeds and answers.
$node->safe_psql('postgres', 'CREATE INDEX k_ivf ON k USING ivf (v) WITH (lists = 20)');
is($node->safe_psql('postgres', q{SET enable_seqscan = off; SET ivf.probes = 20;
     SELECT id FROM k ORDER BY v <-> (SELECT v FROM k WHERE id = 777) LIMIT 1}), '777',
   'a build after the cancel works');

$node->stop;
done_testing();

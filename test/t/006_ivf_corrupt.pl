# Corrupted ivf pages make statements fail with an error, never crash the
# server. One small index per corruption; with the server stopped, perl
# overwrites a field of its meta page (block 0: src/pg/ivf_page.h, struct
# Meta), of a directory entry or of its list pages; then INSERT (and the
# commit that writes it), an ordered scan, VACUUM and nmvec_ivf_stats each
# must fail with XX002 (index corrupted, hint "REINDEX the index."), XX001
# (a page whose own header is wrong) or 0A000 (an unknown format version),
# and the postmaster must never have restarted.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('corrupt_ivf');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nmvec');

# struct Meta after the 24-byte page header.
my $meta = 24;
my %field = (
  magic => [ 0, 'V' ], version => [ 4, 'V' ], dims => [ 8, 'V' ], metric => [ 12, 'C' ],
  elem_kind => [ 13, 'C' ], quantizer => [ 14, 'C' ], trained => [ 15, 'C' ], n_lists => [ 16, 'V' ],
  rec_bytes => [ 20, 'V' ], centroid_start => [ 24, 'V' ], centroid_pages => [ 28, 'V' ],
  dir_start => [ 32, 'V' ], dir_pages => [ 36, 'V' ], bits => [ 48, 'C' ], attr_columns => [ 49, 'C' ],
  attr_bytes => [ 50, 'v' ],
  pd_special => [ 16 - $meta, 'v' ], page_id => [ 8190 - $meta, 'v' ]);

# name => [ expected SQLSTATE, quantizer, [ field => value, ... ] ]
my @meta_cases = (
  [ 'magic',          'XX002', 'rabitq', [ magic          => 0x12345678 ] ],
  [ 'version',        '0A000', 'rabitq', [ version        => 99 ] ],
  [ 'dims_big',       'XX002', 'flat',   [ dims           => 16001 ] ],
  [ 'metric',         'XX002', 'rabitq', [ metric         => 9 ] ],
  [ 'elem_kind',      'XX002', 'flat',   [ elem_kind      => 7 ] ],
  [ 'quantizer',      'XX002', 'flat',   [ quantizer      => 9 ] ],
  [ 'bits',           'XX002', 'rabitq', [ bits           => 3 ] ],
  [ 'lists_zero',     'XX002', 'rabitq', [ n_lists        => 0 ] ],
  [ 'lists_big',      'XX002', 'flat',   [ n_lists        => 40000 ] ],
  [ 'untrained',      'XX002', 'rabitq', [ trained        => 0 ] ],
  [ 'rec_bytes',      'XX002', 'flat',   [ rec_bytes      => 999 ] ],
  [ 'centroid_start', 'XX002', 'rabitq', [ centroid_start => 0 ] ],
  [ 'centroid_pages', 'XX002', 'flat',   [ centroid_pages => 99 ] ],
  [ 'dir_start',      'XX002', 'rabitq', [ dir_start      => 999999 ] ],
  [ 'dir_pages',      'XX002', 'flat',   [ dir_pages      => 5 ] ],
  # filter columns the catalog does not give the index (it has none)
  [ 'attr_columns',   'XX002', 'flat',   [ attr_columns   => 3 ] ],
  [ 'attr_bytes',     'XX002', 'rabitq', [ attr_bytes     => 12 ] ],
  [ 'special',        'XX001', 'rabitq', [ pd_special     => 8000 ] ],
  [ 'page_id',        'XX001', 'flat',   [ page_id        => 0x1234 ] ],);
# Directory entries (20 bytes at the data area, byte 64 of the directory
# page): every head and tail past the relation; and list pages whose page
# id is wrong.
my @other_cases = ([ 'dir_head', 'XX002' ], [ 'list_page_id', 'XX001' ]);

my %quant = map { $_->[0] => $_->[2] } @meta_cases;
$quant{dir_head} = 'rabitq';
$quant{list_page_id} = 'flat';
for my $name (keys %quant) {
  $node->safe_psql('postgres', qq{
    CREATE TABLE t_$name (id int, v vector(8));
    INSERT INTO t_$name SELECT i, ARRAY(SELECT sin(i * 7 + k * 3) FROM generate_series(1, 8) k)
      FROM generate_series(1, 400) i;
    CREATE INDEX t_${name}_v ON t_$name USING ivf (v) WITH (lists = 4, quantizer = '$quant{$name}');
  });
}
# List summaries and zone maps (an index with a filter column, 20 pages a
# list): filtered scans, which read them, must fail with an error when the
# meta page's count of summary pages, a summary's page count or its last
# page, or a zone map page's own header is wrong.
my @sum_cases = ([ 'sum_pages', 'XX002' ], [ 'sum_covered', 'XX002' ], [ 'sum_resume', 'XX002' ],
  [ 'map_page_id', 'XX001' ]);
for my $case (@sum_cases) {
  my $name = $case->[0];
  $node->safe_psql('postgres', qq{
    CREATE TABLE s_$name (id int, g int, v vector(8));
    INSERT INTO s_$name SELECT i, i % 5, ARRAY(SELECT sin(i * 7 + k * 3) FROM generate_series(1, 8) k)
      FROM generate_series(1, 20000) i;
    CREATE INDEX s_${name}_v ON s_$name USING ivf (v, g) WITH (lists = 4);
  });
}
my %spath = map { $_->[0] => $node->data_dir . '/'
    . $node->safe_psql('postgres', "SELECT pg_relation_filepath('s_$_->[0]_v')") } @sum_cases;
my $checksums = $node->safe_psql('postgres', 'SHOW data_checksums');
my %path = map { $_ => $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('t_${_}_v')") }
  keys %quant;
$node->stop;
command_ok([ 'pg_checksums', '--disable', '-D', $node->data_dir ], 'checksums disabled')
  if $checksums eq 'on';

sub poke {
  my ($fh, $off, $fmt, $value) = @_;
  seek($fh, $off, 0) or die;
  print $fh pack($fmt, $value);
}

sub peek {
  my ($fh, $off, $fmt, $len) = @_;
  seek($fh, $off, 0) or die;
  read($fh, my $buf, $len) == $len or die "short read";
  return unpack($fmt, $buf);
}

for my $case (@meta_cases) {
  my ($name, undef, undef, $changes) = @$case;
  open(my $fh, '+<:raw', $path{$name}) or die "open $path{$name}: $!";
  my @c = @$changes;
  while (my ($f, $v) = splice(@c, 0, 2)) {
    my ($off, $fmt) = @{ $field{$f} };
    poke($fh, $meta + $off, $fmt, $v);
  }
  close($fh);
}
{
  open(my $fh, '+<:raw', $path{dir_head}) or die;
  my $dir = peek($fh, $meta + 32, 'V', 4);
  for my $list (0 .. 3) {
    poke($fh, $dir * 8192 + 64 + 20 * $list, 'V', 999999);
    poke($fh, $dir * 8192 + 64 + 20 * $list + 4, 'V', 999999);
  }
  close($fh);
}
{
  open(my $fh, '+<:raw', $path{list_page_id}) or die;
  my ($dir, $dpages) = (peek($fh, $meta + 32, 'V', 4), peek($fh, $meta + 36, 'V', 4));
  my $size = -s $fh;
  my $changed = 0;
  for my $blk ($dir + $dpages .. $size / 8192 - 1) {
    poke($fh, $blk * 8192 + 8190, 'v', 0x1234);
    $changed++;
  }
  close($fh);
  cmp_ok($changed, '>', 0, 'list pages changed');
}

# Meta: summary_start at 64, summary_pages 68, map_start 72, map_pages 76;
# a summary (16 bytes, then a 56-byte zone for one column) at byte 64 of
# its page: covered, resume, map_first.
{
  open(my $fh, '+<:raw', $spath{sum_pages}) or die;
  poke($fh, $meta + 68, 'V', 99);
  close($fh);
  open($fh, '+<:raw', $spath{sum_covered}) or die;
  my $sstart = peek($fh, $meta + 64, 'V', 4);
  cmp_ok(peek($fh, $sstart * 8192 + 64, 'V', 4), '>', 1, 'list 0 has built pages to skip');
  poke($fh, $sstart * 8192 + 64, 'V', 999999);
  close($fh);
  open($fh, '+<:raw', $spath{sum_resume}) or die;
  $sstart = peek($fh, $meta + 64, 'V', 4);
  poke($fh, $sstart * 8192 + 64 + 4, 'V', peek($fh, $sstart * 8192 + 64 + 4, 'V', 4) + 1);
  close($fh);
  open($fh, '+<:raw', $spath{map_page_id}) or die;
  my ($mstart, $mpages) = (peek($fh, $meta + 72, 'V', 4), peek($fh, $meta + 76, 'V', 4));
  cmp_ok($mpages, '>', 0, 'the index has zone map pages');
  poke($fh, $_ * 8192 + 8190, 'v', 0x1234) for $mstart .. $mstart + $mpages - 1;
  close($fh);
}

$node->start;
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

sub fails_with {
  my ($sql, $state, $what) = @_;
  my ($ret, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
  like($err, qr/ERROR:  $state: /, "$what fails with $state") or diag($err);
  like($err, qr/HINT:  REINDEX the index\./, "$what: hint") if $state eq 'XX002';
}

my $q = '[0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8]';
for my $case (@meta_cases, @other_cases) {
  my ($name, $state) = @$case;
  fails_with("INSERT INTO t_$name VALUES (1000, '$q')", $state, "$name: INSERT");
  fails_with("SET enable_seqscan = off; SELECT id FROM t_$name ORDER BY v <-> '$q' LIMIT 3",
    $state, "$name: ordered scan");
  fails_with("DELETE FROM t_$name WHERE id % 10 = 0; VACUUM (INDEX_CLEANUP ON) t_$name", $state, "$name: VACUUM");
  fails_with("SELECT * FROM nmvec_ivf_stats('t_${name}_v')", $state, "$name: nmvec_ivf_stats");
}

for my $case (@sum_cases) {
  my ($name, $state) = @$case;
  fails_with("SET enable_seqscan = off; SELECT id FROM s_$name WHERE g = 3 ORDER BY v <-> '$q' LIMIT 3",
    $state, "$name: filtered scan");
}

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $started, 'the server never restarted');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');
$node->stop;
done_testing();

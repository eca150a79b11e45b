# Corrupted hnsw pages make statements fail with an error, never crash the
# server. One small index per corruption; with the server stopped, perl
# overwrites fields of its meta page (block 0: src/pg/hnsw_page.h, struct
# Meta) or of its node records; then INSERT, an ordered scan, VACUUM and
# nmvec_index_stats each must fail with XX002 (index corrupted, hint
# "REINDEX the index.") or XX001 (a page whose own header is wrong), and the
# postmaster must never have restarted.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('corrupt');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION nmvec');

# Where the Meta fields lie in the page: the struct starts after the 24-byte
# page header (PageGetContents); kMaxExtents = 400 extents of 8 bytes each.
my $meta = 24;
my %field = (
  magic => [ 0, 'V' ], version => [ 4, 'V' ], dims => [ 8, 'V' ], m => [ 12, 'v' ],
  ef_construction => [ 14, 'v' ], metric => [ 16, 'C' ], elem_kind => [ 17, 'C' ], quantizer => [ 18, 'C' ],
  n_elements => [ 20, 'V' ], n_deleted => [ 24, 'V' ], entry => [ 28, 'V' ],
  max_level => [ 32, 'V' ], upper_last => [ 36, 'V' ], n_node_extents => [ 40, 'V' ],
  n_vector_extents => [ 44, 'V' ], node_extent0_start => [ 48, 'V' ],
  node_extent0_pages => [ 52, 'V' ], vector_extent0_start => [ 48 + 8 * 400, 'V' ],
  vector_extent0_pages => [ 52 + 8 * 400, 'V' ], centre_start => [ 48 + 16 * 400 + 12, 'V' ],
  attr_bytes => [ 48 + 16 * 400 + 20, 'v' ], zone_marker => [ 48 + 16 * 400 + 24, 'V' ],
  zone_bytes => [ 48 + 16 * 400 + 28, 'V' ], sweep_bytes => [ 48 + 16 * 400 + 36, 'V' ],
  # the page itself: pd_special (page header) and the page id in the last 2 bytes
  pd_special => [ 16 - $meta, 'v' ], page_id => [ 8190 - $meta, 'v' ]);

# name => [ expected SQLSTATE, [ field => value, ... ] ]
my @meta_cases = (
  [ 'magic',          'XX002', [ magic            => 0x12345678 ] ],
  [ 'version',        'XX002', [ version          => 99 ] ],
  [ 'node_extents',   'XX002', [ n_node_extents   => 100000 ] ],
  [ 'vector_extents', 'XX002', [ n_vector_extents => 401 ] ],
  [ 'elements',       'XX002', [ n_elements       => 4000000000 ] ],
  [ 'deleted',        'XX002', [ n_deleted        => 5000 ] ],
  [ 'dims_zero',      'XX002', [ dims             => 0 ] ],
  [ 'dims_big',       'XX002', [ dims             => 16001 ] ],
  [ 'm_zero',         'XX002', [ m                => 0 ] ],
  [ 'm_big',          'XX002', [ m                => 500 ] ],
  [ 'ef_zero',        'XX002', [ ef_construction  => 0 ] ],
  [ 'metric',         'XX002', [ metric           => 9 ] ],
  [ 'elem_kind',      'XX002', [ elem_kind        => 7 ] ],
  [ 'quantizer',      'XX002', [ quantizer        => 9 ] ],
  [ 'max_level',      'XX002', [ max_level        => 200 ] ],
  [ 'entry',          'XX002', [ entry            => 200 ] ],
  [ 'upper_last',     'XX002', [ upper_last       => 999999 ] ],
  [ 'node_extent',    'XX002', [ node_extent0_start => 100000 ] ],
  [ 'vector_extent',  'XX002', [ vector_extent0_pages => 1000000 ] ],
  [ 'extent_on_meta', 'XX002', [ vector_extent0_start => 0 ] ],
  # quantizer = 'rabitq' (the index's centre pages: hnsw_page.h)
  [ 'centre_start',   'XX002', [ centre_start     => 999999 ], 'rabitq' ],
  [ 'centre_on_meta', 'XX002', [ centre_start     => 0 ], 'rabitq' ],
  # filter columns (index on (v, tenant): 5 bytes a node record): too many
  # for any index, and a size the index's columns do not take
  [ 'attr_big',       'XX002', [ attr_bytes       => 5000 ] ],
  [ 'attr_mismatch',  'XX002', [ attr_bytes       => 9 ] ],
  # node pages' zones (56 bytes for one filter column): another size, and
  # no zone marker (node records holding the values, as a development
  # version wrote them: 0A000, rebuild)
  [ 'zone_bytes',     'XX002', [ zone_bytes       => 104 ] ],
  [ 'zone_missing',   '0A000', [ zone_marker      => 0 ] ],
  # sweep codes (64 dims and a filter column: 8 + 20 bytes a code, padded
  # to 32): another size, and centre pages (which every index with sweep
  # codes has, whatever its quantizer) outside the index
  [ 'sweep_bytes',    'XX002', [ sweep_bytes      => 40 ] ],
  [ 'sweep_centre',   'XX002', [ centre_start     => 999999 ] ],
  [ 'special',        'XX001', [ pd_special       => 8000 ] ],
  [ 'page_id',        'XX001', [ page_id          => 0x1234 ] ],);
# Node records (NodeHeader: heap tid 0-5, level 6, flags 7, upper tid 8-13,
# count0 14-15, then 2m neighbour ids), changed in every record of the index:
# a neighbour id past the elements, a level past kMaxLevel (15), an upper
# tuple that is not on its page.
my @node_cases = ('neighbor', 'level', 'upper_item');
# Each node case twice: t_<case> takes synchronous inserts (fastupdate off),
# t_<case>_m fastupdate inserts whose merge walks the damaged graph. Apart,
# because an insert that fails half-way leaves an element with some links,
# which a later insert's walk may start from.
my @node_tables = map { ($_, "${_}_m") } @node_cases;
# rabitq indexes whose centre page is damaged: the meta page names a page
# that is no centre page (XX001), or the centre holds a NaN (XX002). Only
# what codes or decodes reads the centre: inserts and ordered scans (and
# VACUUM, which reads the layout).
my @centre_cases = ([ 'centre_page', 'XX001' ], [ 'centre_nan', 'XX002' ]);
my %quantizer = map { $_->[0] => $_->[3] } grep { $_->[3] } @meta_cases;
$quantizer{ $_->[0] } = 'rabitq' for @centre_cases;

# Indexes with a filter column; attr_mismatch passes the meta page's own
# checks (nmvec_index_stats reads only those), the layout's reject it.
my %columns = map { $_ => 'v, tenant' } qw(attr_big attr_mismatch zone_bytes zone_missing sweep_bytes sweep_centre);
# Sweep codes need 64 dimensions or more (kSweepMinDims); every other table has 8.
my %dims = map { $_ => 64 } qw(sweep_bytes sweep_centre);
my %meta_only_ok = (attr_mismatch => 1);

my $vec = sub {
  my ($i, $d) = @_;
  return '[' . join(',', map { sprintf('%.3f', sin($i * 7 + $_ * 3)) } 1 .. ($d // 8)) . ']';
};
my @all = ((map { $_->[0] } @meta_cases), @node_tables, (map { $_->[0] } @centre_cases));
for my $name (@all) {
  # 200 rows, m = 4: two node pages, several upper levels
  my $q = $quantizer{$name} // 'none';
  my $cols = $columns{$name} // 'v';
  my $d = $dims{$name} // 8;
  $node->safe_psql('postgres', qq{
    CREATE TABLE t_$name (id int, v vector($d), tenant int);
    INSERT INTO t_$name SELECT i, ARRAY(SELECT sin(i * 7 + k * 3) FROM generate_series(1, $d) k), i % 3
      FROM generate_series(1, 200) i;
    CREATE INDEX t_${name}_v ON t_$name USING hnsw ($cols) WITH (m = 4, ef_construction = 16, quantizer = '$q');
  });
}
my $checksums = $node->safe_psql('postgres', 'SHOW data_checksums');
my %path = map { $_ => $node->data_dir . '/' . $node->safe_psql('postgres', "SELECT pg_relation_filepath('t_${_}_v')") }
  @all;
$node->stop;
# Page checksums would flag every edited page before our checks run: turn
# them off if this cluster has them.
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
  my ($name, undef, $changes) = @$case;
  open(my $fh, '+<:raw', $path{$name}) or die "open $path{$name}: $!";
  my @c = @$changes;
  while (my ($f, $v) = splice(@c, 0, 2)) {
    my ($off, $fmt) = @{ $field{$f} };
    poke($fh, $meta + $off, $fmt, $v);
  }
  close($fh);
}

for my $case (@centre_cases) {
  my $name = $case->[0];
  open(my $fh, '+<:raw', $path{$name}) or die "open $path{$name}: $!";
  my $marker = peek($fh, $meta + $field{centre_start}[0] - 4, 'V', 4);
  is($marker, 0x43454e54, "$name: the index has centre pages");
  my $centre = peek($fh, $meta + $field{centre_start}[0], 'V', 4);
  if ($name eq 'centre_page') {
    poke($fh, $meta + $field{centre_start}[0], 'V', $centre + 1);    # the page after it: no centre page
  } else {
    poke($fh, $centre * 8192 + 64 + 12, 'V', 0x7fc00000);          # a NaN in dimension 3
  }
  close($fh);
}

for my $name (@node_tables) {
  (my $kind = $name) =~ s/_m$//;
  open(my $fh, '+<:raw', $path{$name}) or die "open $path{$name}: $!";
  my ($m, $n) = (peek($fh, $meta + 12, 'v', 2), peek($fh, $meta + 20, 'V', 4));
  my ($start, $pages) = (peek($fh, $meta + 48, 'V', 4), peek($fh, $meta + 52, 'V', 4));
  my $nb = 16 + 8 * $m;
  my $per_page = int(8064 / $nb);
  my $touched = 0;
  for my $id (0 .. $n - 1) {
    my $rec = ($start + int($id / $per_page)) * 8192 + 64 + ($id % $per_page) * $nb;
    if ($kind eq 'neighbor') {
      next if peek($fh, $rec + 14, 'v', 2) == 0;
      poke($fh, $rec + 16, 'V', 0x7ffffff0);
    } elsif ($kind eq 'level') {
      poke($fh, $rec + 6, 'C', 200);
    } else {
      next if peek($fh, $rec + 12, 'v', 2) == 0;    # no upper tuple
      poke($fh, $rec + 12, 'v', 250);
    }
    $touched++;
  }
  close($fh);
  cmp_ok($touched, '>', 0, "$name: node records changed");
}

$node->start;
my $started = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# Runs sql; it must fail with sqlstate (and, for XX002, the REINDEX hint).
sub fails_with {
  my ($sql, $state, $what) = @_;
  my ($ret, $out, $err) = $node->psql('postgres', $sql, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
  like($err, qr/ERROR:  $state: /, "$what fails with $state") or diag($err);
  like($err, qr/HINT:  REINDEX the index\./, "$what: hint") if $state eq 'XX002';
}

my $q = $vec->(1000);
# INSERT, an ordered scan and VACUUM read the layout (and a rabitq index's
# centre); nmvec_index_stats reads the meta page only, so the centre page
# cases leave it out.
for my $case (@meta_cases, @centre_cases) {
  my ($name, $state) = @$case;
  my $q = $vec->(1000, $dims{$name});
  fails_with("INSERT INTO t_$name VALUES (1000, '$q')", $state, "$name: INSERT");
  fails_with("SET enable_seqscan = off; SELECT id FROM t_$name ORDER BY v <-> '$q' LIMIT 3",
    $state, "$name: ordered scan");
  fails_with("DELETE FROM t_$name WHERE id % 10 = 0; VACUUM (INDEX_CLEANUP ON) t_$name", $state, "$name: VACUUM");
  fails_with("SELECT * FROM nmvec_index_stats('t_${name}_v')", $state, "$name: nmvec_index_stats")
    unless (grep { $_->[0] eq $name } @centre_cases) || $meta_only_ok{$name};
}
for my $name (@node_cases) {
  fails_with("SET enable_seqscan = off; SELECT id FROM t_$name ORDER BY v <-> '$q' LIMIT 3",
    'XX002', "$name: ordered scan");
  fails_with("ALTER INDEX t_${name}_v SET (fastupdate = off); INSERT INTO t_$name VALUES (1000, '$q')", 'XX002',
    "$name: synchronous INSERT");
  # A fastupdate insert links nothing; its merge walks the graph.
  fails_with("INSERT INTO t_${name}_m VALUES (1000, '$q'); SELECT nmvec_flush('t_${name}_m_v')", 'XX002',
    "$name: INSERT, then its merge");
  # Vacuum reads every node and repairs the lists that named deleted ones.
  my ($ret, $out, $err) = $node->psql('postgres', "DELETE FROM t_$name WHERE id % 10 = 0; VACUUM t_$name",
    extra_params => [ '-v', 'VERBOSITY=verbose' ]);
  ok($ret == 0 || $err =~ /ERROR:  XX002: /, "$name: VACUUM succeeds or fails with XX002") or diag($err);
  ($ret, $out, $err) = $node->psql('postgres', "SELECT elements FROM nmvec_index_stats('t_${name}_v')");
  ok($ret == 0 || $err =~ /ERROR:/, "$name: nmvec_index_stats answers or errors") or diag($err);
}

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $started, 'the server never restarted');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend crashed');
$node->stop;
done_testing();

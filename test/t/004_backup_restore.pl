# 004_backup_restore.pl: a DBA's ordinary backup and restore of a salesboard
# database, with no extra step (doc/reference.md, "Backup and restore").
#
# A sample company is loaded and fingerprinted: every row of every table the
# extension registers for pg_dump (count and md5 of the ordered rows), every
# sequence, the boards of two employees at a pinned moment, and verify().
# Each path must give a database with the same fingerprint:
#   custom format restored by pg_restore, plain and with -j 2, and with
#   --single-transaction; a plain SQL dump into psql; a data-only restore
#   into a fresh CREATE EXTENSION; dumps taken without a superuser, by a
#   member of salesboard_backup (--role) and by a member of salesboard_admin
#   (--enable-row-security).
# pg_restore must end without a single error, and a restored database must
# keep working (a new deal gets a fresh id, a move writes history).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{SB_SRC} // '../..';

my $node = PostgreSQL::Test::Cluster->new('backup');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\n");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE company');
$node->safe_psql('company', 'CREATE EXTENSION salesboard');
my ($rc, $out, $err) = $node->psql('company', undef,
	extra_params => [ '-v', 'ON_ERROR_STOP=1', '-v', 'deals=600', '-v', 'employees=24',
					  '-v', "at='2026-11-27 09:00+00'", '-f', "$src/scripts/sample_company.sql" ]);
is($rc, 0, 'the sample company loads') or diag($err);
# some history after the load: moves, a close, a reopen through the API
$node->safe_psql('company', q{
SET search_path = salesboard;
SELECT move_deal(d.id, s.id, 'Talked it through', '2026-12-01 10:00+00', 'Send the offer', at => '2026-11-28 09:00+00')
  FROM deal d JOIN LATERAL (SELECT s.id FROM stage s WHERE s.pipeline_id = d.pipeline_id AND s.kind = 'open'
                            AND s.position > (SELECT position FROM stage WHERE id = d.stage_id)
                            ORDER BY s.position LIMIT 1) s ON true
 WHERE d.status = 'open' AND d.id % 7 = 0;
SELECT close_deal(d.id, true, 'Signed', at => '2026-11-28 10:00+00') FROM deal d WHERE d.status = 'open' AND d.id % 11 = 0;
});

# the fingerprint: one line per fact, in a fixed order
my $fingerprint = <<'SQL';
\pset format unaligned
\pset tuples_only on
SELECT format('SELECT %L || '': '' || count(*) || '' '' || md5(coalesce(string_agg(t::text, ''|'' ORDER BY t::text), '''')) FROM %s t',
              c.relname, c.oid::regclass)
  FROM pg_extension e, unnest(e.extconfig) AS x(oid) JOIN pg_class c ON c.oid = x.oid
 WHERE e.extname = 'salesboard' AND c.relkind = 'r' ORDER BY c.relname \gexec
SELECT format('SELECT %L || '': '' || last_value || '' '' || is_called FROM %s', c.relname, c.oid::regclass)
  FROM pg_extension e, unnest(e.extconfig) AS x(oid) JOIN pg_class c ON c.oid = x.oid
 WHERE e.extname = 'salesboard' AND c.relkind = 'S' ORDER BY c.relname \gexec
SELECT 'board ' || e || ': ' || md5(salesboard.board_text(e, 'month', at => '2026-11-29 09:00+00'))
  FROM unnest(ARRAY[6, 7]) e;
SELECT 'verify: ' || count(*) FROM salesboard.verify();
SQL

sub fingerprint
{
	my ($db) = @_;
	return $node->safe_psql($db, $fingerprint);
}

my $before = fingerprint('company');
like($before, qr/^deal: [1-9]\d* /m, 'the fingerprint counts the deals');
like($before, qr/^verify: 0$/m, 'the source database is consistent');
my $ntables = $node->safe_psql('company', q{SELECT count(*) FROM pg_extension e, unnest(e.extconfig) x(oid)
	JOIN pg_class c ON c.oid = x.oid WHERE e.extname = 'salesboard' AND c.relkind = 'r'});
cmp_ok($ntables, '>=', 15, "the extension registers $ntables tables for pg_dump");
is(scalar(() = $before =~ /^\w+: \d+ [0-9a-f]{32}$/mg), $ntables, 'the fingerprint covers every one of them');

my $dir = $node->basedir;
sub restored_ok
{
	my ($db, $what) = @_;
	my $after = fingerprint($db);
	is($after, $before, "$what: every row, sequence and board restored identically");
	my $id = $node->safe_psql($db, q{
		SET search_path = salesboard;
		SELECT create_deal(7, 1, 'After the restore', '2026-12-24 10:00+00', 'Call', at => now())});
	like($id, qr/^\d+$/, "$what: the restored database takes a new deal");
	is($node->safe_psql($db, 'SELECT count(*) FROM salesboard.verify()'), '0', "$what: verify() is empty after new work");
}

# 1. custom format, pg_restore into a new database, with no extra step
$node->command_ok([ 'pg_dump', '-Fc', '-f', "$dir/company.dump", '-d', $node->connstr('company') ],
	'pg_dump -Fc');
for my $case ([ 'plain', [] ], [ 'parallel', [ '-j', '2' ] ], [ 'single', [ '--single-transaction' ] ])
{
	my ($name, $opts) = @$case;
	$node->safe_psql('postgres', "CREATE DATABASE r_$name");
	my ($stdout, $stderr) = ('', '');
	my $ok = IPC::Run::run([ 'pg_restore', @$opts, '-d', $node->connstr("r_$name"), "$dir/company.dump" ],
		'>', \$stdout, '2>', \$stderr);
	ok($ok, "pg_restore @$opts exits 0");
	is($stderr, '', "pg_restore @$opts reports no error") or diag($stderr);
	restored_ok("r_$name", "pg_restore @$opts");
}

# 2. plain SQL into psql, stopping at the first error
$node->command_ok([ 'pg_dump', '-f', "$dir/company.sql", '-d', $node->connstr('company') ], 'pg_dump (plain SQL)');
$node->safe_psql('postgres', 'CREATE DATABASE r_psql');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('r_psql'), '-f', "$dir/company.sql" ],
	'the plain dump loads into psql with ON_ERROR_STOP');
restored_ok('r_psql', 'pg_dump | psql');

# 3. data only, into a database where the extension was just created
$node->safe_psql('postgres', 'CREATE DATABASE r_data');
$node->safe_psql('r_data', 'CREATE EXTENSION salesboard');
$node->command_ok([ 'pg_restore', '--data-only', '-d', $node->connstr('r_data'), "$dir/company.dump" ],
	'pg_restore --data-only into a fresh CREATE EXTENSION');
restored_ok('r_data', 'data-only restore');

# 4. backups without a superuser
$node->safe_psql('postgres', q{
CREATE ROLE backup_taker LOGIN IN ROLE salesboard_backup;
CREATE ROLE admin_taker LOGIN IN ROLE salesboard_admin;
});
$node->command_ok([ 'pg_dump', '-Fc', '-U', 'backup_taker', '--role=salesboard_backup',
					'-f', "$dir/backup_role.dump", '-d', $node->connstr('company') ],
	'a member of salesboard_backup takes a dump (pg_dump --role=salesboard_backup)');
$node->safe_psql('postgres', 'CREATE DATABASE r_backup_role');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('r_backup_role'), "$dir/backup_role.dump" ],
	'its dump restores');
restored_ok('r_backup_role', 'dump by salesboard_backup');

$node->command_ok([ 'pg_dump', '-Fc', '-U', 'admin_taker', '--enable-row-security',
					'-f', "$dir/admin.dump", '-d', $node->connstr('company') ],
	'a member of salesboard_admin takes a dump (pg_dump --enable-row-security)');
$node->safe_psql('postgres', 'CREATE DATABASE r_admin');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('r_admin'), "$dir/admin.dump" ], 'its dump restores');
restored_ok('r_admin', 'dump by salesboard_admin');

# 5. a backup role that is no admin still cannot write or act
my ($wrc, $wout, $werr) = $node->psql('company', 'SET ROLE salesboard_backup; DELETE FROM salesboard.deal',
	extra_params => [ '-U', 'backup_taker' ]);
like($werr, qr/permission denied/, 'salesboard_backup reads but may not write');

$node->stop;
done_testing();

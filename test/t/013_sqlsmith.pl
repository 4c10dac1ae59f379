# 013_sqlsmith.pl: a short sqlsmith run (issue 16, item 3), bounded by a
# count of queries, once as an employee (salesboard_user, mapped to
# employee 7) and once as an administrator (salesboard_admin), on the
# sample company. sqlsmith generates random SQL from what each role can
# see (--exclude-catalog: the salesboard schema, not the system catalogs)
# and runs it; nearly all of it fails, and that is fine. What must hold:
#   - sqlsmith exits normally after its count of queries;
#   - no server process crashed: the server is up and its log has no
#     "terminated by signal", "server process ... was terminated" or PANIC;
#   - no internal error (SQLSTATE XX000) comes from salesboard: one whose
#     message, detail or context names salesboard, or whose LOCATION is a
#     function of the extension's C code. Internal errors core PostgreSQL
#     raises on odd random SQL are printed (diag), not failed;
#   - salesboard.verify() is empty afterwards.
#
# The seed is random and printed (diag); replay a run with
# SB_SMITH_SEED=<seed>. Size: SB_SMITH_QUERIES queries per role
# (default 4000, about 15 s each). The test is skipped if sqlsmith is
# not installed (make test installs the Debian package sqlsmith,
# scripts/lib.sh).
use strict;
use warnings;
use Time::HiRes qw(time);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{SB_SRC} // '../..';

my $sqlsmith;
for my $dir (split /:/, $ENV{PATH} // '')
{
	$sqlsmith = "$dir/sqlsmith", last if $dir ne '' && -x "$dir/sqlsmith";
}
plan skip_all => 'sqlsmith is not installed (Debian package sqlsmith; make test installs it via scripts/lib.sh)'
  unless defined $sqlsmith;

my $seed = $ENV{SB_SMITH_SEED} // (int(time * 1000) ^ ($$ << 7)) % 1000000007;
$seed = int($seed);
my $queries = int($ENV{SB_SMITH_QUERIES} // 4000);
diag("sqlsmith: seed $seed (replay with SB_SMITH_SEED=$seed), $queries queries per role");

my $node = PostgreSQL::Test::Cluster->new('smith');
$node->init;
# every error logged with its SQLSTATE (%e) and where it was raised
# (LOCATION); after a crash the server restarts (a TAP node shuts down
# otherwise, and sqlsmith would retry its connection once a second to the
# end of its count): the crash is in the log, the run goes on
$node->append_conf('postgresql.conf', qq{shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
log_line_prefix = '%m [%p] %e '
log_error_verbosity = verbose
log_min_error_statement = error
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION salesboard');
my ($rc, $out, $err) = $node->psql('postgres', undef,
	extra_params => [ '-v', 'ON_ERROR_STOP=1', '-v', 'deals=300', '-v', 'employees=24',
					  '-f', "$src/scripts/sample_company.sql" ]);
is($rc, 0, 'the sample company loads') or diag($err);
$node->safe_psql('postgres', q{
	CREATE ROLE smith_employee LOGIN IN ROLE salesboard_user;
	UPDATE salesboard.employee SET role_name = 'smith_employee' WHERE id = 7;
	CREATE ROLE smith_admin LOGIN IN ROLE salesboard_admin;
	ALTER ROLE smith_employee SET statement_timeout = '2s';
	ALTER ROLE smith_admin SET statement_timeout = '2s';
});

my $counts_sql = q{SELECT (SELECT count(*) FROM salesboard.deal) || '/' || (SELECT count(*) FROM salesboard.activity)};
my $counts_before = $node->safe_psql('postgres', $counts_sql);

# the C functions of the extension, by source file: an XX000 raised in one
# of them is salesboard's
my %ours;
for my $file (glob("$src/extension/*.c"))
{
	open(my $fh, '<', $file) or next;
	local $/;
	my $text = <$fh>;
	close($fh);
	(my $base = $file) =~ s{.*/}{};
	$ours{$base}{$1} = 1 while $text =~ /^(?:[\w\s\*]+?\b)?(\w+)\s*\([^;{]*\)\s*\{/mg;
}

my $host = $node->host;
my $port = $node->port;
my $logfile = $node->logfile;
my $total_started = time;

sub run_smith
{
	my ($role, $label, $role_seed) = @_;
	my $log_start = -s $logfile;
	my @cmd = ($sqlsmith, "--target=host=$host port=$port dbname=postgres user=$role",
		"--seed=$role_seed", "--max-queries=$queries", '--exclude-catalog', '--verbose');
	my ($sout, $serr) = ('', '');
	my $started = time;
	my $ok = eval {
		IPC::Run::run(\@cmd, '<', \undef, '>', \$sout, '2>', \$serr,
			IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default * 5));
	};
	my $exit = $?;
	my $elapsed = time - $started;
	ok($ok && $exit == 0, "$label: sqlsmith ran its $queries queries and exited normally")
	  or diag("exit status $exit" . ($@ ? ", $@" : '') . "\nstdout:\n$sout\nstderr (tail):\n" . substr($serr, -4000));

	# progress characters: . ok, e error, S syntax error, t timeout, C connection lost
	my $progress = join('', grep { /^[.eStC]+$/ } split /\n/, $serr);
	my %n;
	$n{$_}++ for split //, $progress;
	my $report = sprintf('%s: %d queries run in %.1f s: %d ok, %d errors, %d syntax errors, %d timeouts, %d connections lost',
		$label, length($progress), $elapsed, $n{'.'} // 0, $n{e} // 0, $n{S} // 0, $n{t} // 0, $n{C} // 0);
	diag($report);
	# sqlsmith's report: the most frequent error messages, with counts
	my @errors = grep { /^\d+\s+\S/ } split /\n/, $serr;
	diag("$label: most frequent errors:\n" . join("\n", @errors[0 .. ($#errors < 9 ? $#errors : 9)])) if @errors;
	is($n{C} // 0, 0, "$label: sqlsmith never lost its connection");

	# the server log of this run
	open(my $fh, '<', $logfile) or die "$logfile: $!";
	seek($fh, $log_start, 0);
	local $/;
	my $log = <$fh> // '';
	close($fh);
	return ($log, length($progress), $elapsed);
}

# the internal errors (XX000) of a stretch of server log, each with its
# DETAIL, CONTEXT, LOCATION and STATEMENT lines
sub internal_errors
{
	my ($log) = @_;
	my (@found, %open, $last);
	for my $line (split /\n/, $log)
	{
		if ($line =~ /^\d{4}-\d\d-\d\d \S+ \S+ \[(\d+)\] (\S*) ?(\w+):  /)
		{
			my ($pid, $state, $level) = ($1, $2, $3);
			if ($level =~ /^(ERROR|FATAL|PANIC|WARNING|LOG)$/)
			{
				delete $open{$pid};
				$last = undef;
				if ($state eq 'XX000')
				{
					push @found, { text => $line };
					$open{$pid} = $last = $found[-1];
				}
			}
			elsif ($open{$pid})
			{
				$open{$pid}{text} .= "\n$line";
				$last = $open{$pid};
			}
		}
		elsif ($last)
		{
			$last->{text} .= "\n$line";	# a statement of several lines
		}
	}
	return @found;
}

sub salesboards
{
	my ($e) = @_;
	my ($head) = split /\n\S+ \S+ \S+ \[\d+\] \S* ?STATEMENT:  /, $e->{text};
	return 1 if $head =~ /salesboard/i;
	if ($head =~ /LOCATION:  (\w+), ([\w.]+):\d+/)
	{
		return 1 if $ours{$2} && $ours{$2}{$1};
	}
	return 0;
}

# an internal error in short: its message and LOCATION, the start of its statement
sub brief
{
	my ($e) = @_;
	my ($head, $stmt) = split /\n\S+ \S+ \S+ \[\d+\] \S* ?STATEMENT:  /, $e->{text}, 2;
	my @lines = map { s/^\S+ \S+ \S+ \[\d+\] \S* ?//r } split /\n/, $head;
	$stmt = join(' ', split ' ', $stmt // '');
	$stmt = substr($stmt, 0, 200) . ' ...' if length($stmt) > 200;
	return join("\n  ", @lines, "STATEMENT: $stmt");
}

my %ran;
for my $run ([ 'smith_employee', 'as an employee' ], [ 'smith_admin', 'as an administrator' ])
{
	my ($role, $label) = @$run;
	my $role_seed = $role eq 'smith_admin' ? ($seed + 1) % 1000000007 : $seed;
	my ($log, $count, $elapsed) = run_smith($role, $label, $role_seed);
	$ran{$label} = $count;

	my @crash = grep { /terminated by signal|server process .* was terminated|PANIC/ } split /\n/, $log;
	is(scalar(@crash), 0, "$label: no server process crashed")
	  or diag(join("\n", @crash,
		map { join(' ', split ' ', $_) } $log =~ /(Failed process was running: .*?)(?=\n\d{4}-\d\d-\d\d |\z)/sg));
	ok($node->poll_query_until('postgres', 'SELECT true'), "$label: the server is up");

	my @internal = internal_errors($log);
	my @ours = grep { salesboards($_) } @internal;
	my @core = grep { !salesboards($_) } @internal;
	is(scalar(@ours), 0, "$label: no internal error (XX000) from salesboard")
	  or diag(join("\n---\n", map { $_->{text} } @ours));
	diag("$label: internal errors of core PostgreSQL (not salesboard's):\n" . join("\n", map { brief($_) } @core))
	  if @core;
}

is($node->safe_psql('postgres', q{SELECT coalesce(string_agg(v::text, E'\n'), '')
	FROM (SELECT * FROM salesboard.verify() LIMIT 20) v}), '', 'verify() is empty after the runs');
diag(sprintf('sqlsmith: %s; deals/activities before %s, after %s; %.1f s in all',
	join(', ', map { "$ran{$_} queries $_" } sort keys %ran), $counts_before,
	$node->safe_psql('postgres', $counts_sql), time - $total_started));

$node->stop;
done_testing();

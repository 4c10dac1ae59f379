# 012_crash_recovery.pl: kill -9 of the server under load loses no
# acknowledged request and half-applies nothing (issue 16, item 2).
#
# One node with fsync = on and synchronous_commit = on (a TAP node has fsync
# off unless told), pg_cron preloaded as everywhere here, the sample company
# (1000 deals). Two rounds, each: eight clients, each a psql process reading
# its own script of transactions as the application role "app" (in
# salesboard_app, set_employee() in every transaction) on the deals of its
# own owners:
#   - one move_deal (request_id => a fresh uuid),
#   - two moves of one owner's deals and a receive_inbound in one
#     transaction (all or nothing),
#   - one receive_inbound (a fresh external_ref, a sender of no client, so
#     it waits in Inbound and locks no deal of another client),
#   - check_overdue(), with the transaction's now() logged.
# A client echoes "SEND <txn>" before BEGIN and "ACK <txn>" only after its
# COMMIT returned (ON_ERROR_STOP: an error ends the client and fails the
# test). After 2-3 s of load:
#   round 1: the postmaster gets SIGKILL; its orphaned backends end on their
#            own (a commit under way still completes and is acknowledged);
#   round 2: the postmaster and every server process get SIGKILL at once
#            (a commit can be cut between its WAL flush and its answer);
# the node restarts (crash recovery) once they are all gone. Then:
#   - every acknowledged transaction is there, every request of it;
#   - every transaction is there whole or not at all, and per client those
#     there are exactly a prefix of its script: all acknowledged ones and at
#     most the one sent after the last acknowledgement (its commit went
#     through, its acknowledgement was lost); nothing after it;
#   - each move is the one asked for (deal, from, to, result, the activity it
#     completed and the one it planned), each deal stands where its last
#     committed move put it, every deal's history is one chain (create, then
#     from = previous to, deal.stage_id and stage_entered_at = the last row);
#   - each request stored is the one sent, once, waiting in Inbound;
#   - the overdue watermark is at least the moment of every acknowledged
#     check; no alert twice;
#   - salesboard.verify() is empty, amcheck finds every table and btree index
#     of the schema sound;
#   - each client retries its transaction in doubt with the same request
#     ids: a move committed before the crash answers replayed, one not
#     committed is applied now, once; a retried acknowledged move is replayed
#     and writes nothing; verify() is still empty.
# Round 2 starts from where round 1 left the deals. The seed is printed
# (SB_CRASH_SEED=<n> replays the same scripts; the moment of the kill, and
# so the counts, differ run to run, the assertions do not).
use strict;
use warnings;
use Time::HiRes qw(time sleep);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $started = time;
my $src     = $ENV{SB_SRC} // '../..';
my $nclients = 8;
my $per_client = 6000;    # transactions per script: far more than 3 s allow
my $seed = $ENV{SB_CRASH_SEED} // int(rand(2**31));
srand($seed);
note "seed $seed (SB_CRASH_SEED=$seed replays the scripts)";

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 40
log_statement = none
lc_messages = 'C'
});
$node->start;
is($node->safe_psql('postgres', q{SELECT current_setting('fsync') || ' ' || current_setting('synchronous_commit')}),
	'on on', 'fsync and synchronous_commit are on');
$node->safe_psql('postgres', 'CREATE EXTENSION salesboard; CREATE EXTENSION amcheck');
my ($rc, $out, $err) = $node->psql('postgres', undef,
	extra_params => [ '-v', 'ON_ERROR_STOP=1', '-v', 'deals=1000', '-f', "$src/scripts/sample_company.sql" ]);
is($rc, 0, 'the sample company loads') or diag($err);
$node->safe_psql('postgres', q{
	CREATE ROLE app LOGIN IN ROLE salesboard_app;
	SELECT salesboard.check_overdue();   -- the backlog, so that checks under load are quick
});

note sprintf '%.1f s: the company is loaded', time - $started;

# ---------------------------------------------------------------- the scripts
my %open_stages;    # pipeline -> [open stage ids]
for (split /\n/, $node->safe_psql('postgres', q{
	SELECT pipeline_id, string_agg(id::text, ',' ORDER BY position) FROM salesboard.stage
	 WHERE kind = 'open' GROUP BY pipeline_id}))
{
	my ($p, $s) = split /\|/;
	$open_stages{$p} = [ split /,/, $s ];
}
my %deal;           # id -> { pipeline, stage, owner }
my %owner_deals;    # owner -> [deal ids]
for (split /\n/, $node->safe_psql('postgres', q{
	SELECT id, pipeline_id, stage_id, owner_id FROM salesboard.deal WHERE status = 'open' ORDER BY id}))
{
	my ($id, $p, $s, $o) = split /\|/;
	$deal{$id} = { pipeline => $p, stage => $s, owner => $o };
	push @{ $owner_deals{$o} }, $id;
}
my @sources = split /\n/, $node->safe_psql('postgres', q{
	SELECT id FROM salesboard.lead_source WHERE active AND is_lead_source ORDER BY id});
my %source_owner = map { split /\|/ } split /\n/, $node->safe_psql('postgres', q{
	SELECT id, owner_id FROM salesboard.lead_source});
my @owners = sort { $a <=> $b } grep { @{ $owner_deals{$_} } >= 2 } keys %owner_deals;
cmp_ok(scalar(@owners), '>=', $nclients, 'enough deal owners for ' . $nclients . ' clients');
cmp_ok(scalar(@sources), '>=', 1, 'an active lead source');

# the API call of one operation of a client's script, as SQL
sub op_call
{
	my ($op) = @_;
	return "salesboard.move_deal($op->{deal}, $op->{to}, '$op->{result}', "
	  . "now() + interval '$op->{hours} hours', '$op->{subject}', request_id => '$op->{rid}')"
	  if $op->{kind} eq 'move';
	return "salesboard.receive_inbound($op->{source}, '$op->{sender}', "
	  . "'$op->{subject}', 'body of $op->{ref}', external_ref => '$op->{ref}')"
	  if $op->{kind} eq 'inbound';
	return 'salesboard.check_overdue()';
}

sub uuid
{
	my $h = join '', map { sprintf '%04x', int(rand(65536)) } 1 .. 8;
	substr($h, 12, 1) = '4';
	substr($h, 16, 1) = (qw(8 9 a b))[ int(rand(4)) ];
	return join '-', substr($h, 0, 8), substr($h, 8, 4), substr($h, 12, 4), substr($h, 16, 4), substr($h, 20, 12);
}

my (%move_by_rid, %inbound_by_ref);
my $dir = PostgreSQL::Test::Utils::tempdir;

sub round
{
	my ($round, $how) = @_;
	my @txns;        # per client: [ { id, kind, ops => [...] } ]
	# where the deals stand now: the previous round's moves, whole or not at all, and its retries
	for (split /\n/, $node->safe_psql('postgres', q{SELECT id, stage_id FROM salesboard.deal WHERE status = 'open'}))
	{
		my ($id, $s) = split /\|/;
		$deal{$id}{stage} = $s;
	}
	for my $c (0 .. $nclients - 1)
	{
		my @mine = grep { $_ % $nclients == $c } 0 .. $#owners;
		my @my_owners = @owners[@mine];
		my (@script, @list);
		push @script, '\set ON_ERROR_STOP 1', '\o /dev/null';
		for my $k (0 .. $per_client - 1)
		{
			my $id = "r$round-c$c-$k";
			my $r  = rand();
			my $t  = { id => $id, client => $c, seq => $k, ops => [] };
			my $owner = $my_owners[ int(rand(@my_owners)) ];
			my $move = sub {
				my ($d) = @_;
				my $cur = $deal{$d}{stage};
				my @to  = grep { $_ != $cur } @{ $open_stages{ $deal{$d}{pipeline} } };
				my $to  = $to[ int(rand(@to)) ];
				my $op  = { kind => 'move', rid => uuid(), deal => $d, from => $cur, to => $to,
					result => "crash $id moved $d", subject => "crash $id next for $d", txn => $id,
					hours => 1 + int(rand(72)) };
				$deal{$d}{stage} = $to;    # the client's view: its deals move only by its hand
				$move_by_rid{ $op->{rid} } = $op;
				return $op;
			};
			my $inbound = sub {
				my $j   = scalar @{ $t->{ops} };
				my $src = $sources[ int(rand(@sources)) ];
				my $op  = { kind => 'inbound', source => $src, ref => "crash-$seed-$id-$j",
					sender => "Crash Tester <$id.$j\@crash.invalid>", subject => "crash $id request $j", txn => $id };
				$inbound_by_ref{ $op->{ref} } = $op;
				return $op;
			};
			if ($r < 0.50)
			{
				$t->{kind} = 'move';
				my $ds = $owner_deals{$owner};
				push @{ $t->{ops} }, $move->($ds->[ int(rand(@$ds)) ]);
			}
			elsif ($r < 0.65)
			{
				$t->{kind} = 'moves+inbound';
				my @ds = @{ $owner_deals{$owner} };
				my $i = int(rand(@ds));
				my $a = splice(@ds, $i, 1);
				my $b = $ds[ int(rand(@ds)) ];
				($a, $b) = ($b, $a) if $b < $a;    # deals in id order, as the extension locks them
				push @{ $t->{ops} }, $move->($a), $move->($b), $inbound->();
			}
			elsif ($r < 0.90)
			{
				$t->{kind} = 'inbound';
				push @{ $t->{ops} }, $inbound->();
			}
			else
			{
				$t->{kind} = 'check';
				push @{ $t->{ops} }, { kind => 'check', txn => $id };
			}
			push @script, "\\echo SEND $id", 'BEGIN;';
			push @script, "SELECT salesboard.set_employee($owner);" unless $t->{kind} eq 'check';
			for my $op (@{ $t->{ops} })
			{
				push @script, 'SELECT ' . op_call($op) . ';';
				push @script, 'SELECT now() AS checked_at \gset' if $op->{kind} eq 'check';
			}
			push @script, 'COMMIT;', $t->{kind} eq 'check' ? "\\echo ACK $id :checked_at" : "\\echo ACK $id";
			push @list, $t;
		}
		push @script, '\echo DONE';
		PostgreSQL::Test::Utils::append_to_file("$dir/r$round-client$c.sql", join("\n", @script) . "\n");
		push @txns, \@list;
	}


	note sprintf '%.1f s: round %d: the scripts are written', time - $started, $round;

	# ---------------------------------------------------------------- the load
	my $connstr = $node->connstr('postgres') . ' user=app';
	my @h;
	for my $c (0 .. $nclients - 1)
	{
		$h[$c] = IPC::Run::start([ 'psql', '-X', '-q', '-d', $connstr, '-f', "$dir/r$round-client$c.sql" ],
			'<', \undef, '>', "$dir/r$round-client$c.out", '2>', "$dir/r$round-client$c.err",
			IPC::Run::timeout(120));
	}
	my $connected = 0;
	for (1 .. 200)
	{
		$connected = $node->safe_psql('postgres', q{SELECT count(*) FROM pg_stat_activity WHERE usename = 'app'});
		last if $connected == $nclients;
		sleep 0.05;
	}
	is($connected, $nclients, "$nclients clients connected");
	my $load_started = time;
	sleep 2 + rand(1);
	my @pids = split /\n/, $node->safe_psql('postgres', q{SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()});
	my $postmaster = $node->{_pid};
	my $log_offset = -s $node->logfile;
	if ($how eq 'postmaster')
	{
		$node->kill9;
	}
	else
	{
		# all at once, as if the machine had lost them: commits cut between
		# their WAL flush and their answer
		kill 'KILL', $postmaster, @pids;
		$node->{_pid} = undef;
	}
	my $loaded = time - $load_started;
	note sprintf 'postmaster %d%s killed after %.1f s of load', $postmaster,
	  ($how eq 'postmaster' ? '' : ' and ' . scalar(@pids) . ' server processes'), $loaded;

	# the clients see their connections go; the orphaned backends end on their own
	note sprintf '%.1f s: killed', time - $started;
	my @exit;
	for my $c (0 .. $nclients - 1)
	{
		eval { $h[$c]->finish; };
		if ($@) { $h[$c]->kill_kill; diag("client $c: $@"); }
		$exit[$c] = $h[$c]->result(0);
	}
	note sprintf '%.1f s: the clients are done', time - $started;
	my $deadline = time + 60;
	while (time < $deadline && grep { kill 0, $_ } @pids, $postmaster) { sleep 0.1; }
	my @alive = grep { kill 0, $_ } @pids, $postmaster;
	is(scalar(@alive), 0, 'the postmaster and its children are gone') or diag("still alive: @alive");

	note sprintf '%.1f s: every server process is gone', time - $started;
	my $ok_start = 0;
	for (1 .. 20)
	{
		last if ($ok_start = $node->start(fail_ok => 1));
		sleep 0.5;
	}
	ok($ok_start, 'the node restarts after the crash');
	like(PostgreSQL::Test::Utils::slurp_file($node->logfile, $log_offset),
		qr/database system was interrupted|was not properly shut down; automatic recovery in progress/,
		'and went through crash recovery');

	note sprintf '%.1f s: restarted', time - $started;

	# ---------------------------------------------------------------- what the clients saw
	my (%acked, %sent, %checked_at, @last_ack, @last_sent, @client_errors);
	for my $c (0 .. $nclients - 1)
	{
		my $o = PostgreSQL::Test::Utils::slurp_file("$dir/r$round-client$c.out");
		my $e = PostgreSQL::Test::Utils::slurp_file("$dir/r$round-client$c.err");
		($last_ack[$c], $last_sent[$c]) = (-1, -1);
		for (split /\n/, $o)
		{
			if (/^SEND r\d+-c\d+-(\d+)$/) { $sent{"r$round-c$c-$1"} = 1; $last_sent[$c] = $1; }
			elsif (/^ACK (r\d+-c\d+-(\d+))(?: (.*))?$/)
			{
				$acked{$1} = 1;
				push @client_errors, "client $c: ACK $1 out of order" if $2 != $last_ack[$c] + 1;
				$last_ack[$c] = $2;
				$checked_at{$1} = $3 if defined $3;
			}
			elsif (/^DONE$/) { push @client_errors, "client $c ran its whole script before the kill"; }
		}
		# what an ended connection says, and nothing else (psql exits 2 then)
		my @bad = grep { !/server closed the connection unexpectedly|This probably means the server terminated abnormally|before or while processing the request|connection to server was lost|terminating connection due to unexpected postmaster exit|no connection to the server|^\s*$/ } split /\n/, $e;
		push @client_errors, "client $c stderr: @bad" if @bad;
		push @client_errors, "client $c exit code $exit[$c] (2: connection lost)" if $exit[$c] != 2;
		push @client_errors, "client $c acknowledged nothing" if $last_ack[$c] < 0;
		push @client_errors, "client $c sent $last_sent[$c] after acknowledging $last_ack[$c]"
		  if $last_sent[$c] > $last_ack[$c] + 1 || $last_sent[$c] < $last_ack[$c];
	}
	is_deeply(\@client_errors, [], 'every client ran without an error until its connection went, mid-script');

	# ---------------------------------------------------------------- what is there
	my %hist;    # request_id -> row
	for (split /\n/, $node->safe_psql('postgres', q{
		SELECT h.request_id, h.deal_id, h.event, h.from_stage_id, h.to_stage_id, h.result,
		       coalesce(a.status, '-'), coalesce(a.result, '-'), coalesce(n.deal_id::text, '-'), coalesce(n.subject, '-'),
		       coalesce(n.status, '-'), h.moved_by
		  FROM salesboard.stage_history h
		  LEFT JOIN salesboard.activity a ON a.id = h.activity_id
		  LEFT JOIN salesboard.activity n ON n.id = h.next_activity_id
		 WHERE h.request_id IS NOT NULL}))
	{
		my @f = split /\|/;
		$hist{ $f[0] } = { deal => $f[1], event => $f[2], from => $f[3], to => $f[4], result => $f[5],
			done_status => $f[6], done_result => $f[7], next_deal => $f[8], next_subject => $f[9],
			next_status => $f[10], moved_by => $f[11] };
	}
	my %inb;     # external_ref -> row
	for (split /\n/, $node->safe_psql('postgres', q{
		SELECT external_ref, source_id, sender, subject, status, owner_id, count(*) OVER (PARTITION BY external_ref)
		  FROM salesboard.inbound WHERE external_ref LIKE 'crash-%'}))
	{
		my @f = split /\|/;
		$inb{ $f[0] } = { source => $f[1], sender => $f[2], subject => $f[3], status => $f[4], owner => $f[5], copies => $f[6] };
	}
	my $unknown_moves = grep { !$move_by_rid{$_} } keys %hist;
	my $unknown_inb   = grep { !$inbound_by_ref{$_} } keys %inb;
	is($unknown_moves + $unknown_inb, 0, 'nothing is there that no client sent');

	my $present = sub {
		my ($op) = @_;
		return $op->{kind} eq 'move' ? exists $hist{ $op->{rid} } : exists $inb{ $op->{ref} };
	};

	my (@lost, @partial, @gaps, @wrong, %committed);
	my ($n_acked, $n_ack_lost, $n_absent, $n_acked_checks) = (0, 0, 0, 0);
	my %expected_stage = map { $_ => undef } keys %deal;
	for my $c (0 .. $nclients - 1)
	{
		my $prefix_end = -1;    # the last committed transaction of the prefix
		my $gap = 0;
		for my $t (@{ $txns[$c] })
		{
			my @ops = grep { $_->{kind} ne 'check' } @{ $t->{ops} };
			my $there = grep { $present->($_) } @ops;
			push @partial, "$t->{id}: $there of " . scalar(@ops) . ' requests there' if $there && $there < @ops;
			my $is = @ops ? $there == @ops : $acked{ $t->{id} };    # a check alone: as acknowledged
			if ($acked{ $t->{id} })
			{
				$n_acked++;
				push @lost, $t->{id} unless $is;
			}
			elsif ($t->{seq} == $last_ack[$c] + 1 && $sent{ $t->{id} } && @ops)
			{
				$is ? $n_ack_lost++ : $n_absent++;
			}
			if ($is)
			{
				$committed{ $t->{id} } = 1;
				push @gaps, "$t->{id} is there after a transaction that is not" if $gap;
				$prefix_end = $t->{seq};
			}
			else { $gap = 1; }
		}
		push @gaps, "c$c: committed up to $prefix_end, acknowledged up to $last_ack[$c]"
		  if $prefix_end < $last_ack[$c] || $prefix_end > $last_ack[$c] + 1;
		push @gaps, "c$c: r$round-c$c-$prefix_end is there but was never sent"
		  if $prefix_end >= 0 && !$sent{"r$round-c$c-$prefix_end"};
	}
	note sprintf 'acknowledged transactions: %d; in doubt: %d committed (acknowledgement lost), %d absent',
	  $n_acked, $n_ack_lost, $n_absent;
	cmp_ok($n_acked, '>=', $nclients * 5, 'the clients got work acknowledged before the crash');
	is_deeply(\@lost, [], 'every acknowledged transaction is there, every request of it');
	is_deeply(\@partial, [], 'no transaction is there in part');
	is_deeply(\@gaps, [], "each client's committed transactions are its acknowledged ones and at most the one in doubt");

	# each request stored is the one sent; the deals stand where their last moves put them
	for my $c (0 .. $nclients - 1)
	{
		for my $t (@{ $txns[$c] })
		{
			next unless $committed{ $t->{id} };
			for my $op (@{ $t->{ops} })
			{
				if ($op->{kind} eq 'move')
				{
					my $h = $hist{ $op->{rid} };
					my $want = join '|', $op->{deal}, 'move', $op->{from}, $op->{to}, $op->{result},
					  'done', $op->{result}, $op->{deal}, $op->{subject}, $deal{ $op->{deal} }{owner};
					my $got = join '|', @$h{qw(deal event from to result done_status done_result next_deal next_subject moved_by)};
					push @wrong, "move $op->{rid} ($t->{id}): want $want, got $got" if $want ne $got;
					$expected_stage{ $op->{deal} } = $op->{to};
				}
				elsif ($op->{kind} eq 'inbound')
				{
					my $i = $inb{ $op->{ref} };
					my $want = join '|', $op->{source}, $op->{sender}, $op->{subject}, 'new', $source_owner{ $op->{source} }, 1;
					my $got = join '|', @$i{qw(source sender subject status owner copies)};
					push @wrong, "inbound $op->{ref} ($t->{id}): want $want, got $got" if $want ne $got;
				}
			}
		}
	}
	is_deeply(\@wrong, [], 'every stored move and request is the one sent: history, completed and planned activity');

	my %now_stage = map { split /\|/ } split /\n/, $node->safe_psql('postgres', q{
		SELECT id, stage_id FROM salesboard.deal WHERE status = 'open'});
	my @misplaced = map { "deal $_: stage $now_stage{$_}, want $expected_stage{$_}" }
	  grep { defined $expected_stage{$_} && ($now_stage{$_} // '-') ne $expected_stage{$_} } sort { $a <=> $b } keys %expected_stage;
	my $moved_deals = grep { defined $expected_stage{$_} } keys %expected_stage;
	is_deeply(\@misplaced, [], "the $moved_deals deals moved stand where their last committed move put them");

	is($node->safe_psql('postgres', q{
		WITH h AS (
		  SELECT h.*, lag(h.to_stage_id) OVER w AS prev_to, row_number() OVER w AS n,
		         count(*) OVER (PARTITION BY h.deal_id) AS total
		    FROM salesboard.stage_history h
		  WINDOW w AS (PARTITION BY h.deal_id ORDER BY h.moved_at, h.id))
		SELECT coalesce(string_agg(format('deal %s history %s: %s', h.deal_id, h.id, why), '; ' ORDER BY h.deal_id, h.n), '')
		  FROM h JOIN salesboard.deal d ON d.id = h.deal_id,
		  LATERAL (SELECT CASE
		    WHEN h.n = 1 AND h.event <> 'create' THEN 'first row is no create'
		    WHEN h.n > 1 AND h.event = 'create' THEN 'a second create'
		    WHEN h.n > 1 AND h.from_stage_id IS DISTINCT FROM h.prev_to THEN 'from is not the previous to'
		    WHEN h.n = h.total AND h.to_stage_id <> d.stage_id THEN 'last row is not where the deal stands'
		    WHEN h.n = h.total AND h.moved_at <> d.stage_entered_at THEN 'last row is not when the deal entered its stage'
		  END AS why) w
		 WHERE why IS NOT NULL}), '', 'every deal\'s stage history is one chain ending where the deal stands');

	is($node->safe_psql('postgres', q{
		SELECT count(*) FROM salesboard.deal d
		 WHERE NOT EXISTS (SELECT 1 FROM salesboard.stage_history h WHERE h.deal_id = d.id)}), '0',
		'every deal has its history');

	my $wm = $node->safe_psql('postgres', q{SELECT activities_until FROM salesboard.overdue_check});
	$n_acked_checks = keys %checked_at;
	my $late = $n_acked_checks ? $node->safe_psql('postgres', 'SELECT coalesce(string_agg(txn, \' \' ORDER BY txn), \'\') FROM (VALUES '
		  . join(', ', map { "('$_', '$checked_at{$_}'::timestamptz)" } sort keys %checked_at)
		  . ") v(txn, at) WHERE at > '$wm'::timestamptz") : '';
	is($late, '', "the overdue watermark ($wm) covers all $n_acked_checks acknowledged checks");
	is($node->safe_psql('postgres', q{
		SELECT count(*) FROM (SELECT 1 FROM salesboard.alert
		 GROUP BY employee_id, kind, deal_id, coalesce(activity_id, 0), event_at HAVING count(*) > 1) x}), '0',
		'no alert raised twice');

	is($node->safe_psql('postgres', q{
		SELECT coalesce(string_agg(format('%s %s %s %s', deal_id, activity_id, rule, detail), '; '), '') FROM salesboard.verify()}),
		'', 'salesboard.verify() is empty after recovery');

	is($node->safe_psql('postgres', q{
		SELECT coalesce(string_agg(c.relname || ': ' || x.msg, '; '), '')
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
		  LATERAL (SELECT format('block %s offset %s: %s', blkno, offnum, msg) AS msg FROM verify_heapam(c.oid)) x
		 WHERE n.nspname = 'salesboard' AND c.relkind = 'r'}), '', 'amcheck: every table of the schema is sound');
	is($node->safe_psql('postgres', q{
		SELECT count(bt_index_check(c.oid, true)) = count(*) AND count(*) > 20
		  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam
		 WHERE n.nspname = 'salesboard' AND c.relkind = 'i' AND a.amname = 'btree'}), 't',
		'amcheck: every btree index of the schema agrees with its table');

	note sprintf '%.1f s: checked', time - $started;

	# ---------------------------------------------------------------- the clients retry
	# Each client retries its transaction in doubt with the same request ids, as
	# an application does when it never heard back.
	my @retry_wrong;
	my ($replayed, $applied) = (0, 0);
	for my $c (0 .. $nclients - 1)
	{
		my $t = $txns[$c][ $last_ack[$c] + 1 ] or next;
		next unless $sent{ $t->{id} } && grep { $_->{kind} ne 'check' } @{ $t->{ops} };
		my $was = $committed{ $t->{id} } ? 1 : 0;
		my @sql = ('BEGIN;');
		my $owner;
		for my $op (@{ $t->{ops} })
		{
			$owner //= $deal{ $op->{deal} }{owner} if $op->{kind} eq 'move';
		}
		for my $op (@{ $t->{ops} })
		{
			my $call = op_call($op);
			push @sql, $op->{kind} eq 'move' ? "SELECT 'move ' || replayed FROM $call;"
			  : $op->{kind} eq 'inbound' ? "SELECT 'inbound ' || ($call IS NOT NULL);"
			  : "SELECT 'check ' || ($call >= 0);";
		}
		splice @sql, 1, 0, "SELECT salesboard.set_employee($owner);" if defined $owner;
		push @sql, 'COMMIT;';
		my ($rrc, $rout, $rerr) = $node->psql('postgres', join("\n", @sql),
			extra_params => [ '-U', 'app', '-v', 'ON_ERROR_STOP=1' ]);
		my @moves = $rout =~ /^move (\w+)$/mg;
		my $want_replayed = $was ? 'true' : 'false';
		push @retry_wrong, "$t->{id}: psql $rrc $rerr" if $rrc;
		push @retry_wrong, "$t->{id} (committed: $was): moves answered replayed = @moves"
		  if grep { $_ ne $want_replayed } @moves;
		$was ? $replayed++ : $applied++;
		my @copies = split /\n/, $node->safe_psql('postgres', join ";\n", map {
			$_->{kind} eq 'move'
			  ? "SELECT count(*) FROM salesboard.stage_history WHERE request_id = '$_->{rid}'"
			  : "SELECT count(*) FROM salesboard.inbound WHERE source_id = $_->{source} AND external_ref = '$_->{ref}'"
		} grep { $_->{kind} ne 'check' } @{ $t->{ops} });
		push @retry_wrong, "$t->{id}: copies after the retry: @copies" if grep { $_ ne '1' } @copies;
	}
	note sprintf '%.1f s: retried', time - $started;
	is_deeply(\@retry_wrong, [], "retries of the transactions in doubt: $replayed replayed, $applied applied now, each once");

	# an acknowledged move retried: replayed, nothing changes
	my ($any) = grep { $acked{ $_->{txn} } } sort { $a->{txn} cmp $b->{txn} } values %move_by_rid;
	my $hist_count = $node->safe_psql('postgres', 'SELECT count(*) FROM salesboard.stage_history');
	my $retried = $node->safe_psql('postgres', qq{
		BEGIN;
		SELECT salesboard.set_employee($deal{$any->{deal}}{owner});
		SELECT 'replayed ' || replayed FROM salesboard.move_deal($any->{deal}, $any->{to}, '$any->{result}', now() + interval '1 hour',
		       '$any->{subject}', request_id => '$any->{rid}');
		COMMIT;}, extra_params => [ '-U', 'app' ]);
	like($retried, qr/^replayed true$/m, 'an acknowledged move retried answers replayed');
	is($node->safe_psql('postgres', 'SELECT count(*) FROM salesboard.stage_history'), $hist_count, 'and writes no history');
	is($node->safe_psql('postgres', q{
		SELECT count(*) FROM salesboard.verify()}), '0', 'verify() is still empty after the retries');

}

subtest 'round 1: kill -9 of the postmaster' => sub { round(1, 'postmaster') };
subtest 'round 2: kill -9 of every server process at once' => sub { round(2, 'every server process') };

note sprintf '%.1f s: both rounds done', time - $started;
$node->stop;
note sprintf 'run time %.1f s', time - $started;
done_testing();

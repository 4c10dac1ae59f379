# 011_random_operations.pl: several sessions at once issue thousands of
# random API calls, valid and invalid, on the sample company (issue 16,
# item 1): moves (to valid and invalid stages), closes, reopens, plans in
# the past and the future, completes and cancels (also of the last planned
# activity, alone and with a new plan in the same transaction), set_priority,
# create_deal, deletes of deals by an administrator, inbound receive (repeated
# external refs, copies, replies, processed folders), dismiss, accept and
# link, overdue checks, and retries: request ids from a small pool are
# repeated verbatim (a retry, often while the first is still running in
# another session) and reused for other operations (SB012).
#
# Every call either succeeds or fails with a documented SQLSTATE; none is
# XX000 and the server never crashes. Afterwards, whatever the interleaving:
# verify() is empty; the stage history of every deal is one chain; no alert
# is raised twice; no inbound request is handled twice; a message is stored
# once per source and external_ref; every request id maps to one operation
# with one answer, and api_request / stage_history agree with what the
# clients were answered.
#
# The operations are drawn from a seed, printed (diag); replay a run with
# SB_SEED=<seed> (the interleaving of the sessions still varies). Size:
# SB_ROPS_OPS operations per session (default 1000), 6 sessions.
use strict;
use warnings;
use Time::HiRes qw(time sleep);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $started = time;
my $src = $ENV{SB_SRC} // '../..';
my $seed = $ENV{SB_SEED} // (int(time * 1000) ^ ($$ << 7)) % 1000000007;
$seed = int($seed);
my $per_session = $ENV{SB_ROPS_OPS} // 1000;
diag("random operations: seed $seed (replay with SB_SEED=$seed), $per_session operations per session");

# a PRNG of our own (xorshift32): the operations of a seed depend on
# nothing else that draws from Perl's rand() (the test modules pick ports)
my $rng = (($seed * 2654435761) + 0x9e3779b9) & 0xffffffff;
$rng ||= 1;
sub rnd
{
	$rng ^= ($rng << 13) & 0xffffffff;
	$rng ^= $rng >> 17;
	$rng ^= ($rng << 5) & 0xffffffff;
	return $rng / 4294967296;
}
rnd() for 1 .. 20;
sub pick { return $_[ int(rnd() * @_) ]; }
sub chance { return rnd() < $_[0]; }
sub between { my ($lo, $hi) = @_; return $lo + int(rnd() * ($hi - $lo + 1)); }

# weighted choice: list of [weight, value]
sub weighted
{
	my $total = 0;
	$total += $_->[0] for @_;
	my $r = rnd() * $total;
	for (@_)
	{
		return $_->[1] if ($r -= $_->[0]) < 0;
	}
	return $_[-1][1];
}

sub uuid
{
	return sprintf('%08x-%04x-4%03x-%04x-%04x%08x',
		int(rnd() * 4294967296), int(rnd() * 65536), int(rnd() * 4096),
		0x8000 | int(rnd() * 16384), int(rnd() * 65536), int(rnd() * 4294967296));
}

# ------------------------------------------------------------------
# the cluster and the company
# ------------------------------------------------------------------
my $node = PostgreSQL::Test::Cluster->new('rops');
$node->init;
$node->append_conf('postgresql.conf', q{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
lc_messages = 'C'
deadlock_timeout = '100ms'
log_line_prefix = '%m [%p] %e '
log_min_messages = warning
log_statement = 'none'
max_connections = 40
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION salesboard');
my ($rc, $out, $err) = $node->psql('postgres', undef,
	extra_params => [ '-v', 'ON_ERROR_STOP=1', '-v', 'deals=2000', '-v', 'employees=24',
		'-f', "$src/scripts/sample_company.sql" ]);
is($rc, 0, 'the sample company loads (2000 deals, 24 employees)') or diag($err);

$node->safe_psql('postgres', q{
	CREATE ROLE rop_e7 LOGIN IN ROLE salesboard_user;
	CREATE ROLE rop_e6 LOGIN IN ROLE salesboard_user;
	CREATE ROLE rop_e13 LOGIN IN ROLE salesboard_user;
	CREATE ROLE rop_app LOGIN IN ROLE salesboard_app;
	CREATE ROLE rop_admin LOGIN IN ROLE salesboard_admin;
	UPDATE salesboard.employee SET role_name = 'rop_e7' WHERE id = 7;
	UPDATE salesboard.employee SET role_name = 'rop_e6' WHERE id = 6;
	UPDATE salesboard.employee SET role_name = 'rop_e13' WHERE id = 13;
	UPDATE salesboard.company SET alert_department_heads = true;
	UPDATE salesboard.lost_reason SET active = false WHERE id = 6;
	UPDATE salesboard.lead_source SET active = false WHERE id = 9;

	-- what the clients were answered: one row per committed call (or part
	-- of a call made of two), written in the call's own transaction
	CREATE SCHEMA rops;
	CREATE TABLE rops.ok (op_no int NOT NULL, part int NOT NULL, sess int NOT NULL, emp bigint,
	                      fn text NOT NULL, req uuid, target text, extra text, answer text, replayed boolean,
	                      PRIMARY KEY (op_no, part));
	-- deals deleted, and inbound requests whose deal went with them (the
	-- foreign key's ON DELETE SET NULL), so "a handled request has its deal
	-- unless the deal was deleted" can be checked
	CREATE TABLE rops.deleted_deal (deal_id bigint PRIMARY KEY);
	CREATE TABLE rops.unlinked (inbound_id bigint, old_deal_id bigint);
	CREATE FUNCTION rops.deal_deleted() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS
	  $$BEGIN INSERT INTO rops.deleted_deal VALUES (OLD.id); RETURN NULL; END$$;
	CREATE FUNCTION rops.inbound_unlinked() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS
	  $$BEGIN INSERT INTO rops.unlinked VALUES (OLD.id, OLD.deal_id); RETURN NULL; END$$;
	CREATE TRIGGER zz_rops_deleted AFTER DELETE ON salesboard.deal
	  FOR EACH ROW EXECUTE FUNCTION rops.deal_deleted();
	CREATE TRIGGER zz_rops_unlinked AFTER UPDATE ON salesboard.inbound
	  FOR EACH ROW WHEN (OLD.deal_id IS NOT NULL AND NEW.deal_id IS NULL)
	  EXECUTE FUNCTION rops.inbound_unlinked();
	GRANT USAGE ON SCHEMA rops TO PUBLIC;
	GRANT INSERT ON rops.ok TO PUBLIC;
});

# what the generator needs to know of the data
my (%deal, @closed);
for (split /\n/, $node->safe_psql('postgres',
	q{SELECT id, owner_id, pipeline_id, status FROM salesboard.deal ORDER BY id}))
{
	my ($id, $owner, $pipe, $status) = split /\|/;
	$deal{$id} = { owner => $owner, pipe => $pipe };
	push @closed, $id if $status ne 'open';
}
my @deal_ids = sort { $a <=> $b } keys %deal;
my @emails = split /\n/, $node->safe_psql('postgres',
	q{SELECT email FROM salesboard.client WHERE email IS NOT NULL ORDER BY id LIMIT 80});
my @phones = split /\n/, $node->safe_psql('postgres',
	q{SELECT phone FROM salesboard.client WHERE phone IS NOT NULL ORDER BY id LIMIT 80});
my ($max_activity, $max_inbound) = split /\|/, $node->safe_psql('postgres',
	q{SELECT (SELECT max(id) FROM salesboard.activity), (SELECT max(id) FROM salesboard.inbound)});

# who sees whom: team 1 (6-12, head 6), New York team (13-17, head 13)
my %team = (6 => [ 6 .. 12 ], 7 => [7], 13 => [ 13 .. 17 ]);
my %head_of = map { ($_ => 6) } 7 .. 12;
$head_of{$_} = 13 for 14 .. 17;
$head_of{$_} = 18 for 19 .. 21;
$head_of{$_} = 22 for 23, 24;
my %visible;
for my $e (keys %team)
{
	my %t = map { ($_ => 1) } @{ $team{$e} };
	$visible{$e} = [ grep { $t{ $deal{$_}{owner} } } @deal_ids ];
}
# hot deals, which every session works on, so sessions meet on them
my @hot;
for my $owners ([7], [ 6, 8 .. 12 ], [ 13 .. 17 ], [ 18 .. 24 ])
{
	my %o = map { ($_ => 1) } @$owners;
	my @of = grep { $o{ $deal{$_}{owner} } } @deal_ids;
	push @hot, pick(@of) for 1 .. 10;
}
my %hot_visible = map { my $e = $_; my %t = map { ($_ => 1) } @{ $team{$e} };
	($e => [ grep { $t{ $deal{$_}{owner} } } @hot ]) } keys %team;

# ------------------------------------------------------------------
# the operations
# ------------------------------------------------------------------
my @sessions = (
	{ role => 'rop_e7',    kind => 'user',  emp => 7 },
	{ role => 'rop_e6',    kind => 'user',  emp => 6 },
	{ role => 'rop_e13',   kind => 'user',  emp => 13 },
	{ role => 'rop_app',   kind => 'app' },
	{ role => 'rop_app',   kind => 'app' },
	{ role => 'rop_admin', kind => 'admin' });

my @pool = map { uuid() } 1 .. 120;    # request ids used again and again
my @generated;                          # every operation, for retries
my $receives = 0;

sub lit { return defined $_[0] ? "'$_[0]'" : 'NULL'; }

sub request_id
{
	return weighted([ 35, undef ], [ 50, uuid() ], [ 15, pick(@pool) ]);
}

sub future { return pick("now() + interval '" . between(1, 400) . " hours'", "now() + interval '" . between(1, 50) . " minutes'"); }
sub past { return pick("now() - interval '" . between(1, 48) . " hours'", "now() - interval '1 second'"); }

sub due_args
{
	my ($moment, $date) = @_;    # parameter names
	return weighted(
		[ 82, "$moment => " . future() ],
		[ 5, "$moment => " . past() ],
		[ 7, "$moment => NULL, $date => current_date + " . between(1, 20) ],
		[ 2, "$moment => NULL, $date => current_date - 2" ],
		[ 2, "$moment => 'infinity'" ],
		[ 1, "$moment => NULL" ],
		[ 1, "$moment => " . future() . ", $date => current_date + 3" ]);
}

sub text_arg
{
	my ($name, $text) = @_;
	return weighted([ 95, "$name => '$text'" ], [ 3, "$name => E' \\t'" ], [ 2, "$name => NULL" ]);
}

sub open_stage { my $p = shift; return $p == 2 ? between(8, 10) : between(1, 5); }

sub stage_for_move
{
	my $p = shift;
	return weighted([ 85, open_stage($p) ], [ 4, open_stage(3 - $p) ],
		[ 5, $p == 2 ? pick(11, 12) : pick(6, 7) ], [ 3, 99 ], [ 3, 'NULL' ]);
}

# a deal for a session acting as $emp (undef: any)
my $last_deal;
sub some_deal
{
	my ($emp) = @_;
	if (defined $emp && $visible{$emp})
	{
		return $last_deal = weighted([ 60, pick(@{ $hot_visible{$emp} }) ], [ 25, pick(@{ $visible{$emp} }) ],
			[ 7, pick(@deal_ids) ], [ 8, between(1990, 2200) ]);
	}
	return $last_deal = weighted([ 50, pick(@hot) ], [ 35, pick(@deal_ids) ], [ 15, between(1990, 2200) ]);
}
sub closed_deal { return $last_deal = pick(@closed); }

sub pipe_of { my $d = shift; return $deal{$d} ? $deal{$d}{pipe} : 1; }

# an activity: the deal's next one, another planned one of it, or any id
sub some_activity
{
	my ($d) = @_;
	return weighted(
		[ 45, "(SELECT next_activity_id FROM salesboard.deal WHERE id = $d)" ],
		[ 20, "(SELECT max(id) FROM salesboard.activity WHERE deal_id = $d AND status = 'planned')" ],
		[ 35, between(1, $max_activity + 400) ]);
}

sub some_inbound
{
	return weighted(
		[ 45, "(SELECT id FROM salesboard.inbound WHERE status = 'new' ORDER BY id OFFSET " . between(0, 3) . " LIMIT 1)" ],
		[ 20, "(SELECT id FROM salesboard.inbound ORDER BY id DESC OFFSET " . between(0, 5) . " LIMIT 1)" ],
		[ 35, between(1, $max_inbound + $receives + 20) ]);
}

# the log row of a call: ok(op_no, part, sess, emp, fn, req, target, extra, answer, replayed)
sub logged
{
	my ($part, $fn, $req, $target, $extra, $answer, $replayed, $from) = @_;
	return "INSERT INTO rops.ok SELECT __OP__, $part, __SESS__, __EMP__, '$fn', " . lit($req)
	  . "::uuid, ($target)::text, ($extra)::text, ($answer)::text, $replayed FROM $from;";
}

sub change_call
{
	my ($part, $fn, $req, $deal, $extra, $call) = @_;
	return logged($part, $fn, $req, $deal, $extra,
		'row(x.deal_id, x.history_id, x.planned_activity_id)', 'x.replayed', "salesboard.$call x");
}

my %op_sql;
%op_sql = (
	move => sub {
		my ($emp) = @_;
		my $d = some_deal($emp);
		my $p = pipe_of($d);
		my $s = stage_for_move($p);
		my $req = request_id();
		my $exp = chance(0.15) ? ", expected_stage_id => " . open_stage($p) : '';
		my $kind = chance(0.03) ? ", next_kind => 'meeting'" : chance(0.2) ? ", next_kind => 'task'" : '';
		return ($req, change_call(1, 'move', $req, $d, $s,
			"move_deal(deal_id => $d, to_stage_id => $s, " . text_arg('result', "moved $d to $s") . ', '
			  . due_args('next_due', 'next_due_date') . ", next_subject => 'Next step after $s'$kind$exp, request_id => "
			  . lit($req) . ')'));
	},
	close => sub {
		my ($emp) = @_;
		my $d = chance(0.1) ? closed_deal() : some_deal($emp);
		my $won = chance(0.45) ? 'true' : 'false';
		my $reason = $won eq 'true'
		  ? weighted([ 90, '' ], [ 10, ', lost_reason_id => 1' ])
		  : weighted([ 80, ', lost_reason_id => ' . between(1, 5) ], [ 6, ', lost_reason_id => 6' ],
			[ 7, '' ], [ 7, ', lost_reason_id => 99' ]);
		my $req = request_id();
		my $exp = chance(0.15) ? ", expected_stage_id => " . open_stage(pipe_of($d)) : '';
		return ($req, change_call(1, 'close', $req, $d, $won,
			"close_deal(deal_id => $d, won => $won, " . text_arg('result', "closed $d") . "$reason$exp, request_id => "
			  . lit($req) . ')'));
	},
	reopen => sub {
		my ($emp) = @_;
		my $d = chance(0.4) ? closed_deal() : some_deal($emp);
		my $s = stage_for_move(pipe_of($d));
		my $req = request_id();
		return ($req, change_call(1, 'reopen', $req, $d, $s,
			"reopen_deal(deal_id => $d, to_stage_id => $s, " . due_args('next_due', 'next_due_date')
			  . ", next_subject => 'Reopened', reason => " . pick("'Budget after all'", 'NULL')
			  . ', request_id => ' . lit($req) . ')'));
	},
	plan => sub {
		my ($emp) = @_;
		my $d = some_deal($emp);
		my $req = request_id();
		my $more = weighted([ 70, '' ], [ 10, ", kind => 'task'" ], [ 3, ", kind => 'email'" ],
			[ 7, ", assignee_id => " . between(6, 24) ], [ 3, ", assignee_id => 999" ], [ 7, ", all_day => true" ]);
		return ($req, logged(1, 'plan', $req, $d, 'NULL', 'x', 'NULL',
			"salesboard.plan_activity(deal_id => $d, " . due_args('due', 'due_date') . ', '
			  . text_arg('subject', "Planned on $d") . "$more, request_id => " . lit($req) . ') x'));
	},
	complete => sub {
		my ($emp, $fn) = @_;
		$fn //= 'complete';
		my $d = some_deal($emp);
		my $a = some_activity($d);
		my $req = request_id();
		my $arg = $fn eq 'complete' ? 'result' : 'reason';
		return ($req, logged(1, $fn, $req, 't.a', 'NULL', 'NULL', 'NULL',
			"(SELECT $a AS a) t, LATERAL salesboard.${fn}_activity(activity_id => t.a, "
			  . text_arg($arg, "$fn by rops") . ', request_id => ' . lit($req) . ') x'));
	},
	cancel => sub { return $op_sql{complete}->($_[0], 'cancel'); },
	finish_and_plan => sub {
		# the last planned activity finished and the next planned in one
		# transaction: the documented way past SB001
		my ($emp) = @_;
		my $d = some_deal($emp);
		my $fn = pick('complete', 'cancel');
		my $req = request_id();
		my $req2 = request_id();
		return ($req, logged(1, $fn, $req, 't.a', 'NULL', 'NULL', 'NULL',
			"(SELECT next_activity_id AS a FROM salesboard.deal WHERE id = $d) t, LATERAL salesboard.${fn}_activity("
			  . "activity_id => t.a, " . ($fn eq 'complete' ? 'result' : 'reason') . " => '$fn and plan', request_id => " . lit($req) . ') x')
			  . ' ' . logged(2, 'plan', $req2, $d, 'NULL', 'x', 'NULL',
			"salesboard.plan_activity(deal_id => $d, due => " . future() . ", subject => 'Planned after $fn', request_id => "
			  . lit($req2) . ') x'));
	},
	two_moves => sub {
		# two deals moved in one transaction, in either order: sessions that
		# take the same two deals in opposite orders may deadlock (40P01)
		my ($emp) = @_;
		my ($req, $first) = $op_sql{move}->($emp);
		my ($req2, $second) = $op_sql{move}->($emp);
		$second =~ s/SELECT __OP__, 1,/SELECT __OP__, 2,/;
		return ($req, "$first $second");
	},
	priority => sub {
		my ($emp) = @_;
		my $d = some_deal($emp);
		my $req = request_id();
		my $flag = weighted([ 48, 'true' ], [ 48, 'false' ], [ 4, 'NULL' ]);
		return ($req, logged(1, 'priority', $req, $d, 'NULL', 'NULL', 'NULL',
			"salesboard.set_priority(deal_id => $d, flagged => $flag, request_id => " . lit($req) . ') x'));
	},
	create => sub {
		my ($emp) = @_;
		my $owner = weighted([ 70, $emp // between(6, 24) ], [ 20, between(1, 24) ], [ 5, 999 ], [ 5, 'NULL' ]);
		my $stage = weighted([ 80, between(1, 5) ], [ 8, 8 ], [ 7, pick(6, 7, 11) ], [ 5, 99 ]);
		my $req = request_id();
		my $more = weighted([ 70, '' ], [ 10, ", tags => '{VIP,Urgent}'" ], [ 5, ", tags => '{NoSuchTag}'" ],
			[ 10, ", amount => " . between(100, 90000) . ", currency => 'EUR'" ], [ 5, ", amount => -5" ]);
		return ($req, logged(1, 'create', $req, $owner, 'NULL', 'x', 'NULL',
			"salesboard.create_deal(owner_id => $owner, stage_id => $stage, " . text_arg('title', 'Random deal')
			  . ', ' . due_args('first_due', 'first_due_date') . ", first_subject => 'First call'$more, request_id => "
			  . lit($req) . ') x'));
	},
	dismiss => sub {
		my $req = request_id();
		my $ids = weighted(
			[ 40, "(SELECT array_agg(id) FROM (SELECT id FROM salesboard.inbound WHERE status = 'new' ORDER BY id OFFSET "
				  . between(0, 4) . ' LIMIT ' . between(1, 2) . ') s)' ],
			[ 30, 'ARRAY[' . between(1, $max_inbound + $receives + 20) . ']::bigint[]' ],
			[ 20, 'ARRAY[' . join(',', map { between(1, $max_inbound + $receives + 20) } 1 .. between(2, 3)) . ']::bigint[]' ],
			[ 5, "'{}'::bigint[]" ], [ 5, 'ARRAY[1, NULL]::bigint[]' ]);
		return ($req, logged(1, 'dismiss', $req, 't.a', '(SELECT count(DISTINCT i) FROM unnest(t.a) i)', 'x', 'NULL',
			"(SELECT $ids AS a) t, LATERAL salesboard.dismiss_inbound(ids => t.a, request_id => " . lit($req) . ') x'));
	},
	accept => sub {
		my $i = some_inbound();
		my $req = request_id();
		my $stage = weighted([ 80, between(1, 5) ], [ 8, 9 ], [ 7, pick(6, 12) ], [ 5, 99 ]);
		my $more = weighted([ 80, '' ], [ 10, ', amount => 1500' ], [ 5, ', client_id => 99999' ], [ 5, ', client_id => 3' ]);
		return ($req, logged(1, 'accept', $req, 't.a', 'NULL', 'x', 'NULL',
			"(SELECT $i AS a) t, LATERAL salesboard.accept_inbound(inbound_id => t.a, stage_id => $stage, "
			  . text_arg('title', 'From inbound') . ', ' . due_args('first_due', 'first_due_date')
			  . ", first_subject => 'Call back'$more, request_id => " . lit($req) . ') x'));
	},
	link => sub {
		my ($emp) = @_;
		my $i = some_inbound();
		my $d = chance(0.1) ? closed_deal() : some_deal($emp);
		my $req = request_id();
		return ($req, logged(1, 'link', $req, 't.a', $d, 'NULL', 'NULL',
			"(SELECT $i AS a) t, LATERAL salesboard.link_inbound(inbound_id => t.a, deal_id => $d, request_id => "
			  . lit($req) . ') x'));
	},
	receive => sub {
		$receives++;
		my $source = weighted([ 90, between(1, 10) ], [ 5, 9 ], [ 5, 99 ]);
		my $channel = { 1 => 'email', 5 => 'email', 8 => 'email', 10 => 'email', 2 => 'phone', 6 => 'phone' }->{$source} // 'other';
		my $sender = $channel eq 'email'
		  ? weighted([ 50, pick(@emails) ], [ 40, 'Person ' . between(1, 40) . ' <person' . between(1, 40) . '@example.test>' ], [ 5, ' ' ], [ 5, 'NULL' ])
		  : $channel eq 'phone' ? weighted([ 60, pick(@phones) ], [ 40, '+7 495 ' . between(1000000, 1000050) ])
		  : weighted([ 60, '@handle' . between(1, 30) ], [ 40, pick(@emails) ]);
		$sender = $sender eq 'NULL' ? 'NULL' : "'$sender'";
		my $ref = weighted([ 55, "'<rops-" . between(1, 80) . "\@mail.test>'" ], [ 25, 'NULL' ],
			[ 15, "'<unique-" . uuid() . ">'" ], [ 5, "' '" ]);
		my $more = weighted([ 60, '' ], [ 30, ", thread_ref => '<rops-" . between(1, 80) . "\@mail.test>'" ],
			[ 6, ", folder => 'INBOX/Processed'" ], [ 4, ", payload => '{\"raw\": true}'" ]);
		my $at = weighted([ 80, '' ], [ 10, ", received_at => now() - interval '" . between(1, 300) . " minutes'" ],
			[ 6, ", received_at => now() + interval '1 hour'" ], [ 4, ', received_at => NULL' ]);
		return (undef, logged(1, 'receive', undef, $source, $ref, 'x', 'NULL',
			"salesboard.receive_inbound(source_id => $source, sender => $sender, subject => 'Random request', body => 'Hello'"
			  . ", external_ref => $ref$more$at) x"));
	},
	check => sub {
		my $at = weighted([ 80, '' ], [ 12, "at => now() - interval '" . between(1, 120) . " minutes'" ],
			[ 8, "at => now() + interval '1 hour'" ]);
		return (undef, logged(1, 'check', undef, 'NULL', 'NULL', 'x', 'NULL', "salesboard.check_overdue($at) x"));
	},
	delete => sub {
		my $d = chance(0.2) ? pick(@hot) : between(1, 2150);
		return (undef, "WITH d AS (DELETE FROM salesboard.deal WHERE id = $d RETURNING id) "
			  . logged(1, 'delete', undef, $d, 'NULL', '(SELECT count(*) FROM d)', 'NULL', '(SELECT 1) x'));
	},
	raw => sub {
		my ($emp) = @_;
		my $d = some_deal($emp);
		my $set = weighted([ 60, 'priority = NOT priority' ], [ 20, 'stage_id = ' . open_stage(pipe_of($d)) ],
			[ 10, "next_due = now()" ], [ 10, "title = ' '" ]);
		return (undef, "WITH d AS (UPDATE salesboard.deal SET $set WHERE id = $d RETURNING id) "
			  . logged(1, 'raw', undef, $d, 'NULL', '(SELECT count(*) FROM d)', 'NULL', '(SELECT 1) x'));
	},
);

my %mix = (
	user => [ [ 20, 'move' ], [ 4, 'close' ], [ 5, 'reopen' ], [ 11, 'plan' ], [ 7, 'complete' ], [ 5, 'cancel' ],
		[ 6, 'finish_and_plan' ], [ 3, 'two_moves' ], [ 6, 'priority' ], [ 4, 'create' ], [ 6, 'dismiss' ], [ 5, 'accept' ],
		[ 5, 'link' ], [ 1, 'receive' ], [ 1, 'check' ], [ 2, 'raw' ] ],
	app => [ [ 16, 'move' ], [ 4, 'close' ], [ 4, 'reopen' ], [ 9, 'plan' ], [ 6, 'complete' ], [ 4, 'cancel' ],
		[ 5, 'finish_and_plan' ], [ 3, 'two_moves' ], [ 5, 'priority' ], [ 4, 'create' ], [ 6, 'dismiss' ], [ 5, 'accept' ],
		[ 5, 'link' ], [ 14, 'receive' ], [ 3, 'check' ], [ 2, 'raw' ] ],
	admin => [ [ 10, 'move' ], [ 4, 'close' ], [ 3, 'reopen' ], [ 5, 'plan' ], [ 4, 'complete' ], [ 2, 'cancel' ],
		[ 4, 'priority' ], [ 3, 'create' ], [ 3, 'dismiss' ], [ 3, 'accept' ], [ 3, 'link' ],
		[ 20, 'receive' ], [ 8, 'check' ], [ 2, 'delete' ], [ 4, 'raw' ] ]);

# the transaction around a call: who it acts as, its isolation level
sub wrap
{
	my ($sess, $emp, $body) = @_;
	my $begin = chance(0.15) ? 'BEGIN ISOLATION LEVEL REPEATABLE READ;' : 'BEGIN;';
	my $act = '';
	if ($sess->{kind} eq 'app' && defined $emp)
	{
		$act = " SELECT salesboard.set_employee($emp);";
	}
	return "$begin$act $body COMMIT;";
}

my $op_no = 0;
my (@files, @op_of_line, %op_meta);
for my $s (0 .. $#sessions)
{
	push @files, [];
	push @op_of_line, [];
}
for my $round (1 .. $per_session)
{
	for my $s (0 .. $#sessions)
	{
		my $sess = $sessions[$s];
		$op_no++;
		my ($emp, $fn, $req, $body);
		if (@generated && chance(0.12))
		{
			# a retry: an earlier call with a request id, made again as it was,
			# often while the first still runs in another session
			my @recent = grep { defined $_->{req} } @generated[ ($#generated > 40 ? $#generated - 40 : 0) .. $#generated ];
			my $orig = @recent ? pick(@recent) : undef;
			if ($orig)
			{
				$fn = $orig->{fn};
				$req = $orig->{req};
				$body = $orig->{body};
				$emp = $sess->{kind} eq 'user' ? $sess->{emp}
				  : $sess->{kind} eq 'admin' ? undef
				  : chance(0.85) ? $orig->{emp} : between(6, 24);
			}
		}
		if (!defined $body)
		{
			$fn = weighted(@{ $mix{ $sess->{kind} } });
			if ($sess->{kind} eq 'user')
			{
				$emp = $sess->{emp};
			}
			elsif ($sess->{kind} eq 'app')
			{
				$emp = weighted([ 55, 'owner' ], [ 15, 'head' ], [ 5, 1 ], [ 15, between(6, 24) ], [ 5, 999 ], [ 5, undef ]);
			}
			my $d_emp = defined $emp && $emp =~ /^\d+$/ ? $emp : undef;
			$last_deal = undef;
			($req, $body) = $op_sql{$fn}->($sess->{kind} eq 'user' ? $emp : $d_emp);
			if (defined $emp && ($emp eq 'owner' || $emp eq 'head'))
			{
				# act as the owner (or their head) of the deal the call names
				my $d = $last_deal;
				my $owner = defined $d && $deal{$d} ? $deal{$d}{owner} : between(6, 24);
				$emp = $emp eq 'owner' ? $owner : ($head_of{$owner} // $owner);
			}
			push @generated, { fn => $fn, req => $req, body => $body, emp => $emp };
		}
		my $emp_sql = $sess->{kind} eq 'user' ? $sess->{emp} : ($sess->{kind} eq 'app' && defined $emp ? $emp : 'NULL');
		$emp_sql = 'NULL' if $emp_sql eq '999';
		(my $b = $body) =~ s/__OP__/$op_no/g;
		$b =~ s/__SESS__/$s/g;
		$b =~ s/__EMP__/$emp_sql/g;
		push @{ $files[$s] }, wrap($sess, $emp, $b);
		$op_meta{$op_no} = { sess => $s, fn => $fn };
		$op_of_line[$s][ scalar @{ $files[$s] } ] = $op_no;
	}
}
my $total_ops = $op_no;

# ------------------------------------------------------------------
# run them: one psql per session, all at once
# ------------------------------------------------------------------
my $dir = PostgreSQL::Test::Utils::tempdir('rops');
my @runs;
my $run_started = time;
for my $s (0 .. $#sessions)
{
	my $file = "$dir/session$s.sql";
	open my $fh, '>', $file or die "$file: $!";
	print $fh "$_\n" for @{ $files[$s] };
	close $fh;
	my %r = (file => $file, out => '', err => '');
	# one call per line: psql's "psql:FILE:LINE:" names the call that failed
	$r{h} = IPC::Run::start(
		[ 'psql', '-X', '-q', '-o', '/dev/null', '-v', 'VERBOSITY=verbose', '-d', $node->connstr('postgres'),
			'-U', $sessions[$s]{role}, '-c', "SET statement_timeout = '60s'", '-f', $file ],
		'>', \$r{out}, '2>', \$r{err}, IPC::Run::timeout(300));
	push @runs, \%r;
}
for my $r (@runs)
{
	eval { $r->{h}->finish; };
	if ($@)
	{
		$r->{rc} = "timeout: $@";
		$r->{h}->kill_kill;
	}
	else
	{
		$r->{rc} = $r->{h}->result(0);
	}
}
my $ran = time;
diag(sprintf('%d operations in %d sessions ran in %.1f s', $total_ops, scalar @sessions, $ran - $run_started));

# ------------------------------------------------------------------
# outcomes: every call committed (a row in rops.ok) or failed with one SQLSTATE
# ------------------------------------------------------------------
my (%errors, %error_of_op, %example, @lost);
for my $s (0 .. $#sessions)
{
	my $r = $runs[$s];
	is($r->{rc}, 0, "session $s ($sessions[$s]{role}) ran to the end (psql exit status 0)")
	  or diag(substr($r->{err}, -600));
	for my $line (split /\n/, $r->{err})
	{
		if ($line =~ /^psql:[^:]+:(\d+): (?:ERROR|FATAL|PANIC):  ([0-9A-Z]{5}): (.*)$/)
		{
			my ($ln, $code, $msg) = ($1, $2, $3);
			next if $code eq '25P02';    # the rest of a failed transaction
			my $op = $op_of_line[$s][$ln] // "s$s:l$ln";
			next if exists $error_of_op{$op};
			$error_of_op{$op} = $code;
			my $fn = $op_meta{$op} ? $op_meta{$op}{fn} : '?';
			$errors{$code}{$fn}++;
			$example{$code} //= "op $op ($fn): $msg";
		}
		elsif ($line =~ /server closed the connection|connection to server was lost|terminating connection/)
		{
			push @lost, "session $s: $line";
		}
	}
}
is_deeply(\@lost, [], 'no session lost its connection');
my ($up) = $node->psql('postgres', 'SELECT 1');
ok($up == 0, 'the server is up after the run');
if ($up != 0)
{
	# restart_after_crash is off in these clusters: start it again (crash
	# recovery) to report and to check the invariants on what was committed
	diag('the server is down after the run; starting it again');
	for (1 .. 100)
	{
		last unless -e $node->data_dir . '/postmaster.pid';
		sleep 0.1;
	}
	$node->_update_pid(-1);
	$node->start;
}
my $log = slurp_file($node->logfile);
my @crash = $log =~ /^.*(?:terminated by signal|TRAP:|PANIC|server process .* was terminated|Failed process was running|XX000).*$/mg;
is(join("\n", @crash), '', 'the server log shows no crash, no PANIC, no internal error');

is($errors{XX000} ? join(', ', map { "$_ x$errors{XX000}{$_}" } sort keys %{ $errors{XX000} }) : '',
	'', 'no call failed with XX000 (internal error)')
  or diag("XX000: $example{XX000}");

# the SQLSTATEs the reference documents for these calls
my %documented = map { ($_ => 1) } qw(22004 23514 42501 40001 40P01);
my @undocumented = grep { !/^SB\d{3}$/ && !$documented{$_} } sort keys %errors;
is(join(', ', map { "$_: $example{$_}" } @undocumented), '', 'every error is a documented SQLSTATE');

my %ok_ops = map { ($_ => 1) } split /\n/, $node->safe_psql('postgres', 'SELECT DISTINCT op_no FROM rops.ok');
my @both = grep { $ok_ops{$_} } keys %error_of_op;
my @neither = grep { !$ok_ops{$_} && !exists $error_of_op{$_} } 1 .. $total_ops;
is(scalar(@both) . ' ' . scalar(@neither), '0 0',
	"each of the $total_ops calls either committed or failed, never both or neither")
  or diag('both: ' . join(',', grep { defined } (sort { $a <=> $b } @both)[ 0 .. 9 ])
	  . ' neither: ' . join(',', grep { defined } (sort { $a <=> $b } @neither)[ 0 .. 9 ]));

# the report: operations and outcomes per function, errors per SQLSTATE
my %ok_fn;
$ok_fn{ $op_meta{$_}{fn} }++ for keys %ok_ops;
my %all_fn;
$all_fn{ $_->{fn} }++ for values %op_meta;
diag(sprintf('%-16s %6s %6s', 'operation', 'calls', 'ok'));
diag(sprintf('%-16s %6d %6d', $_, $all_fn{$_}, $ok_fn{$_} // 0)) for sort keys %all_fn;
my $nerr = 0;
for my $code (sort keys %errors)
{
	my $n = 0;
	$n += $_ for values %{ $errors{$code} };
	$nerr += $n;
	diag(sprintf('%-6s %5d  %s', $code, $n, join(' ', map { "$_:$errors{$code}{$_}" } sort keys %{ $errors{$code} })));
}
diag(sprintf('%d calls: %d committed, %d failed', $total_ops, scalar(keys %ok_ops), $nerr));
cmp_ok(scalar(keys %ok_ops), '>', $total_ops / 5, 'a fair share of the calls committed (the run did real work)');

# ------------------------------------------------------------------
# invariants after the run
# ------------------------------------------------------------------
sub rows { my $r = $node->safe_psql('postgres', $_[0]); return $r; }

is(rows(q{SELECT string_agg(rule || ' deal ' || coalesce(deal_id::text, '-') || ' act ' || coalesce(activity_id::text, '-') || ': ' || detail, E'\n')
            FROM (SELECT * FROM salesboard.verify() LIMIT 20) v}), '', 'verify() is empty');

is(rows(q{
	WITH h AS (
	  SELECT h.*, lag(h.to_stage_id) OVER w AS prev_to, row_number() OVER w AS rn,
	         count(*) OVER (PARTITION BY h.deal_id) AS n
	    FROM salesboard.stage_history h
	  WINDOW w AS (PARTITION BY h.deal_id ORDER BY h.moved_at, h.id))
	SELECT string_agg(deal_id || ' row ' || id, ', ') FROM (
	  SELECT deal_id, id FROM h
	   WHERE (rn = 1 AND (event <> 'create' OR from_stage_id IS NOT NULL))
	      OR (rn > 1 AND (event = 'create' OR from_stage_id IS DISTINCT FROM prev_to))
	  LIMIT 20) x}), '', 'stage history: each row starts where the previous one (moved_at, id) ended, and only the first is a create');
is(rows(q{
	SELECT string_agg(d.id::text, ', ') FROM (
	  SELECT d.id FROM salesboard.deal d
	    LEFT JOIN LATERAL (SELECT h.to_stage_id, h.moved_at, h.event FROM salesboard.stage_history h
	                        WHERE h.deal_id = d.id ORDER BY h.moved_at DESC, h.id DESC LIMIT 1) l ON true
	    JOIN salesboard.stage s ON s.id = d.stage_id
	   WHERE l.to_stage_id IS DISTINCT FROM d.stage_id OR l.moved_at IS DISTINCT FROM d.stage_entered_at
	      OR (s.kind = 'open') <> (l.event IN ('create', 'move', 'reopen'))
	   LIMIT 20) d}), '', "every deal stands where its history's last row took it, since that row's moment, by an event of its kind");

is(rows(q{
	SELECT string_agg(x, ', ') FROM (
	  SELECT employee_id || '/' || kind || '/' || deal_id || '/' || coalesce(activity_id::text, '-') || '/' || event_at || ' x' || count(*) AS x
	    FROM salesboard.alert GROUP BY employee_id, kind, deal_id, activity_id, event_at HAVING count(*) > 1 LIMIT 20) a}),
	'', 'no alert raised twice (employee, kind, deal, activity, event moment)');

# inbound: handled once, and consistently
is(rows(q{
	SELECT string_agg(id || ' ' || status, ', ') FROM (
	  SELECT i.id, i.status FROM salesboard.inbound i
	   WHERE (i.status = 'new') <> (i.handled_at IS NULL)
	      OR (i.status = 'new' AND (i.handled_by IS NOT NULL OR i.deal_id IS NOT NULL))
	      OR (i.status = 'dismissed' AND i.deal_id IS NOT NULL)
	      OR (i.status IN ('accepted', 'linked', 'auto_linked') AND i.deal_id IS NULL
	          AND NOT EXISTS (SELECT 1 FROM rops.unlinked u JOIN rops.deleted_deal dd ON dd.deal_id = u.old_deal_id
	                           WHERE u.inbound_id = i.id))
	   LIMIT 20) x}), '',
	'inbound: new exactly while unhandled; accepted, linked and auto_linked have their deal unless it was deleted');
is(rows(q{
	SELECT string_agg(deal_id || ' x' || n, ', ') FROM (
	  SELECT deal_id, count(*) AS n FROM salesboard.inbound WHERE status = 'accepted' AND deal_id IS NOT NULL
	   GROUP BY deal_id HAVING count(*) > 1 LIMIT 20) x}), '', 'no deal was made from two accepted requests');
is(rows(q{
	WITH handled (inbound_id, handling) AS (
	  SELECT o.target::bigint, coalesce(o.req::text, 'op ' || o.op_no) FROM rops.ok o WHERE o.fn IN ('accept', 'link')
	  UNION ALL
	  SELECT e::bigint, coalesce(o.req::text, 'op ' || o.op_no)
	    FROM rops.ok o CROSS JOIN LATERAL unnest(string_to_array(btrim(o.target, '{}'), ',')) e
	   WHERE o.fn = 'dismiss' AND o.answer <> '0')
	SELECT string_agg(inbound_id || ' x' || n, ', ') FROM (
	  SELECT inbound_id, count(DISTINCT handling) AS n FROM handled GROUP BY inbound_id HAVING count(DISTINCT handling) > 1 LIMIT 20) x}),
	'', 'no inbound request was handled by two calls (a retry of one request is one call)');
is(rows(q{
	SELECT string_agg(target || ' -> ' || answers, ', ') FROM (
	  SELECT target, string_agg(DISTINCT answer, ',') AS answers FROM rops.ok WHERE fn = 'accept'
	   GROUP BY target HAVING count(DISTINCT answer) > 1 LIMIT 20) x}), '', 'each accepted request made one deal, whatever the retries');
is(rows(q{
	SELECT string_agg(r.request_id::text, ', ') FROM (
	  SELECT r.request_id FROM salesboard.api_request r
	    LEFT JOIN salesboard.inbound i ON i.id = r.target_id
	   WHERE r.operation = 'accept_inbound'
	     AND (r.deal_id IS NULL OR i.status IS DISTINCT FROM 'accepted'
	          OR (i.deal_id IS DISTINCT FROM r.deal_id
	              AND NOT EXISTS (SELECT 1 FROM rops.unlinked u WHERE u.inbound_id = i.id AND u.old_deal_id = r.deal_id)))
	     OR (r.operation = 'accept_inbound' AND 1 < (SELECT count(*) FROM salesboard.api_request r2
	                                                   WHERE r2.operation = 'accept_inbound' AND r2.target_id = r.target_id))
	   LIMIT 20) r}), '', 'each api_request of accept_inbound: one deal, the one its request is accepted to');
is(rows(q{
	SELECT string_agg(source || '/' || ref || ' -> ' || ids, ', ') FROM (
	  SELECT target AS source, extra AS ref, string_agg(DISTINCT answer, ',') AS ids FROM rops.ok
	   WHERE fn = 'receive' AND extra IS NOT NULL AND btrim(extra) <> ''
	   GROUP BY target, extra HAVING count(DISTINCT answer) > 1 LIMIT 20) x}), '',
	'a message (source, external_ref) is stored once, whatever the repeats');

# request ids: one operation, one answer. The calls that committed with a
# request id; an empty dismiss_inbound (ARRAY[]) is left out: it applies
# nothing and answers 0 without taking its request id, so the id stays free
# for another change (reported with issue 16; doc/reference.md says every id
# is taken in api_request)
$node->safe_psql('postgres', q{
	CREATE VIEW rops.req_ok AS SELECT * FROM rops.ok
	 WHERE req IS NOT NULL AND NOT (fn = 'dismiss' AND target = '{}')});
is(rows(q{
	SELECT string_agg(req || ': ' || keys, E'\n') FROM (
	  SELECT req, string_agg(DISTINCT fn || ' emp ' || coalesce(emp::text, '-') || ' target ' || coalesce(target, '-')
	                           || CASE WHEN fn IN ('move', 'reopen', 'close', 'link', 'dismiss') THEN ' ' || coalesce(extra, '-') ELSE '' END, '; ') AS keys
	    FROM rops.req_ok GROUP BY req
	  HAVING count(DISTINCT fn || ' emp ' || coalesce(emp::text, '-') || ' target ' || coalesce(target, '-')
	                        || CASE WHEN fn IN ('move', 'reopen', 'close', 'link', 'dismiss') THEN ' ' || coalesce(extra, '-') ELSE '' END) > 1
	  LIMIT 20) x}), '', 'every request id that succeeded more than once did so for one operation, target and employee');
is(rows(q{
	SELECT string_agg(req || ': ' || answers, E'\n') FROM (
	  SELECT req, string_agg(DISTINCT coalesce(answer, '-'), '; ') AS answers FROM rops.req_ok
	   GROUP BY req HAVING count(DISTINCT coalesce(answer, '-')) > 1 LIMIT 20) x}), '',
	'a request answered again gives the same answer');
is(rows(q{
	SELECT string_agg(req || ' x' || n, ', ') FROM (
	  SELECT req, count(*) FILTER (WHERE NOT replayed) AS n FROM rops.req_ok
	   WHERE fn IN ('move', 'close', 'reopen') GROUP BY req
	  HAVING count(*) FILTER (WHERE NOT replayed) <> 1 LIMIT 20) x}), '',
	'a move, close or reopen request was applied exactly once (all its other answers say replayed)');
is(rows(q{
	SELECT string_agg(DISTINCT o.req || ' ' || o.fn || ' emp ' || coalesce(o.emp::text, '-') || ' -> '
	                  || coalesce(r.operation || ' ' || r.target_id || ' emp ' || coalesce(r.employee_id::text, '-'), 'no api_request row'), E'\n')
	  FROM rops.req_ok o
	  LEFT JOIN salesboard.api_request r ON r.request_id = o.req
	 WHERE r.request_id IS NULL
	    OR r.operation <> CASE o.fn WHEN 'move' THEN 'stage_change' WHEN 'close' THEN 'stage_change' WHEN 'reopen' THEN 'stage_change'
	                       WHEN 'create' THEN 'create_deal' WHEN 'plan' THEN 'plan_activity' WHEN 'complete' THEN 'complete_activity'
	                       WHEN 'cancel' THEN 'cancel_activity' WHEN 'priority' THEN 'set_priority' WHEN 'dismiss' THEN 'dismiss_inbound'
	                       WHEN 'accept' THEN 'accept_inbound' WHEN 'link' THEN 'link_inbound' END
	    OR r.target_id::text <> CASE WHEN o.fn = 'dismiss' THEN (SELECT min(e::bigint)::text FROM unnest(string_to_array(btrim(o.target, '{}'), ',')) e)
	                                 ELSE o.target END
	    OR r.employee_id IS DISTINCT FROM o.emp}), '',
	'every request id the clients saw succeed is in api_request, with its operation, target and employee');
is(rows(q{
	SELECT string_agg(r.request_id::text, ', ') FROM (
	  SELECT r.request_id FROM salesboard.api_request r
	   WHERE r.operation = 'stage_change' AND EXISTS (SELECT 1 FROM salesboard.deal d WHERE d.id = r.target_id)
	     AND (SELECT count(*) FROM salesboard.stage_history h WHERE h.request_id = r.request_id AND h.deal_id = r.target_id) <> 1
	  UNION ALL
	  SELECT h.request_id FROM salesboard.stage_history h
	   WHERE h.request_id IS NOT NULL AND NOT EXISTS (
	     SELECT 1 FROM salesboard.api_request r WHERE r.request_id = h.request_id AND r.operation = 'stage_change' AND r.target_id = h.deal_id)
	  LIMIT 20) r}), '', 'stage_history and api_request agree: one history row per stage-change request');
is(rows(q{
	SELECT string_agg(o.req || ' answered ' || o.answer, E'\n') FROM rops.req_ok o
	 WHERE o.fn IN ('move', 'close', 'reopen')
	   AND EXISTS (SELECT 1 FROM salesboard.deal d WHERE d.id = o.target::bigint)
	   AND NOT EXISTS (SELECT 1 FROM salesboard.stage_history h
	                    WHERE h.request_id = o.req AND row(h.deal_id, h.id, h.next_activity_id)::text = o.answer)}), '',
	'the history row a stage-change request answered is the one that carries its id');

my $checks = rows(q{SELECT count(*) FROM rops.ok WHERE fn = 'check'});
my $alerts = rows(q{SELECT count(*) FROM salesboard.alert});
my $replays = rows(q{SELECT count(*) FROM rops.ok WHERE replayed});
diag("overdue checks committed: $checks, alerts: $alerts; stage changes replayed: $replays; deals deleted: "
	  . rows(q{SELECT count(*) FROM rops.deleted_deal}));
diag(sprintf('run time %.1f s (seed %d)', time - $started, $seed));

done_testing();

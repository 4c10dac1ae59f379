# 010_hot_standby.pl: a streaming replica serves the board, the funnel, the
# Inbound queue, the alerts and the views read-only, with the primary's
# answers; a write there fails with PostgreSQL's read-only error (25006).
#
# The standby is made from a base backup taken before the extension exists,
# so CREATE EXTENSION, the sample company (1000 deals, 24 employees), a few
# inbound requests received through receive_inbound() and one
# check_overdue() all reach it through WAL replay. After catch-up every
# reader is asked the same question on both nodes, with the moment pinned
# (`at`, `as_of`) so the two clocks do not matter: as a superuser, as an
# employee's login role (employee.role_name; created on the primary, it
# replicates), as a department head's, and as an application role acting
# through set_employee() (which keeps its state in the session, so it works
# on a read-only node). The views read now() (colours, open stays): those
# are asked of the primary before and after the standby, and compared when
# the primary's two answers agree; an open stay's `days` is checked against
# now() on each node instead.
# Then the writes: move_deal(), receive_inbound(), check_overdue() and a raw
# UPDATE, as a superuser and as the employee, each shown to work on the
# primary (rolled back) and to fail on the standby with SQLSTATE 25006
# "cannot execute ... in a read-only transaction", leaving every table as
# it was.
# Last, a standby session that stays open sees configuration changes made on
# the primary (a stage renamed, an employee's zone, a role mapping dropped):
# the extension's per-session caches are dropped by relcache invalidations,
# which the standby replays.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{SB_SRC} // '../..';

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
lc_messages = 'C'
});
$primary->start;

# the replica, from a backup of a cluster that has no salesboard yet
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->start;

$primary->safe_psql('postgres', 'CREATE EXTENSION salesboard');
my ($rc, $out, $err) = $primary->psql('postgres', undef,
	extra_params => [ '-v', 'ON_ERROR_STOP=1', '-v', 'deals=1000', '-v', 'employees=24',
					  '-f', "$src/scripts/sample_company.sql" ]);
is($rc, 0, 'the sample company loads on the primary') or diag($err);
$primary->safe_psql('postgres', q{
	CREATE ROLE dmitry LOGIN IN ROLE salesboard_user;
	CREATE ROLE irina LOGIN IN ROLE salesboard_user;
	CREATE ROLE crm_app LOGIN IN ROLE salesboard_app;
	UPDATE salesboard.employee SET role_name = 'dmitry' WHERE id = 7;
	UPDATE salesboard.employee SET role_name = 'irina' WHERE id = 6;
});
# requests for Dmitry (source 1, e-mail) and Irina (source 3, Telegram)
my $reqs = $primary->safe_psql('postgres', q{
	SELECT salesboard.receive_inbound(1, 'Hot Standby <hs1@nowhere.test>', 'Replica question', 'body',
	                                  external_ref => '<hs-1@nowhere.test>');
	SELECT salesboard.receive_inbound(1, 'hs2@nowhere.test', 'An older one', 'body',
	                                  received_at => now() - interval '1 hour', external_ref => '<hs-2@nowhere.test>');
	SELECT salesboard.receive_inbound(3, '@hs_reader', 'Telegram hello', NULL, external_ref => 'tg-hs-3');
});
like($reqs, qr/^\d+\n\d+\n\d+$/, 'three inbound requests received');
my $raised = $primary->safe_psql('postgres', 'SELECT salesboard.check_overdue()');
cmp_ok($raised, '>', 0, "check_overdue() raised $raised alerts on the primary");

# the pinned moment every reader is asked about
my $T = $primary->safe_psql('postgres', 'SELECT now()::text');
$primary->wait_for_catchup($standby);

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
is($standby->safe_psql('postgres', q{SELECT count(*) FROM salesboard.deal}), '1000',
	'the sample company reached the standby by WAL replay');

# (exit code, stdout, stderr) of a script, errors with their SQLSTATE
sub run_sql
{
	my ($node, $sql, $user) = @_;
	return $node->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		extra_params => [ defined $user ? ('-U', $user) : () ]);
}

# the same question on both nodes: the primary answers with at least
# min_rows lines, and the standby answers the same. volatile: the answer
# reads now(); the primary is asked before and after the standby, and the
# comparison is made when its two answers agree (up to three tries).
sub same_answer
{
	my ($name, $sql, %o) = @_;
	my $who = $o{user} // 'superuser';
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	for my $try (1 .. 3)
	{
		my ($prc, $p, $perr) = run_sql($primary, $sql, $o{user});
		if ($prc != 0)
		{
			fail("$name as $who: the primary answers");
			diag($perr);
			return;
		}
		my ($src_rc, $s, $serr) = run_sql($standby, $sql, $o{user});
		if ($o{volatile})
		{
			my (undef, $p2) = run_sql($primary, $sql, $o{user});
			next if $p2 ne $p && $try < 3;
		}
		my $lines = () = $p =~ /^./mg;
		cmp_ok($lines, '>=', $o{min_rows} // 1, "$name as $who: the primary answers ($lines lines)");
		is($s, $p, "$name as $who: the standby gives the same answer")
		  or diag("standby exit code $src_rc: $serr");
		return $p;
	}
}

my $at = "'$T'::timestamptz";
my $cohort = "period_from => $at - interval '90 days', period_to => $at";

# what every reader asks, for a login role of employee 7 and for a superuser
my @readers = (
	[ 'board(7, week)', "SELECT * FROM salesboard.board(7, 'week', at => $at)" ],
	[ 'board_json(7, week)', "SELECT salesboard.board_json(7, 'week', at => $at)::text" ],
	[ 'card_colour', "SELECT d.id, salesboard.card_colour(d.id, $at) FROM salesboard.deal d
	                   WHERE d.owner_id = 7 ORDER BY d.id" ],
	[ 'funnel snapshot', "SELECT * FROM salesboard.funnel(1, mode => 'snapshot', as_of => $at)" ],
	[ 'funnel cohort', "SELECT * FROM salesboard.funnel(1, $cohort, mode => 'cohort', as_of => $at)" ],
	[ 'funnel_text snapshot', "SELECT salesboard.funnel_text(1, mode => 'snapshot', as_of => $at)" ],
	[ 'funnel_text cohort', "SELECT salesboard.funnel_text(1, $cohort, mode => 'cohort', as_of => $at)" ],
	[ 'inbound_queue(7)', "SELECT * FROM salesboard.inbound_queue(7, $at)" ],
	[ 'alerts(7)', "SELECT * FROM salesboard.alerts(7, false)", min_rows => 0 ],
	[ 'deal_list(7)', "SELECT * FROM salesboard.deal_list(7, at => $at)" ],
	[ 'pipeline_now', "SELECT * FROM salesboard.pipeline_now ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10", volatile => 1 ],
	[ 'deal_cards', "SELECT * FROM salesboard.deal_cards ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12", volatile => 1 ],
	# an open stay lasts to now(): its days are checked on each node against that node's now()
	[ 'stage_durations', "SELECT history_id, deal_id, stage_id, entered_at, left_at,
	                             CASE WHEN left_at IS NULL
	                                  THEN days = round(extract(epoch FROM now() - entered_at) / 86400, 2)
	                                  ELSE NULL END AS open_days_right,
	                             CASE WHEN left_at IS NOT NULL THEN days END AS closed_days
	                        FROM salesboard.stage_durations ORDER BY 1, 2, 3, 4, 5, 6, 7" ],
	[ 'won_lost', "SELECT * FROM salesboard.won_lost ORDER BY 1, 2, 3, 4, 5, 6, 7" ],
);

my %answer;
for my $r (@readers)
{
	my ($name, $sql, %o) = @$r;
	$answer{$name}{superuser} = same_answer($name, $sql, %o);
	$answer{$name}{dmitry} = same_answer($name, $sql, %o, user => 'dmitry');
}
# the comparisons mean something: the pinned answers carry what was done
like($answer{'inbound_queue(7)'}{superuser} // '', qr/Replica question/, 'the Inbound queue holds a request received on the primary');
like($answer{'board_json(7, week)'}{dmitry} // '', qr/"kind": "inbound".*Replica question/s,
	"and so does the employee's board_json()");
like($answer{'card_colour'}{dmitry} // '', qr/\|red$/m, 'some of the coloured cards are red');
like($answer{'funnel_text cohort'}{superuser} // '', qr/cohort/, 'funnel_text draws the cohort');
like($answer{'stage_durations'}{superuser} // '', qr/\|t\|$/m, 'there are open stays');
unlike($answer{'stage_durations'}{superuser} // '', qr/\|f\|$/m, 'every open stay lasts to now() on both nodes');
cmp_ok(length($answer{'deal_list(7)'}{dmitry} // ''), '<', length($answer{'deal_cards'}{superuser} // ''),
	'row-level security narrows what the employee sees');

# a department head: the subtree's Inbound, alerts and board
same_answer('inbound_queue(6)', "SELECT * FROM salesboard.inbound_queue(6, $at)", user => 'irina');
same_answer('inbound_queue(6)', "SELECT * FROM salesboard.inbound_queue(6, $at)");
same_answer('alerts(6)', "SELECT * FROM salesboard.alerts(6, false)", user => 'irina');
same_answer('alerts(6)', "SELECT * FROM salesboard.alerts(6, false)");
same_answer('board(6, week)', "SELECT * FROM salesboard.board(6, 'week', at => $at)", user => 'irina');
same_answer('board_json(6, week)', "SELECT salesboard.board_json(6, 'week', at => $at)::text", user => 'irina');
same_answer('all alerts', "SELECT * FROM salesboard.alert ORDER BY id");

# verify(): the same (empty) answer
same_answer('verify()', 'SELECT * FROM salesboard.verify()', min_rows => 0);
is($standby->safe_psql('postgres', 'SELECT count(*) FROM salesboard.verify()'), '0', 'verify() is empty on the standby');

# who the session acts as
same_answer('current_employee()', 'SELECT salesboard.current_employee()', user => 'dmitry');
is($standby->safe_psql('postgres', 'SELECT salesboard.current_employee()', extra_params => [ '-U', 'dmitry' ]), '7',
	"the employee's login role acts as employee 7 on the standby");

# a pooled application role: set_employee() keeps its choice in the session
my $app_sql = qq{BEGIN;
SELECT salesboard.set_employee(7) \\g /dev/null
SELECT salesboard.current_employee();
SELECT salesboard.board_json(horizon => 'week', at => $at)::text;
SELECT count(*) FROM salesboard.deal_cards;
COMMIT;
SELECT salesboard.current_employee() IS NULL;};
my $app = same_answer('set_employee(7), board_json(), a view, commit', $app_sql, user => 'crm_app', min_rows => 4);
like($app // '', qr/^7\n\{.*\n\d+\nt$/s, 'set_employee() works on the standby and ends with the transaction');

# ---- writes on the standby --------------------------------------------------

my $fingerprint = q{
SELECT 'deal ' || md5(string_agg(d::text, '|' ORDER BY d.id)) FROM salesboard.deal d;
SELECT 'activity ' || count(*) || ' ' || md5(string_agg(a::text, '|' ORDER BY a.id)) FROM salesboard.activity a;
SELECT 'stage_history ' || count(*) || ' ' || md5(string_agg(h::text, '|' ORDER BY h.id)) FROM salesboard.stage_history h;
SELECT 'inbound ' || count(*) || ' ' || md5(string_agg(i::text, '|' ORDER BY i.id)) FROM salesboard.inbound i;
SELECT 'alert ' || count(*) || ' ' || md5(string_agg(a::text, '|' ORDER BY a.id)) FROM salesboard.alert a;
SELECT 'overdue_check ' || count(*) FROM salesboard.overdue_check;
SELECT 'api_request ' || count(*) FROM salesboard.api_request;
};
my $before = $standby->safe_psql('postgres', $fingerprint);
is($before, $primary->safe_psql('postgres', $fingerprint), 'before the writes the standby holds the primary\'s rows');

my ($deal, $next_stage) = split /\|/, $primary->safe_psql('postgres', q{
	SELECT id, stage_id + 1 FROM salesboard.deal
	 WHERE owner_id = 7 AND status = 'open' AND stage_id BETWEEN 1 AND 4 ORDER BY id LIMIT 1});
my $move = qq{SELECT salesboard.move_deal($deal, $next_stage, 'Talked it through', now() + interval '2 days', 'Send the offer')};

# works on the primary (rolled back there); fails on the standby, and in a
# READ ONLY transaction on the primary, with 25006
sub read_only_refusal
{
	my ($name, $sql, $user) = @_;
	my $who = $user // 'superuser';
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my ($prc, $pout, $perr) = run_sql($primary, "BEGIN;\n$sql;\nROLLBACK;", $user);
	is($prc, 0, "$name as $who works on the primary (rolled back)") or diag($perr);
	for my $case ([ $standby, $sql, 'on the standby' ],
				  [ $primary, "BEGIN READ ONLY;\n$sql;\nROLLBACK;", 'in a READ ONLY transaction on the primary' ])
	{
		my ($node, $script, $where) = @$case;
		my ($rc, $out, $err) = run_sql($node, $script, $user);
		isnt($rc, 0, "$name as $who fails $where");
		my ($first) = $err =~ /(ERROR:  .*)$/m;
		like($first // $err, qr/^ERROR:  25006: cannot execute \S.* (?:in a read-only transaction|during recovery)$/,
			"$name as $who $where: SQLSTATE 25006, \"cannot execute ... in a read-only transaction\"");
		note("$name as $who $where: " . ($first // $err));
	}
}

read_only_refusal('move_deal()', $move);
read_only_refusal('move_deal()', $move, 'dmitry');
read_only_refusal('receive_inbound()', q{SELECT salesboard.receive_inbound(1, 'late@nowhere.test', 'On the replica', 'b', external_ref => '<hs-ro>')});
read_only_refusal('receive_inbound()', q{SELECT salesboard.receive_inbound(1, 'late@nowhere.test', 'On the replica', 'b', external_ref => '<hs-ro>')}, 'crm_app');
read_only_refusal('check_overdue()', 'SELECT salesboard.check_overdue()');
read_only_refusal('a raw UPDATE', "UPDATE salesboard.deal SET priority = NOT priority WHERE id = $deal");
read_only_refusal('a raw UPDATE', "UPDATE salesboard.deal SET priority = NOT priority WHERE id = $deal", 'dmitry');

is($standby->safe_psql('postgres', $fingerprint), $before, 'after the refused writes the standby holds the same rows');
is($primary->safe_psql('postgres', $fingerprint), $before, 'and so does the primary (its attempts were rolled back)');

# ---- an open standby session follows configuration changes -----------------

my $bg = $standby->background_psql('postgres', extra_params => [ '-U', 'dmitry' ], on_error_stop => 0);
my $json_sql = "SELECT salesboard.board_json(7, 'week', at => $at)::text;";
my $old = $bg->query_safe($json_sql);
is($old, $answer{'board_json(7, week)'}{dmitry}, 'an open standby session answers as before');
is($bg->query_safe('SELECT salesboard.current_employee();'), '7', 'and acts as employee 7');

$primary->safe_psql('postgres', q{
	UPDATE salesboard.stage SET name = 'Fresh lead' WHERE id = 1;
	UPDATE salesboard.employee SET time_zone = 'Asia/Kathmandu' WHERE id = 7;
});
$primary->wait_for_catchup($standby);
my $new = $bg->query_safe($json_sql);
is($new, $primary->safe_psql('postgres', $json_sql, extra_params => [ '-U', 'dmitry' ]),
	"after a stage rename and a zone change on the primary, the open standby session gives the primary's new board");
like($new, qr/"Fresh lead".*"Asia\/Kathmandu"|"Asia\/Kathmandu".*"Fresh lead"/s, 'with the new stage name and zone');

$primary->safe_psql('postgres', q{UPDATE salesboard.employee SET role_name = NULL WHERE id = 7});
$primary->wait_for_catchup($standby);
is(scalar($bg->query('SELECT salesboard.current_employee() IS NULL;')), 't',
	'a role mapping dropped on the primary: the open standby session acts as nobody');
$bg->query("SELECT count(*) FROM salesboard.board(at => $at);");
like($bg->{stderr}, qr/SB022|acts as no employee/, 'and its board is SB022');
$bg->{stderr} = '';
$primary->safe_psql('postgres', q{UPDATE salesboard.employee SET role_name = 'dmitry' WHERE id = 7});
$primary->wait_for_catchup($standby);
is($bg->query_safe('SELECT salesboard.current_employee();'), '7', 'mapped again: employee 7 again');
$bg->quit;

$standby->stop;
$primary->stop;
done_testing();

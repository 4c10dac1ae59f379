# 007_app_flow.pl: an application behind a connection pool (issue 12).
# One login role `app`, a member of salesboard_app, works the sample
# company through separate connections, calling set_employee() at the
# start of every transaction, as a pooled application does:
#  - set_employee() does not outlive its transaction on a pooled
#    connection: the next transaction on the same connection, acting as
#    someone who may not see employee 7's deals, sees nothing of a deal 7
#    just created and moved (board, list, table: none; move_deal: SB030),
#    and a statement after a COMMIT or ROLLBACK without set_employee()
#    acts as nobody (SB022);
#  - a request retried through another connection is applied once: the
#    same move_deal with the same request_id answers the same change with
#    replayed = true and stage history has one row for it; the same
#    request_id for another operation is SB012;
#  - a third connection that LISTENs on "salesboard" hears the create and
#    the move at commit (not before), ids only, and nothing for a replay,
#    a refused request or a transaction rolled back.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{SB_SRC} // '../..';

my $node = PostgreSQL::Test::Cluster->new('app_flow');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION salesboard');
my ($rc, $out, $err) = $node->psql('postgres', undef,
	extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', "$src/scripts/sample_company.sql" ]);
is($rc, 0, 'the sample company loads') or diag($err);
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN IN ROLE salesboard_app');

# someone who may not see employee 7's deals: not 7, not the head of 7's
# department or of any department above it
my $stranger = $node->safe_psql('postgres', q{
	WITH RECURSIVE up AS (
		SELECT d.id, d.parent_id, d.head_id
		FROM salesboard.department d JOIN salesboard.employee e ON e.department_id = d.id
		WHERE e.id = 7
		UNION ALL
		SELECT d.id, d.parent_id, d.head_id
		FROM salesboard.department d JOIN up ON d.id = up.parent_id)
	SELECT min(e.id) FROM salesboard.employee e
	WHERE e.id <> 7 AND e.active
	  AND e.id NOT IN (SELECT head_id FROM up WHERE head_id IS NOT NULL)});
like($stranger, qr/^\d+$/, "employee $stranger is neither 7 nor a head over 7");

# moments pinned once, so a retried request is sent exactly as the first
my ($due1, $due2, $due3) = split /\|/, $node->safe_psql('postgres', q{
	SELECT now() + interval '2 hours', now() + interval '2 days', now() + interval '3 days'});
my $req = 'a7000000-0000-4000-8000-000000000012';

# the pool: two connections of the app role; and the app's listener
my %conn = (on_error_stop => 0, extra_params => [ '-U', 'app', '-v', 'VERBOSITY=verbose' ]);
my $pool_a = $node->background_psql('postgres', %conn);
my $pool_b = $node->background_psql('postgres', %conn);
my $listener = $node->background_psql('postgres', extra_params => [ '-U', 'app' ]);
$listener->query_safe('LISTEN salesboard');

# runs SQL on a pool connection; returns its output and what it printed on
# stderr (errors, warnings), then forgets that for the next call
sub run
{
	my ($s, $sql) = @_;
	my ($o) = $s->query($sql);
	my $e = $s->{stderr};
	$s->{stderr} = '';
	return wantarray ? ($o, $e) : $o;
}

# the SQLSTATE of the first error SQL gives ('' when none)
sub sqlstate
{
	my ($s, $sql) = @_;
	my (undef, $e) = run($s, $sql);
	return $e =~ /ERROR:\s+([0-9A-Z]{5}):/ ? $1 : '';
}

my $mark = 0;
# runs a query in the listener so psql reads what arrived; returns the payloads
sub heard
{
	$mark++;
	my $got = $listener->query_safe("SELECT 'mark$mark'");
	return [ $got =~ /Asynchronous notification "salesboard" with payload "(.*?)" received/g ];
}

is_deeply(heard(), [], 'nothing heard before any change');
is(run($pool_a, 'SELECT coalesce(salesboard.current_employee()::text, \'nobody\')'), 'nobody',
	'a fresh pool connection acts as nobody');

# --- connection A, transaction 1: acting as employee 7
my $move = qq{SELECT deal_id, history_id, planned_activity_id, replayed FROM salesboard.move_deal(%s, 2,
	'Wants a proposal', '$due2', 'Send proposal', request_id => '$req')};
my ($o, $e) = run($pool_a, qq{BEGIN;
	SELECT salesboard.set_employee(7) \\g /dev/null
	SELECT salesboard.create_deal(owner_id => 7, stage_id => 1, title => 'Pooled secret',
		first_due => '$due1', first_subject => 'First call', amount => 4242);});
my ($deal) = $o =~ /^(\d+)$/;
ok(defined $deal, 'A, as 7: create_deal answers a deal id') or diag("out: $o\nerr: $e");
$deal //= -1;
($o, $e) = run($pool_a, sprintf($move, $deal));
my $change = $o;
like($change, qr/^$deal\|\d+\|\d+\|f$/, 'A, as 7: move_deal answers a change, not replayed') or diag($e);
is(run($pool_a, q{SELECT salesboard.current_employee()}), '7', 'A acts as 7 in this transaction');
is(run($pool_a, qq{SELECT count(*) FROM salesboard.board(horizon => 'week') WHERE deal_id = $deal AND stage_id = 2}),
	'1', "7's week board shows the deal in stage 2");
is_deeply(heard(), [], 'nothing heard before the commit');
($o, $e) = run($pool_a, 'COMMIT');
is($e, '', 'A commits');

my $n = heard();
is(scalar(@$n), 2, 'the listener hears two notifications at commit');
is($n->[0], qq({"event":"card","change":"create","what":["stage","next","details"],"deals":[$deal],"owners":[7]}),
	'the first names the new deal and its owner');
is($n->[1], qq({"event":"card","change":"update","what":["stage","next"],"deals":[$deal],"owners":[7]}),
	'the second the move');
unlike(join('', @$n), qr/Pooled|secret|4242|Wants|proposal/i, 'ids only: no title, amount or result');

# --- connection A, transaction 2: acting as someone else
($o, $e) = run($pool_a, qq{BEGIN; SELECT salesboard.set_employee($stranger) \\g /dev/null
	SELECT salesboard.current_employee(), salesboard.can_see(7);});
is($o, "$stranger|f", "A's next transaction acts as $stranger, who may not see 7") or diag($e);
is(run($pool_a, qq{SELECT count(*) FROM salesboard.board(horizon => 'month') WHERE deal_id = $deal}), '0',
	"$stranger\'s board does not show 7's deal");
is(run($pool_a, qq{SELECT count(*) FROM salesboard.deal_list() WHERE deal_id = $deal}), '0',
	'nor does the list');
is(run($pool_a, qq{SELECT count(*) FROM salesboard.deal WHERE id = $deal}), '0',
	'nor the table');
is(run($pool_a, qq{SELECT count(*) FROM salesboard.stage_history WHERE deal_id = $deal}), '0',
	'nor its history');
($o, $e) = run($pool_a, qq{SELECT * FROM salesboard.move_deal($deal, 3, 'Sent', '$due3', 'Follow up')});
like($e, qr/ERROR:\s+SB030:/, "move_deal on 7's deal as $stranger: SB030");
unlike($e, qr/Pooled/, 'the error does not give the title away');
run($pool_a, 'ROLLBACK');

is(sqlstate($pool_a, q{SELECT count(*) FROM salesboard.board()}), 'SB022',
	'after ROLLBACK the same connection acts as nobody again: SB022');
is(sqlstate($pool_a, qq{SELECT salesboard.set_priority($deal, true)}), 'SB022',
	'a write without set_employee(): SB022');

# the deal is still there for 7: the stranger's transaction saw nothing
# because of who it acted as
is(run($pool_a, qq{BEGIN; SELECT salesboard.set_employee(7) \\g /dev/null
	SELECT count(*) FROM salesboard.deal_list() WHERE deal_id = $deal; COMMIT;}), '1',
	'a later transaction on A acting as 7 finds the deal again, and commits');

# --- the same connection after a COMMIT, without set_employee()
is(run($pool_a, q{SELECT coalesce(salesboard.current_employee()::text, 'nobody')}), 'nobody',
	'after COMMIT the same connection acts as nobody again');
is(sqlstate($pool_a, q{SELECT count(*) FROM salesboard.board()}), 'SB022',
	'board() on it: SB022');
($o, $e) = run($pool_a, qq{SELECT * FROM salesboard.move_deal($deal, 3, 'Sent', '$due3', 'Follow up')});
like($e, qr/ERROR:\s+SB022:/, 'move_deal on it: SB022');
like($e, qr/HINT:.*set_employee/, 'with a hint naming set_employee()');

# set_employee() outside a transaction block lasts one statement
($o, $e) = run($pool_a, q{SELECT salesboard.set_employee(7) \g /dev/null
	SELECT coalesce(salesboard.current_employee()::text, 'nobody');});
is($o, 'nobody', 'set_employee() in autocommit does not carry to the next statement');
like($e, qr/WARNING/, 'and warns that it lasts for that statement only');

# --- connection B: the client retries the move (the answer was lost)
($o, $e) = run($pool_b, qq{BEGIN; SELECT salesboard.set_employee(7) \\g /dev/null
	@{[ sprintf($move, $deal) ]}; COMMIT;});
my $replay = $change =~ s/\|f$/|t/r;
is($o, $replay, 'B, as 7, the same move_deal with the same request_id: the same change, replayed') or diag($e);
is($node->safe_psql('postgres', qq{SELECT count(*) FROM salesboard.stage_history WHERE request_id = '$req'}),
	'1', 'stage history has one row for the request');
is($node->safe_psql('postgres', qq{SELECT string_agg(event || ':' || coalesce(from_stage_id::text, '-') || '>' || to_stage_id, ' ' ORDER BY id)
	FROM salesboard.stage_history WHERE deal_id = $deal}),
	'create:->1 move:1>2', 'and the deal one create and one move');
is($node->safe_psql('postgres', qq{SELECT stage_id || '|' || (SELECT count(*) FROM salesboard.activity WHERE deal_id = $deal)
	FROM salesboard.deal WHERE id = $deal}), '2|2', 'the deal is in stage 2 with two activities, as after one move');
is_deeply(heard(), [], 'a replay is not heard: nothing changed');

# the same request_id for other operations
is(sqlstate($pool_b, qq{BEGIN; SELECT salesboard.set_employee(7) \\g /dev/null
	SELECT * FROM salesboard.move_deal($deal, 3, 'Sent', '$due3', 'Follow up', request_id => '$req');}),
	'SB012', 'the request_id for a move to another stage: SB012');
run($pool_b, 'ROLLBACK');
is(sqlstate($pool_b, qq{BEGIN; SELECT salesboard.set_employee(7) \\g /dev/null
	SELECT * FROM salesboard.close_deal($deal, true, 'Signed', request_id => '$req');}),
	'SB012', 'for close_deal: SB012');
run($pool_b, 'ROLLBACK');
is(sqlstate($pool_b, qq{BEGIN; SELECT salesboard.set_employee(7) \\g /dev/null
	SELECT salesboard.create_deal(7, 1, 'Another', '$due1', 'Call', request_id => '$req');}),
	'SB012', 'for create_deal: SB012');
run($pool_b, 'ROLLBACK');
is($node->safe_psql('postgres', qq{SELECT stage_id || '|' || status FROM salesboard.deal WHERE id = $deal}),
	'2|open', 'the deal is untouched');

# --- a transaction rolled back is not heard
($o, $e) = run($pool_b, qq{BEGIN; SELECT salesboard.set_employee(7) \\g /dev/null
	SELECT salesboard.create_deal(7, 1, 'Never', '$due1', 'Call') \\g /dev/null
	SELECT * FROM salesboard.move_deal($deal, 3, 'Sent', '$due3', 'Follow up') \\g /dev/null
	SELECT salesboard.set_priority($deal, true);
	ROLLBACK;});
is($e, '', 'B creates, moves and flags as 7, then rolls back');
is_deeply(heard(), [], 'nothing heard after the rollback, nor for the refused requests');
is($node->safe_psql('postgres', q{SELECT count(*) FROM salesboard.deal WHERE title = 'Never'}), '0',
	'and nothing of it stays');

# the listener still hears what commits
run($pool_b, qq{BEGIN; SELECT salesboard.set_employee(7) \\g /dev/null
	SELECT salesboard.set_priority($deal, true); COMMIT;});
$n = heard();
is_deeply($n, [ qq({"event":"card","change":"update","what":["priority"],"deals":[$deal],"owners":[7]}) ],
	'a committed change through B afterwards is heard once');

is($node->safe_psql('postgres', 'SELECT count(*) FROM salesboard.verify()'), '0', 'verify() is empty');

$pool_a->quit;
$pool_b->quit;
$listener->quit;
$node->stop;
done_testing();

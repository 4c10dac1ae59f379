# 006_live_changes.pl: an application LISTENs on channel "salesboard" in
# one session while another works the board: one notification per
# statement, delivered at commit (none after a rollback), naming what
# changed, the deals and the owners; only ids, never a title or amount.
# Inbound arrivals and dismissals say so too (event "inbound"), by the
# functions and by raw SQL alike.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{SB_SRC} // '../..';

my $node = PostgreSQL::Test::Cluster->new('live');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION salesboard');
my ($rc, $out, $err) = $node->psql('postgres', undef,
	extra_params => [ '-v', 'ON_ERROR_STOP=1', '-v', 'deals=1000', '-f', "$src/scripts/sample_company.sql" ]);
is($rc, 0, 'the sample company loads') or diag($err);
$node->safe_psql('postgres', q{
	CREATE ROLE dmitry LOGIN IN ROLE salesboard_user;
	UPDATE salesboard.employee SET role_name = 'dmitry' WHERE id = 7;
	CREATE ROLE app LOGIN;
});

# the listener: an ordinary role with no rights on salesboard at all
my $listener = $node->background_psql('postgres', extra_params => [ '-U', 'app' ]);
$listener->query_safe('LISTEN salesboard');

my $mark = 0;
# runs a query in the listener so psql reads what arrived; returns the payloads
sub heard
{
	$mark++;
	my $got = $listener->query_safe("SELECT 'mark$mark'");
	return [ $got =~ /Asynchronous notification "salesboard" with payload "(.*?)" received/g ];
}

sub as_dmitry
{
	return $node->safe_psql('postgres', "SET ROLE dmitry; SET search_path = salesboard; $_[0]");
}

is_deeply(heard(), [], 'nothing before any change');

my $deal = as_dmitry(q{SELECT create_deal(owner_id => 7, stage_id => 1, title => 'Secret title',
	first_due => now() + interval '2 hours', first_subject => 'First call', amount => 777.77, currency => 'EUR')});
my $n = heard();
is(scalar(@$n), 1, 'create_deal: one notification');
is($n->[0], qq({"event":"card","change":"create","what":["stage","next","details"],"deals":[$deal],"owners":[7]}),
	'it names the new deal and its owner');
unlike(join('', @$n), qr/Secret|777/, 'and carries no title or amount');

as_dmitry(qq{SELECT move_deal($deal, 2, 'Wants a proposal', now() + interval '2 days', 'Send proposal')});
$n = heard();
is(scalar(@$n), 1, 'move_deal: one notification');
like($n->[0], qr/^\{"event":"card","change":"update","what":\["stage","next"\],"deals":\[$deal\],"owners":\[7\]\}$/,
	'a move changes stage and next activity');

as_dmitry(qq{UPDATE deal SET priority = NOT priority WHERE id = $deal});
$n = heard();
like($n->[0] // '', qr/"what":\["priority"\]/, 'a raw priority change is heard as priority only');

as_dmitry(qq{UPDATE deal SET priority = priority WHERE id = $deal});
is_deeply(heard(), [], 'an update that changes nothing on the card is silent');

as_dmitry(qq{BEGIN; SELECT move_deal($deal, 3, 'Proposal sent', now() + interval '3 days', 'Follow up'); ROLLBACK;});
is_deeply(heard(), [], 'nothing after a rollback');

# two moves in one transaction: two statements, both delivered at commit
my $other = as_dmitry(q{SELECT create_deal(owner_id => 7, stage_id => 1, title => 'Second',
	first_due => now() + interval '1 hour', first_subject => 'Call')});
heard();
as_dmitry(qq{BEGIN;
	SELECT move_deal($deal, 3, 'Proposal sent', now() + interval '3 days', 'Follow up');
	SELECT move_deal($other, 2, 'Called', now() + interval '1 day', 'Meet');
	COMMIT;});
$n = heard();
is(scalar(@$n), 2, 'two moves in one transaction: two notifications at commit');
like(join(' ', @$n), qr/"deals":\[$deal\].*"deals":\[$other\]/, 'one per deal, in order');

# a bulk statement: one notification; too many ids for a payload become counts
$node->safe_psql('postgres', q{
	UPDATE salesboard.deal SET priority = NOT priority WHERE status = 'open'});
my $open = $node->safe_psql('postgres', q{SELECT count(*) FROM salesboard.deal WHERE status = 'open'});
$n = heard();
is(scalar(@$n), 1, "a bulk UPDATE of $open deals: one notification");
cmp_ok($open, '>', 400, 'more deals than a payload can list');
like($n->[0] // '', qr/"deal_count":$open\b/, 'so it counts the deals instead of listing them');
unlike($n->[0] // '', qr/"deals":/, 'and lists none');

# a bulk statement small enough to list: every deal once, sorted
$node->safe_psql('postgres', q{
	UPDATE salesboard.deal SET priority = NOT priority WHERE status = 'open' AND owner_id = 7});
my $mine = $node->safe_psql('postgres', q{
	SELECT string_agg(id::text, ',' ORDER BY id) FROM salesboard.deal WHERE status = 'open' AND owner_id = 7});
$n = heard();
like($n->[0] // '', qr/"deals":\[$mine\],"owners":\[7\]\}$/, "a bulk UPDATE of one owner's deals lists each once, in order");
cmp_ok(length($n->[0]), '<', 8000, 'and fits a NOTIFY payload');

# inbound: an arrival waiting in Inbound, an auto-linked one, a dismissal
my ($source, $src_owner) = split /\|/, $node->safe_psql('postgres', q{
	SELECT id, owner_id FROM salesboard.lead_source WHERE active AND is_lead_source AND channel = 'email' ORDER BY id LIMIT 1});
my $req = $node->safe_psql('postgres', qq{
	SELECT salesboard.receive_inbound($source, 'Nobody Known <nobody\@nowhere.test>', 'Secret subject', 'body', external_ref => '<live-1>')});
$n = heard();
is_deeply($n, [ qq({"event":"inbound","change":"new","requests":[$req],"owners":[$src_owner]}) ],
	'receive_inbound: one notification naming the request and the employee whose Inbound it waits in');
unlike(join('', @$n), qr/Secret|nobody/, 'and carries no subject or sender');
$node->safe_psql('postgres', qq{
	BEGIN; SELECT salesboard.receive_inbound($source, 'x\@nowhere.test', 's', 'b', external_ref => '<live-2>'); ROLLBACK;});
is_deeply(heard(), [], 'nothing after a rollback');
$node->safe_psql('postgres', qq{SELECT salesboard.receive_inbound($source, 'y\@nowhere.test', 's', 'b', external_ref => '<live-1>')});
is_deeply(heard(), [], 'nothing for a repeat of a stored message');
my $client_deal = $node->safe_psql('postgres', qq{
	SELECT d.id || '|' || d.owner_id || '|' || c.email FROM salesboard.deal d JOIN salesboard.client c ON c.id = d.client_id
	 WHERE d.status = 'open' AND c.email IS NOT NULL AND d.owner_id = $src_owner
	   AND (SELECT count(*) FROM salesboard.deal o WHERE o.client_id = c.id AND o.status = 'open') = 1
	 ORDER BY d.id LIMIT 1});
my ($cd, $cd_owner, $email) = split /\|/, $client_deal;
my $req2 = $node->safe_psql('postgres', qq{SELECT salesboard.receive_inbound($source, '$email', 'Hello', 'b', external_ref => '<live-3>')});
my @owners = sort { $a <=> $b } ($src_owner, $cd_owner);
my %u; @owners = grep { !$u{$_}++ } @owners;
is_deeply(heard(), [ qq({"event":"inbound","change":"auto_linked","requests":[$req2],"owners":[) . join(',', @owners) . qq(],"deals":[$cd]}) ],
	'an auto-linked arrival names the deal and its owner too');
$node->safe_psql('postgres', qq{SET ROLE salesboard_admin; SELECT salesboard.dismiss_inbound(ARRAY[$req]);});
is_deeply(heard(), [ qq({"event":"inbound","change":"dismissed","requests":[$req],"owners":[$src_owner]}) ],
	'a dismissal: one notification for the Inbound columns to redraw');

# raw SQL on inbound is heard too: one notification per kind of change a
# statement makes (the functions above sent one per call, none more)
my $raw = $node->safe_psql('postgres', qq{
	INSERT INTO salesboard.inbound (source_id, sender, subject, body, external_ref)
	VALUES ($source, 'raw\@nowhere.test', 'Raw secret', 'b', '<live-raw-1>') RETURNING id});
is_deeply(heard(), [ qq({"event":"inbound","change":"new","requests":[$raw],"owners":[$src_owner]}) ],
	'a raw INSERT of a request: heard as new, with the owner whose Inbound it waits in');
$node->safe_psql('postgres', qq{UPDATE salesboard.inbound SET status = 'dismissed' WHERE id = $raw});
is_deeply(heard(), [ qq({"event":"inbound","change":"dismissed","requests":[$raw],"owners":[$src_owner]}) ],
	'a raw UPDATE of its status: heard as the new status');
my $other_owner = $node->safe_psql('postgres', qq{
	SELECT id FROM salesboard.employee WHERE active AND id <> $src_owner ORDER BY id LIMIT 1});
my ($raw2, $raw3) = split /\n/, $node->safe_psql('postgres', qq{
	INSERT INTO salesboard.inbound (source_id, sender, subject, body, external_ref, status, handled_at)
	VALUES ($source, 'raw2\@nowhere.test', 's', 'b', '<live-raw-2>', 'new', NULL),
	       ($source, 'raw3\@nowhere.test', 's', 'b', '<live-raw-3>', 'dismissed', now())
	RETURNING id});
is_deeply(heard(), [ qq({"event":"inbound","change":"new","requests":[$raw2],"owners":[$src_owner]}),
		qq({"event":"inbound","change":"dismissed","requests":[$raw3],"owners":[$src_owner]}) ],
	'one INSERT storing a new and a dismissed request: one notification for each kind');
my @both = sort { $a <=> $b } ($src_owner, $other_owner);
$node->safe_psql('postgres', qq{UPDATE salesboard.inbound SET owner_id = $other_owner WHERE id = $raw2});
is_deeply(heard(), [ qq({"event":"inbound","change":"changed","requests":[$raw2],"owners":[) . join(',', @both) . qq(]}) ],
	'handed to someone else: heard as changed, for both Inbound columns');
$node->safe_psql('postgres', qq{UPDATE salesboard.inbound SET subject = 'Corrected' WHERE id = $raw2});
is(scalar(@{ heard() }), 1, 'a raw UPDATE of another column is heard once, as changed');
$node->safe_psql('postgres', qq{DELETE FROM salesboard.inbound WHERE id IN ($raw2, $raw3)});
is_deeply(heard(), [ qq({"event":"inbound","change":"deleted","requests":[) . join(',', sort { $a <=> $b } ($raw2, $raw3))
		. qq(],"owners":[) . join(',', @both) . qq(]}) ],
	'a raw DELETE: heard as deleted');

# a function's own statements are not announced again: accepting a request
# whose copy (same message, another mailbox) follows it to the new deal
# sends the function's one inbound notification (and the new card), not
# another for the copy the trigger moved
my ($source_b) = $node->safe_psql('postgres', qq{
	SELECT id FROM salesboard.lead_source WHERE active AND is_lead_source AND channel = 'email' AND id <> $source ORDER BY id LIMIT 1});
my $copy_a = $node->safe_psql('postgres', qq{SELECT salesboard.receive_inbound($source, 'twice\@nowhere.test', 'Twice', 'b', external_ref => '<live-copy>')});
my $copy_b = $node->safe_psql('postgres', qq{SELECT salesboard.receive_inbound($source_b, 'twice\@nowhere.test', 'Twice', 'b', external_ref => '<live-copy>')});
is(scalar(@{ heard() }), 2, 'a message delivered to two mailboxes: two arrivals');
$node->safe_psql('postgres', qq{CREATE ROLE liveapp LOGIN IN ROLE salesboard_app;
	SET ROLE liveapp; BEGIN; SELECT salesboard.set_employee($src_owner);
	SELECT salesboard.accept_inbound($copy_a, 1, 'Twice', now() + interval '1 day', 'Call back'); COMMIT;});
is($node->safe_psql('postgres', qq{SELECT status FROM salesboard.inbound WHERE id = $copy_b}), 'auto_linked',
	'the copy followed to the new deal');
$n = heard();
is(scalar(grep { /"event":"inbound"/ } @$n), 1, 'accept_inbound: one inbound notification, the function\'s own');
like((grep { /"event":"inbound"/ } @$n)[0] // '', qr/^\{"event":"inbound","change":"accepted","requests":\[$copy_a\],/,
	'naming the accepted request, not the copy that followed');

# a raw UPDATE linking a request whose copy follows it: one notification,
# for the statement; the copy's owner is told, the copy is not listed
my $src_b_owner = $node->safe_psql('postgres', qq{SELECT owner_id FROM salesboard.lead_source WHERE id = $source_b});
my $link_a = $node->safe_psql('postgres', qq{SELECT salesboard.receive_inbound($source, 'thrice\@nowhere.test', 'Thrice', 'b', external_ref => '<live-copy-2>')});
my $link_b = $node->safe_psql('postgres', qq{SELECT salesboard.receive_inbound($source_b, 'thrice\@nowhere.test', 'Thrice', 'b', external_ref => '<live-copy-2>')});
heard();
$node->safe_psql('postgres', qq{UPDATE salesboard.inbound SET status = 'linked', deal_id = $cd WHERE id = $link_a});
is($node->safe_psql('postgres', qq{SELECT status || ' ' || deal_id FROM salesboard.inbound WHERE id = $link_b}), "auto_linked $cd",
	'a raw link: the copy follows');
my %seen; my @link_owners = grep { !$seen{$_}++ } sort { $a <=> $b } ($src_owner, $src_b_owner, $cd_owner);
is_deeply(heard(), [ qq({"event":"inbound","change":"linked","requests":[$link_a],"owners":[) . join(',', @link_owners) . qq(],"deals":[$cd]}) ],
	'heard once, as the statement did it: the request, the owners of it, its copy and the deal');
$node->safe_psql('postgres', qq{UPDATE salesboard.inbound SET status = status WHERE id IN ($link_a, $link_b)});
is_deeply(heard(), [], 'a raw UPDATE that changes nothing is silent');

# a function call that fails inside a savepoint leaves no trace: raw SQL
# after it in the same transaction is still heard
my $after_failure = $node->safe_psql('postgres', qq{BEGIN;
	DO \$\$ BEGIN PERFORM salesboard.link_inbound(-1, -1); EXCEPTION WHEN OTHERS THEN NULL; END \$\$;
	INSERT INTO salesboard.inbound (source_id, sender, subject, body, external_ref)
	VALUES ($source, 'after\@nowhere.test', 's', 'b', '<live-raw-4>') RETURNING id;
	COMMIT;});
is_deeply(heard(), [ qq({"event":"inbound","change":"new","requests":[$after_failure],"owners":[$src_owner]}) ],
	'a raw INSERT after a failed link_inbound() in the same transaction is heard');

# overdue checks: one notification per check that raised alerts, none otherwise
my $raised = $node->safe_psql('postgres', q{SELECT salesboard.check_overdue()});
cmp_ok($raised, '>', 0, 'the sample company has overdue work');
$n = heard();
is(scalar(@$n), 1, 'check_overdue: one notification');
like($n->[0] // '', qr/^\{"event":"alert",("alerts":\[[0-9,]+\]|"alert_count":$raised),"employees":\[[0-9,]+\]\}$/,
	'naming the alerts (or their count) and the employees to tell');
$node->safe_psql('postgres', q{SELECT salesboard.check_overdue()});
is_deeply(heard(), [], 'a check that raises nothing says nothing');

# salesboard.live_changes = off: the same changes, nothing on the channel
my ($src2) = $node->safe_psql('postgres', q{SELECT id FROM salesboard.lead_source WHERE active ORDER BY id LIMIT 1});
my $off = $node->safe_psql('postgres', qq{SET salesboard.live_changes = off;
	SET ROLE dmitry; SELECT salesboard.move_deal($deal, 1, 'Back to the start', now() + interval '3 days', 'Call again');
	RESET ROLE;
	SELECT salesboard.receive_inbound($src2, 'quiet\@nowhere.test', 'Quiet', 'b', external_ref => '<live-off-1>') IS NOT NULL;
	INSERT INTO salesboard.inbound (source_id, sender, subject, body, external_ref) VALUES ($src2, 'quiet2\@nowhere.test', 'Quiet', 'b', '<live-off-2>');
	INSERT INTO salesboard.activity (deal_id, subject, due_at) VALUES ($deal, 'Was due a minute ago', now() - interval '1 minute');
	SELECT salesboard.check_overdue();});
my @off = split /\n/, $off;
is($off[1], 't', 'with live_changes off the changes are made');
cmp_ok($off[2], '>', 0, 'and the check raises its alerts');
is($node->safe_psql('postgres', qq{SELECT stage_id FROM salesboard.deal WHERE id = $deal}), '1', 'the move is there');
is_deeply(heard(), [], 'but nothing is sent: not the move, the inbound requests (function and raw INSERT) or the alerts');
($rc, $out, $err) = $node->psql('postgres', 'SET ROLE dmitry; SELECT salesboard.current_employee(); SET salesboard.live_changes = off');
like($err, qr/ERROR:  permission denied to set parameter "salesboard.live_changes"/, 'an employee cannot turn it off');
($rc, $out, $err) = $node->psql('postgres', 'SET ROLE dmitry; SET salesboard.live_changes = off; SELECT salesboard.current_employee(); SHOW salesboard.live_changes');
like($out, qr/\non$/, 'nor before the library is loaded: the placeholder is refused when it loads');
$node->safe_psql('postgres', 'ALTER ROLE dmitry SET salesboard.live_changes = off');
($rc, $out, $err) = $node->psql('postgres', qq{SELECT salesboard.move_deal($deal, 2, 'Moved quietly', now() + interval '3 days', 'Call again')},
	extra_params => [ '-U', 'dmitry' ]);
is($rc, 0, 'a DBA turns it off for a role (ALTER ROLE ... SET)') or diag($err);
is_deeply(heard(), [], 'and that role\'s sessions send nothing');
$node->safe_psql('postgres', 'ALTER ROLE dmitry RESET salesboard.live_changes');
as_dmitry(qq{SELECT move_deal($deal, 1, 'Heard again', now() + interval '3 days', 'Call again')});
is(scalar(@{ heard() }), 1, 'on again (the default): the move is heard');

$listener->quit;
$node->stop;
done_testing();

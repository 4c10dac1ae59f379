# 009_overdue_cron.pl: pg_cron really runs the overdue checks (doc/reference.md,
# "Overdue checks"; the checks themselves at pinned moments: pgTAP 80, two at
# once: isolation spec overdue_concurrent).
#
# One cluster with pg_cron 1.4 preloaded (cron.database_name = 'postgres';
# jobs connect over libpq to the node's socket, cron.host, trusted locally):
#   a) salesboard in pg_cron's database: an administrator with USAGE on
#      schema cron schedules the checks; scheduling again changes the one
#      job; the job runs as that administrator at the next minute and raises
#      the alerts of what is already overdue; unscheduling answers true, then
#      false.
#   b) salesboard in another database ('sales'): scheduling there is SB302,
#      whose hint is the exact cron.schedule_in_database() call; run as given
#      in 'postgres', the job runs in 'sales' and raises the alerts there.
#   c) what fails: pg_cron preloaded but not installed in its database
#      (SB301), a second node without pg_cron (SB301, the checks still work),
#      an administrator without USAGE on schema cron (42501, nothing
#      scheduled), an ordinary user (42501).
# a) and b) wait for the same minute tick; c) runs while they wait.
use strict;
use warnings;
use Time::HiRes qw(time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $started = time;
my $job = 'salesboard_overdue_checks';

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;    # initdb -A trust: pg_cron's libpq connections need no password
my $sock = $node->host;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.host = '$sock'
lc_messages = 'C'
});
$node->start;
my $su = $node->safe_psql('postgres', 'SELECT current_user');

# psql with the SQLSTATE shown: (exit code, stdout, stderr)
sub try_sql
{
	my ($n, $db, $sql, @user) = @_;
	my ($rc, $out, $err) = $n->psql($db, "\\set VERBOSITY verbose\n$sql",
		extra_params => [ @user ? ('-U', $user[0]) : () ]);
	return ($rc, $out, $err);
}

# a small company whose deal 1 has an activity overdue by an hour and has
# outstayed its stage (rot_days 1) by a day; deal 2 is neither
sub company
{
	my ($db) = @_;
	$node->safe_psql($db, q{
		CREATE EXTENSION salesboard;
		INSERT INTO salesboard.department (id, name) VALUES (1, 'Sales');
		INSERT INTO salesboard.employee (id, name, department_id, time_zone) VALUES
		  (1, 'Anna Petrova', 1, 'Europe/Moscow'), (2, 'Kiran', 1, 'Asia/Kathmandu');
		INSERT INTO salesboard.pipeline (id, name) VALUES (1, 'Main');
		INSERT INTO salesboard.stage (id, pipeline_id, name, position, kind, probability, rot_days) VALUES
		  (1, 1, 'New', 1, 'open', 10, 1), (2, 1, 'Qualified', 2, 'open', 30, NULL),
		  (8, 1, 'Won', 8, 'won', 100, NULL), (9, 1, 'Lost', 9, 'lost', 0, NULL);
		SELECT salesboard.create_deal(1, 1, 'Late', now() - interval '1 hour', 'Call back',
		                              at => now() - interval '2 days');
		SELECT salesboard.create_deal(2, 2, 'On time', now() + interval '1 day', 'Meet',
		                              at => now() - interval '2 days');
	});
	return;
}

# the alerts expected of deal 1, derived from its rows, and those there are
my $expected_alerts = q{
	SELECT string_agg(x, '; ' ORDER BY x) FROM (
	  SELECT 'activity_overdue emp ' || d.owner_id || ' deal ' || d.id || ' act ' || a.id || ' stage - at ' || a.due_at AS x
	    FROM salesboard.deal d JOIN salesboard.activity a ON a.deal_id = d.id WHERE d.title = 'Late'
	  UNION ALL
	  SELECT 'deal_rotting emp ' || d.owner_id || ' deal ' || d.id || ' act - stage ' || d.stage_id
	         || ' at ' || (d.stage_entered_at + interval '1 day')
	    FROM salesboard.deal d WHERE d.title = 'Late') s};
my $alerts = q{
	SELECT string_agg(x, '; ' ORDER BY x) FROM (
	  SELECT a.kind || ' emp ' || a.employee_id || ' deal ' || a.deal_id || ' act ' || coalesce(a.activity_id::text, '-')
	         || ' stage ' || coalesce(a.stage_id::text, '-') || ' at ' || a.event_at AS x
	    FROM salesboard.alert a) s};

# ------------------------------------------------------------------
# pg_cron loaded, not yet installed in its database: SB301
# ------------------------------------------------------------------
company('postgres');
my ($rc, $out, $err) = try_sql($node, 'postgres', 'SELECT salesboard.schedule_overdue_checks()');
like($err, qr/ERROR:  SB301: pg_cron is loaded but not installed in database "postgres"/,
	'pg_cron loaded but not installed in its database: SB301');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron');
$node->safe_psql('postgres', 'CREATE DATABASE sales');
company('sales');
is($node->safe_psql('postgres', 'SELECT count(*) FROM salesboard.alert')
	 . $node->safe_psql('sales', 'SELECT count(*) FROM salesboard.alert'),
	'00', 'no alerts yet in either database: nobody ran a check');

# ------------------------------------------------------------------
# a) the same database: an administrator schedules, twice
# ------------------------------------------------------------------
$node->safe_psql('postgres', q{
	CREATE ROLE sbadmin LOGIN IN ROLE salesboard_admin;
	GRANT USAGE ON SCHEMA cron TO sbadmin;
	CREATE ROLE sbadmin_nocron LOGIN IN ROLE salesboard_admin;
	CREATE ROLE sbuser LOGIN IN ROLE salesboard_user;
});
my $first = $node->safe_psql('postgres', q{SELECT salesboard.schedule_overdue_checks('0 3 1 1 *')},
	extra_params => [ '-U', 'sbadmin' ]);
like($first, qr/^\d+$/, "schedule_overdue_checks() as an administrator returns a job id ($first)");
my $job_a = $node->safe_psql('postgres', q{SELECT salesboard.schedule_overdue_checks('* * * * *')},
	extra_params => [ '-U', 'sbadmin' ]);
is($job_a, $first, 'scheduling again answers the same job');
is($node->safe_psql('postgres', qq{
	SELECT count(*) || ' ' || string_agg(jobid || ' ' || schedule || ' | ' || command || ' | ' || database || ' ' || username, ',')
	  FROM cron.job WHERE jobname = '$job:postgres'}),
	"1 $job_a * * * * * | SELECT salesboard.check_overdue() | postgres sbadmin",
	'one job in cron.job, with the new schedule, in postgres, as the administrator (not the extension owner)');

# ------------------------------------------------------------------
# b) another database: SB302 and the call to run in pg_cron's database
# ------------------------------------------------------------------
($rc, $out, $err) = try_sql($node, 'sales', 'SELECT salesboard.schedule_overdue_checks()');
like($err, qr/ERROR:  SB302: pg_cron lives in database "postgres", not in "sales"/,
	'scheduling in sales: SB302');
my $call = q{SELECT cron.schedule_in_database('salesboard_overdue_checks:sales', '* * * * *', 'SELECT salesboard.check_overdue()', 'sales');};
like($err, qr/HINT:  In database "postgres" run: \Q$call\E$/m, 'its hint gives the call to run in postgres');
my ($hinted) = $err =~ /HINT:  In database "postgres" run: (.*)$/m;
my $job_b = $node->safe_psql('postgres', $hinted // 'SELECT NULL');
like($job_b, qr/^\d+$/, "the hinted call, run in postgres, schedules job $job_b");
isnt($job_b, $job_a, 'a job of its own');
my $scheduled = time;

# ------------------------------------------------------------------
# c) what fails, while the jobs wait for the minute
# ------------------------------------------------------------------
($rc, $out, $err) = try_sql($node, 'postgres', 'SELECT salesboard.schedule_overdue_checks()', 'sbadmin_nocron');
like($err, qr/ERROR:  42501: permission denied for schema cron/,
	'an administrator without USAGE on schema cron: 42501');
($rc, $out, $err) = try_sql($node, 'postgres', 'SELECT salesboard.unschedule_overdue_checks()', 'sbadmin_nocron');
like($err, qr/ERROR:  42501: permission denied for schema cron/, 'unscheduling too');
($rc, $out, $err) = try_sql($node, 'postgres', 'SELECT salesboard.schedule_overdue_checks()', 'sbuser');
like($err, qr/ERROR:  42501: permission denied for function schedule_overdue_checks/,
	'an ordinary user may not schedule: 42501');
is($node->safe_psql('postgres', qq{SELECT string_agg(username || ' ' || jobname, ',' ORDER BY username) FROM cron.job WHERE jobname LIKE '$job:%'}),
	"$su $job:sales,sbadmin $job:postgres", 'nothing scheduled by them: only the two jobs, one per database');
($rc, $out, $err) = try_sql($node, 'sales', 'SELECT salesboard.unschedule_overdue_checks()');
like($err, qr/ERROR:  SB302: /, 'unscheduling in sales: SB302 too');

my $plain = PostgreSQL::Test::Cluster->new('nocron');
$plain->init;
$plain->append_conf('postgresql.conf', "lc_messages = 'C'\n");
$plain->start;
$plain->safe_psql('postgres', 'CREATE EXTENSION salesboard');
($rc, $out, $err) = try_sql($plain, 'postgres', q{SELECT salesboard.schedule_overdue_checks('* * * * *')});
like($err, qr/ERROR:  SB301: pg_cron is not available on this server/, 'a server without pg_cron: SB301');
like($err, qr/HINT:  .*call salesboard.check_overdue\(\) from another scheduler/, 'whose hint names the way without it');
($rc, $out, $err) = try_sql($plain, 'postgres', 'SELECT salesboard.unschedule_overdue_checks()');
like($err, qr/ERROR:  SB301: /, 'unscheduling there: SB301');
is($plain->safe_psql('postgres', 'SELECT salesboard.check_overdue()'), '0',
	'and salesboard works without pg_cron: check_overdue() runs (nothing to raise)');
$plain->stop;

# ------------------------------------------------------------------
# the minute tick: both jobs run (pg_cron 1.4: minute granularity)
# ------------------------------------------------------------------
ok($node->poll_query_until('postgres', qq{
	SELECT count(DISTINCT jobid) = 2 FROM cron.job_run_details
	 WHERE jobid IN ($job_a, $job_b) AND status IN ('succeeded', 'failed')}),
	'both jobs ran at the next minute');
note(sprintf('the jobs ran %.1f s after scheduling', time - $scheduled));
is($node->safe_psql('postgres', qq{
	SELECT string_agg(jobid || ' ' || database || ' ' || username || ' ' || status || ' ' || coalesce(return_message, ''),
	                  '; ' ORDER BY jobid)
	  FROM (SELECT DISTINCT ON (jobid) * FROM cron.job_run_details WHERE jobid IN ($job_a, $job_b)
	         ORDER BY jobid, runid) r}),
	"$job_a postgres sbadmin succeeded 1 row; $job_b sales $su succeeded 1 row",
	'each succeeded: in postgres as the administrator, in sales as the superuser who ran the hinted call');

for my $db ('postgres', 'sales')
{
	my $want = $node->safe_psql($db, $expected_alerts);
	is($node->safe_psql($db, $alerts), $want, "$db: the job raised the overdue activity and the rotting deal, once each ($want)");
	is($node->safe_psql($db, q{SELECT activities_until > now() - interval '5 minutes' FROM salesboard.overdue_check}),
		't', "$db: and moved the watermark to its run");
}

# ------------------------------------------------------------------
# a) again: unscheduling
# ------------------------------------------------------------------
is($node->safe_psql('postgres', 'SELECT salesboard.unschedule_overdue_checks()', extra_params => [ '-U', 'sbadmin' ]),
	't', 'unschedule_overdue_checks(): true');
is($node->safe_psql('postgres', 'SELECT salesboard.unschedule_overdue_checks()', extra_params => [ '-U', 'sbadmin' ]),
	'f', 'then false: there is none');
is($node->safe_psql('postgres', qq{SELECT string_agg(database, ',') FROM cron.job WHERE jobname LIKE '$job:%'}),
	'sales', "the administrator's job is gone; the one for sales stays");

$node->stop;
note(sprintf('009_overdue_cron took %.1f s', time - $started));
done_testing();

# 001_preload.pl: salesboard installs beside a preloaded pg_cron on a real
# cluster, survives a restart, and its per-backend caches follow changes
# made by other sessions.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
});
$node->start;

is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'),
	'pg_cron', 'pg_cron is preloaded');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_cron launcher'"),
	'1', 'the pg_cron launcher runs');

$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron');
$node->safe_psql('postgres', 'CREATE EXTENSION salesboard');
is($node->safe_psql('postgres',
	"SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname IN ('pg_cron', 'salesboard')"),
	'pg_cron,salesboard', 'salesboard installs beside pg_cron');

# a small company and a deal
$node->safe_psql('postgres', q{
SET search_path = salesboard;
INSERT INTO department (id, name) VALUES (1, 'Sales');
INSERT INTO employee (id, name, department_id, time_zone) VALUES (1, 'Ann', 1, 'Europe/Moscow');
INSERT INTO pipeline (id, name) VALUES (1, 'Sales');
INSERT INTO stage (id, pipeline_id, name, position, kind, probability) VALUES
  (1, 1, 'New', 1, 'open', 10), (2, 1, 'Next', 2, 'open', 50),
  (3, 1, 'Won', 3, 'won', 100), (4, 1, 'Lost', 4, 'lost', 0);
SELECT create_deal(1, 1, 'First deal', '2026-03-10 20:30+00', 'Call', at => '2026-03-10 09:00+00');
});

# a second session's change of an employee's zone reaches this backend's
# cached copy: 20:30 UTC is 23:30 in Moscow (due today: yellow) but 02:15
# the next day in Kathmandu (green)
my $bg = $node->background_psql('postgres');
$bg->query_safe('SET search_path = salesboard');
is($bg->query_safe("SELECT card_colour_of(d, '2026-03-10 09:00+00') FROM deal d"),
	'yellow', 'colour judged in Moscow, the cached zone');
$node->safe_psql('postgres', "UPDATE salesboard.employee SET time_zone = 'Asia/Kathmandu' WHERE id = 1");
is($bg->query_safe("SELECT card_colour_of(d, '2026-03-10 09:00+00') FROM deal d"),
	'green', 'the other session judges in the new zone at once');
is($bg->query_safe(q{SELECT salesboard.board_text(1, at => '2026-03-10 09:00+00') LIKE 'Board of Ann%'}),
	't', 'board_text works after the cache was invalidated');
$bg->quit;

$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM salesboard.verify()'),
	'0', 'verify() is empty after a restart');
is($node->safe_psql('postgres', q{SELECT count(*) FROM salesboard.deal WHERE next_due IS NOT NULL}),
	'1', 'the deal and its derived next_due survived the restart');

$node->stop;
done_testing();

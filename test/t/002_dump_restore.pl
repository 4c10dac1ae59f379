# 002_dump_restore.pl: pg_dump keeps every table's data and the identity
# sequences; a restore loaded with session_replication_role = replica (the
# documented bulk-load path: triggers off) comes back consistent, and new
# deals after it get fresh ids.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\n");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
CREATE EXTENSION salesboard;
SET search_path = salesboard;
INSERT INTO department (id, name) VALUES (1, 'Sales');
INSERT INTO employee (id, name, department_id, time_zone) VALUES (1, 'Ann', 1, 'Asia/Kathmandu');
INSERT INTO pipeline (id, name) VALUES (1, 'Sales');
INSERT INTO stage (id, pipeline_id, name, position, kind, probability) VALUES
  (1, 1, 'New', 1, 'open', 10), (2, 1, 'Next', 2, 'open', 50),
  (3, 1, 'Won', 3, 'won', 100), (4, 1, 'Lost', 4, 'lost', 0);
INSERT INTO lost_reason (id, name) VALUES (1, 'Price');
SELECT create_deal(1, 1, 'Deal ' || g, now() + g * interval '1 hour', 'Call', first_all_day => g % 2 = 0)
  FROM generate_series(1, 20) g;
SELECT move_deal(id, 2, 'Talked', now() + interval '3 days', 'Offer') FROM deal WHERE id % 3 = 0;
SELECT close_deal(id, false, 'No budget', lost_reason_id => 1) FROM deal WHERE id % 5 = 0;
});

my $summary = q{SELECT (SELECT count(*) FROM salesboard.deal) || '/' ||
  (SELECT count(*) FROM salesboard.activity) || '/' ||
  (SELECT count(*) FROM salesboard.stage_history) || '/' ||
  (SELECT string_agg(id || ':' || status || ':' || coalesce(next_due::text, '-'), ',' ORDER BY id) FROM salesboard.deal)};
my $before = $node->safe_psql('src', $summary);

my $dump = $node->basedir . '/src.sql';
$node->command_ok([ 'pg_dump', '-d', $node->connstr('src'), '-f', $dump ], 'pg_dump of a salesboard database');

$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('dst'),
	  '-c', 'SET session_replication_role = replica', '-f', $dump ],
	'restore with triggers off (session_replication_role = replica)');

is($node->safe_psql('dst', $summary), $before, 'deals, activities and history restored unchanged');
is($node->safe_psql('dst', 'SELECT count(*) FROM salesboard.verify()'), '0', 'verify() is empty after the restore');
my $newid = $node->safe_psql('dst', q{SELECT salesboard.create_deal(1, 1, 'After restore', now() + interval '1 day', 'Call')});
cmp_ok($newid, '>', 20, 'identity sequences were restored: a new deal gets a fresh id');

$node->stop;
done_testing();

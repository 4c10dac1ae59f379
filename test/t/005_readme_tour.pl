# 005_readme_tour.pl: the README's tour runs as written on the sample
# company (the block under "## A short tour"): exactly one error, the raw
# stage change it shows being refused (SB002), the retried request changes
# nothing, and verify() is empty at the end.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $src = $ENV{SB_SRC} // '../..';

open(my $fh, '<', "$src/README.md") or die "README.md: $!";
my $readme = do { local $/; <$fh> };
close($fh);
my ($tour) = $readme =~ /^## A short tour\n.*?^```sql\n(.*?)^```/ms;
ok(defined $tour && length $tour > 200, 'the README has a tour') or BAIL_OUT('no tour in README.md');

my $node = PostgreSQL::Test::Cluster->new('tour');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION salesboard');
my ($rc, $out, $err) = $node->psql('postgres', undef,
	extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', "$src/scripts/sample_company.sql" ]);
is($rc, 0, 'the sample company loads') or diag($err);

open(my $tf, '>', $node->basedir . '/tour.sql') or die;
print $tf $tour;
close($tf);
($rc, $out, $err) = $node->psql('postgres', undef, on_error_stop => 0,
	extra_params => [ '-X', '-v', 'VERBOSITY=verbose', '-f', $node->basedir . '/tour.sql' ]);
my @errors = $err =~ /^psql:[^\n]*ERROR:[^\n]*$/mg;
is(scalar(@errors), 1, 'the tour shows exactly one error') or diag($err);
like($errors[0] // '', qr/SB002.*stage_id cannot be changed by UPDATE/, 'and it is the raw stage change, refused with SB002');
like($err, qr/HINT:.*move_deal/, 'whose hint names move_deal');
like($out, qr/^7$/m, 'current_employee() is 7 after SET ROLE dmitry');
my $moves = () = $out =~ /^move\|1\|2\|Client wants a proposal$/mg;
is($moves, 1, 'the retried request wrote no second move');
like($out, qr/Board of Dmitry Vinogradov/, 'board_text() draws his board');
unlike($out, qr/open_deal_without|history_|foreign_key_broken/, 'verify() reports nothing');

$node->stop;
done_testing();

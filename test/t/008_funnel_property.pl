# 008_funnel_property.pl: a property test of funnel() (issue 14).
#
# Random deal histories (seeded: the seed is printed, SB_SEED=<n> replays
# one) are written through the API by an application role acting as the
# owners (create_deal, move_deal, close_deal, reopen_deal with pinned `at`
# moments): creates in the first or a later stage, moves forward, skips,
# backward moves, re-entries, wins, losses with a reason, reopens, amounts
# in RUB (the company default), USD and EUR or none, changed between
# events; owners, service types and tags changed afterwards (cuts use the
# deal's attributes now). USD and EUR rates change over time.
#
# Every figure of every row of salesboard.funnel() is compared, in order,
# with spec.funnel(): plain SQL written from the words of
# doc/reference.md, "Sales funnel" (not from funnel.c), for random
# combinations of mode (period, cohort, snapshot), period, as_of, pipeline,
# cuts (owner, department subtree, service type, tag) and reporting
# currency. A deliberately wrong expectation must be caught.
#
# Also: funnel() as an employee counts what row-level security would show
# them; amounts exact to the cent (half a cent, 13 digits, weighted of the
# reported current_amount); SB203 for a missing rate.
#
# Where the words say nothing, the spec takes these (and says so below):
# Won and Lost rows have advanced 0, avg_days_in_stage NULL (days are
# defined per open stage), won 0 on the Lost row and lost 0 on the Won
# row; a sum of no amounts is 0; conversion_from_first is NULL when
# entered(1) is 0; position is the board column (board()'s
# column_position: 1..n, Won n+1, Lost n+2); a history amount is in the
# deal's currency (stage_history has none of its own).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $started = time;
my $seed = ($ENV{SB_SEED} // '') =~ /^\d+$/ ? int($ENV{SB_SEED}) : (int(time() * 1000) ^ $$) % 1_000_000_007;
diag("seed $seed (replay: SB_SEED=$seed)");
srand($seed);

my $node = PostgreSQL::Test::Cluster->new('funnel_property');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_cron'\ncron.database_name = 'postgres'\n");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION salesboard');
$node->safe_psql('postgres', 'CREATE ROLE app LOGIN IN ROLE salesboard_app');

sub pick { return $_[ int(rand(@_)) ]; }
sub chance { return rand() < $_[0]; }

# ------------------------------------------------------------------
# The company: pipeline 1 has no stages (the default is the smallest
# pipeline WITH stages: 2), pipeline 2 the main one with 3 or 4 open
# stages at irregular positions, Lost placed before Won on the board
# positions (board order is still open, Won, Lost), pipeline 3 a small one.
# ------------------------------------------------------------------
my $base = 1735689600;    # 2025-01-01 00:00:00 UTC
sub ts { my $t = shift; return "to_timestamp($t)"; }

my $nopen = pick(3, 4);
my @prob = (10, 25.5, 50, 75);
my @pos = (10, 20, 35, 40);
my $stages2 = join(",\n", map {
	my $k = $_; sprintf("(%d, 2, 'S%d', %d, 'open', %s)", 10 + $k, $k, $pos[$k - 1], $prob[$k - 1] + int(rand(5)))
} 1 .. $nopen);
my @open2 = map { 10 + $_ } 1 .. $nopen;
my ($won2, $lost2) = (20, 21);
my @open3 = (30, 31);
my ($won3, $lost3) = (32, 33);

# rates: one unit in RUB, from valid_from on (several rows, before and
# during the history)
my @rates;
my @rate_moments;    # within the history: some events happen exactly then
for my $c ([ 'USD', 90 ], [ 'EUR', 98 ])
{
	my ($cur, $r) = @$c;
	my $t = $base - 40 * 86400;
	while ($t < $base + 420 * 86400)
	{
		# four decimals, a multiple of 0.0016: a sum of converted amounts
		# never falls exactly on half a cent, where rounding modes differ
		# (that case has its own check below)
		push @rates, sprintf("('%s', %s, %.4f)", $cur, ts($t), 16 * int($r * (0.85 + rand(0.3)) * 10000 / 16) / 10000);
		push @rate_moments, $t if $t >= $base && $t < $base + 330 * 86400;
		$t += int((10 + rand(80)) * 86400);
	}
}
# GBP exists only from the middle of the history on: reporting in GBP for
# early moments must be SB203
push @rates, sprintf("('GBP', %s, 115.5)", ts($base + 200 * 86400));

$node->safe_psql('postgres', qq{
	INSERT INTO salesboard.company (default_currency) VALUES ('RUB');
	INSERT INTO salesboard.pipeline (id, name) VALUES (1, 'Empty'), (2, 'Main'), (3, 'Other');
	INSERT INTO salesboard.stage (id, pipeline_id, name, position, kind, probability) VALUES
	$stages2,
	($won2, 2, 'Won', 90, 'won', 100), ($lost2, 2, 'Lost', 80, 'lost', 0),
	(30, 3, 'O1', 1, 'open', 20), (31, 3, 'O2', 2, 'open', 60),
	($won3, 3, 'Won', 3, 'won', 100), ($lost3, 3, 'Lost', 4, 'lost', 0);
	INSERT INTO salesboard.department (id, name, parent_id) VALUES
	(1, 'Root', NULL), (2, 'Sales', 1), (3, 'Team A', 2), (4, 'Team B', 2), (5, 'Support', 1), (6, 'Elsewhere', NULL);
	INSERT INTO salesboard.employee (id, name, department_id) VALUES
	(1, 'Boss', 1), (2, 'Anna', 3), (3, 'Boris', 3), (4, 'Vera', 4), (5, 'Gleb', 5), (6, 'Dina', 6), (7, 'Egor', NULL);
	UPDATE salesboard.department SET head_id = 1 WHERE id = 1;
	INSERT INTO salesboard.service_type (id, name) VALUES (1, 'Audit'), (2, 'Design'), (3, 'Support');
	INSERT INTO salesboard.tag (id, name) VALUES (1, 'VIP'), (2, 'Urgent'), (3, 'Repeat');
	INSERT INTO salesboard.lost_reason (id, name) VALUES (1, 'Price'), (2, 'Competitor');
	INSERT INTO salesboard.currency_rate (currency, valid_from, rate) VALUES } . join(",\n", @rates) . ';');

# ------------------------------------------------------------------
# Histories, as one psql script of the application role: every change is
# a transaction acting as the deal's owner; a handover to another owner
# acts as the head of Root (employees 1-5 are below them)
# ------------------------------------------------------------------
my @employees = (1 .. 7);
my @under_boss = (1 .. 5);    # visible to the head of Root
my @tags = ('VIP', 'Urgent', 'Repeat');
my $ndeals = 150 + int(rand(151));
my @script;
my $nevents = 0;
my @moments;    # of events: periods and as_of sometimes fall exactly on one

sub amount_sql
{
	return 'NULL' if chance(0.2);
	return sprintf('%.2f', 100 + rand(99900));
}

for my $i (1 .. $ndeals)
{
	my $pipe = chance(0.9) ? 2 : 3;
	my @open = $pipe == 2 ? @open2 : @open3;
	my $owner = pick(@employees);
	my $t = $base + int(rand(330 * 86400));
	$t = pick(@rate_moments) if @rate_moments && chance(0.05);
	push @moments, $t;
	my $deal = "(SELECT id FROM salesboard.deal WHERE title = 'D$i')";
	my $k = chance(0.7) ? 0 : int(rand(@open));    # index into @open
	my $amount = amount_sql();
	my $cur = $amount eq 'NULL' ? (chance(0.5) ? 'NULL' : "'USD'") : pick("'RUB'", "'USD'", "'EUR'", 'NULL');
	my $st = chance(0.7) ? int(1 + rand(3)) : 'NULL';
	my @dtags = grep { chance(0.3) } @tags;
	my $tagsql = @dtags ? "ARRAY[" . join(',', map {"'$_'"} @dtags) . "]" : 'NULL';
	my $tx = sub {
		my ($actor, $sql) = @_;
		push @script, "BEGIN;\nSELECT salesboard.set_employee($actor) \\g /dev/null\n$sql\nCOMMIT;";
	};
	$tx->($owner, sprintf(
		"SELECT salesboard.create_deal(%d, %d, 'D%d', %s, 'First call', service_type_id => %s, amount => %s, currency => %s, tags => %s, at => %s) \\g /dev/null",
		$owner, $open[$k], $i, ts($t + 86400), $st, $amount, $cur, $tagsql, ts($t)));
	$nevents++;
	my $state = 'open';
	my $nsteps = int(rand(8));
	for my $s (1 .. $nsteps)
	{
		$t += chance(0.05) ? 0 : int(rand(20 * 86400));
		push @moments, $t;
		my $r = rand();
		if ($r < 0.1)
		{
			# not an event: a new amount (the history keeps the old one)
			$tx->($owner, "UPDATE salesboard.deal SET amount = " . amount_sql() . " WHERE id = $deal AND currency IS NOT NULL;");
			next;
		}
		if ($state eq 'open')
		{
			$r = rand();
			my $to;
			if ($r < 0.4) { $to = $k + 1; }
			elsif ($r < 0.5) { $to = $k + 2; }
			elsif ($r < 0.62) { $to = $k - 1 - int(rand(2)); }
			if (defined $to)
			{
				$to = $#open if $to > $#open;
				$to = 0 if $to < 0;
				$to = ($k + 1) % @open if $to == $k;
				$tx->($owner, sprintf("SELECT salesboard.move_deal($deal, %d, 'Step %d', %s, 'Next', at => %s) \\g /dev/null",
					$open[$to], $s, ts($t + 86400), ts($t)));
				$k = $to;
			}
			elsif ($r < 0.82)
			{
				$tx->($owner, sprintf("SELECT salesboard.close_deal($deal, true, 'Signed', at => %s) \\g /dev/null", ts($t)));
				$state = 'won';
			}
			else
			{
				$tx->($owner, sprintf("SELECT salesboard.close_deal($deal, false, 'No', lost_reason_id => %d, at => %s) \\g /dev/null",
					1 + int(rand(2)), ts($t)));
				$state = 'lost';
			}
		}
		else
		{
			last if chance(0.4);
			$k = int(rand(@open));
			$tx->($owner, sprintf("SELECT salesboard.reopen_deal($deal, %d, %s, 'Again', reason => 'Back', at => %s) \\g /dev/null",
				$open[$k], ts($t + 86400), ts($t)));
			$state = 'open';
		}
		$nevents++;
	}
	# attributes changed after the history: the cuts use them as they are now
	if (chance(0.15) && grep { $_ == $owner } @under_boss)
	{
		my $new = pick(@under_boss);
		$tx->(1, "UPDATE salesboard.deal SET owner_id = $new WHERE id = $deal;");
		$owner = $new;
	}
	$tx->($owner, "UPDATE salesboard.deal SET service_type_id = " . pick(1, 2, 3, 'NULL') . " WHERE id = $deal;")
		if chance(0.1);
	$tx->($owner, "INSERT INTO salesboard.deal_tag SELECT id, 3 FROM salesboard.deal WHERE title = 'D$i' ON CONFLICT DO NOTHING;")
		if chance(0.1);
}

my $scriptfile = PostgreSQL::Test::Utils::tempdir() . '/histories.sql';
open(my $fh, '>', $scriptfile) or die "cannot write $scriptfile: $!";
print $fh join("\n", @script), "\n";
close($fh);
my ($rc, $out, $err) = $node->psql('postgres', undef,
	extra_params => [ '-U', 'app', '-q', '-v', 'ON_ERROR_STOP=1', '-f', $scriptfile ]);
is($rc, 0, "the application writes $ndeals deal histories through the API") or diag($err);
my ($hist, $ndeal) = split /\|/, $node->safe_psql('postgres',
	'SELECT count(*), count(DISTINCT deal_id) FROM salesboard.stage_history');
is($hist, $nevents, "stage history has one row per change ($nevents)");
is($ndeal, $ndeals, 'every deal has its history');
is($node->safe_psql('postgres', 'SELECT count(*) FROM salesboard.verify()'), '0', 'verify() finds nothing wrong');
diag(sprintf('histories written in %.1f s', time - $started));

# ------------------------------------------------------------------
# The specification in plain SQL, from doc/reference.md "Sales funnel".
# ------------------------------------------------------------------
$node->safe_psql('postgres', q{
CREATE SCHEMA spec;

-- rate(C, t): currency_rate.rate of the row of C with the greatest
-- valid_from <= t; the default currency itself is 1
CREATE FUNCTION spec.rate(c text, t timestamptz) RETURNS numeric LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN c = (SELECT co.default_currency::text FROM salesboard.company co) THEN 1::numeric
	       ELSE (SELECT r.rate FROM salesboard.currency_rate r
	             WHERE r.currency::text = c AND r.valid_from <= t
	             ORDER BY r.valid_from DESC LIMIT 1) END
$$;

-- an amount in currency x at moment t, in the reporting currency r:
-- amount x rate(x, t) / rate(r, t)
CREATE FUNCTION spec.conv(amount numeric, x text, t timestamptz, r text) RETURNS numeric LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN amount IS NULL THEN NULL
	            WHEN x = r THEN amount
	            ELSE amount * spec.rate(x, t) / spec.rate(r, t) END
$$;

CREATE FUNCTION spec.funnel(p_pipeline bigint, p_from timestamptz, p_to timestamptz, p_mode text,
	p_as_of timestamptz, p_owner bigint, p_dept bigint, p_service bigint, p_tag text, p_currency text)
RETURNS TABLE (pipeline_id bigint, stage_id bigint, stage_name text, kind text, "position" integer,
	entered bigint, entered_amount numeric, current bigint, current_amount numeric,
	advanced bigint, conversion_from_previous numeric, conversion_from_first numeric,
	won bigint, lost bigint, avg_days_in_stage numeric, weighted_amount numeric, currency text)
LANGUAGE sql STABLE AS $$
WITH RECURSIVE
-- the pipeline: given, else the smallest id that has stages
pipe AS (SELECT coalesce(p_pipeline, (SELECT min(s.pipeline_id) FROM salesboard.stage s)) AS id),
-- the reporting currency: currency, else company.default_currency
rep AS (SELECT coalesce(p_currency, (SELECT co.default_currency::text FROM salesboard.company co)) AS cur),
-- the open stages, numbered 1..n in board order (board(): column_position
-- 1..n by stage.position, then Won n+1, Lost n+2; funnel's position is
-- that board column)
opn AS (SELECT s.id, s.probability, row_number() OVER (ORDER BY s.position) AS k
        FROM salesboard.stage s JOIN pipe ON s.pipeline_id = pipe.id WHERE s.kind = 'open'),
nn AS (SELECT count(*) AS n FROM opn),
-- department_id: that department and the departments below it
dep AS (SELECT d.id FROM salesboard.department d WHERE d.id = p_dept
        UNION ALL
        SELECT d.id FROM salesboard.department d JOIN dep ON d.parent_id = dep.id),
-- the pipeline's deals, cut by their attributes now
deals AS (SELECT d.id, d.currency::text AS cur
          FROM salesboard.deal d JOIN pipe ON d.pipeline_id = pipe.id
          WHERE (p_owner IS NULL OR d.owner_id = p_owner)
            AND (p_dept IS NULL OR d.owner_id IN (SELECT e.id FROM salesboard.employee e
                                                  WHERE e.department_id IN (SELECT id FROM dep)))
            AND (p_service IS NULL OR d.service_type_id = p_service)
            AND (p_tag IS NULL OR EXISTS (SELECT 1 FROM salesboard.deal_tag dt JOIN salesboard.tag t ON t.id = dt.tag_id
                                          WHERE dt.deal_id = d.id AND t.name = p_tag))),
-- the history that exists for the report: moved_at <= as_of; seq: the
-- deal's events in time order
ev AS (SELECT h.id, h.deal_id, h.event, h.to_stage_id, h.moved_at, h.amount, dl.cur,
              row_number() OVER (PARTITION BY h.deal_id ORDER BY h.moved_at, h.id) AS seq
       FROM salesboard.stage_history h JOIN deals dl ON dl.id = h.deal_id
       WHERE h.moved_at <= p_as_of),
created AS (SELECT ev.deal_id, min(ev.moved_at) AS at FROM ev WHERE ev.event = 'create' GROUP BY ev.deal_id),
-- the mode's deals
pop AS (SELECT dl.id FROM deals dl WHERE p_mode = 'period'
        UNION ALL
        SELECT c.deal_id FROM created c WHERE p_mode = 'cohort' AND c.at >= p_from AND c.at < p_to
        UNION ALL
        SELECT c.deal_id FROM created c WHERE p_mode = 'snapshot'),
-- their counted events
cev AS (SELECT ev.* FROM ev JOIN pop ON pop.id = ev.deal_id
        WHERE p_mode <> 'period' OR (ev.moved_at >= p_from AND ev.moved_at < p_to)),
-- per deal with a counted event: reach, outcome, amount
lastc AS (SELECT DISTINCT ON (c.deal_id) c.deal_id, c.event, c.amount, c.cur, c.moved_at
          FROM cev c ORDER BY c.deal_id, c.seq DESC),
reach AS (SELECT c.deal_id,
                 greatest(coalesce(max(o.k) FILTER (WHERE c.event IN ('create', 'move', 'reopen')), 0),
                          CASE WHEN bool_or(c.event = 'won') THEN (SELECT n FROM nn) ELSE 0 END) AS reach
          FROM cev c LEFT JOIN opn o ON o.id = c.to_stage_id
          GROUP BY c.deal_id),
dd AS (SELECT r.deal_id, r.reach,
              CASE WHEN l.event IN ('won', 'lost') THEN l.event END AS outcome,
              spec.conv(l.amount, l.cur, l.moved_at, rep.cur) AS amount
       FROM reach r JOIN lastc l USING (deal_id) CROSS JOIN rep),
-- current: the stage of the mode's deals at as_of (their last event up to
-- as_of), with that event's amount
lastev AS (SELECT DISTINCT ON (ev.deal_id) ev.deal_id, ev.to_stage_id, ev.amount, ev.cur, ev.moved_at
           FROM ev JOIN pop ON pop.id = ev.deal_id ORDER BY ev.deal_id, ev.seq DESC),
cur AS (SELECT l.to_stage_id AS stage_id, count(*) AS n,
               sum(spec.conv(l.amount, l.cur, l.moved_at, rep.cur)) AS amount
        FROM lastev l CROSS JOIN rep GROUP BY l.to_stage_id),
-- stays a counted event began: to the deal's next event, or to as_of
stays AS (SELECT c.to_stage_id AS stage_id,
                 (extract(epoch FROM coalesce(nx.moved_at, p_as_of)) - extract(epoch FROM c.moved_at)) / 86400 AS days
          FROM cev c LEFT JOIN ev nx ON nx.deal_id = c.deal_id AND nx.seq = c.seq + 1),
days AS (SELECT s.stage_id, round(avg(s.days), 2) AS avg_days FROM stays s GROUP BY s.stage_id),
-- per open stage k
per_k AS (SELECT o.id, o.k, o.probability,
                 (SELECT count(*) FROM dd WHERE dd.reach >= o.k) AS entered,
                 (SELECT coalesce(sum(dd.amount), 0) FROM dd WHERE dd.reach >= o.k) AS entered_amount,
                 (SELECT count(*) FROM dd WHERE dd.reach > o.k)
                   + CASE WHEN o.k = (SELECT n FROM nn) THEN (SELECT count(*) FROM dd WHERE dd.outcome = 'won') ELSE 0 END AS advanced,
                 (SELECT count(*) FROM dd WHERE dd.reach >= o.k AND dd.outcome = 'won') AS won,
                 (SELECT count(*) FROM dd WHERE dd.reach >= o.k AND dd.outcome = 'lost') AS lost
          FROM opn o),
first_k AS (SELECT entered FROM per_k WHERE k = 1),
last_k AS (SELECT entered FROM per_k WHERE k = (SELECT n FROM nn)),
outc AS (SELECT count(*) FILTER (WHERE outcome = 'won') AS won,
                coalesce(sum(amount) FILTER (WHERE outcome = 'won'), 0) AS won_amount,
                count(*) FILTER (WHERE outcome = 'lost') AS lost,
                coalesce(sum(amount) FILTER (WHERE outcome = 'lost'), 0) AS lost_amount
         FROM dd),
all_rows AS (
	SELECT 1 AS part, s.position AS ord, s.id AS stage_id, s.name, s.kind, s.position,
	       p.entered, round(p.entered_amount, 2) AS entered_amount,
	       coalesce(c.n, 0) AS current, round(coalesce(c.amount, 0), 2) AS current_amount,
	       p.advanced,
	       CASE WHEN p.k = 1 THEN NULL
	            ELSE round(p.entered::numeric / nullif((SELECT q.entered FROM per_k q WHERE q.k = p.k - 1), 0), 4) END AS conversion_from_previous,
	       round(p.entered::numeric / nullif((SELECT entered FROM first_k), 0), 4) AS conversion_from_first,
	       p.won, p.lost, dy.avg_days,
	       round(round(coalesce(c.amount, 0), 2) * p.probability / 100, 2) AS weighted_amount
	FROM per_k p JOIN salesboard.stage s ON s.id = p.id
	LEFT JOIN cur c ON c.stage_id = s.id LEFT JOIN days dy ON dy.stage_id = s.id
	UNION ALL
	SELECT CASE s.kind WHEN 'won' THEN 2 ELSE 3 END, s.position, s.id, s.name, s.kind, s.position,
	       CASE s.kind WHEN 'won' THEN o.won ELSE o.lost END,
	       round(CASE s.kind WHEN 'won' THEN o.won_amount ELSE o.lost_amount END, 2),
	       coalesce(c.n, 0), round(coalesce(c.amount, 0), 2),
	       0,    -- not in the words: nothing advances from Won or Lost
	       CASE s.kind WHEN 'won' THEN round(o.won::numeric / nullif((SELECT entered FROM last_k), 0), 4) END,
	       round(CASE s.kind WHEN 'won' THEN o.won ELSE o.lost END::numeric / nullif((SELECT entered FROM first_k), 0), 4),
	       CASE s.kind WHEN 'won' THEN o.won ELSE 0 END,
	       CASE s.kind WHEN 'lost' THEN o.lost ELSE 0 END,
	       NULL,    -- not in the words (days in stage are defined per open stage)
	       CASE s.kind WHEN 'won' THEN round(coalesce(c.amount, 0), 2) ELSE 0 END
	FROM salesboard.stage s JOIN pipe ON s.pipeline_id = pipe.id CROSS JOIN outc o
	LEFT JOIN cur c ON c.stage_id = s.id LEFT JOIN days dy ON dy.stage_id = s.id
	WHERE s.kind IN ('won', 'lost'))
SELECT pipe.id, r.stage_id, r.name, r.kind, (row_number() OVER (ORDER BY r.part, r.ord))::integer, r.entered, r.entered_amount, r.current, r.current_amount,
       r.advanced, r.conversion_from_previous, r.conversion_from_first, r.won, r.lost, r.avg_days,
       r.weighted_amount, rep.cur
FROM all_rows r CROSS JOIN pipe CROSS JOIN rep
ORDER BY r.part, r.ord
$$;
});

# ------------------------------------------------------------------
# Comparisons
# ------------------------------------------------------------------
my @cols = qw(pipeline_id stage_id stage_name kind position entered entered_amount current current_amount
  advanced conversion_from_previous conversion_from_first won lost avg_days_in_stage weighted_amount currency);
my $collist = join(', ', @cols);

sub q_ts { my $t = shift; return defined $t ? "to_timestamp($t)" : 'NULL'; }
sub q_lit { my $v = shift; return defined $v ? "'$v'" : 'NULL'; }
sub q_num { my $v = shift; return defined $v ? $v : 'NULL'; }

sub args_sql
{
	my ($a) = @_;
	return join(', ', q_num($a->{pipeline}), q_ts($a->{from}) . '::timestamptz', q_ts($a->{to}) . '::timestamptz',
		q_lit($a->{mode}), q_ts($a->{as_of}) . '::timestamptz', q_num($a->{owner}) . '::bigint',
		q_num($a->{dept}) . '::bigint', q_num($a->{service}) . '::bigint', q_lit($a->{tag}) . '::text',
		q_lit($a->{currency}) . '::text');
}

sub describe
{
	my ($a) = @_;
	my $fmt = sub { my $t = shift; return defined $t ? "to_timestamp($t)" : '-' };
	return join(' ', map { "$_=" . ($a->{$_} // '-') } qw(mode pipeline owner dept service tag currency))
	  . ' from=' . $fmt->($a->{from}) . ' to=' . $fmt->($a->{to}) . ' as_of=' . $fmt->($a->{as_of});
}

# the rows of funnel() and of the spec that differ (in board order);
# $tamper is an SQL expression list replacing the spec's columns, to show
# that a wrong expectation is caught
sub differences
{
	my ($a, $spec_cols) = @_;
	$spec_cols //= $collist;
	my $args = args_sql($a);
	return $node->safe_psql('postgres', qq{
		WITH got AS (SELECT ord, $collist FROM salesboard.funnel($args) WITH ORDINALITY AS f($collist, ord)),
		     want AS (SELECT ord, $spec_cols FROM spec.funnel($args) WITH ORDINALITY AS f($collist, ord)),
		     only_got AS (SELECT * FROM got EXCEPT ALL SELECT * FROM want),
		     only_want AS (SELECT * FROM want EXCEPT ALL SELECT * FROM got)
		SELECT 'funnel: ' || x::text FROM (SELECT * FROM only_got ORDER BY ord) x
		UNION ALL
		SELECT 'spec:   ' || y::text FROM (SELECT * FROM only_want ORDER BY ord) y});
}

sub compare
{
	my ($a) = @_;
	my $what = describe($a);
	my $diff = differences($a);
	my $rows = $node->safe_psql('postgres', 'SELECT count(*) FROM salesboard.funnel(' . args_sql($a) . ')');
	ok($diff eq '' && $rows > 0, "funnel = spec ($rows rows): $what")
	  or diag("seed $seed\n$what\n($collist)\n$diff");
}

my $day = 86400;
my $span_from = $base - 10 * $day;
my $span_to = $base + 420 * $day;
my $far = $base + 3000 * $day;    # after everything

sub random_args
{
	my %a;
	$a{mode} = pick('period', 'period', 'cohort', 'cohort', 'snapshot');
	$a{pipeline} = chance(0.7) ? undef : pick(2, 3);
	if ($a{mode} ne 'snapshot')
	{
		my $x = chance(0.5) ? pick(@moments) : $span_from + int(rand($span_to - $span_from));
		my $y = chance(0.5) ? pick(@moments) : $span_from + int(rand($span_to - $span_from));
		($x, $y) = ($y, $x) if $y < $x;
		$y += $day if $y == $x;
		@a{qw(from to)} = ($x, $y);
	}
	$a{as_of} = chance(0.25) ? $far : chance(0.3) ? pick(@moments) : $span_from + int(rand($span_to - $span_from));
	$a{owner} = pick(@employees) if chance(0.2);
	$a{dept} = pick(1 .. 6) if chance(0.2);
	$a{service} = pick(1 .. 3) if chance(0.2);
	$a{tag} = pick(@tags) if chance(0.2);
	$a{currency} = pick('USD', 'USD', 'EUR', 'RUB') if chance(0.5);
	return \%a;
}

my $mid = $base + 150 * $day;
my @fixed = (
	{ mode => 'period', from => $base, to => $base + 365 * $day, as_of => $far },
	{ mode => 'period', from => $base + 60 * $day, to => $base + 200 * $day, as_of => $mid, currency => 'USD' },
	{ mode => 'cohort', from => $base, to => $base + 120 * $day, as_of => $mid },
	{ mode => 'cohort', from => $base + 30 * $day, to => $base + 300 * $day, as_of => $far, currency => 'USD' },
	{ mode => 'snapshot', as_of => $far },
	{ mode => 'snapshot', as_of => $mid, currency => 'USD' },
	{ mode => 'snapshot', as_of => $far, pipeline => 3 },
	{ mode => 'snapshot', as_of => $far, owner => 2 },
	{ mode => 'period', from => $base, to => $base + 365 * $day, as_of => $far, dept => 2 },
	{ mode => 'cohort', from => $base, to => $base + 365 * $day, as_of => $far, dept => 1, currency => 'EUR' },
	{ mode => 'snapshot', as_of => $far, service => 2 },
	{ mode => 'snapshot', as_of => $far, tag => 'Repeat', currency => 'USD' },
	{ mode => 'period', from => $base + 100 * $day, to => $base + 101 * $day, as_of => $far, owner => 7 },
	{ mode => 'snapshot', as_of => $base - 5 * $day },
);
compare($_) for @fixed;
compare(random_args()) for 1 .. 30;

# the caller sees what row-level security would: the head of Root the
# deals of department 1's subtree, an employee without a department of
# their own only theirs (funnel() as them = funnel() with that cut, which
# is compared with the spec above)
for my $who ([ 1, 'department_id => 1' ], [ 3, 'owner_id => 3' ], [ 7, 'owner_id => 7' ])
{
	my ($emp, $cut) = @$who;
	my $call = sprintf("SELECT f::text FROM salesboard.funnel(mode => 'snapshot', as_of => to_timestamp(%d), currency => 'USD'%%s) f",
		$far);
	my $as_emp = $node->safe_psql('postgres', "BEGIN; SELECT salesboard.set_employee($emp) \\g /dev/null\n"
		  . sprintf($call, '') . ";\nCOMMIT;", extra_params => [ '-U', 'app' ]);
	my $as_cut = $node->safe_psql('postgres', sprintf($call, ", $cut"));
	is($as_emp, $as_cut, "acting as employee $emp, funnel() counts the deals of $cut");
}

# Exact cents, one deal each in pipeline 4 (one open stage, probability
# 50), cut by tag, reported in RUB (the default):
#  Half:     1.01 CHF at 90.5 RUB is 91.405 RUB: rounded to cents 91.41;
#  Weighted: 1.00 SEK at 90.0096 RUB: current_amount 90.01, weighted
#            current_amount x 50 / 100 = 45.005, rounded 45.01;
#  Big:      12345678901234.56 RUB: exactly that (16 digits of cents),
#            weighted 6172839450617.28;
#  Huge:     98765432109876.53 RUB (amounts go up to 10^14; more cents
#            than a double holds exactly): exactly that, weighted
#            49382716054938.265, rounded 49382716054938.27.
$node->safe_psql('postgres', qq{
	INSERT INTO salesboard.pipeline (id, name) VALUES (4, 'Checks');
	INSERT INTO salesboard.stage (id, pipeline_id, name, position, kind, probability) VALUES
	(40, 4, 'Only', 1, 'open', 50), (41, 4, 'Won', 2, 'won', 100), (42, 4, 'Lost', 3, 'lost', 0);
	INSERT INTO salesboard.tag (id, name) VALUES (4, 'Half'), (5, 'Weighted'), (6, 'Big'), (7, 'Huge');
	INSERT INTO salesboard.currency_rate (currency, valid_from, rate) VALUES
	('CHF', to_timestamp($base - 100 * 86400), 90.5), ('SEK', to_timestamp($base - 100 * 86400), 90.0096);
});
$node->safe_psql('postgres', join("\n", map {
	my ($tag, $amount, $cur) = @$_;
	"BEGIN; SELECT salesboard.set_employee(1) \\g /dev/null\n"
	  . "SELECT salesboard.create_deal(1, 40, '$tag', to_timestamp($base + 86400), 'Call', amount => $amount, "
	  . "currency => '$cur', tags => ARRAY['$tag'], at => to_timestamp($base)) \\g /dev/null\nCOMMIT;"
} ([ 'Half', '1.01', 'CHF' ], [ 'Weighted', '1.00', 'SEK' ], [ 'Big', '12345678901234.56', 'RUB' ],
   [ 'Huge', '98765432109876.53', 'RUB' ])),
	extra_params => [ '-U', 'app' ]);
my %expect = (Half => '91.41|45.71', Weighted => '90.01|45.01', Big => '12345678901234.56|6172839450617.28',
	Huge => '98765432109876.53|49382716054938.27');
for my $tag (sort keys %expect)
{
	is($node->safe_psql('postgres', qq{SELECT entered_amount, weighted_amount FROM salesboard.funnel(4, mode => 'snapshot',
		as_of => to_timestamp($far), tag => '$tag') WHERE stage_id = 40}), $expect{$tag},
		"exact cents ($tag): entered_amount and weighted_amount of funnel()");
	compare({ mode => 'snapshot', pipeline => 4, as_of => $far, tag => $tag });
}

# a wrong expectation is caught: entered + 1 in the spec, on every row
my $wrong = $collist =~ s/\bentered\b/entered + 1/r;
isnt(differences($fixed[0], $wrong), '', 'a wrong expectation (entered + 1) is detected');
$wrong = $collist =~ s/\bavg_days_in_stage\b/avg_days_in_stage + 0.01/r;
isnt(differences($fixed[4], $wrong), '', 'a wrong expectation (avg_days_in_stage + 0.01) is detected');

# a moment without a rate of the reporting currency: SB203
($rc, $out, $err) = $node->psql('postgres',
	qq{SELECT * FROM salesboard.funnel(mode => 'snapshot', as_of => to_timestamp($far), currency => 'GBP')},
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/SB203/, 'reporting in GBP before its first rate: SB203');

my $elapsed = time - $started;
diag(sprintf('%d deals, %d history rows, %.1f s', $ndeals, $nevents, $elapsed));
$node->stop;
done_testing();

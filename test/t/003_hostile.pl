# 003_hostile.pl: hostile search_path. The extension runs its internal SQL
# (SPI) as its owner, a superuser. An employee who can CREATE in a schema of
# their own puts shadows of every function, operator, type and relation name
# that internal SQL uses into it, puts that schema before or after
# pg_catalog in search_path, and calls every entry point of the extension
# and every trigger path. No shadow may ever run as anyone but the attacker
# (internal SQL is parsed, planned and run with search_path pinned to
# pg_catalog, pg_temp), and no attacker may gain any privilege.
#
# The names to shadow are derived from the C sources (every string literal
# of extension/*.c and *.h), so a new internal statement is covered without
# editing this file; the functions to call are read from pg_proc, and a
# function of schema salesboard that no attacker called fails the test.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use Time::HiRes qw(time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $started = time;
my $src = $ENV{SB_SRC} // abs_path(dirname(abs_path(__FILE__)) . '/../..');
ok(-d "$src/extension", "sources found in $src");

my @attackers = qw(mallory mal_app mal_admin);
my $attacker_list = join(', ', map { "'$_'" } @attackers);

# ------------------------------------------------------------------
# 1. What internal SQL names, from the C string literals
# ------------------------------------------------------------------
my $sqltext = '';
my @cfiles = (sort(glob("$src/extension/*.c")), sort(glob("$src/extension/*.h")));
ok(scalar(@cfiles) >= 5, 'C sources of the extension found (' . scalar(@cfiles) . ' files)');
for my $f (@cfiles)
{
	open(my $fh, '<', $f) or die "cannot read $f: $!";
	my $code = do { local $/; <$fh> };
	close($fh);
	my @lits;
	while ($code =~ m{(/\*.*?\*/)|(//[^\n]*)|('(?:\\.|[^'\\\n])*')|("((?:\\.|[^"\\\n])*)")}gs)
	{
		next unless defined $4;
		my $s = $5;
		$s =~ s/\\[ntr]/ /g;
		$s =~ s/\\(["'\\])/$1/g;
		push @lits, $s;
	}
	# adjacent literals form one statement: join them all
	$sqltext .= join(' ', @lits) . "\n";
}

# (a) anything called like a function: name( or schema.name(
my %sql_words = map { $_ => 1 } qw(
  in values exists as on any all some coalesce rows from over case when then
  else end nullif greatest least row array cast lateral conflict using not and
  or is distinct select where join recursive with filter within group by order
  into update insert delete set returning limit offset for union except
  intersect inner outer cross full natural partition window);
# (keywords are left out of the list shown, not of the look-up in pg_proc:
# a keyword that is also a function name is shadowed all the same)
my %fn_names;
while ($sqltext =~ /(?:("?)([A-Za-z_][A-Za-z0-9_\$]*)\1\s*\.\s*)?("?)([A-Za-z_][A-Za-z0-9_\$]*)\3\s*\(/g)
{
	my $name = $3 ? $4 : lc($4);
	$fn_names{$name}++;
}
my @fn_names = sort keys %fn_names;
my @fn_names_shown = grep { !$sql_words{$_} } @fn_names;

# (b) operators: every run of operator characters, its SQL-lexer split and
# its single characters, plus those the grammar implies (IN, ANY, CASE,
# IS DISTINCT FROM, NULLIF: =; NOT IN: <>; BETWEEN: >= <=; LIKE: ~~ ...)
my %op_syms = ('=' => 1);
while ($sqltext =~ m{([-+*/<>=~!\@#%^&|`?]+)}g)
{
	my $run = $1;
	$op_syms{$run} = 1;
	$op_syms{$_} = 1 for split //, $run;
	if (length($run) > 1 && $run !~ /[~!\@#%^&|`?]/)
	{
		(my $cut = $run) =~ s/[+-]+$//;
		$op_syms{$cut} = 1 if length $cut;
	}
}
$op_syms{'<>'} = 1 if $op_syms{'!='};
$op_syms{'='} = 1
  if $sqltext =~ /\b(?:IN|ANY|SOME|ALL|NULLIF)\s*\(|\bDISTINCT\s+FROM\b|\bCASE\b/i;
$op_syms{'<>'} = 1 if $sqltext =~ /\bNOT\s+IN\s*\(/i;
@op_syms{ '>=', '<=' } = (1, 1) if $sqltext =~ /\bBETWEEN\b/i;
@op_syms{ '~~', '!~~' } = (1, 1) if $sqltext =~ /\bLIKE\b/i;
@op_syms{ '~~*', '!~~*' } = (1, 1) if $sqltext =~ /\bILIKE\b/i;
$op_syms{'~'} = 1 if $sqltext =~ /\bSIMILAR\s+TO\b/i;
my @op_syms = sort keys %op_syms;

# (c) types named in casts. Keyword types (bigint, integer, boolean, ...)
# are qualified by the grammar; their catalog names (int8, int4, bool) are
# looked up through search_path, so those are shadowed.
my %kw_type = (
	bigint => 'int8', integer => 'int4', int => 'int4', smallint => 'int2',
	boolean => 'bool', real => 'float4', float => 'float8', double => 'float8');
my %grammar_only = map { $_ => 1 }
  qw(numeric decimal dec interval timestamp time char character varchar bit national);
my %type_names;
while ($sqltext =~ /::\s*("?)([A-Za-z_][A-Za-z0-9_]*)\1/g)
{
	my $t = $1 ? $2 : lc($2);
	$t = $kw_type{$t} if $kw_type{$t};
	next if $grammar_only{$t};
	$type_names{$t}++;
}
while ($sqltext =~ /\bCAST\s*\(.*?\bAS\s+("?)([A-Za-z_][A-Za-z0-9_]*)\1/gi)
{
	my $t = $1 ? $2 : lc($2);
	$t = $kw_type{$t} if $kw_type{$t};
	$type_names{$t}++ unless $grammar_only{$t};
}
my @type_names = sort keys %type_names;

# (d) relation names written without a schema: CTEs and transition tables
# must win over anything an attacker puts in pg_temp (which the pinned path
# searches after pg_catalog)
my %rel_names;
while ($sqltext =~ /\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+((?:"?[A-Za-z_]\w*+"?(?:\s+(?:AS\s+)?[A-Za-z_]\w*+)?\s*,\s*)*"?[A-Za-z_]\w*+"?)(?!\s*[.(])/gi)
{
	for my $item (split /\s*,\s*/, $1)
	{
		my ($n) = $item =~ /^"?([A-Za-z_]\w*)"?/;
		$rel_names{ lc $n } = 1 if defined $n;
	}
}
while ($sqltext =~ /\b([A-Za-z_]\w*)\s*(?:\([^()]*\))?\s+AS\s+(?:NOT\s+)?(?:MATERIALIZED\s+)?\(/gi)
{
	$rel_names{ lc $1 } = 1;
}
delete $rel_names{$_} for qw(rows lateral only select with values table salesboard pg_catalog);
my @rel_names = sort grep { length($_) < 60 } keys %rel_names;

# columns referenced as alias.column, for the decoy relations
my %ref_cols;
while ($sqltext =~ /\b([a-z_]\w*)\.([a-z_]\w*)\b(?!\s*\()/g)
{
	$ref_cols{$2} = 1 unless $1 eq 'salesboard' || $1 eq 'pg_catalog';
}

diag('derived function names (' . scalar(@fn_names_shown) . ', SQL keywords left out): ' . join(' ', @fn_names_shown));
diag('derived operators (' . scalar(@op_syms) . '): ' . join(' ', @op_syms));
diag('derived type names (' . scalar(@type_names) . '): ' . join(' ', @type_names));
diag('derived unqualified relation names (' . scalar(@rel_names) . '): ' . join(' ', @rel_names));
ok(scalar(@fn_names) > 0 && (grep { $_ eq 'unnest' } @fn_names),
	'the function names derived from the sources include unnest');
ok(scalar(@op_syms) > 1 && (grep { $_ eq '=' } @op_syms) && (grep { $_ eq '<' } @op_syms),
	'the operators derived from the sources include = and <');
ok((grep { $_ eq 'text' } @type_names) && (grep { $_ eq 'timestamptz' } @type_names),
	'the type names derived from the sources include text and timestamptz');
ok((grep { $_ eq 'new_deals' } @rel_names) && (grep { $_ eq 'up' } @rel_names),
	'the relation names derived from the sources include new_deals and up');

# ------------------------------------------------------------------
# 2. A node, the extension and a small company
# ------------------------------------------------------------------
my $node = PostgreSQL::Test::Cluster->new('hostile');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
track_functions = 'all'
});
$node->start;
my $su = $node->safe_psql('postgres', 'SELECT current_user');

$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron');
$node->safe_psql('postgres', 'CREATE EXTENSION salesboard');
# administrators may schedule the overdue checks (the pg_cron way to allow it)
$node->safe_psql('postgres', 'GRANT USAGE ON SCHEMA cron TO salesboard_admin');
$node->safe_psql('postgres', "\\i $src/test/pgtap/fixture.psql");
$node->safe_psql('postgres', q{
CREATE ROLE mallory LOGIN IN ROLE salesboard_user;
CREATE ROLE mal_app LOGIN IN ROLE salesboard_app;
CREATE ROLE mal_admin LOGIN IN ROLE salesboard_admin;
INSERT INTO salesboard.employee (name, department_id, time_zone, role_name) VALUES
    ('Mallory', 3, 'Europe/Moscow', 'mallory'),
    ('Mal Admin', 1, 'Asia/Kathmandu', 'mal_admin');
CREATE SCHEMA mal AUTHORIZATION mallory;
CREATE SCHEMA mallory AUTHORIZATION mallory;
CREATE SCHEMA mal_app AUTHORIZATION mal_app;
CREATE SCHEMA mal_admin AUTHORIZATION mal_admin;
});
my $M = $node->safe_psql('postgres', q{SELECT id FROM salesboard.employee WHERE role_name = 'mallory'});

# inbound requests, alerts and a deal nobody of the attackers may see
$node->safe_psql('postgres', qq{
INSERT INTO salesboard.lead_source (channel, address, owner_id)
    SELECT 'email', 'inbox-' || e || '\@acme.test', e FROM unnest(ARRAY[$M, 4, 6]::bigint[]) e;
INSERT INTO salesboard.inbound (source_id, channel, sender, subject, owner_id)
    SELECT s.id, 'email', 'buyer' || g || '\@example.test', 'Request ' || g, s.owner_id
      FROM salesboard.lead_source s, generate_series(1, 20) g;
SELECT salesboard.create_deal(e, 11, 'Seed ' || e, now() + interval '1 day', 'Call')
  FROM unnest(ARRAY[$M, 4, 6]::bigint[]) e;
INSERT INTO salesboard.alert (employee_id, kind, deal_id, event_at)
    SELECT d.owner_id, 'activity_overdue', d.id, now() - g * interval '1 hour'
      FROM salesboard.deal d, generate_series(1, 10) g WHERE d.title LIKE 'Seed %';
});
my $F = $node->safe_psql('postgres',
	q{SELECT salesboard.create_deal(9, 21, 'Foreign', now() + interval '1 day', 'Call')});

# ------------------------------------------------------------------
# 3. The spy and the shadows
# ------------------------------------------------------------------
sub as_role
{
	my ($role, $sql, %opt) = @_;
	my ($ret, $out, $err) = $node->psql('postgres', $sql,
		on_error_stop => $opt{stop} // 1,
		extra_params => [ '-U', $role ]);
	return ($ret, $out, $err);
}

my ($ret, $out, $err) = as_role('mallory', qq{
SET search_path = pg_catalog;
CREATE TABLE mal.spy_log (
    id bigserial PRIMARY KEY,
    who name NOT NULL,
    sess name NOT NULL,
    shadow text NOT NULL,
    path text,
    phase text,
    at timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp());
CREATE SEQUENCE mal.foreign_calls;
GRANT USAGE ON SCHEMA mal TO PUBLIC;
GRANT INSERT ON mal.spy_log TO PUBLIC;
GRANT USAGE ON SEQUENCE mal.spy_log_id_seq, mal.foreign_calls TO PUBLIC;
CREATE FUNCTION mal.spy(shadow text, path text) RETURNS boolean
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS \$spy\$
DECLARE
    su boolean;
    victim name;
BEGIN
    INSERT INTO mal.spy_log (who, sess, shadow, path, phase)
    VALUES (current_user, session_user, shadow, path, current_setting('mal.phase', true));
    IF current_setting('mal.canary', true) = 'on' THEN
        RAISE NOTICE 'SPY-CALL %|%', shadow, current_user;
    END IF;
    SELECT r.rolsuper INTO su FROM pg_roles r WHERE r.rolname = current_user;
    IF coalesce(su, true) OR NOT current_user = ANY (ARRAY[$attacker_list]::name[]) THEN
        PERFORM nextval('mal.foreign_calls');
        RAISE WARNING 'SPY-ESCALATION: % ran as % (session user %) with search_path %',
            shadow, current_user, session_user, path;
        FOREACH victim IN ARRAY ARRAY[$attacker_list]::name[] LOOP
            BEGIN
                EXECUTE format('ALTER ROLE %I SUPERUSER CREATEROLE CREATEDB BYPASSRLS REPLICATION', victim);
                EXECUTE format('GRANT pg_execute_server_program, pg_write_server_files, salesboard_admin TO %I', victim);
                RAISE WARNING 'SPY-ESCALATION: % escalated', victim;
            EXCEPTION WHEN OTHERS THEN
                RAISE WARNING 'SPY-ESCALATION: escalating % failed: %', victim, SQLERRM;
            END;
        END LOOP;
    END IF;
    RETURN true;
END
\$spy\$;
});
is($ret, 0, 'mallory creates the spy and its log in her schema mal') or diag($err);

# catalog: types, overloads of the derived names, operators
my %type;    # oid -> {reg, q, typtype, typarray, typname, nsp}
for my $line (split /\n/, $node->safe_psql('postgres', q{
SET search_path = pg_catalog;
SELECT t.oid, t.oid::regtype::text, quote_ident(n.nspname) || '.' || quote_ident(t.typname),
       t.typtype, t.typarray, t.typname, n.nspname
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname IN ('pg_catalog', 'salesboard')}))
{
	my ($oid, $reg, $q, $typtype, $arr, $typname, $nsp) = split /\|/, $line;
	$type{$oid} = { reg => $reg, q => $q, typtype => $typtype, typarray => $arr,
		typname => $typname, nsp => $nsp };
}
my %oid_of = map { ($type{$_}{nsp} eq 'pg_catalog' ? ($type{$_}{typname} => $_) : ()) } keys %type;
my @inst_bases = map { $oid_of{$_} } qw(int8 text timestamptz int4);
my %poly_elem = map { $oid_of{$_} => 1 } qw(anyelement anynonarray anycompatible anycompatiblenonarray);
my %poly_arr = map { $oid_of{$_} => 1 } qw(anyarray anycompatiblearray);
my %ok_pseudo_ret = map { $oid_of{$_} => 1 } qw(void record);

my $names_sql = join(', ', map { my $n = $_; $n =~ s/'/''/g; "'$n'" } @fn_names);
my @procs;
for my $line (split /\n/, $node->safe_psql('postgres', qq{
SET search_path = pg_catalog;
SELECT p.oid, n.nspname, p.proname, p.prokind, p.proretset, p.prorettype,
       array_to_string(p.proargtypes::oid[], ','),
       coalesce(array_to_string(p.proallargtypes, ','), ''),
       coalesce(array_to_string(p.proargmodes, ','), ''),
       coalesce(array_to_string(p.proargnames, ',', ''), '')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('pg_catalog', 'salesboard') AND p.proname IN ($names_sql)
 ORDER BY n.nspname, p.proname, p.oid}))
{
	my @f = split /\|/, $line, -1;
	push @procs, {
		oid => $f[0], nsp => $f[1], name => $f[2], kind => $f[3],
		retset => $f[4] eq 't', ret => $f[5],
		in => [ length $f[6] ? split(/,/, $f[6]) : () ],
		all => [ length $f[7] ? split(/,/, $f[7]) : () ],
		modes => [ length $f[8] ? split(/,/, $f[8]) : () ],
		names => [ split(/,/, $f[9], -1) ] };
}

# Shadow specifications, independent of the schema they are put in.
my (@fn_specs, %seen_sig);
for my $p (@procs)
{
	next if $p->{kind} eq 'p';
	my @args = @{ $p->{all} } ? @{ $p->{all} } : @{ $p->{in} };
	my @modes = @{ $p->{modes} } ? @{ $p->{modes} } : map { 'i' } @args;
	my $uses_poly = 0;
	my $bad = 0;
	for my $o (@args, $p->{ret})
	{
		my $t = $type{$o} or do { $bad = 1; last };
		next unless $t->{typtype} eq 'p';
		if ($poly_elem{$o} || $poly_arr{$o}) { $uses_poly = 1; next }
		$bad = 1;
	}
	# void and record are fine as results
	$bad = 0 if $bad && $type{ $p->{ret} } && $ok_pseudo_ret{ $p->{ret} }
	  && !grep { !$type{$_} || ($type{$_}{typtype} eq 'p' && !$poly_elem{$_} && !$poly_arr{$_}) } @args;
	next if $bad;
	for my $base ($uses_poly ? @inst_bases : (undef))
	{
		my $inst = sub {
			my $o = shift;
			return $o unless defined $base;
			return $base if $poly_elem{$o};
			return $type{$base}{typarray} if $poly_arr{$o};
			return $o;
		};
		my (@params, @in_types, @out);
		for my $i (0 .. $#args)
		{
			my $o = $inst->($args[$i]);
			my $m = $modes[$i];
			if ($m eq 'o' || $m eq 't')
			{
				my $n = $p->{names}[$i];
				$n = "o$i" unless defined $n && length $n;
				push @params, qq{OUT "$n" $type{$o}{q}};
				push @out, $o;
			}
			else
			{
				push @params, ($m eq 'v' ? 'VARIADIC ' : $m eq 'b' ? 'INOUT ' : '') . $type{$o}{q};
				push @in_types, [ $o, $m ];
				push @out, $o if $m eq 'b';
			}
		}
		my $sig = "$p->{name}(" . join(',', map { $type{ $_->[0] }{reg} } @in_types) . ')';
		next if $seen_sig{$sig}++;
		my $is_agg = ($p->{kind} eq 'w' || $p->{kind} eq 'a') && @in_types > 0;
		next if $is_agg && grep { $_->[1] ne 'i' } @in_types;
		my $ret = $inst->($p->{ret});
		my $rettxt;
		if (@out > 1) { $rettxt = 'record' }
		elsif (@out == 1) { $rettxt = $type{ $out[0] }{q} }
		else { $rettxt = $type{$ret}{q} }
		$rettxt = "SETOF $rettxt" if $p->{retset};
		my $k = 0;
		my $call_args = join(', ', map { $k++; ($_->[1] eq 'v' ? 'VARIADIC ' : '') . "\$$k" } @in_types);
		my $orig = qq{"$p->{nsp}"."$p->{name}"};
		my $body = ($p->{retset} || @out) ? "SELECT * FROM $orig($call_args)" : "SELECT $orig($call_args)";
		# a window function without arguments cannot be stood in for by an
		# aggregate: a plain function it is, which answers NULL
		$body = "SELECT NULL::$type{$ret}{q}" if $p->{kind} eq 'w' && !$is_agg;
		# an aggregate without arguments (count(*)) is stood in for by an
		# aggregate over *, which count(*) finds first in a hostile path
		my $is_agg0 = $p->{kind} eq 'a' && !@in_types;
		push @fn_specs, {
			name => $p->{name}, sig => $sig, kind => $is_agg ? 'agg' : $is_agg0 ? 'agg0' : 'fn',
			window => $p->{kind} eq 'w', params => join(', ', @params),
			in_types => [ map { $_->[0] } @in_types ], ret => $rettxt,
			stype => $type{$ret}{q}, body => $body };
	}
}

my @base_ops = qw(int8 int4 int2 text name timestamptz timestamp date uuid numeric bool bpchar float8 jsonb interval);
my $ops_sql = join(', ', map { "'$_'" } @op_syms);
my $base_sql = join(', ', map { "'$_'" } @base_ops);
my @op_specs;
for my $line (split /\n/, $node->safe_psql('postgres', qq{
SET search_path = pg_catalog;
SELECT concat_ws(E'\t', o.oprname, o.oprkind, o.oprleft, o.oprright, o.oprresult)
  FROM pg_operator o
 WHERE o.oprnamespace = 'pg_catalog'::regnamespace AND o.oprname IN ($ops_sql)
   AND o.oprkind IN ('b', 'l')
   AND (o.oprleft = 0 OR o.oprleft IN (SELECT oid FROM pg_type WHERE typname IN ($base_sql) AND typnamespace = 'pg_catalog'::regnamespace))
   AND o.oprright IN (SELECT oid FROM pg_type WHERE typname IN ($base_sql) AND typnamespace = 'pg_catalog'::regnamespace)
 ORDER BY o.oprname, o.oprleft, o.oprright}))
{
	my ($sym, $kind, $l, $r, $res) = split /\t/, $line;
	push @op_specs, { sym => $sym, prefix => $kind eq 'l', l => $l, r => $r, res => $res,
		sig => "$sym(" . ($kind eq 'l' ? 'none' : $type{$l}{reg}) . ",$type{$r}{reg})" };
}
my @type_specs = grep { defined $oid_of{$_} && $type{ $oid_of{$_} }{typtype} eq 'b' } @type_names;

my %spec_names = map { $_->{name} => 1 } @fn_specs;
diag('function names with pg_catalog/salesboard overloads shadowed: ' . join(' ', sort keys %spec_names));
diag('shadows per schema: ' . scalar(@fn_specs) . ' functions/aggregates, '
	  . scalar(@op_specs) . ' operators, ' . scalar(@type_specs) . ' types ('
	  . join(' ', @type_specs) . ')');
ok((grep { $_->{sig} eq 'unnest(text[])' } @fn_specs) && (grep { $_->{sig} eq 'unnest(bigint[])' } @fn_specs),
	'unnest(text[]) and unnest(bigint[]) are among the shadows');
ok((grep { $_->{sig} eq '=(bigint,bigint)' } @op_specs) && (grep { $_->{sig} eq '<(timestamp with time zone,timestamp with time zone)' } @op_specs),
	'=(bigint,bigint) and <(timestamptz,timestamptz) are among the shadow operators');

sub lit { my $s = shift; $s =~ s/'/''/g; return "'$s'" }

# the DDL of every shadow in schema $s; returns (sql, {label => canary statement})
sub shadow_ddl
{
	my ($s) = @_;
	my ($ddl, %canary) = ("SET search_path = pg_catalog;\n");
	my $spy = sub { "SELECT mal.spy(" . lit(shift) . ", pg_catalog.current_setting('search_path'));" };
	my $n = 0;
	for my $f (@fn_specs)
	{
		$n++;
		my $label = "$f->{kind} $s.$f->{sig}";
		my $nulls = join(', ', map { "NULL::$type{$_}{q}" } @{ $f->{in_types} });
		if ($f->{kind} eq 'agg0')
		{
			$ddl .= qq{CREATE FUNCTION "$s"."sf_$n"($f->{stype}) RETURNS $f->{stype} LANGUAGE sql AS \$shadow\$ }
			  . $spy->($label) . qq{ SELECT \$1 \$shadow\$;\n}
			  . qq{CREATE AGGREGATE "$s"."$f->{name}"(*) (SFUNC = "$s"."sf_$n", STYPE = $f->{stype}, INITCOND = '0');\n};
			$canary{$label} = qq{SELECT "$f->{name}"(*) FROM (VALUES (1)) v(x);};
		}
		elsif ($f->{kind} eq 'agg')
		{
			my $types = join(', ', map { $type{$_}{q} } @{ $f->{in_types} });
			$ddl .= qq{CREATE FUNCTION "$s"."sf_$n"($f->{stype}, $types) RETURNS $f->{stype} LANGUAGE sql AS \$shadow\$ }
			  . $spy->($label) . qq{ SELECT \$1 \$shadow\$;\n}
			  . qq{CREATE AGGREGATE "$s"."$f->{name}"($types) (SFUNC = "$s"."sf_$n", STYPE = $f->{stype});\n};
			$canary{$label} = qq{SELECT "$f->{name}"($nulls)} . ($f->{window} ? ' OVER ()' : '') . ';';
		}
		else
		{
			$ddl .= qq{CREATE FUNCTION "$s"."$f->{name}"($f->{params}) RETURNS $f->{ret} LANGUAGE sql AS \$shadow\$ }
			  . $spy->($label) . " $f->{body} \$shadow\$;\n";
			$canary{$label} = $f->{ret} =~ /^SETOF/ || $f->{params} =~ /\bOUT\b/
			  ? qq{SELECT count(*) FROM "$f->{name}"($nulls);}
			  : qq{SELECT "$f->{name}"($nulls);};
		}
	}
	for my $o (@op_specs)
	{
		$n++;
		my $label = "op $s.$o->{sig}";
		my ($l, $r, $res) = map { $_ ? $type{$_}{q} : undef } @$o{qw(l r res)};
		if ($o->{prefix})
		{
			$ddl .= qq{CREATE FUNCTION "$s"."op_$n"($r) RETURNS $res LANGUAGE sql AS \$shadow\$ }
			  . $spy->($label) . " SELECT OPERATOR(pg_catalog.$o->{sym}) \$1 \$shadow\$;\n"
			  . qq{CREATE OPERATOR "$s".$o->{sym} (RIGHTARG = $r, FUNCTION = "$s"."op_$n");\n};
			$canary{$label} = "SELECT $o->{sym} NULL::$r;";
		}
		else
		{
			$ddl .= qq{CREATE FUNCTION "$s"."op_$n"($l, $r) RETURNS $res LANGUAGE sql AS \$shadow\$ }
			  . $spy->($label) . " SELECT \$1 OPERATOR(pg_catalog.$o->{sym}) \$2 \$shadow\$;\n"
			  . qq{CREATE OPERATOR "$s".$o->{sym} (LEFTARG = $l, RIGHTARG = $r, FUNCTION = "$s"."op_$n");\n};
			$canary{$label} = "SELECT NULL::$l $o->{sym} NULL::$r;";
		}
	}
	for my $t (@type_specs)
	{
		my $label = "type $s.$t";
		$ddl .= qq{CREATE DOMAIN "$s"."$t" AS pg_catalog."$t" CHECK (mal.spy(} . lit($label)
		  . qq{, pg_catalog.current_setting('search_path')));\n};
		$canary{$label} = qq{SELECT NULL::"$t";};
	}
	return ($ddl, \%canary);
}

# each attacker fills the schemas it owns: mal (mallory, USAGE for all)
# and one named like the role, which "$user" finds
my %schema_owner = (mal => 'mallory', mallory => 'mallory', mal_app => 'mal_app', mal_admin => 'mal_admin');
my %canary;
for my $s (qw(mal mallory mal_app mal_admin))
{
	my ($ddl, $can) = shadow_ddl($s);
	$canary{$s} = $can;
	($ret, $out, $err) = as_role($schema_owner{$s}, $ddl);
	is($ret, 0, "$schema_owner{$s} creates " . scalar(keys %$can) . " shadows in schema $s") or diag($err);
}

# ------------------------------------------------------------------
# 4. Canary: the shadows are live. Resolved through a hostile path, each
# one runs (and reports) in the attacker's own session.
# ------------------------------------------------------------------
($ret, $out, $err) = as_role('mallory', q{
SET search_path = mal, pg_catalog;
SET mal.phase = 'canary';
SELECT unnest(ARRAY['a'::pg_catalog.text]);
SELECT 1::bigint = 1::bigint;
});
is($out, "a\nt", 'canary: unnest and = still answer as pg_catalog would through the shadows') or diag($err);
is($node->safe_psql('postgres', q{
SELECT string_agg(DISTINCT shadow, ', ' ORDER BY shadow) FROM mal.spy_log
 WHERE phase = 'canary' AND who = 'mallory'
   AND shadow IN ('fn mal.unnest(text[])', 'op mal.=(bigint,bigint)')}),
	'fn mal.unnest(text[]), op mal.=(bigint,bigint)',
	'canary: mallory\'s own unnest(text[]) and =(bigint,bigint) calls ran her shadows (spy_log)');

for my $s (qw(mal mallory mal_app mal_admin))
{
	my $path = $s eq 'mal' ? 'mal, pg_catalog' : '"$user", pg_catalog';
	my $script = "SET search_path = $path;\nSET mal.canary = on;\nSET mal.phase = 'canary $s';\n"
	  . join("\n", map { $canary{$s}{$_} } sort keys %{ $canary{$s} }) . "\n";
	($ret, $out, $err) = as_role($schema_owner{$s}, $script, stop => 0);
	my %hit;
	$hit{$1} = 1 while $err =~ /SPY-CALL (.*?)\|\Q$schema_owner{$s}\E$/mg;
	my @missing = grep { !$hit{$_} } sort keys %{ $canary{$s} };
	is(scalar(@missing), 0,
		"canary: all " . scalar(keys %{ $canary{$s} }) . " shadows in $s are reached through search_path '$path'")
	  or diag("not reached: @missing\n" . substr($err, 0, 4000));
}

# ------------------------------------------------------------------
# 5. The attack: every entry point and trigger path, as each attacker,
# under each hostile search_path, in fresh backends
# ------------------------------------------------------------------
my $privs_sql = qq{
SELECT r.rolname, r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, r.rolreplication,
       coalesce((SELECT string_agg(g.rolname, ',' ORDER BY g.rolname)
                   FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                  WHERE m.member = r.oid), '')
  FROM pg_roles r WHERE r.rolname IN ($attacker_list) ORDER BY 1};
my $privs_before = $node->safe_psql('postgres', $privs_sql);

# decoy relations for the unqualified names: temporary views with every
# column name internal SQL might read, that report when they are scanned
my %col_type;
for my $line (split /\n/, $node->safe_psql('postgres', q{
SELECT a.attname, quote_ident(tn.nspname) || '.' || quote_ident(t.typname)
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace
 WHERE c.relnamespace = 'salesboard'::regnamespace AND c.relkind = 'r'
   AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY c.oid, a.attnum}))
{
	my ($col, $t) = split /\|/, $line;
	$col_type{$col} //= $t;
}
$col_type{$_} //= 'pg_catalog.int8' for keys %ref_cols;
my $decoy_cols = join(', ', map { "NULL::$col_type{$_} AS \"$_\"" } sort keys %col_type);
my $decoys = join('', map {
	qq{CREATE TEMP VIEW "$_" AS SELECT $decoy_cols WHERE mal.spy('rel pg_temp.$_', pg_catalog.current_setting('search_path'));\n}
	  . qq{SELECT 'DECOY', count(*) FROM pg_temp."$_";\n}
} @rel_names);

my @tables = split /\n/, $node->safe_psql('postgres',
	q{SELECT relname FROM pg_class WHERE relnamespace = 'salesboard'::regnamespace AND relkind = 'r' ORDER BY 1});
my $inval = join(' ', map { "ALTER TABLE salesboard.$_ SET (fillfactor = 100);" } @tables);

my %cfg = (
	mallory => { owner => $M, other => $M, acting => $M, at => 'now()' },
	mal_app => { owner => 4, other => $M, acting => 2, app => 1,
		at => q{'2031-06-02 09:00+00'::timestamptz} },
	mal_admin => { owner => 6, other => 5, acting => 0, admin => 1,
		at => q{'2031-06-02 09:00+00'::timestamptz} });
my @paths = ('mal, pg_catalog, public', 'pg_catalog, mal', '"$user", mal, pg_catalog');
my $copy_dir = "$PostgreSQL::Test::Utils::tmp_check/003_hostile_copy";
mkdir $copy_dir;
my $uuid_n = 0;
my $session_n = 0;

sub round_sql
{
	my ($role, $tag, $r) = @_;
	my $c = $cfg{$role};
	my ($O, $X, $AT) = @$c{qw(owner other at)};
	my @u = map { sprintf('00000000-0000-4000-8000-%012d', ++$uuid_n) } 1 .. 6;
	my $unit = sub {
		return "BEGIN;\n" . ($c->{app} ? "SELECT salesboard.set_employee($c->{acting});\n" : '')
		  . join("\n", @_) . "\nCOMMIT;\n";
	};
	my $chk = sub { my ($label, $expr) = @_; $unit->("SELECT 'CHECK', '$r:$label', $expr;") };
	my $ncopy = 0;
	my $copy = sub {
		my ($target, $data) = @_;
		my $file = "$copy_dir/${tag}_" . ++$ncopy . '.data';
		PostgreSQL::Test::Utils::append_to_file($file, $data);
		return "\\copy $target from '$file'\n";
	};
	my $sql = "\\unset d_main\n\\unset d_won\n\\unset d_lost\n\\unset d_del\n\\unset d_raw\n"
	  . "\\unset d_acc\n\\unset a1\n\\unset a2\n\\unset a3\n\\unset a_rep\n\\unset c_new\n\\unset st_new\n\\unset dep_new\n\\unset emp_new\n";
	# the API
	$sql .= $unit->("SELECT salesboard.create_deal($O, 11, 'H $tag main', $AT + interval '2 days', 'Call', client_id => 1, service_type_id => 1, amount => 100.50, currency => 'EUR', tags => ARRAY['VIP', 'Urgent'], first_kind => 'task', first_all_day => false, at => $AT) AS d_main \\gset");
	$sql .= $unit->("SELECT salesboard.create_deal($O, 11, 'H $tag won', $AT + interval '1 day', 'Call', at => $AT) AS d_won \\gset");
	$sql .= $unit->("SELECT salesboard.create_deal($O, 12, 'H $tag lost', $AT + interval '1 day', 'Call', first_all_day => true, at => $AT) AS d_lost \\gset");
	$sql .= $unit->("SELECT salesboard.create_deal($O, 11, 'H $tag del', $AT + interval '1 day', 'Call', tags => ARRAY['Partner'], at => $AT) AS d_del \\gset");
	$sql .= $unit->("SELECT salesboard.create_deal($O, 14, 'H $tag bad', $AT + interval '1 day', 'Call', at => $AT);");
	$sql .= $unit->("SELECT salesboard.create_deal($O, 11, 'H $tag bad', $AT + interval '1 day', 'Call', tags => ARRAY['NoSuchTag'], at => $AT);");
	$sql .= $unit->("SELECT salesboard.create_deal(9, 21, 'X $tag for 9', $AT + interval '1 day', 'Call', at => $AT);");
	$sql .= $unit->("SELECT salesboard.plan_activity(:d_main, $AT + interval '3 days', 'Meet', at => $AT) AS a1 \\gset");
	$sql .= $unit->("SELECT salesboard.plan_activity(:d_main, $AT + interval '4 days', 'All-day task', kind => 'task', all_day => true, assignee_id => $O, at => $AT) AS a2 \\gset");
	$sql .= $unit->("SELECT salesboard.plan_activity(:d_main, $AT + interval '5 days', 'To delete', at => $AT) AS a3 \\gset");
	$sql .= $unit->("SELECT salesboard.plan_activity(:d_main, $AT - interval '5 days', 'In the past', at => $AT);");
	$sql .= $unit->("SELECT salesboard.plan_activity($F, $AT + interval '5 days', 'Not mine', at => $AT);");
	$sql .= $unit->("SELECT salesboard.complete_activity(:a1, 'met them', at => $AT);");
	$sql .= $unit->("SELECT salesboard.cancel_activity(:a2, 'not needed', at => $AT);");
	$sql .= $unit->("SELECT salesboard.complete_activity(:a1, 'again', at => $AT);");
	$sql .= $unit->("SELECT salesboard.move_deal(:d_main, 12, 'qualified', $AT + interval '6 days', 'Send offer', next_kind => 'task', next_all_day => true, request_id => '$u[0]', at => $AT, expected_stage_id => 11);");
	$sql .= $unit->("SELECT salesboard.move_deal(:d_main, 12, 'qualified', $AT + interval '6 days', 'Send offer', next_kind => 'task', next_all_day => true, request_id => '$u[0]', at => $AT);");
	$sql .= $unit->("SELECT salesboard.move_deal(:d_main, 13, 'reused', $AT + interval '6 days', 'x', request_id => '$u[0]', at => $AT);");
	$sql .= $unit->("SELECT salesboard.move_deal(:d_won, 12, 'reused', $AT + interval '6 days', 'x', request_id => '$u[0]', at => $AT);");
	$sql .= $unit->("SELECT salesboard.move_deal(:d_main, 12, 'same', $AT + interval '6 days', 'x', at => $AT);");
	$sql .= $unit->("SELECT salesboard.move_deal(:d_main, 13, 'stale', $AT + interval '6 days', 'x', at => $AT, expected_stage_id => 11);");
	$sql .= $unit->("SELECT salesboard.move_deal(:d_main, 21, 'other pipeline', $AT + interval '6 days', 'x', at => $AT);");
	$sql .= $unit->("SELECT salesboard.set_priority(:d_main, true);");
	$sql .= $unit->("SELECT salesboard.close_deal(:d_won, true, 'signed', request_id => '$u[1]', at => $AT, expected_stage_id => 11);");
	$sql .= $unit->("SELECT salesboard.close_deal(:d_lost, false, 'too pricey', lost_reason_id => 1, request_id => '$u[2]', at => $AT);");
	$sql .= $unit->("SELECT salesboard.close_deal(:d_lost, false, 'again', lost_reason_id => 2, at => $AT);");
	$sql .= $unit->("SELECT salesboard.close_deal(:d_del, false, 'no reason', at => $AT);");
	$sql .= $unit->("SELECT salesboard.reopen_deal(:d_lost, 11, $AT + interval '7 days', 'Try again', next_all_day => true, reason => 'they called back', request_id => '$u[3]', at => $AT);");
	$sql .= $unit->("SELECT salesboard.reopen_deal(:d_main, 11, $AT + interval '7 days', 'open already', at => $AT);");
	# overdue checks (run by integrations and administrators), alerts seen by their employees
	$sql .= $unit->("SELECT salesboard.check_overdue();");
	$sql .= $unit->("SELECT salesboard.check_overdue($AT + interval '10 years');");
	$sql .= $unit->("SELECT salesboard.mark_alerts_seen(ARRAY(SELECT a.id FROM salesboard.alerts($O) a ORDER BY a.id LIMIT 3));");
	# inbound dispatch (receiving is for integrations: app and admin)
	$sql .= $unit->("SELECT salesboard.receive_inbound((SELECT s.id FROM salesboard.lead_source s WHERE s.owner_id = $O AND s.channel = 'email' ORDER BY s.id LIMIT 1), 'Buyer $tag <buyer-$tag\@example.test>', 'Hostile $tag', 'body', received_at => now(), external_ref => '<h-$tag>', thread_ref => '<t-$tag>', folder => 'INBOX', payload => '{}');");
	$sql .= $unit->("SELECT salesboard.dismiss_inbound(ARRAY(SELECT i.id FROM salesboard.inbound i WHERE i.status = 'new' AND i.owner_id = $O ORDER BY i.id LIMIT 2), request_id => '$u[4]');");
	$sql .= $unit->("SELECT salesboard.accept_inbound((SELECT i.id FROM salesboard.inbound i WHERE i.status = 'new' AND i.owner_id = $O ORDER BY i.id LIMIT 1), 11, 'Accepted $tag', now() + interval '2 days', 'Call back', amount => 10, request_id => '$u[5]') AS d_acc \\gset");
	$sql .= $unit->("SELECT salesboard.link_inbound((SELECT i.id FROM salesboard.inbound i WHERE i.status = 'new' AND i.owner_id = $O ORDER BY i.id LIMIT 1), :d_acc);");
	# reading
	$sql .= $chk->('card_colour_id', "salesboard.card_colour(:d_main, $AT)");
	$sql .= $chk->('card_colour_row', "(SELECT salesboard.card_colour_of(d, $AT) FROM salesboard.deal d WHERE d.id = :d_main)");
	$sql .= $chk->('due_colour', "(SELECT salesboard.due_colour(d.owner_id, d.next_due, $AT) FROM salesboard.deal d WHERE d.id = :d_main)");
	$sql .= $chk->('why_colour', "(SELECT count(*) FROM salesboard.why_colour(:d_main, $AT + interval '30 days'))");
	$sql .= $chk->('board_default', "(SELECT count(*) FROM salesboard.board(at => $AT))");
	$sql .= $chk->('board_today', "(SELECT count(*) FROM salesboard.board($O, 'today', at => $AT))");
	$sql .= $chk->('board_3days', "(SELECT count(*) FROM salesboard.board($O, '3 days', overdue_last => true, at => $AT))");
	$sql .= $chk->('board_week', "(SELECT count(*) FROM salesboard.board(employee_id => $O, horizon => 'week', client_id => 1, service_type_id => 1, tags => '{VIP}', at => $AT))");
	$sql .= $chk->('board_month', "(SELECT count(*) FROM salesboard.board(employee_id => $O, horizon => 'month', subordinates => false, closed_days => 3, at => $AT + interval '1 day'))");
	$sql .= $chk->('board_acting', "(SELECT count(*) FROM salesboard.board(employee_id => " . ($c->{acting} || 1) . ", horizon => 'week', at => $AT))");
	$sql .= $unit->("SELECT count(*) FROM salesboard.board($O, 'someday', at => $AT);");
	$sql .= $chk->('deal_list', "(SELECT count(*) FROM salesboard.deal_list($O, client_id => 1, tags => '{VIP,Urgent}', at => $AT))");
	$sql .= $chk->('deal_list_all', "(SELECT count(*) FROM salesboard.deal_list(at => $AT))");
	$sql .= $chk->('deal_list_page', "(SELECT count(*) FROM salesboard.deal_list($O, tags => '{VIP}', at => $AT, page_size => 2, after_next_due => $AT, after_deal_id => 0))");
	$sql .= $chk->('board_text', "length(salesboard.board_text($O, 'week', width => 40, at => $AT)) > 0");
	$sql .= $chk->('board_json', "(salesboard.board_json($O, 'week', at => $AT) -> 'pipelines') IS NOT NULL");
	$sql .= $chk->('board_text_closed', "length(salesboard.board_text(horizon => 'month', overdue_last => true, closed_days => 0, at => $AT)) > 0");
	$sql .= $chk->('current_employee', 'salesboard.current_employee()');
	$sql .= $chk->('can_see', "salesboard.can_see($O)");
	$sql .= $chk->('can_see_deal', "salesboard.can_see_deal(:d_main)");
	$sql .= $chk->('is_time_zone', "salesboard.is_time_zone('Europe/Moscow')");
	$sql .= $chk->('end_of_day', "salesboard.end_of_day('2031-06-02', 'Asia/Kathmandu')");
	$sql .= $chk->('local_date', "salesboard.local_date($AT, 'Pacific/Kiritimati')");
	$sql .= $chk->('funnel', "(SELECT count(*) FROM salesboard.funnel(1, $AT - interval '30 days', $AT + interval '1 day', owner_id => $O, tag => 'VIP', service_type_id => 1))");
	$sql .= $chk->('funnel_cohort', "(SELECT sum(entered) FROM salesboard.funnel(period_from => '2000-01-01', period_to => '2000-02-01', mode => 'cohort', as_of => $AT + interval '2 days', department_id => 1)) >= 0");
	$sql .= $chk->('funnel_text', "salesboard.funnel_text(1, $AT - interval '30 days', $AT + interval '1 day', owner_id => $O, tag => 'VIP', service_type_id => 1, width => 60) LIKE 'Funnel of pipeline %'");
	$sql .= $chk->('convert_amount', "salesboard.convert_amount(100.555, 'EUR', $AT, to_currency => 'EUR') = 100.56");
	$sql .= $chk->('views', "EXISTS (SELECT 1 FROM salesboard.deal_cards) AND EXISTS (SELECT 1 FROM salesboard.stage_durations)");
	$sql .= $chk->('alerts', "(SELECT count(*) FROM salesboard.alerts($O, unseen_only => false))");
	$sql .= $chk->('inbound_queue', "(SELECT count(*) FROM salesboard.inbound_queue($O, at => $AT)) >= 0");
	$sql .= $chk->('sender_key', "salesboard.sender_key('web_form', ' +7 (495) 123-45-67 ') = '+74951234567'");
	$sql .= $chk->('verify', '(SELECT count(*) FROM salesboard.verify())');
	$sql .= "SELECT salesboard.set_employee($c->{acting});\n";
	$sql .= $unit->('SELECT salesboard.set_employee(999999);');
	# raw SQL on the tables
	$sql .= $unit->(
		"INSERT INTO salesboard.deal (stage_id, owner_id, title, client_id, amount, currency) VALUES (11, $O, 'H $tag raw', 2, 5, 'USD') RETURNING id AS d_raw \\gset",
		"INSERT INTO salesboard.activity (deal_id, subject, due_at, kind) VALUES (:d_raw, 'raw first', $AT + interval '1 day', 'interaction'), (:d_raw, 'raw second', $AT + interval '2 days', 'task');",
		"INSERT INTO salesboard.activity (deal_id, subject, due_at, all_day, due_date) SELECT :d_raw, 'raw all-day ' || g, $AT + g * interval '1 day', true, ($AT + g * interval '1 day')::date FROM generate_series(3, 5) g;");
	$sql .= $unit->("INSERT INTO salesboard.deal (stage_id, owner_id, title) VALUES (14, $O, 'H $tag imported won');");
	$sql .= $unit->("INSERT INTO salesboard.deal (stage_id, owner_id, title) VALUES (11, $O, 'H $tag no activity');");
	$sql .= $unit->("INSERT INTO salesboard.activity (deal_id, subject, due_at) VALUES ($F, 'not mine', $AT + interval '1 day');");
	$sql .= $unit->("INSERT INTO salesboard.activity (deal_id, subject, due_at) VALUES (:d_won, 'on a closed deal', $AT + interval '1 day');");
	$sql .= $unit->("UPDATE salesboard.activity SET due_at = due_at + interval '1 hour', subject = subject || ' (moved)' WHERE deal_id = :d_raw AND status = 'planned' AND NOT all_day;");
	$sql .= $unit->("UPDATE salesboard.activity SET status = 'done', result = 'raw done' WHERE deal_id = :d_raw AND subject LIKE 'raw first%';");
	$sql .= $unit->("UPDATE salesboard.activity SET status = 'cancelled', result = 'raw cancel' WHERE id = (SELECT min(id) FROM salesboard.activity WHERE deal_id = :d_raw AND all_day AND status = 'planned');");
	$sql .= $unit->("UPDATE salesboard.activity SET due_date = due_date + 1 WHERE deal_id = :d_raw AND all_day AND status = 'planned';");
	$sql .= $unit->("UPDATE salesboard.activity SET subject = 'changed after the fact' WHERE id = :a1;");
	$sql .= $unit->("UPDATE salesboard.activity SET deal_id = :d_won WHERE id = :a3;");
	$sql .= $unit->("DELETE FROM salesboard.activity WHERE id = :a3;");
	$sql .= $unit->("DELETE FROM salesboard.activity WHERE deal_id = :d_raw AND status = 'planned';");
	$sql .= $unit->(
		"SELECT salesboard.plan_activity(:d_main, $AT + interval '8 days', 'Replacement', at => $AT) AS a_rep \\gset",
		"UPDATE salesboard.activity SET status = 'cancelled', result = 'swapped' WHERE deal_id = :d_main AND status = 'planned' AND id <> :a_rep;");
	$sql .= $unit->("DELETE FROM salesboard.activity WHERE deal_id = :d_won;");
	$sql .= $unit->("UPDATE salesboard.deal SET title = title || ' (edited)', amount = 200, currency = 'RUB', priority = NOT priority, client_id = 2, service_type_id = 2 WHERE id = :d_raw;");
	$sql .= $unit->("UPDATE salesboard.deal SET owner_id = $X WHERE id = :d_main;");
	$sql .= $unit->("UPDATE salesboard.deal SET owner_id = $O WHERE id = :d_main;");
	$sql .= $unit->("UPDATE salesboard.deal SET stage_id = 13 WHERE id = :d_raw;");
	$sql .= $unit->("UPDATE salesboard.deal SET next_due = now() WHERE id = :d_raw;");
	$sql .= $unit->("UPDATE salesboard.deal SET owner_id = 9 WHERE id = :d_raw;") unless $c->{admin};
	$sql .= $unit->("INSERT INTO salesboard.deal_tag (deal_id, tag_id) VALUES (:d_main, 2), (:d_raw, 1);");
	$sql .= $unit->("UPDATE salesboard.deal_tag SET deal_id = :d_won WHERE deal_id = :d_raw AND tag_id = 1;");
	$sql .= $unit->("DELETE FROM salesboard.deal_tag WHERE deal_id = :d_won AND tag_id = 1;");
	$sql .= $unit->("INSERT INTO salesboard.deal_tag (deal_id, tag_id) VALUES ($F, 3);");
	$sql .= $unit->("INSERT INTO salesboard.client (name, email, phone) VALUES ('Client $tag', 'c-$tag\@example.test', '+7 495 111-22-33') RETURNING id AS c_new \\gset");
	$sql .= $unit->("UPDATE salesboard.client SET phone = '+7 495 111-22-44', email = lower(email) WHERE id = :c_new;");
	$sql .= $unit->("UPDATE salesboard.inbound SET status = 'accepted', handled_at = now(), deal_id = :d_raw WHERE id = (SELECT min(id) FROM salesboard.inbound WHERE owner_id = $O AND status = 'new');");
	$sql .= $unit->("UPDATE salesboard.inbound SET status = 'dismissed', handled_at = now() WHERE id = (SELECT min(id) FROM salesboard.inbound WHERE owner_id = $O AND status = 'new');");
	$sql .= $unit->("UPDATE salesboard.inbound SET deal_id = $F WHERE id = (SELECT max(id) FROM salesboard.inbound WHERE owner_id = $O);");
	$sql .= $unit->("UPDATE salesboard.alert SET seen_at = now() WHERE id = (SELECT min(id) FROM salesboard.alert WHERE employee_id = $O AND seen_at IS NULL);");
	# COPY ... FROM STDIN (psql's \copy, fed from a file): into client
	# (allowed), into deal and activity (refused under row-level security)
	$sql .= $copy->('salesboard.client (name, email)', "Copied $tag\tcopied-$tag\@example.test\n");
	$sql .= $copy->('salesboard.client (name, phone)', "Copied 2 $tag\t+7 495 222-33-44\n");
	$sql .= $copy->('salesboard.deal (stage_id, owner_id, title)', "11\t$O\tH $tag copied\n");
	$sql .= $copy->('salesboard.activity (deal_id, subject, due_at)', "$F\tcopied\t2099-01-01 10:00+00\n");
	if ($c->{admin})
	{
		my $dep = 7000 + 10 * $session_n + ($r eq 'a' ? 0 : 5);
		my $pos = 100 + 10 * $session_n + ($r eq 'a' ? 0 : 5);
		$sql .= $unit->("UPDATE salesboard.stage SET name = name || '' WHERE id = 12;");
		$sql .= $unit->("INSERT INTO salesboard.stage (pipeline_id, name, position, kind, probability) VALUES (2, 'Extra $tag', $pos, 'open', 20) RETURNING id AS st_new \\gset");
		$sql .= $unit->("DELETE FROM salesboard.stage WHERE id = :st_new;");
		$sql .= $unit->("UPDATE salesboard.employee SET time_zone = 'Asia/Kathmandu' WHERE id = $O;");
		$sql .= $unit->("UPDATE salesboard.employee SET time_zone = 'America/New_York' WHERE id = $O;");
		$sql .= $unit->("UPDATE salesboard.employee SET time_zone = 'MSK' WHERE id = $O;");
		# leaving with work left (refused), then without (a fresh employee)
		$sql .= $unit->("UPDATE salesboard.employee SET active = false WHERE id = $O;");
		$sql .= $unit->("INSERT INTO salesboard.employee (name, time_zone) VALUES ('Leaver $tag', 'UTC') RETURNING id AS leaver \\gset");
		$sql .= $unit->("UPDATE salesboard.employee SET active = false WHERE id = :leaver;");
		$sql .= $unit->("INSERT INTO salesboard.employee (name, department_id, time_zone) VALUES ('Temp $tag', 4, 'UTC') RETURNING id AS emp_new \\gset");
		$sql .= $unit->("DELETE FROM salesboard.employee WHERE id = :emp_new;");
		$sql .= $unit->("INSERT INTO salesboard.department (name, parent_id) VALUES ('Dept $tag', 4) RETURNING id AS dep_new \\gset");
		$sql .= $unit->("UPDATE salesboard.department SET parent_id = 5 WHERE id = :dep_new;");
		$sql .= $unit->("UPDATE salesboard.department SET parent_id = :dep_new WHERE id = 5;");
		$sql .= $unit->("DELETE FROM salesboard.department WHERE id = :dep_new;");
		# a default region set, changed and gone: every client's phone_key recomputed
		$sql .= $unit->("INSERT INTO salesboard.company (default_region) VALUES ('RU');",
			"UPDATE salesboard.company SET default_region = 'US';", "DELETE FROM salesboard.company;");
		$sql .= $copy->('salesboard.department (id, name, parent_id)', "$dep\tCopied dept $tag\t4\n");
		$sql .= $copy->('salesboard.stage (pipeline_id, name, position, kind, probability)', "2\tCopied stage $tag\t$pos\topen\t10\n");
		$sql .= $copy->('salesboard.lead_source (channel, address, owner_id)', "vk\tcopied-$tag\t$O\n");
		$sql .= $unit->("DELETE FROM salesboard.department WHERE id = $dep;", "DELETE FROM salesboard.stage WHERE name = 'Copied stage $tag';");
		$sql .= $unit->("INSERT INTO salesboard.lead_source (channel, address, owner_id) VALUES ('phone', '+7 495 000-$session_n$r', $O);");
		$sql .= $unit->("INSERT INTO salesboard.inbound (source_id, channel, sender, owner_id, deal_id, status, handled_at) SELECT id, 'phone', '+7 900 000-00-00', owner_id, :d_raw, 'linked', now() FROM salesboard.lead_source WHERE address = '+7 495 000-$session_n$r';");
		$sql .= $unit->("UPDATE salesboard.lead_source SET owner_id = $O WHERE address = '+7 495 000-$session_n$r';");
		$sql .= $unit->("SELECT salesboard.schedule_overdue_checks('*/30 * * * *');", "SELECT salesboard.unschedule_overdue_checks();");
		# an import of work already due: the overdue checks' watermark moves back to it
		$sql .= $unit->("INSERT INTO salesboard.activity (deal_id, subject, due_at) VALUES (:d_raw, 'Imported, already due', now() - interval '1 day');");
		$sql .= $unit->("INSERT INTO salesboard.alert (employee_id, kind, deal_id, event_at) VALUES ($O, 'deal_rotting', :d_main, $AT);");
		$sql .= $unit->("DELETE FROM salesboard.alert WHERE deal_id = :d_main;");
	}
	# deleting deals is for administrators (cascades to activities, tags, history)
	$sql .= $unit->("DELETE FROM salesboard.deal WHERE id = :d_del;");
	return $sql;
}

my (%session_out, %called_by);
my @fn_rows = split /\n/, $node->safe_psql('postgres', q{
SELECT p.oid, p.oid::regprocedure::text, p.prorettype = 'trigger'::regtype
  FROM pg_proc p WHERE p.pronamespace = 'salesboard'::regnamespace ORDER BY 2});
my %fn_sig = map { my @f = split /\|/; ($f[0] => $f[1]) } @fn_rows;
my %fn_trigger = map { my @f = split /\|/; ($f[0] => $f[2] eq 't') } @fn_rows;

for my $role (@attackers)
{
	$node->safe_psql('postgres', 'SELECT pg_stat_reset()');
	for my $pi (0 .. $#paths)
	{
		$session_n++;
		my $path = $paths[$pi];
		my $script = "\\set VERBOSITY terse\nSET search_path = $path;\nSET mal.phase = 'hostile $role $pi';\n"
		  . $decoys
		  . round_sql($role, "$role.${pi}a", 'a')
		  . "\\! psql -X -q -At -d postgres -U $su -c '$inval' -c \"SELECT 'INVALIDATED'\"\n"
		  . round_sql($role, "$role.${pi}b", 'b')
		  # the plain statement last: psql sends the rest of a script file as its data
		  . "COPY salesboard.client (name, email) FROM STDIN;\nStdin $role $pi\tstdin-$role-$pi\@example.test\n\\.\n";
		my ($r, $o, $e) = as_role($role, $script, stop => 0);
		$session_out{"$role $pi"} = { ret => $r, out => $o, err => $e, path => $path };
		# kept beside the test's log, for reading after a failure
		my $base = "$PostgreSQL::Test::Utils::log_path/003_hostile_${role}_$pi";
		PostgreSQL::Test::Utils::append_to_file("$base.sql", $script);
		PostgreSQL::Test::Utils::append_to_file("$base.out", "$o\n--- stderr ---\n$e\n");
	}
	# a backend leaves pg_stat_activity after it flushed its statistics
	$node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE usename = '$role'")
	  or die "the sessions of $role did not end";
	for my $line (split /\n/, $node->safe_psql('postgres',
		q{SELECT funcid, calls FROM pg_stat_user_functions WHERE schemaname = 'salesboard' AND calls > 0}))
	{
		my ($oid, $calls) = split /\|/, $line;
		$called_by{$oid}{$role} = $calls;
	}
}

# ------------------------------------------------------------------
# 6. Verdict
# ------------------------------------------------------------------
my $foreign = $node->safe_psql('postgres', qq{
SELECT count(*) || E'\\n' || coalesce(string_agg(format('%s ran as %s (session %s) with search_path %s in %s',
       shadow, who, sess, path, phase), E'\\n' ORDER BY id), '')
  FROM mal.spy_log WHERE who NOT IN ($attacker_list) OR sess NOT IN ($attacker_list)});
my ($nforeign, @foreign_rows) = split /\n/, $foreign;
is($nforeign, '0', 'no shadow ever ran as anyone but the attackers themselves (spy_log)')
  or diag(join("\n", @foreign_rows));
is($node->safe_psql('postgres', q{SELECT is_called FROM mal.foreign_calls}), 'f',
	'no shadow ran as anyone else even in a rolled-back transaction (the spy\'s sequence)');
my @escalation_lines = map { my $k = $_; map { "$k: $_" } grep { /SPY-ESCALATION/ } split /\n/, $session_out{$k}{err} } sort keys %session_out;
is(scalar(@escalation_lines), 0, 'no session reported a shadow running as someone else')
  or diag(join("\n", @escalation_lines));
is($node->safe_psql('postgres', q{SELECT count(*) FROM mal.spy_log WHERE path = 'pg_catalog, pg_temp'}), '0',
	'no shadow was resolved under the extension\'s pinned search_path');
is($node->safe_psql('postgres', $privs_sql), $privs_before,
	'no attacker gained rolsuper, createrole, createdb, bypassrls, replication or a role membership');
is($node->safe_psql('postgres', qq{SELECT string_agg(rolname, ',') FROM pg_roles WHERE rolname IN ($attacker_list) AND (rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication)}),
	'', 'the attackers hold no role attribute');

# the shadows were live in the hostile sessions
for my $role (@attackers)
{
	for my $pi (0, 2)
	{
		my $schema = $pi == 0 ? 'mal' : $role;
		my $n = $node->safe_psql('postgres',
			"SELECT count(*) FROM mal.spy_log WHERE who = '$role' AND phase = 'hostile $role $pi' AND shadow LIKE '% $schema.%'");
		cmp_ok($n, '>', 0, "$role, search_path $paths[$pi]: shadows of schema $schema ran in the session itself ($n calls), as $role");
	}
	my $decoys_seen = $node->safe_psql('postgres',
		"SELECT count(DISTINCT shadow) FROM mal.spy_log WHERE who = '$role' AND phase LIKE 'hostile $role %' AND shadow LIKE 'rel pg_temp.%'");
	is($decoys_seen, scalar(@rel_names), "$role: the " . scalar(@rel_names) . " decoy relations in pg_temp were live in its sessions");
}
for my $k (sort keys %session_out)
{
	like($session_out{$k}{out}, qr/^INVALIDATED$/m,
		"$k: the extension's relations were invalidated in the middle of the session (plans and caches rebuilt)");
}
is($node->safe_psql('postgres', q{SELECT count(*) FILTER (WHERE name LIKE 'Copied %') || '/' || count(*) FILTER (WHERE name LIKE 'Stdin %') FROM salesboard.client}),
	(2 * 2 * @attackers * @paths) . '/' . (@attackers * @paths),
	'COPY into client worked in every session, from a file and from the script itself');

# every call that should succeed under the hostile paths did
my @labels = qw(card_colour_id card_colour_row due_colour why_colour board_default board_today
  board_3days board_week board_month board_acting deal_list deal_list_all deal_list_page board_text board_json
  board_text_closed current_employee can_see can_see_deal is_time_zone end_of_day local_date sender_key inbound_queue funnel funnel_cohort alerts
  funnel_text convert_amount views);
for my $k (sort keys %session_out)
{
	my ($role, $pi) = split / /, $k;
	my %got;
	$got{$1} = $2 while $session_out{$k}{out} =~ /^CHECK\|([^|]+)\|(.*)$/mg;
	my @want = map { my $r = $_; map { "$r:$_" } (@labels, $cfg{$role}{admin} ? ('verify') : ()) } qw(a b);
	my @missing = grep { !exists $got{$_} } @want;
	my @bad = grep { exists $got{$_} && ($got{$_} eq '' || $got{$_} eq 'f') } @want;
	ok(!@missing && !@bad, "$role, search_path $session_out{$k}{path}: the reading functions answered")
	  or diag("missing: @missing; empty or false: @bad\n" . substr($session_out{$k}{err}, 0, 3000));
	my @wrong = grep { /:(?:card_colour_id|card_colour_row|due_colour)$/ && exists $got{$_} && $got{$_} !~ /^(?:red|yellow|green)$/ } @want;
	is(scalar(@wrong), 0, "$role, search_path $session_out{$k}{path}: colours are colours") or diag("@wrong");
}

# every change that should succeed under the hostile paths did, as the attacker
for my $k (sort keys %session_out)
{
	my ($role, $pi) = split / /, $k;
	my $O = $cfg{$role}{owner};
	for my $r (qw(a b))
	{
		my $tag = "$role.$pi$r";
		my $got = $node->safe_psql('postgres', qq{
SELECT d.title, d.status, d.stage_id, d.priority, d.owner_id,
       coalesce((SELECT string_agg(t.name, ',' ORDER BY t.name) FROM salesboard.deal_tag dt
                   JOIN salesboard.tag t ON t.id = dt.tag_id WHERE dt.deal_id = d.id), ''),
       (SELECT string_agg(h.event, ',' ORDER BY h.id) FROM salesboard.stage_history h WHERE h.deal_id = d.id),
       (SELECT string_agg(DISTINCT h.moved_by_role::text, ',') FROM salesboard.stage_history h WHERE h.deal_id = d.id)
  FROM salesboard.deal d WHERE d.title LIKE 'H $tag %' ORDER BY d.title COLLATE "C"});
		my @want = (
			($cfg{$role}{admin} ? () : ("H $tag del|open|11|f|$O|Partner|create|$role")),
			($cfg{$role}{app} || $cfg{$role}{admin} ? ("H $tag imported won|won|14|f|$O||create|$role") : ()),
			"H $tag lost|open|11|f|$O||create,lost,reopen|$role",
			"H $tag main|open|12|t|$O|Partner,Urgent,VIP|create,move|$role",
			"H $tag raw (edited)|open|11|t|$O||create|$role",
			"H $tag won|won|14|f|$O||create,won|$role");
		is($got, join("\n", @want), "$role, search_path $session_out{$k}{path}, round $r: deals created, moved, closed, reopened and edited as $role")
		  or diag(substr($session_out{$k}{err}, 0, 3000));
	}
	my $acts = $node->safe_psql('postgres', qq{
SELECT string_agg(d.title || ': ' || (SELECT string_agg(a.subject || ':' || a.status, ',' ORDER BY a.id)
                                        FROM salesboard.activity a WHERE a.deal_id = d.id), E'\n' ORDER BY d.title)
  FROM salesboard.deal d WHERE d.title IN ('H $role.${pi}a main', 'H $role.${pi}b main')});
	my $want = join("\n", map { "H $role.$pi$_ main: Call:done,Meet:done,All-day task:cancelled,Send offer:cancelled,Replacement:planned" } qw(a b));
	is($acts, $want, "$role, search_path $session_out{$k}{path}: activities planned, completed, cancelled and deleted");
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM salesboard.verify()'), '0',
	'verify() finds every invariant intact after the attack');

# every function of the extension was called by the attackers
my @uncalled = grep { !$called_by{$_} } sort { $fn_sig{$a} cmp $fn_sig{$b} } keys %fn_sig;
is(scalar(@uncalled), 0, 'every function of schema salesboard (' . scalar(keys %fn_sig)
	  . ', triggers included) ran in the hostile sessions')
  or diag('never called: ' . join(', ', map { $fn_sig{$_} } @uncalled));
for my $role (@attackers)
{
	my @miss = grep {
		!$fn_trigger{$_} && !$called_by{$_}{$role}
		  && $node->safe_psql('postgres', "SELECT has_function_privilege('$role', $_, 'EXECUTE')") eq 't'
	} sort keys %fn_sig;
	is(scalar(@miss), 0, "$role called every function of salesboard it may execute")
	  or diag('not called by ' . $role . ': ' . join(', ', map { $fn_sig{$_} } @miss));
}
diag('function calls by the attackers: ' . join(', ',
	map { my $o = $_; "$fn_sig{$o}=" . join('/', map { $called_by{$o}{$_} // 0 } @attackers) } sort { $fn_sig{$a} cmp $fn_sig{$b} } keys %fn_sig));
diag(sprintf('spy_log: %s; run time %.1f s',
	$node->safe_psql('postgres', q{SELECT string_agg(who || '=' || n, ', ' ORDER BY who) FROM (SELECT who, count(*) n FROM mal.spy_log GROUP BY who) s}),
	time - $started));

$node->stop;
done_testing();

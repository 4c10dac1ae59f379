-- test/pgtap/62_board_json.sql: the board a web page draws from one call
-- (doc/reference.md, "board_json") and the card fields board() gained in
-- 1.1 (next_all_day, next_due_date, tags).
--
-- Covers:
--  * board(): an all-day next activity says next_all_day and its local
--    date in the owner's zone (Kathmandu), a timed one neither; tags are
--    sorted names, '{}' when none;
--  * board_json() carries exactly board()'s cards (deal, column, stage,
--    rank, colour, next_due, priority) for a seller, a team head and the
--    director, for every horizon, with filters;
--  * every column of each pipeline in board order, empty ones too, with
--    stage, kind and card_count; totals per currency equal the sums of
--    board()'s amounts; Won/Lost cards have closed_at;
--  * the Inbound column first: new requests of the board's people received
--    by `at`, not handled ones, not later ones, not other people's (and
--    board_text()'s Inbound column the same);
--  * each card: client, service type, next subject/kind, all-day date,
--    owner id, name and time zone, tags; every column of board() by name;
--  * the session's TimeZone changes nothing; moments are UTC;
--  * tags: a NULL name is 22004, a 2-D array SB025 (board(), create_deal too);
--  * the same errors as board(): SB019, SB020, SB022 (acting as nobody),
--    SB033; an ordinary employee cannot read another's board.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SET TimeZone = 'UTC';

SELECT plan(36);

\set T '2026-03-10 09:00+00'
\set C '2026-03-01 09:00+00'

SELECT create_deal(4, 11, 'Timed', '2026-03-10 18:00+03', 'call', client_id => 1, service_type_id => 2,
                   amount => 1000, currency => 'RUB', tags => '{Urgent,VIP}', at => :'C') AS timed \gset
SELECT create_deal(4, 12, 'Second', '2026-03-10 19:00+03', 'offer', amount => 250.50, currency => 'RUB',
                   at => :'C') AS second \gset
SELECT create_deal(4, 12, 'Euro', '2026-03-10 20:00+03', 'offer', amount => 99.99, currency => 'EUR',
                   tags => '{Partner}', first_kind => 'task', at => :'C') AS euro \gset
SELECT create_deal(7, 11, 'All day', '2026-03-10 10:00+05:45', 'send contract', first_all_day => true,
                   at => :'C') AS allday \gset
SELECT create_deal(10, 13, 'Team', '2026-03-09 10:00+03', 'call', amount => 5, currency => 'USD', at => :'C') AS team \gset
SELECT create_deal(4, 21, 'Renewal', '2026-03-10 12:00+03', 'renewal call', at => :'C') AS renewal \gset
SELECT create_deal(4, 11, 'Won one', '2026-03-12 10:00+03', 'call', amount => 70, currency => 'RUB', at => :'C') AS won \gset
SELECT close_deal(:won, true, 'Signed', at => '2026-03-09 10:00+03') \gset junk_

INSERT INTO lead_source (id, channel, address, owner_id) VALUES (1, 'email', 'sales@example.test', 4),
    (2, 'phone', '+7 495 000-00-10', 10), (3, 'email', 'ny@example.test', 6);
INSERT INTO inbound (id, source_id, channel, sender, subject, received_at, owner_id, status, handled_at) VALUES
    (1, 1, 'email', 'early@example.test', 'Early', '2026-03-10 07:00+00', 4, 'new', NULL),
    (2, 1, 'email', 'later@example.test', 'Later', '2026-03-10 10:00+00', 4, 'new', NULL),
    (3, 1, 'email', 'done@example.test', 'Done', '2026-03-10 06:00+00', 4, 'dismissed', '2026-03-10 06:30+00'),
    (4, 2, 'phone', '+7 495 000-00-09', NULL, '2026-03-10 05:00+00', 10, 'new', NULL),
    (5, 3, 'email', 'ny@example.test', 'NY', '2026-03-10 05:00+00', 6, 'new', NULL);

/* board(): the new card fields */
SELECT is((SELECT (next_all_day, next_due_date, tags)::text FROM board(7, 'week', at => :'T') WHERE deal_id = :allday),
          '(t,2026-03-10,{})', 'board(): an all-day next activity has next_all_day and the owner''s local date');
SELECT is((SELECT (next_all_day, next_due_date, tags)::text FROM board(4, at => :'T') WHERE deal_id = :timed),
          '(f,,"{Urgent,VIP}")', 'board(): a timed one has neither; tags are sorted names');
SELECT is((SELECT tags FROM board(4, at => :'T') WHERE deal_id = :second), '{}'::text[],
          'board(): no tags is an empty array');

/* board_json(): the same cards as board() */
CREATE TEMP TABLE cases AS
SELECT e, h FROM unnest('{4,3,1,6}'::bigint[]) e, unnest('{today,3 days,week,month}'::text[]) h;
CREATE FUNCTION pg_temp.json_cards(e bigint, h text, at timestamptz) RETURNS TABLE (
    deal_id bigint, column_position int, stage_id bigint, rank int, colour text, next_due timestamptz,
    priority boolean, pipeline_id bigint)
LANGUAGE sql AS $$
    SELECT (c->>'deal_id')::bigint, (col->>'position')::int, (col->>'stage_id')::bigint, (c->>'rank')::int,
           c->>'colour', (c->>'next_due')::timestamptz, (c->>'priority')::boolean, (p->>'pipeline_id')::bigint
    FROM jsonb_array_elements(salesboard.board_json(e, h, at => at)->'pipelines') p,
         jsonb_array_elements(p->'columns') col, jsonb_array_elements(col->'cards') c
$$;
SELECT is((SELECT count(*)::int FROM cases c WHERE EXISTS (
              (SELECT deal_id, column_position, stage_id, rank, colour, next_due, priority, pipeline_id
                 FROM board(c.e, c.h, at => :'T')
               EXCEPT ALL SELECT * FROM pg_temp.json_cards(c.e, c.h, :'T'))
              UNION ALL
              (SELECT * FROM pg_temp.json_cards(c.e, c.h, :'T')
               EXCEPT ALL SELECT deal_id, column_position, stage_id, rank, colour, next_due, priority, pipeline_id
                 FROM board(c.e, c.h, at => :'T')))),
          0, 'board_json() has exactly board()''s cards, columns and ranks for 4 employees x 4 horizons');
SELECT ok((SELECT count(*) FROM board(1, 'month', at => :'T')) >= 6, 'and the director''s board is not empty');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(board_json(4, tags => '{VIP}', at => :'T')->'pipelines') p,
                 jsonb_array_elements(p->'columns') col, jsonb_array_elements(col->'cards') c),
          1, 'filters apply as in board() (tags)');

/* columns: every one, in order, empty ones too */
SELECT is((SELECT array_agg(col->>'kind' || ':' || coalesce(col->>'stage_id', '-') || ':' || (col->>'card_count')
                            ORDER BY o)
           FROM jsonb_array_elements(board_json(4, at => :'T')->'pipelines'->0->'columns') WITH ORDINALITY AS x(col, o)),
          ARRAY['inbound:-:1', 'stage:11:1', 'stage:12:2', 'stage:13:0', 'won:14:1', 'lost:15:0'],
          'pipeline Sales: Inbound first, then every stage, Won and Lost, empty ones too, with card counts');
SELECT is((SELECT array_agg((col->>'position')::int ORDER BY o)
           FROM jsonb_array_elements(board_json(4, at => :'T')->'pipelines'->0->'columns') WITH ORDINALITY AS x(col, o)),
          ARRAY[0, 1, 2, 3, 4, 5], 'column positions are board()''s column_position');
SELECT is((SELECT array_agg(p->>'name' ORDER BY o)
           FROM jsonb_array_elements(board_json(4, at => :'T')->'pipelines') WITH ORDINALITY AS x(p, o)),
          ARRAY['Sales', 'Renewals'], 'one entry per pipeline with cards, in board order');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(board_json(4, at => :'T')->'pipelines'->1->'columns') col
           WHERE col->>'kind' = 'inbound'), 0, 'the Inbound column only once, in the first pipeline');
SELECT is((SELECT jsonb_agg(p->'name') FROM jsonb_array_elements(board_json(9, at => :'T')->'pipelines') p),
          '["Sales"]'::jsonb, 'an empty board still has the first pipeline''s columns');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(board_json(9, at => :'T')->'pipelines'->0->'columns')),
          6, 'all of them');

/* totals per currency */
SELECT is((SELECT col->'totals' FROM jsonb_array_elements(board_json(4, at => :'T')->'pipelines'->0->'columns') col
           WHERE col->>'stage_id' = '12'),
          '[{"currency": "RUB", "amount": 250.50, "cards": 1}, {"currency": "EUR", "amount": 99.99, "cards": 1}]'::jsonb,
          'totals per currency, amounts exact');
SELECT is((SELECT sum((t->>'amount')::numeric) FROM jsonb_array_elements(board_json(1, 'month', at => :'T')->'pipelines') p,
                 jsonb_array_elements(p->'columns') col, jsonb_array_elements(col->'totals') t),
          (SELECT sum(amount) FROM board(1, 'month', at => :'T')),
          'the totals add up to board()''s amounts');
SELECT is((SELECT col->'totals' FROM jsonb_array_elements(board_json(4, at => :'T')->'pipelines'->0->'columns') col
           WHERE col->>'stage_id' = '13'), '[]'::jsonb, 'an empty column has no totals');

/* Inbound */
SELECT is((SELECT jsonb_agg(r->'id' ORDER BY r->>'received_at')
           FROM jsonb_array_elements(board_json(4, subordinates => false, at => :'T')->'pipelines'->0->'columns'->0->'requests') r),
          '[1]'::jsonb, 'Inbound: new requests received by at; not handled ones, not later ones');
SELECT ok((SELECT t LIKE '%early@example.test%' AND t NOT LIKE '%later@example.test%' AND t NOT LIKE '%done@example.test%'
           FROM board_text(4, subordinates => false, at => :'T') t),
          'board_text() draws the same Inbound column: received by at, new only');
SELECT is((SELECT jsonb_agg(r->'id' ORDER BY r->>'received_at')
           FROM jsonb_array_elements(board_json(3, at => :'T')->'pipelines'->0->'columns'->0->'requests') r),
          '[4, 1]'::jsonb, 'a head sees the requests of the team, oldest first, not another department''s');

/* one card in full */
SELECT is((SELECT c - 'next_activity_id' FROM jsonb_array_elements(board_json(4, at => :'T')->'pipelines'->0->'columns') col,
                 jsonb_array_elements(col->'cards') c WHERE (c->>'deal_id')::bigint = :timed),
          jsonb_build_object('deal_id', :timed, 'title', 'Timed', 'client_id', 1, 'client', 'Acme',
              'service_type_id', 2, 'service_type', 'Support', 'amount', 1000, 'currency', 'RUB',
              'next_due', '2026-03-10T15:00:00+00:00', 'next_all_day', false, 'next_due_date', NULL,
              'next_subject', 'call', 'next_kind', 'interaction', 'colour', 'yellow', 'priority', false,
              'closed_at', NULL, 'rank', 1, 'owner_id', 4, 'owner_name', 'Ivan Seller', 'owner_time_zone', 'Europe/Moscow',
              'tags', jsonb_build_array('Urgent', 'VIP')),
          'a card carries all it shows, moments in UTC');
/*
 * board()'s columns all reach the page by the same names: the card's own,
 * and those of the column it sits in (position, kind, stage_id, name) and
 * of its pipeline (pipeline_id), given once there instead of on every card
 */
SELECT is((SELECT array_agg(k ORDER BY k) FROM (
             SELECT k FROM jsonb_array_elements(board_json(4, at => :'T')->'pipelines'->0->'columns') col,
                    jsonb_array_elements(col->'cards') c, jsonb_object_keys(c) k
              WHERE (c->>'deal_id')::bigint = :timed
                AND k IN (SELECT attname FROM pg_attribute WHERE attrelid = 'salesboard.card'::regclass AND attnum > 0)
             UNION ALL
             SELECT CASE k WHEN 'position' THEN 'column_position' WHEN 'kind' THEN 'column_kind'
                           WHEN 'name' THEN 'stage_name' ELSE k END
               FROM jsonb_array_elements(board_json(4, at => :'T')->'pipelines'->0->'columns') col,
                    jsonb_object_keys(col) k
              WHERE col->>'stage_id' = '11' AND k IN ('position', 'kind', 'stage_id', 'name')
             UNION ALL
             SELECT 'pipeline_id' WHERE board_json(4, at => :'T')->'pipelines'->0 ? 'pipeline_id') x),
          (SELECT array_agg(attname::text ORDER BY attname::text) FROM pg_attribute
            WHERE attrelid = 'salesboard.card'::regclass AND attnum > 0 AND NOT attisdropped),
          'every column of board()''s card type reaches the page by the same name: on the card, its column or its pipeline');
SELECT is((SELECT count(*) FROM jsonb_array_elements(board_json(4, at => :'T')->'pipelines'->0->'columns') col,
                 jsonb_array_elements(col->'cards') c, jsonb_object_keys(c) k
            WHERE k IN ('column_position', 'column_kind', 'stage_id', 'stage_name', 'pipeline_id')),
          0::bigint, 'a card does not repeat its column''s and pipeline''s fields');
SELECT is((SELECT c->>'next_activity_id' FROM jsonb_array_elements(board_json(4, at => :'T')->'pipelines'->0->'columns') col,
                 jsonb_array_elements(col->'cards') c WHERE (c->>'deal_id')::bigint = :timed),
          (SELECT next_activity_id::text FROM deal WHERE id = :timed), 'and the id of its next activity');
SELECT is((SELECT (c->>'next_all_day') || ' ' || (c->>'next_due_date') || ' ' || (c->>'owner_time_zone')
           FROM jsonb_array_elements(board_json(7, 'week', at => :'T')->'pipelines'->0->'columns') col,
                jsonb_array_elements(col->'cards') c WHERE (c->>'deal_id')::bigint = :allday),
          'true 2026-03-10 Asia/Kathmandu', 'an all-day card: its local date in the owner''s zone');
SELECT is((SELECT c->>'closed_at' FROM jsonb_array_elements(board_json(4, at => :'T')->'pipelines'->0->'columns') col,
                 jsonb_array_elements(col->'cards') c WHERE (c->>'deal_id')::bigint = :won),
          '2026-03-09T07:00:00+00:00', 'a Won card has closed_at');

/* the session's TimeZone changes nothing */
CREATE TEMP TABLE utc AS SELECT board_json(1, 'month', at => :'T') AS j;
SET TimeZone = 'Pacific/Kiritimati';
SELECT is(board_json(1, 'month', at => :'T'), (SELECT j FROM utc), 'TimeZone changes nothing');
SET TimeZone = 'UTC';

/* errors as board() */
SELECT throws_ok($$SELECT salesboard.board_json(4, horizon => 'fortnight')$$, 'SB019', NULL, 'unknown horizon: SB019');
SELECT throws_ok($$SELECT salesboard.board_json(4, tags => '{Nope}')$$, 'SB020', NULL, 'unknown tag: SB020');
SELECT throws_ok($$SELECT salesboard.board_json(424242)$$, 'SB033', NULL, 'unknown employee: SB033');
SELECT throws_ok($$SELECT salesboard.board_json(4, closed_days => 3661)$$, 'SB025', NULL,
                 'closed_days beyond ten years (the setting''s limit): SB025, not a calendar overflow');
SELECT lives_ok($$SELECT salesboard.board_json(4, closed_days => 3660)$$, 'ten years is fine');
SELECT throws_ok($$SELECT salesboard.board_json(4, tags => '{VIP,NULL}')$$, '22004', 'tags must not contain NULL',
                 'a NULL tag name: 22004, as board() and create_deal');
SELECT throws_ok($$SELECT * FROM salesboard.board(4, tags => '{{VIP,Urgent},{VIP,Partner}}')$$, 'SB025', NULL,
                 'a two-dimensional tags array: SB025, not flattened');
SELECT throws_ok($$SELECT salesboard.create_deal(4, 11, 'T', now() + interval '1 day', 'c', tags => '{NULL}')$$, '22004', NULL,
                 'create_deal refuses a NULL tag name the same way');
SET ROLE sbt_mseller;
SELECT throws_ok($$SELECT salesboard.board_json(10)$$, 'SB024', NULL,
                 'an ordinary employee cannot read a teammate''s board: SB024');
SELECT is((board_json(4, at => :'T')->>'employee_id')::bigint, 4::bigint, 'but reads their own');
RESET ROLE;
CREATE ROLE sbt_json_app NOLOGIN IN ROLE salesboard_app;
SET ROLE sbt_json_app;
SELECT throws_ok($$SELECT salesboard.board_json(4)$$, 'SB022', NULL, 'acting as nobody: SB022');
RESET ROLE;
SELECT * FROM finish();
ROLLBACK;

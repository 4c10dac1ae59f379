-- test/pgtap/65_inbound.sql: inbound dispatch (doc/reference.md, "Inbound
-- dispatch"): receiving with dedupe and auto-linking, the Inbound column,
-- dismiss, accept and link, access, and the same rules for raw SQL.
-- (Concurrent deliveries and handling: test/isolation/specs/inbound_*.spec.)
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(102);

-- sources: Ivan's mailbox and phone line, Alla's (his head's) mailbox, a
-- support mailbox that is no lead source, an inactive Telegram chat, Sam's form
INSERT INTO company (id, default_currency, default_region) VALUES (true, 'RUB', 'RU');
INSERT INTO lead_source (id, channel, address, owner_id, is_lead_source, active) VALUES
    (1, 'email', 'sales@firm.test', 4, true, true),
    (2, 'email', 'boss@firm.test', 3, true, true),
    (3, 'phone', '+7 495 111-11-11', 4, true, true),
    (4, 'email', 'support@firm.test', 4, false, true),
    (5, 'telegram', '@firm_chat', 4, true, false),
    (6, 'web_form', 'https://firm.test/contact', 6, true, true);
INSERT INTO client (id, name, email, phone) VALUES (3, 'Initech', 'it@initech.test', NULL),
    (4, 'Umbrella', 'desk@umbrella.test', NULL), (5, 'Olga''s client', 'olga-client@x.test', NULL);

SET ROLE sbt_app;
SELECT set_employee(4);
SELECT create_deal(4, 11, 'Acme licences', now() + interval '1 day', 'Call', client_id => 1) AS acme \gset
SELECT create_deal(4, 11, 'Initech one', now() + interval '1 day', 'Call', client_id => 3) AS it1 \gset
SELECT create_deal(4, 11, 'Initech two', now() + interval '1 day', 'Call', client_id => 3) AS it2 \gset
SELECT create_deal(4, 11, 'Umbrella', now() + interval '1 day', 'Call', client_id => 4) AS umb \gset
SELECT (close_deal(:umb, true, 'Signed')).deal_id AS closed \gset
SELECT set_employee(6);
SELECT create_deal(6, 11, 'Globex (Sam)', now() + interval '1 day', 'Call', client_id => 2) AS globex \gset
SELECT set_employee(10);
SELECT create_deal(10, 11, 'Olga''s client', now() + interval '1 day', 'Call', client_id => 5) AS olga \gset
SELECT set_employee(3);   -- Alla heads Ivan: she sees both mailboxes

/* ---- receiving: stored once per (source, external_ref) */
SELECT receive_inbound(1, 'Jane Doe <jane@newco.test>', 'Quote please', 'Hello',
                       received_at => now() - interval '2 hours', external_ref => '<q1@newco.test>') AS q1 \gset
SELECT is((SELECT status || ' ' || channel || ' ' || owner_id FROM inbound WHERE id = :q1),
          'new email 4', 'a new request waits, with the source''s channel and employee');
SELECT is(receive_inbound(1, 'Jane Doe <jane@newco.test>', 'Quote please', 'Hello', external_ref => '<q1@newco.test>'),
          :q1::bigint, 'the same source and external_ref again answers the first id');
SELECT is((SELECT count(*) FROM inbound WHERE external_ref = '<q1@newco.test>'), 1::bigint, 'and stores nothing more');
SELECT receive_inbound(2, 'jane@newco.test', 'Quote please', 'Hello',
                       received_at => now() - interval '2 hours', external_ref => '<q1@newco.test>') AS q1cc \gset
SELECT isnt(:q1cc::bigint, :q1::bigint, 'a copy in another mailbox is its own request (its employee decides too)');

/* ---- bad input: a specific SQLSTATE, nothing stored */
SELECT throws_ok($$SELECT receive_inbound(99, 'a@b.test', 's', 'b')$$, 'SB101',
                 'lead source 99 does not exist', 'an unknown source is SB101');
SELECT throws_ok($$SELECT receive_inbound(5, '@someone', 's', 'b')$$, 'SB101', NULL, 'an inactive source is SB101');
SELECT throws_ok($$SELECT receive_inbound(1, 'a@b.test', 's', 'b', received_at => now() + interval '1 hour')$$,
                 'SB104', NULL, 'a request from the future is SB104');
SELECT throws_ok($$SELECT receive_inbound(1, '   ', 's', 'b')$$, 'SB025', NULL, 'a blank sender is SB025');
SELECT throws_ok($$SELECT receive_inbound(NULL, 'a@b.test', 's', 'b')$$, '22004', NULL, 'no source is 22004');
SELECT throws_ok($$SELECT receive_inbound(1, 'a@b.test', 's', 'b', received_at => 'infinity')$$, 'SB025', NULL,
                 'an infinite moment is SB025');
SELECT is((SELECT count(*) FROM inbound WHERE sender = 'a@b.test'), 0::bigint, 'none of them stored anything');

/* ---- auto-link by the client's contact, to the one open deal only */
SELECT receive_inbound(1, '  Buyer@ACME.test ', 'Licences', 'How many?', received_at => now() - interval '1 hour',
                       external_ref => '<a1@acme.test>') AS a1 \gset
SELECT is((SELECT status || ' ' || deal_id FROM inbound WHERE id = :a1), 'auto_linked ' || :acme,
          'mail from the client''s address (any case, padded) is auto-linked to its one open deal');
SELECT is((SELECT kind || '|' || subject || '|' || status || '|' || result || '|' || (due_at = now() - interval '1 hour')
             FROM activity WHERE deal_id = :acme AND status = 'done'),
          'interaction|E-mail: Licences|done|Received from   Buyer@ACME.test  (inbound request ' || :a1 || ')|true',
          'and recorded on the deal as a done incoming interaction at the moment it arrived');
SELECT receive_inbound(3, '8 (495) 000-00-01', NULL, NULL, external_ref => 'call-1') AS call1 \gset
SELECT is((SELECT status || ' ' || deal_id FROM inbound WHERE id = :call1), 'auto_linked ' || :acme,
          'a call in national format matches the client''s international number (company region RU)');
SELECT is((SELECT subject FROM activity WHERE deal_id = :acme AND status = 'done' ORDER BY id DESC LIMIT 1),
          'Call: from 8 (495) 000-00-01', 'a call without subject is recorded by its sender');
SELECT receive_inbound(1, 'it@initech.test', 'Hello', 'Hi', external_ref => '<i1@initech.test>') AS i1 \gset
SELECT is((SELECT status FROM inbound WHERE id = :i1), 'new',
          'a client with two open deals and no thread: it waits for a person to choose');
SELECT receive_inbound(1, 'desk@umbrella.test', 'New project', 'Hi', external_ref => '<u1@umbrella.test>') AS u1 \gset
SELECT is((SELECT status || coalesce(deal_id::text, '-') FROM inbound WHERE id = :u1), 'new-',
          'a client whose only deal is won: a new request, never linked to the closed deal');
SELECT receive_inbound(1, 'office@globex.test', 'Renewal', 'Hi', external_ref => '<g1@globex.test>') AS g1 \gset
SELECT is((SELECT status || coalesce(deal_id::text, '-') FROM inbound WHERE id = :g1), 'new-',
          'the client''s one open deal is another department''s: the request waits (a client row draws no leads across departments)');
SELECT receive_inbound(1, 'olga-client@x.test', 'Hello', 'Hi', external_ref => '<o1@x.test>') AS o1 \gset
SELECT is((SELECT status || ' ' || deal_id || ' ' || owner_id FROM inbound WHERE id = :o1), 'auto_linked ' || :olga || ' 4',
          'a colleague''s deal (same department): linked to it, the request stays the mailbox''s (case 27 d)');

/* ---- sources without the flag, the Processed folder */
SELECT receive_inbound(4, 'someone@else.test', 'Invoice', 'Hi', external_ref => '<s1@else.test>') AS s1 \gset
SELECT is((SELECT status || ' ' || (handled_at IS NOT NULL) || ' ' || coalesce(handled_by::text, '-') FROM inbound WHERE id = :s1),
          'dismissed true -', 'a source without the lead-source flag does not feed Inbound');
SELECT receive_inbound(1, 'old@client.test', 'Old', 'Hi', external_ref => '<p1@client.test>', folder => 'INBOX/Processed') AS p1 \gset
SELECT is((SELECT status FROM inbound WHERE id = :p1), 'dismissed', 'mail filed in Processed never shows in Inbound');
SELECT receive_inbound(4, 'buyer@acme.test', 'Support', 'Hi', external_ref => '<s2@acme.test>') AS s2 \gset
SELECT is((SELECT status FROM inbound WHERE id = :s2), 'auto_linked', 'but what belongs to a deal is linked from any source');

/* ---- the Inbound column */
SELECT set_employee(4);
SELECT results_eq($$SELECT id, channel, sender, subject FROM inbound_queue()$$,
                  format($$VALUES (%s::bigint, 'email', 'Jane Doe <jane@newco.test>', 'Quote please'),
                                  (%s, 'email', 'it@initech.test', 'Hello'), (%s, 'email', 'desk@umbrella.test', 'New project'),
                                  (%s, 'email', 'office@globex.test', 'Renewal')$$,
                         :q1, :i1, :u1, :g1),
                  'inbound_queue(): the employee''s new requests, oldest first, nothing handled');
SELECT is((SELECT age FROM inbound_queue(at => now()) WHERE id = :q1), interval '2 hours', 'age is at - received_at');
SELECT is((SELECT count(*) FROM inbound_queue(at => now() - interval '3 hours')), 0::bigint,
          'requests received after at are not shown');
SELECT set_employee(3);
SELECT is((SELECT array_agg(id ORDER BY id) FROM inbound_queue()), ARRAY[:q1, :q1cc, :i1, :u1, :g1]::bigint[],
          'a head sees their own and their subtree''s requests');
SELECT is((SELECT count(*) FROM inbound_queue(4)), 4::bigint, 'and a subordinate''s column');
SELECT set_employee(6);
SELECT is((SELECT count(*) FROM inbound_queue()), 0::bigint, 'another department''s employee sees none of them');
SELECT throws_ok($$SELECT * FROM inbound_queue(4)$$, 'SB024', NULL, 'nor may ask for Ivan''s column (SB024)');
SELECT is((SELECT count(*) FROM inbound), 0::bigint, 'row-level security shows them none of Ivan''s rows');
SELECT throws_ok($$SELECT * FROM inbound_queue(999)$$, 'SB033', NULL, 'an unknown employee is SB033');
SELECT set_employee(4);
SELECT is((SELECT jsonb_agg(r->'id') FROM jsonb_array_elements(board_json()->'pipelines'->0->'columns'->0->'requests') r),
          (SELECT jsonb_agg(id) FROM inbound_queue()), 'board_json''s Inbound column is inbound_queue()');
RESET ROLE;
SET ROLE sbt_stranger;
SELECT throws_ok($$SELECT * FROM inbound_queue()$$, 'SB022', NULL, 'a session acting as nobody gets SB022');
RESET ROLE;

/* ---- dismiss */
SET ROLE sbt_app;
SELECT set_employee(4);
SELECT receive_inbound(1, 'spam1@x.test', 'Win', 'x', external_ref => '<x1>') AS x1 \gset
SELECT receive_inbound(1, 'spam2@x.test', 'Win', 'x', external_ref => '<x2>') AS x2 \gset
SELECT throws_ok(format('SELECT dismiss_inbound(ARRAY[%s, %s])', :x1, :a1), 'SB102', NULL,
                 'dismissing a handled request is SB102');
SELECT is((SELECT status FROM inbound WHERE id = :x1), 'new', 'and nothing was dismissed (all or none)');
SELECT set_employee(6);
SELECT throws_ok(format('SELECT dismiss_inbound(ARRAY[%s])', :x1), 'SB100',
                 format('inbound request %s does not exist', :x1), 'another''s request is SB100, as an unknown one');
SELECT throws_ok('SELECT dismiss_inbound(ARRAY[987654])', 'SB100', 'inbound request 987654 does not exist',
                 'an unknown one the same');
SELECT set_employee(4);
SELECT throws_ok('SELECT dismiss_inbound(ARRAY[1, NULL]::bigint[])', '22004', NULL, 'a NULL id is 22004');
SELECT is(dismiss_inbound(ARRAY[]::bigint[]), 0, 'an empty list dismisses nothing');
SELECT is(dismiss_inbound(ARRAY[:x1, :x2, :x1], request_id => 'd0000000-0000-4000-8000-000000000001'), 2,
          'many at once: the count of requests dismissed');
SELECT is((SELECT string_agg(status || ' ' || handled_by, ',' ORDER BY id) FROM inbound WHERE id IN (:x1, :x2)),
          'dismissed 4,dismissed 4', 'dismissed by the acting employee');
SELECT is(dismiss_inbound(ARRAY[:x2, :x1], request_id => 'd0000000-0000-4000-8000-000000000001'), 2,
          'the same request again answers the same and changes nothing');
SELECT throws_ok(format($$SELECT dismiss_inbound(ARRAY[%s], request_id => 'd0000000-0000-4000-8000-000000000001')$$, :x1),
                 'SB012', NULL, 'the same request id for other ids is SB012');

/* ---- accept */
SELECT throws_ok(format($$SELECT accept_inbound(%s, 99, 'NewCo quote', now() + interval '1 day', 'Send quote')$$, :q1),
                 'SB031', NULL, 'accepting into an unknown stage: create_deal''s error');
SELECT is((SELECT status FROM inbound WHERE id = :q1), 'new', 'and the request still waits');
SELECT accept_inbound(:q1, 11, 'NewCo quote', now() + interval '1 day', 'Send quote', amount => 1000,
                      request_id => 'd0000000-0000-4000-8000-000000000002') AS d1 \gset
SELECT is((SELECT status || ' ' || deal_id || ' ' || handled_by FROM inbound WHERE id = :q1), 'accepted ' || :d1 || ' 4',
          'accept_inbound registers a deal and marks the request accepted');
SELECT is((SELECT d.owner_id || ' ' || d.stage_id || ' ' || c.name || ' ' || c.email || ' ' || d.currency
             FROM deal d JOIN client c ON c.id = d.client_id WHERE d.id = :d1),
          '4 11 Jane Doe jane@newco.test RUB',
          'owned by the request''s employee, for a new client named by the sender, through create_deal''s core');
SELECT is((SELECT string_agg(kind || ':' || status || ':' || subject, ',' ORDER BY status DESC) FROM activity WHERE deal_id = :d1),
          'interaction:planned:Send quote,interaction:done:E-mail: Quote please',
          'with its first planned activity and the request recorded');
SELECT set_employee(3);
SELECT is((SELECT status || ' ' || deal_id FROM inbound WHERE id = :q1cc), 'auto_linked ' || :d1,
          'the copy in the head''s mailbox follows: no second deal from one message');
SELECT set_employee(4);
SELECT is((SELECT count(*) FROM activity WHERE deal_id = :d1 AND status = 'done'), 1::bigint,
          'and the message is recorded once');
SELECT is(accept_inbound(:q1, 11, 'NewCo quote', now() + interval '1 day', 'Send quote', amount => 1000,
                         request_id => 'd0000000-0000-4000-8000-000000000002'), :d1::bigint,
          'the same request again answers the same deal');
SELECT throws_ok(format($$SELECT accept_inbound(%s, 11, 'Again', now() + interval '1 day', 'Call')$$, :q1), 'SB102',
                 format('inbound request %s was already handled: accepted to deal %s', :q1, :d1),
                 'a second acceptance is SB102 naming the deal');
SELECT receive_inbound(1, 'buyer@acme.test', 'Other', 'x', external_ref => '<a9@acme.test>') AS a9 \gset
SELECT is((SELECT status FROM inbound WHERE id = :a9), 'auto_linked', '(auto-linked: the client has one open deal)');
SELECT receive_inbound(1, 'IT@initech.test', 'Another', 'x', external_ref => '<i2@initech.test>') AS i2 \gset
SELECT accept_inbound(:i2, 11, 'Initech three', now() + interval '1 day', 'Call') AS d3 \gset
SELECT is((SELECT client_id FROM deal WHERE id = :d3), 3::bigint, 'an existing client is matched by the sender');

/* ---- replies in a thread */
SELECT receive_inbound(1, 'jane@newco.test', 'Re: Quote please', 'Thanks', external_ref => '<q2@newco.test>',
                       thread_ref => '<q1@newco.test>') AS q2 \gset
SELECT is((SELECT status || ' ' || deal_id FROM inbound WHERE id = :q2), 'auto_linked ' || :d1,
          'a reply in the thread of an accepted request is linked to its deal');
SELECT receive_inbound(1, 'jane@newco.test', 'Re: Re: Quote please', 'Ok', external_ref => '<q3@newco.test>',
                       thread_ref => '<q2@newco.test>') AS q3 \gset
SELECT is((SELECT deal_id FROM inbound WHERE id = :q3), :d1::bigint, 'and a reply to the reply');

/* ---- link */
SELECT throws_ok(format('SELECT link_inbound(%s, %s)', :i1, :umb), 'SB103', NULL,
                 'linking to a won deal is SB103');
SELECT throws_ok(format('SELECT link_inbound(%s, %s)', :i1, :globex), 'SB030', NULL,
                 'linking to a deal one may not see is SB030');
SELECT lives_ok(format($$SELECT link_inbound(%s, %s, request_id => 'd0000000-0000-4000-8000-000000000003')$$, :i1, :it2),
                'link_inbound to an open deal');
SELECT is((SELECT status || ' ' || deal_id FROM inbound WHERE id = :i1), 'linked ' || :it2, 'the request is linked');
SELECT is((SELECT count(*) FROM activity WHERE deal_id = :it2 AND status = 'done'), 1::bigint, 'and recorded on the deal');
SELECT lives_ok(format($$SELECT link_inbound(%s, %s, request_id => 'd0000000-0000-4000-8000-000000000003')$$, :i1, :it2),
                'the same request again is no error');
SELECT throws_ok(format('SELECT link_inbound(%s, %s)', :i1, :it1), 'SB102', NULL, 'linking it again is SB102');
SELECT throws_ok(format($$SELECT link_inbound(%s, %s, request_id => 'd0000000-0000-4000-8000-000000000003')$$, :u1, :it1),
                 'SB012', NULL, 'its request id for another request is SB012');

/* ---- raw SQL obeys the same life */
SELECT receive_inbound(1, 'raw@x.test', 'Raw', 'x', external_ref => '<r1>') AS r1 \gset
SELECT throws_ok(format($$UPDATE inbound SET status = 'linked' WHERE id = %s$$, :r1), 'SB105', NULL,
                 'a raw link without a deal is SB105');
SELECT throws_ok(format($$UPDATE inbound SET status = 'linked', deal_id = %s WHERE id = %s$$, :umb, :r1), 'SB103', NULL,
                 'a raw link to a won deal is SB103');
SELECT throws_ok(format($$UPDATE inbound SET deal_id = %s WHERE id = %s$$, :it1, :r1), 'SB105', NULL,
                 'a new request has no deal');
RESET ROLE;
SET ROLE sbt_mseller;
SELECT throws_ok(format($$UPDATE salesboard.inbound SET status = 'dismissed', handled_by = 3 WHERE id = %s$$, :r1), 'SB013', NULL,
                 'handled_by is the acting employee (SB013)');
SELECT lives_ok(format($$UPDATE salesboard.inbound SET status = 'linked', deal_id = %s WHERE id = %s$$, :it1, :r1),
                'an employee links by raw UPDATE');
SELECT is((SELECT status || ' ' || handled_by || ' ' || (handled_at = now()) FROM salesboard.inbound WHERE id = :r1),
          'linked 4 true', 'handled by them, now');
SELECT is((SELECT count(*) FROM salesboard.activity WHERE deal_id = :it1 AND status = 'done'), 1::bigint,
          'and recorded on the deal as by link_inbound()');
SELECT throws_ok(format($$UPDATE salesboard.inbound SET status = 'dismissed', deal_id = NULL WHERE id = %s$$, :r1), 'SB102', NULL,
                 'a handled request cannot be handled again by raw SQL (SB102)');
SELECT throws_ok(format($$UPDATE salesboard.inbound SET status = 'new', deal_id = NULL, handled_at = NULL, handled_by = NULL WHERE id = %s$$, :r1),
                 'SB102', NULL, 'nor be made new again');
SELECT throws_ok($$SELECT salesboard.receive_inbound(1, 'a@b.test', 's', 'b')$$, '42501', NULL,
                 'an ordinary employee does not receive (integrations do)');
RESET ROLE;
SET ROLE sbt_admin;
SELECT throws_ok($$INSERT INTO salesboard.inbound (source_id, channel, sender) VALUES (1, 'phone', 'x')$$, 'SB106', NULL,
                 'a raw insert cannot contradict its source''s channel (SB106)');
SELECT lives_ok($$INSERT INTO salesboard.inbound (source_id, sender, external_ref) VALUES (3, '+7 495 222-22-22', 'raw-ins')$$,
                'a raw insert takes channel and owner from the source');
SELECT is((SELECT channel || ' ' || owner_id || ' ' || status FROM salesboard.inbound WHERE external_ref = 'raw-ins'),
          'phone 4 new', 'as stored');
SELECT throws_ok($$INSERT INTO salesboard.inbound (source_id, sender) VALUES (5, 'x')$$, 'SB101', NULL,
                 'nor come from an inactive source');
SELECT throws_ok($$INSERT INTO salesboard.inbound (source_id, sender) VALUES (1, E'\u00a0\u2003')$$, '23514', NULL,
                 'a raw insert with a blank sender (Unicode spaces) is refused as receive_inbound refuses it');
RESET ROLE;

/* ---- found by a reviewer: each kind now has a test */
RESET ROLE;
INSERT INTO lead_source (id, channel, address, owner_id) VALUES (7, 'telegram', '@ivan_chat', 4), (8, 'telegram', '@sam_chat', 6);
SET ROLE sbt_app;
SELECT set_employee(4);
-- chat message ids are per chat: the same id in another source is no copy
SELECT receive_inbound(7, '@alice', 'Hi', 'x', external_ref => '15') AS t1 \gset
SELECT receive_inbound(8, '@bob', 'Hi', 'x', external_ref => '15') AS t2 \gset
SELECT accept_inbound(:t1, 11, 'Alice', now() + interval '1 day', 'Call') AS dt \gset
RESET ROLE;
SELECT is((SELECT status || coalesce(deal_id::text, '-') FROM inbound WHERE id = :t2), 'new-',
          'a chat message with the same id in another chat is not carried onto the deal (only e-mail Message-IDs name one message everywhere)');
SET ROLE sbt_app;
SELECT set_employee(4);
-- texts longer than an activity's subject, a client's name; an address client.email refuses
SELECT receive_inbound(1, 'buyer@acme.test', repeat('Ü', 400), 'x', external_ref => '<long@acme.test>') AS long1 \gset
SELECT is((SELECT char_length(a.subject) FROM activity a WHERE a.deal_id = :acme ORDER BY a.id DESC LIMIT 1), 300,
          'a subject too long for an activity is cut to fit (the mail is linked, not refused)');
SELECT receive_inbound(1, '"' || repeat('N', 250) || '" <"odd@x"@weird.test>', 'Hi', 'x', external_ref => '<odd@weird.test>') AS odd1 \gset
SELECT accept_inbound(:odd1, 11, 'Odd', now() + interval '1 day', 'Call') AS dodd \gset
SELECT is((SELECT char_length(c.name) || ' ' || coalesce(c.email, '-') FROM deal d JOIN client c ON c.id = d.client_id WHERE d.id = :dodd),
          '200 -', 'a new client: the name cut to 200 characters, an address client.email refuses left out');
-- a reply waiting in Inbound follows its thread onto the deal
SELECT receive_inbound(1, 'kim@newco2.test', 'First', 'x', external_ref => '<k1@newco2.test>') AS k1 \gset
SELECT receive_inbound(1, 'kim@newco2.test', 'Re: First', 'x', external_ref => '<k2@newco2.test>', thread_ref => '<k1@newco2.test>') AS k2 \gset
SELECT is((SELECT status FROM inbound WHERE id = :k2), 'new', '(the reply waits while the first message does)');
SELECT accept_inbound(:k1, 11, 'Kim', now() + interval '1 day', 'Call') AS dk \gset
SELECT is((SELECT status || ' ' || deal_id FROM inbound WHERE id = :k2), 'auto_linked ' || :dk,
          'accepting the first message carries the waiting reply onto the deal: no second deal from one conversation');
SELECT is((SELECT count(*) FROM activity WHERE deal_id = :dk AND status = 'done'), 2::bigint, 'both messages recorded on it');
-- a phone text with letters is no number
SELECT is(sender_key('phone', '8 (495) 123-45-67 Ivan'), '8 (495) 123-45-67 Ivan', 'letters are not read as a vanity number');
RESET ROLE;
-- administrators correct handled rows within the same rules; an active source belongs to someone active
SET ROLE sbt_admin;
SELECT throws_ok(format($$UPDATE salesboard.inbound SET status = 'accepted', deal_id = NULL WHERE id = %s$$, :k2), 'SB105', NULL,
                 'an administrator too: accepted needs a deal (SB105)');
SELECT throws_ok($$INSERT INTO salesboard.inbound (source_id, sender, received_at) VALUES (1, 'x', now() + interval '10 years')$$,
                 'SB104', NULL, 'a raw insert from the future is SB104');
RESET ROLE;
UPDATE employee SET active = false WHERE id = 8;
SELECT throws_ok($$INSERT INTO lead_source (id, channel, address, owner_id) VALUES (19, 'vk', 'club1', 8)$$, 'SB040', NULL,
                 'an active lead source for someone who has left is SB040');
SELECT lives_ok($$INSERT INTO lead_source (id, channel, address, owner_id, active) VALUES (20, 'vk', 'club2', 8, false)$$,
                'an inactive one is history');
SELECT throws_ok($$UPDATE lead_source SET active = true WHERE address = 'club2'$$, 'SB040', NULL, 'and stays inactive');

-- a reply stored without a reference, then one with (the random-operations test crashed the server here)
SET ROLE sbt_app;
SELECT set_employee(4);
SELECT receive_inbound(1, 'r1@x.test', 's', 'b', thread_ref => '<thr@x.test>') AS nr1 \gset
SELECT lives_ok($$SELECT receive_inbound(1, 'r2@x.test', 's', 'b', external_ref => '<m@x.test>', thread_ref => '<thr@x.test>')$$,
                'a message of a thread whose other messages have no reference is stored');
-- an empty dismiss takes its request id all the same
SELECT is(dismiss_inbound('{}', request_id => 'd0000000-0000-4000-8000-000000000077'), 0, 'an empty dismiss: 0');
SELECT throws_ok(format($$SELECT dismiss_inbound(ARRAY[%s], request_id => 'd0000000-0000-4000-8000-000000000077')$$, :nr1),
                 'SB012', NULL, 'and its request id is taken');
RESET ROLE;

/* ---- nothing waiting is left with nobody */
SELECT receive_inbound(1, 'wait1@x.test', 'Waiting', 'x', external_ref => '<w1>') AS w1 \gset
UPDATE lead_source SET owner_id = 9 WHERE id = 1;
SELECT is((SELECT owner_id FROM inbound WHERE id = :w1), 9::bigint, 'a source''s waiting requests follow its new employee');
SELECT is((SELECT owner_id FROM inbound WHERE id = :q1), 4::bigint, 'handled ones keep theirs');
-- an administrator hands one waiting request to someone else; an employee may not
SET ROLE sbt_admin;
SELECT lives_ok(format('UPDATE salesboard.inbound SET owner_id = 4 WHERE id = %s', :w1),
                'an administrator may give a new request another owner');
RESET ROLE;
SELECT is((SELECT owner_id FROM inbound WHERE id = :w1), 4::bigint, 'and it waits in that Inbound now');
SET ROLE sbt_mseller;
SELECT throws_ok(format('UPDATE salesboard.inbound SET owner_id = 9 WHERE id = %s', :w1), '42501', NULL,
                 'an employee may not (owner_id is not among their columns)');
RESET ROLE;
UPDATE inbound SET owner_id = 9 WHERE id = :w1;
SELECT throws_like('UPDATE employee SET active = false WHERE id = 9',
                   'employee 9 is still responsible for 1 active lead source(s) and % waiting inbound request(s)',
                   'an employee with a lead source and waiting requests cannot leave (SB042)');

/* ---- a deal deleted by an administrator leaves its requests handled */
SELECT lives_ok(format('DELETE FROM deal WHERE id = %s', :it2), 'deleting a deal with a linked request');
SELECT is((SELECT status || ' ' || coalesce(deal_id::text, '-') FROM inbound WHERE id = :i1), 'linked -',
          'the request stays handled, its deal gone');

SELECT * FROM finish();
ROLLBACK;

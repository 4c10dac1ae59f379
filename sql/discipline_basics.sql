-- discipline_basics: a deal's life under the working discipline, as a
-- reader would follow it: create, move, close, reopen, and the refusals.
-- Time is pinned with the at parameters (the suite runs as a superuser).
SET search_path = salesboard, public;
SET TimeZone = 'UTC';

INSERT INTO department (id, name) VALUES (1, 'Sales');
INSERT INTO employee (id, name, department_id, time_zone) VALUES
    (1, 'Head', 1, 'Europe/Moscow'), (2, 'Ivan', 1, 'Europe/Moscow');
UPDATE department SET head_id = 1;
INSERT INTO pipeline (id, name) VALUES (1, 'Sales'), (2, 'Other');
INSERT INTO stage (id, pipeline_id, name, position, kind, probability) VALUES
    (11, 1, 'New', 1, 'open', 10), (12, 1, 'Qualified', 2, 'open', 30),
    (13, 1, 'Proposal', 3, 'open', 60), (14, 1, 'Won', 4, 'won', 100),
    (15, 1, 'Lost', 5, 'lost', 0), (21, 2, 'Elsewhere', 1, 'open', 10);
INSERT INTO lost_reason (id, name) VALUES (1, 'Price');
INSERT INTO tag (id, name) VALUES (1, 'VIP');
INSERT INTO client (id, name) VALUES (1, 'Acme');

-- a deal and its first activity
SELECT create_deal(2, 11, 'Implementation for Acme', '2026-03-10 12:00+00', 'First call',
                   client_id => 1, amount => 5000, currency => 'EUR', tags => ARRAY['VIP'],
                   at => '2026-03-10 09:00+00') AS deal \gset
SELECT stage_id, status, next_due, title FROM deal WHERE id = :deal;
SELECT kind, subject, due_at, status FROM activity WHERE deal_id = :deal ORDER BY id;

-- a move records the result of the current activity and plans the next
SELECT move_deal(:deal, 12, 'Client wants a proposal', '2026-03-12 10:00+00', 'Send proposal',
                 next_kind => 'task', at => '2026-03-10 12:30+00');
SELECT stage_id, stage_entered_at, next_due FROM deal WHERE id = :deal;
SELECT kind, subject, status, result, due_at FROM activity WHERE deal_id = :deal ORDER BY id;

-- refusals: each names the deal and says what to do
SELECT move_deal(:deal, 21, 'x', '2026-03-12 10:00+00', 'y', at => '2026-03-10 13:00+00');
SELECT move_deal(:deal, 12, 'x', '2026-03-12 10:00+00', 'y', at => '2026-03-10 13:00+00');
SELECT move_deal(:deal, 14, 'x', '2026-03-12 10:00+00', 'y', at => '2026-03-10 13:00+00');
SELECT move_deal(:deal, 13, '  ', '2026-03-12 10:00+00', 'y', at => '2026-03-10 13:00+00');
SELECT move_deal(:deal, 13, 'x', '2026-03-09 10:00+00', 'y', at => '2026-03-10 13:00+00');
SELECT move_deal(:deal, NULL, 'x', '2026-03-12 10:00+00', 'y', at => '2026-03-10 13:00+00');
UPDATE deal SET stage_id = 13 WHERE id = :deal;
UPDATE deal SET next_due = NULL WHERE id = :deal;

-- the last planned activity cannot go without a successor (checked at commit)
BEGIN;
SELECT complete_activity(next_activity_id, 'Proposal sent', at => '2026-03-11 09:00+00') FROM deal WHERE id = :deal;
COMMIT;
BEGIN;
SELECT complete_activity(next_activity_id, 'Proposal sent', at => '2026-03-11 09:00+00') FROM deal WHERE id = :deal;
SELECT plan_activity(:deal, '2026-03-11', 'Follow up', all_day => true, at => '2026-03-11 09:00+00');
COMMIT;
-- the all-day activity falls due at the end of 11 March in Moscow (UTC+3)
SELECT subject, all_day, due_date, due_at, status FROM activity WHERE deal_id = :deal ORDER BY id;

-- lost needs a reason; closing cancels what is left
SELECT close_deal(:deal, false, 'Went with a competitor', at => '2026-03-11 10:00+00');
SELECT close_deal(:deal, false, 'Went with a competitor', lost_reason_id => 1,
                  request_id => '6d3c1f9e-0000-4000-8000-000000000001', at => '2026-03-11 10:00+00');
-- the same request again changes nothing
SELECT close_deal(:deal, false, 'Went with a competitor', lost_reason_id => 1,
                  request_id => '6d3c1f9e-0000-4000-8000-000000000001', at => '2026-03-11 10:05+00');
SELECT stage_id, status, closed_at, lost_reason_id, next_due FROM deal WHERE id = :deal;
SELECT subject, status, result FROM activity WHERE deal_id = :deal ORDER BY id;
SELECT plan_activity(:deal, '2026-03-12 10:00+00', 'Call again', at => '2026-03-11 11:00+00');
SELECT move_deal(:deal, 13, 'x', '2026-03-12 10:00+00', 'y', at => '2026-03-11 11:00+00');

-- reopen brings it back with a new planned activity
SELECT reopen_deal(:deal, 12, '2026-03-13 10:00+00', 'Call about the new budget',
                   reason => 'Budget approved after all', at => '2026-03-12 09:00+00');

-- the history: one row per change, from creation to reopen
SELECT event, from_stage_id, to_stage_id, moved_at, result, lost_reason_id, request_id
  FROM stage_history WHERE deal_id = :deal ORDER BY moved_at, id;

SELECT * FROM verify();

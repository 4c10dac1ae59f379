-- test/pgtap/16_protocol.sql: the protocol between the API functions and
-- the triggers (extension/protocol.h) ends with the call. When a call
-- fails inside its protocol step and the error is caught (a PL/pgSQL
-- EXCEPTION block, a savepoint), the step is closed by the aborted
-- subtransaction: the triggers refuse a raw stage change again, and the
-- next call works.
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(6);

-- a history insert that fails on demand, inside move_deal's one statement
CREATE FUNCTION public.sbt_fail_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('sbt.fail_history', true) = 'on' THEN
        RAISE EXCEPTION 'history refused for the test';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER sbt_fail_history BEFORE INSERT ON salesboard.stage_history
    FOR EACH ROW EXECUTE FUNCTION public.sbt_fail_history();

SET ROLE sbt_app;
SELECT set_employee(4);
SELECT create_deal(4, 11, 'Protocol', now() + interval '1 day', 'Call') AS d \gset
CREATE TEMP TABLE caught (sqlstate text, message text);
\o /dev/null
SELECT set_config('sbt.deal', :'d', true);
\o
DO $$
BEGIN
    PERFORM set_config('sbt.fail_history', 'on', true);
    PERFORM salesboard.move_deal(current_setting('sbt.deal')::bigint, 12, 'qualified',
                                 now() + interval '2 days', 'Proposal');
EXCEPTION WHEN OTHERS THEN
    INSERT INTO caught VALUES (SQLSTATE, SQLERRM);
END $$;
\o /dev/null
SELECT set_config('sbt.fail_history', 'off', true);
\o
SELECT is((SELECT message FROM caught), 'history refused for the test',
          'the move failed inside its protocol step and the error was caught');
SELECT is((SELECT stage_id FROM deal WHERE id = :d), 11::bigint, 'nothing of the move stayed');
SELECT throws_ok(format('UPDATE deal SET stage_id = 12 WHERE id = %s', :d), 'SB002', NULL,
                 'after the caught error a raw stage change is refused again (the step was closed)');
SAVEPOINT s;
\o /dev/null
SELECT set_config('sbt.fail_history', 'on', true);
\o
SELECT throws_ok(format($$SELECT move_deal(%s, 12, 'qualified', now() + interval '2 days', 'Proposal')$$, :d),
                 'P0001', 'history refused for the test', 'the same failure under a savepoint');
ROLLBACK TO SAVEPOINT s;
SELECT throws_ok(format('UPDATE deal SET stage_id = 12 WHERE id = %s', :d), 'SB002', NULL,
                 'after ROLLBACK TO SAVEPOINT the raw stage change is refused too');
SELECT lives_ok(format($$SELECT move_deal(%s, 12, 'qualified', now() + interval '2 days', 'Proposal')$$, :d),
                'and the next move works');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

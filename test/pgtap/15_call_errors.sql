-- test/pgtap/15_call_errors.sql: errors of a call rather than of data:
--  * a trigger function of the extension fired anywhere but where it
--    belongs, or called as a plain function, is 39P01, naming the function
--    (its SQL name) and how it must be fired;
--  * closing a deal in a pipeline that lost its won or lost stage is SB023
--    (creating one there is refused earlier: 29_leavers).
BEGIN;
\ir fixture.psql
SET search_path = salesboard, public;
SELECT plan(7);

CREATE TEMP TABLE misuse (id bigint, deal_id bigint, parent_id bigint);
CREATE TRIGGER wrong_level AFTER INSERT ON misuse
    FOR EACH STATEMENT EXECUTE FUNCTION salesboard.deal_rules_trigger();
SELECT throws_ok('INSERT INTO misuse VALUES (1, 1, NULL)', '39P01',
                 'function deal_rules_trigger must be fired BEFORE ... FOR EACH ROW',
                 'a BEFORE ROW trigger function fired AFTER ... FOR EACH STATEMENT is 39P01');
DROP TRIGGER wrong_level ON misuse;
CREATE TRIGGER no_table AFTER INSERT ON misuse
    FOR EACH STATEMENT EXECUTE FUNCTION salesboard.activity_inserted_trigger();
SELECT throws_ok('INSERT INTO misuse VALUES (1, 1, NULL)', '39P01',
                 'function activity_inserted_trigger must be fired AFTER ... REFERENCING NEW TABLE FOR EACH STATEMENT',
                 'a statement trigger function without its transition table is 39P01');
DROP TRIGGER no_table ON misuse;
CREATE TRIGGER on_delete BEFORE DELETE ON misuse
    FOR EACH ROW EXECUTE FUNCTION salesboard.deal_reference_trigger();
INSERT INTO misuse VALUES (1, 1, NULL);
SELECT throws_ok('DELETE FROM misuse', '39P01',
                 'function deal_reference_trigger must be fired BEFORE INSERT OR UPDATE ... FOR EACH ROW',
                 'an INSERT/UPDATE trigger function fired on DELETE is 39P01');
DROP TRIGGER on_delete ON misuse;
CREATE TABLE public.no_deal_column (x int);
CREATE TRIGGER no_column BEFORE INSERT ON public.no_deal_column
    FOR EACH ROW EXECUTE FUNCTION salesboard.deal_reference_trigger();
SELECT throws_ok('INSERT INTO public.no_deal_column VALUES (1)', '39P01', NULL,
                 'deal_reference_trigger on a table without deal_id is 39P01');
SELECT throws_ok('SELECT salesboard.config_changed_trigger()', '39P01',
                 'function config_changed_trigger must be fired AFTER ... FOR EACH STATEMENT',
                 'a trigger function called as a plain function is 39P01');

-- a pipeline that loses its Lost stage after a deal was created in it
INSERT INTO pipeline (id, name) VALUES (9, 'No end');
INSERT INTO stage (id, pipeline_id, name, position, kind, probability) VALUES
    (91, 9, 'Talking', 1, 'open', 10), (92, 9, 'Won', 2, 'won', 100), (93, 9, 'Lost', 3, 'lost', 0);
SET ROLE sbt_app;
SELECT set_employee(4);
SELECT create_deal(4, 91, 'Endless', now() + interval '1 day', 'Call') AS d \gset
RESET ROLE;
DELETE FROM stage WHERE id IN (92, 93);
SET ROLE sbt_app;
SELECT set_employee(4);
SELECT throws_ok(format('SELECT close_deal(%s, true, %L)', :d, 'signed'), 'SB023',
                 'pipeline 9 has no won stage', 'winning a deal whose pipeline has no won stage is SB023');
SELECT throws_ok(format('SELECT close_deal(%s, false, %L, lost_reason_id => 1)', :d, 'gone'), 'SB023',
                 'pipeline 9 has no lost stage', 'losing it without a lost stage is SB023 too');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

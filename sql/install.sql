-- install: the extension installs beside nothing else, creates its roles,
-- and every object it creates carries a comment.
CREATE EXTENSION salesboard;

SELECT extname, extversion, extrelocatable, extnamespace::regnamespace AS schema
  FROM pg_extension WHERE extname = 'salesboard';

SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'salesboard\_%' ORDER BY 1;

-- the tables, with row-level security where deals and their rows live
SELECT c.relname, c.relrowsecurity
  FROM pg_class c
 WHERE c.relnamespace = 'salesboard'::regnamespace AND c.relkind = 'r'
 ORDER BY 1;

-- every table's data and identity sequence are kept by pg_dump
SELECT count(*) AS registered_for_pg_dump
  FROM pg_extension e, unnest(e.extconfig) AS c
 WHERE e.extname = 'salesboard';

-- objects without a comment: must be none
WITH members AS (
    SELECT d.classid, d.objid
      FROM pg_depend d
      JOIN pg_extension e ON e.oid = d.refobjid
     WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'salesboard' AND d.deptype = 'e'
)
SELECT 'relation ' || c.relname AS missing_comment
  FROM members m JOIN pg_class c ON c.oid = m.objid
 WHERE m.classid = 'pg_class'::regclass AND c.relkind IN ('r', 'v', 'm')
   AND obj_description(c.oid, 'pg_class') IS NULL
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname
  FROM members m JOIN pg_class c ON c.oid = m.objid
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE m.classid = 'pg_class'::regclass AND c.relkind IN ('r', 'v', 'm')
   AND col_description(c.oid, a.attnum) IS NULL
UNION ALL
SELECT 'index ' || i.relname
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
  JOIN pg_class t ON t.oid = x.indrelid
 WHERE t.relnamespace = 'salesboard'::regnamespace
   AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid)
   AND obj_description(i.oid, 'pg_class') IS NULL
UNION ALL
SELECT 'function ' || p.oid::regprocedure
  FROM members m JOIN pg_proc p ON p.oid = m.objid
 WHERE m.classid = 'pg_proc'::regclass AND obj_description(p.oid, 'pg_proc') IS NULL
UNION ALL
SELECT 'trigger ' || g.tgname
  FROM pg_trigger g JOIN pg_class t ON t.oid = g.tgrelid
 WHERE t.relnamespace = 'salesboard'::regnamespace AND NOT g.tgisinternal
   AND obj_description(g.oid, 'pg_trigger') IS NULL
UNION ALL
SELECT 'policy ' || p.polname
  FROM pg_policy p JOIN pg_class t ON t.oid = p.polrelid
 WHERE t.relnamespace = 'salesboard'::regnamespace
   AND obj_description(p.oid, 'pg_policy') IS NULL
ORDER BY 1;

-- SECURITY DEFINER functions must pin their search_path (there are none today)
SELECT p.oid::regprocedure AS definer_without_search_path
  FROM pg_proc p
 WHERE p.pronamespace = 'salesboard'::regnamespace AND p.prosecdef
   AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%');

-- the API is not executable by PUBLIC; the helpers of CHECK and RLS are
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute
  FROM pg_proc p
 WHERE p.pronamespace = 'salesboard'::regnamespace AND p.prorettype <> 'trigger'::regtype
 ORDER BY 1, 2;

-- the settings are reserved under the salesboard prefix
SHOW salesboard.closed_days;
SET salesboard.no_such_setting = 1;

-- test/upgrade/catalog.sql: every catalog fact of the installed salesboard
-- extension, one sorted line each, with nothing that depends on OIDs or
-- on the order of creation. An updated database and a fresh install must
-- print the same lines (test/upgrade/run.sh compares them).
\pset format unaligned
\pset tuples_only on
WITH ext AS (
    SELECT oid, extversion, extconfig, extcondition FROM pg_catalog.pg_extension WHERE extname = 'salesboard'
), members AS (
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d, ext
     WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
       AND d.refobjid = ext.oid AND d.deptype = 'e'
), rels AS (
    SELECT c.oid, c.relname, c.relkind, c.relacl, c.relrowsecurity, c.relforcerowsecurity
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace = 'salesboard'::pg_catalog.regnamespace
)
SELECT line FROM (
    SELECT 'extension version ' || extversion FROM ext
    UNION ALL
    SELECT 'config dump ' || c.relname || ' where ' || coalesce(nullif(ext.extcondition[i], ''), '(all)')
      FROM ext, pg_catalog.generate_subscripts(ext.extconfig, 1) i
      JOIN pg_catalog.pg_class c ON true
     WHERE c.oid = ext.extconfig[i]
    UNION ALL
    SELECT 'member ' || pg_catalog.pg_describe_object(m.classid, m.objid, 0) FROM members m
    UNION ALL
    SELECT 'comment ' || pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid) || ' = ' || d.description
      FROM pg_catalog.pg_description d
     WHERE pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid) ~ 'salesboard'
    UNION ALL
    SELECT 'schema acl ' || coalesce(n.nspacl::text, '-') FROM pg_catalog.pg_namespace n WHERE n.nspname = 'salesboard'
    UNION ALL
    SELECT 'function ' || p.oid::pg_catalog.regprocedure::text || ' acl ' || coalesce(p.proacl::text, '-')
           || ' def ' || pg_catalog.pg_get_functiondef(p.oid)
      FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'salesboard'::pg_catalog.regnamespace AND p.prokind <> 'a'
    UNION ALL
    SELECT 'relation ' || r.relname || ' kind ' || r.relkind::text || ' acl ' || coalesce(r.relacl::text, '-')
           || ' rls ' || r.relrowsecurity || '/' || r.relforcerowsecurity
      FROM rels r
    UNION ALL
    SELECT 'column ' || r.relname || '.' || a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || coalesce(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')
           || CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END
           || ' collation ' || a.attcollation::pg_catalog.regcollation::text
           || ' acl ' || coalesce(a.attacl::text, '-') || ' position ' || a.attnum
      FROM rels r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    UNION ALL
    SELECT 'constraint ' || r.relname || '.' || c.conname || ' ' || pg_catalog.pg_get_constraintdef(c.oid)
           || CASE WHEN c.condeferrable THEN ' deferrable' ELSE '' END
           || CASE WHEN c.condeferred THEN ' deferred' ELSE '' END
      FROM rels r JOIN pg_catalog.pg_constraint c ON c.conrelid = r.oid
    UNION ALL
    SELECT 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid)
      FROM rels r JOIN pg_catalog.pg_index i ON i.indrelid = r.oid
    UNION ALL
    SELECT 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
      FROM rels r JOIN pg_catalog.pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT 'policy ' || r.relname || '.' || p.polname || ' ' || p.polcmd::text || ' ' || p.polpermissive
           || ' roles ' || p.polroles::pg_catalog.regrole[]::text
           || ' using ' || coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '-')
           || ' check ' || coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '-')
      FROM rels r JOIN pg_catalog.pg_policy p ON p.polrelid = r.oid
    UNION ALL
    SELECT 'sequence ' || r.relname || ' ' || s.seqtypid::pg_catalog.regtype::text || ' start ' || s.seqstart
           || ' increment ' || s.seqincrement || ' min ' || s.seqmin || ' max ' || s.seqmax
      FROM rels r JOIN pg_catalog.pg_sequence s ON s.seqrelid = r.oid
    UNION ALL
    SELECT 'type ' || t.typname || ' ' || t.typtype::text || coalesce(' of ' || (
               SELECT pg_catalog.string_agg(a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                 FROM pg_catalog.pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '')
      FROM pg_catalog.pg_type t
     WHERE t.typnamespace = 'salesboard'::pg_catalog.regnamespace AND t.typtype <> 'b'
    UNION ALL
    SELECT 'role ' || r.rolname || ' login ' || r.rolcanlogin || ' super ' || r.rolsuper
           || ' member of ' || coalesce((SELECT pg_catalog.string_agg(g.rolname, ',' ORDER BY g.rolname)
                                           FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
                                          WHERE m.member = r.oid), '-')
      FROM pg_catalog.pg_roles r WHERE r.rolname LIKE 'salesboard\_%'
) facts(line)
ORDER BY line COLLATE "C";

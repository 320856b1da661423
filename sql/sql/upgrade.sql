--
-- A fresh CREATE EXTENSION runs pg_kafka--0.11.sql; a database made with 0.1
-- reaches 0.11 through the upgrade scripts. Both must end in the same
-- catalog: this test describes every object of the extension as text rows,
-- once after 0.1 + ALTER EXTENSION UPDATE and once after a fresh install, and
-- shows the rows that differ (none expected).
--
-- Runs first, in the empty regression database, and leaves it as it found it.
--
SET client_min_messages = warning;

-- The fresh install has a script of its own (without it, PostgreSQL would
-- replay 0.1 and the upgrades, and this test would compare a chain with
-- itself).
SELECT (pg_stat_file(c.setting || '/extension/pg_kafka--' || v.default_version || '.sql')).size > 0
       AS has_full_script, v.default_version
FROM pg_config c, pg_available_extensions v
WHERE c.name = 'SHAREDIR' AND v.name = 'pg_kafka';

-- One row per fact about an object: (kind, object, detail). OIDs never
-- appear; names the server derives from OIDs (foreign key triggers, TOAST
-- tables) are normalized. Columns are compared by position among the live
-- columns, so a column added by ALTER TABLE must sit where the full script
-- puts it.
CREATE TEMP VIEW ext_rels AS
SELECT c.oid, c.relname, c.relkind
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'kafka';

CREATE FUNCTION pg_temp.norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT regexp_replace(regexp_replace(t, 'RI_ConstraintTrigger_([ac])_[0-9]+',
					     'RI_ConstraintTrigger_\1_N', 'g'),
			      'pg_toast_[0-9]+', 'pg_toast_N', 'g')
$$;

CREATE TEMP VIEW ext_catalog (kind, object, detail) AS
-- the extension itself, and the tables pg_dump dumps the rows of
SELECT 'extension', e.extname::text,
       format('version=%s schema=%s relocatable=%s owner=%s', e.extversion,
	      e.extnamespace::regnamespace, e.extrelocatable, pg_get_userbyid(e.extowner))
FROM pg_extension e WHERE e.extname = 'pg_kafka'
UNION ALL
SELECT 'config dump', d.t::regclass::text, coalesce(d.cond, '')
FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS d(t, cond)
WHERE e.extname = 'pg_kafka'
UNION ALL
-- membership
SELECT 'member', pg_temp.norm(pg_describe_object(d.classid, d.objid, d.objsubid)), ''
FROM pg_depend d
WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
  AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_kafka')
UNION ALL
-- tables, views, sequences, indexes, composite types, TOAST: their kind,
-- storage options, owner, grants, row security, partitioning, comment
SELECT 'relation', r.relname::text,
       format('kind=%s persistence=%s am=%s options=%s owner=%s acl=%s rls=%s/%s replident=%s '
	      'partkey=%s partbound=%s inherits=%s comment=%s',
	      c.relkind, c.relpersistence, am.amname, c.reloptions, pg_get_userbyid(c.relowner),
	      c.relacl, c.relrowsecurity, c.relforcerowsecurity, c.relreplident,
	      CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
	      pg_get_expr(c.relpartbound, c.oid),
	      (SELECT string_agg(i.inhparent::regclass::text, ',' ORDER BY i.inhseqno)
	       FROM pg_inherits i WHERE i.inhrelid = c.oid),
	      obj_description(c.oid, 'pg_class'))
FROM ext_rels r JOIN pg_class c ON c.oid = r.oid
LEFT JOIN pg_am am ON am.oid = c.relam
UNION ALL
SELECT 'toast', r.relname::text, pg_temp.norm(c.reltoastrelid::regclass::text)
FROM ext_rels r JOIN pg_class c ON c.oid = r.oid
WHERE c.reltoastrelid <> 0
UNION ALL
-- columns of tables, views and composite types
SELECT 'column', format('%s.%s', r.relname, a.attname),
       format('position=%s type=%s notnull=%s default=%s identity=%s generated=%s collation=%s '
	      'storage=%s compression=%s acl=%s comment=%s',
	      row_number() OVER (PARTITION BY r.oid ORDER BY a.attnum),
	      format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid),
	      a.attidentity, a.attgenerated, co.collname, a.attstorage, a.attcompression, a.attacl,
	      col_description(r.oid, a.attnum))
FROM ext_rels r
JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
WHERE r.relkind IN ('r', 'p', 'v', 'm', 'c', 'f')
UNION ALL
-- constraints (primary keys, unique, checks, foreign keys, not-null is above)
SELECT 'constraint', format('%s.%s', r.relname, k.conname),
       format('type=%s def=%s deferrable=%s/%s validated=%s index=%s',
	      k.contype, pg_get_constraintdef(k.oid, true), k.condeferrable, k.condeferred,
	      k.convalidated, k.conindid::regclass)
FROM ext_rels r JOIN pg_constraint k ON k.conrelid = r.oid
UNION ALL
SELECT 'index', r.relname::text,
       format('%s valid=%s clustered=%s', pg_get_indexdef(i.indexrelid), i.indisvalid,
	      i.indisclustered)
FROM ext_rels r JOIN pg_index i ON i.indexrelid = r.oid
UNION ALL
SELECT 'sequence', r.relname::text,
       format('type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s',
	      format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
	      s.seqcache, s.seqcycle)
FROM ext_rels r JOIN pg_sequence s ON s.seqrelid = r.oid
UNION ALL
SELECT 'view', r.relname::text, pg_get_viewdef(r.oid, true)
FROM ext_rels r WHERE r.relkind IN ('v', 'm')
UNION ALL
-- user triggers (foreign key triggers come with their constraints)
SELECT 'trigger', format('%s.%s', r.relname, t.tgname),
       format('%s enabled=%s', pg_get_triggerdef(t.oid, true), t.tgenabled)
FROM ext_rels r JOIN pg_trigger t ON t.tgrelid = r.oid
WHERE NOT t.tgisinternal
UNION ALL
SELECT 'rule', format('%s.%s', r.relname, w.rulename), pg_get_ruledef(w.oid, true)
FROM ext_rels r JOIN pg_rewrite w ON w.ev_class = r.oid
WHERE w.rulename <> '_RETURN'
UNION ALL
SELECT 'policy', format('%s.%s', p.tablename, p.policyname),
       format('%s %s %s using=%s check=%s', p.permissive, p.roles, p.cmd, p.qual, p.with_check)
FROM pg_policies p WHERE p.schemaname = 'kafka'
UNION ALL
-- functions: the whole CREATE FUNCTION (arguments, result, language,
-- volatility, strictness, security, parallel safety, cost, rows, body),
-- owner, grants, comment
SELECT 'function', p.oid::regprocedure::text,
       format('%s owner=%s acl=%s comment=%s', pg_get_functiondef(p.oid),
	      pg_get_userbyid(p.proowner), p.proacl, obj_description(p.oid, 'pg_proc'))
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'kafka'
UNION ALL
-- types (the composite type kafka.produced, and the row and array types of
-- every relation)
SELECT 'type', t.typname::text,
       format('type=%s category=%s element=%s relation=%s owner=%s acl=%s comment=%s',
	      t.typtype, t.typcategory, t.typelem::regtype, t.typrelid::regclass,
	      pg_get_userbyid(t.typowner), t.typacl, obj_description(t.oid, 'pg_type'))
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = 'kafka'
UNION ALL
-- every dependency between two objects of the schema (views on tables,
-- indexes on columns, constraints on indexes, sequences owned by columns)
SELECT 'depends', pg_temp.norm(pg_describe_object(d.classid, d.objid, d.objsubid)),
       format('%s on %s', d.deptype, pg_temp.norm(pg_describe_object(d.refclassid, d.refobjid,
								     d.refobjsubid)))
FROM pg_depend d
WHERE d.deptype <> 'e'
  AND pg_describe_object(d.classid, d.objid, d.objsubid) ~ 'kafka\.'
  AND pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid) ~ 'kafka\.';

-- How a database made with 0.1 looks after the upgrade to the default version.
CREATE EXTENSION pg_kafka VERSION '0.1';
ALTER EXTENSION pg_kafka UPDATE;
CREATE TEMP TABLE upgraded AS SELECT * FROM ext_catalog;

-- How a fresh install looks.
DROP EXTENSION pg_kafka;
CREATE EXTENSION pg_kafka;
CREATE TEMP TABLE fresh AS SELECT * FROM ext_catalog;

-- What is compared, per kind of object.
SELECT kind, count(*) AS fresh, (SELECT count(*) FROM upgraded u WHERE u.kind = f.kind) AS upgraded
FROM fresh f GROUP BY kind ORDER BY kind;

-- The rows that differ: none.
CREATE TEMP VIEW differences AS
(SELECT 'only after upgrade' AS side, * FROM (TABLE upgraded EXCEPT ALL TABLE fresh) x)
UNION ALL
(SELECT 'only in fresh install', * FROM (TABLE fresh EXCEPT ALL TABLE upgraded) y);
SELECT side, kind, object, detail FROM differences ORDER BY kind, object, side;
SELECT count(*) AS compared, (SELECT count(*) FROM differences) AS differing FROM fresh;

-- The comparison sees a changed column default, a changed function body and
-- a dropped index: change them in the fresh install and compare again.
ALTER TABLE kafka.topics ALTER COLUMN replication_factor SET DEFAULT 3;
CREATE OR REPLACE FUNCTION kafka.is_valid_topic_name(name text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
	SELECT name ~ '^[A-Za-z0-9._-]{1,255}$' AND name NOT IN ('.', '..')
$$;
DROP INDEX kafka.transactions_ongoing;
SELECT kind, object, count(*) AS differing_rows
FROM ((TABLE ext_catalog EXCEPT ALL TABLE upgraded)
      UNION ALL (TABLE upgraded EXCEPT ALL TABLE ext_catalog)) changed
GROUP BY kind, object ORDER BY kind, object;

-- Leave the database as the test found it.
DROP EXTENSION pg_kafka;
DROP SCHEMA kafka;

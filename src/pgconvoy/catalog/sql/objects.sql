-- Every object a migration of %(schemas)s must account for, one row each, read beside pg_dump's archive:
-- the objects of those schemas, the database-wide ones (casts, languages, event triggers, ...) and what
-- the application attached to the tables of the platform's schemas %(platform)s; never the system's own
-- (oid below 16384) nor an extension's members.
--   own_entry    the archive must hold an entry for it (false: created by its parent's entry, e.g. an
--                index behind a PRIMARY KEY, a table's row type, an inline CHECK, a partition's cloned FK)
--   parent_*     the object it belongs to (a table for its constraints, indexes, triggers, rules, policies,
--                serial sequences; a domain for its constraints), whose file it goes to
--   comments     comments on it (a relation's columns included); acl_changed: its ACL is not PostgreSQL's
--                default for its owner; column_acls: columns with a grant of their own
--   address      pg_identify_object_as_address(), for pg_get_object_address() on the target
with migrated as (
    select oid from pg_catalog.pg_namespace where nspname = any(%(schemas)s)
), platform as (
    select oid from pg_catalog.pg_namespace where nspname = any(%(platform)s)
), members as (
    select classid, objid from pg_catalog.pg_depend where deptype = 'e'
), objects as (
    select 'pg_catalog.pg_namespace'::regclass as classid, n.oid as objid, n.nspname::text as name, true as own_entry,
           null::regclass as parent_class, null::oid as parent_id,
           n.nspacl is not null and n.nspacl <> pg_catalog.acldefault('n', n.nspowner) as acl_changed,
           0 as column_acls, null::text as contype, null::boolean as validated, null::boolean as populated,
           null::text as relkind
    from pg_catalog.pg_namespace n
    where n.oid in (select oid from migrated) and n.oid >= 16384
  union all
    select 'pg_catalog.pg_class'::regclass, c.oid, c.relname::text,
           c.relkind not in ('c', 't') and not (c.relkind in ('i', 'I') and exists (
               select 1 from pg_catalog.pg_constraint k where k.conindid = c.oid and k.contype in ('p', 'u', 'x'))),
           case when c.relkind in ('i', 'I') or owned.refobjid is not null then 'pg_catalog.pg_class'::regclass
                when c.relkind = 'c' then 'pg_catalog.pg_type'::regclass end,
           case when c.relkind in ('i', 'I') then x.indrelid when c.relkind = 'c' then c.reltype
                else owned.refobjid end,
           c.relacl is not null
               and c.relacl <> pg_catalog.acldefault((case c.relkind when 'S' then 's' else 'r' end)::"char", c.relowner),
           (select count(*) from pg_catalog.pg_attribute a
            where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attacl is not null
              and pg_catalog.cardinality(a.attacl) > 0)::integer,
           null, null, case when c.relkind = 'm' then c.relispopulated end, c.relkind::text
    from pg_catalog.pg_class c
    left join pg_catalog.pg_index x on x.indexrelid = c.oid
    left join lateral (
        select d.refobjid from pg_catalog.pg_depend d
        where c.relkind = 'S' and d.classid = 'pg_catalog.pg_class'::regclass and d.objid = c.oid
          and d.refclassid = 'pg_catalog.pg_class'::regclass and d.refobjsubid > 0 and d.deptype in ('a', 'i')
        limit 1) owned on true
    where c.relnamespace in (select oid from migrated) and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S', 'i', 'I', 'c')
  union all
    select 'pg_catalog.pg_type'::regclass, t.oid, t.typname::text,
           t.typtype <> 'm' and (t.typrelid = 0 or exists (
               select 1 from pg_catalog.pg_class r where r.oid = t.typrelid and r.relkind = 'c'))
           and not exists (select 1 from pg_catalog.pg_type e where e.typarray = t.oid),
           null, null, t.typacl is not null and t.typacl <> pg_catalog.acldefault('T', t.typowner),
           0, null, null, null, null
    from pg_catalog.pg_type t
    where t.typnamespace in (select oid from migrated) and t.oid >= 16384
  union all
    select 'pg_catalog.pg_proc'::regclass, p.oid, p.proname::text,
           not exists (select 1 from pg_catalog.pg_depend d
                       where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid
                         and d.refclassid = 'pg_catalog.pg_type'::regclass and d.deptype = 'i'),
           null, null, p.proacl is not null and p.proacl <> pg_catalog.acldefault('f', p.proowner),
           0, null, null, null, null
    from pg_catalog.pg_proc p
    where p.pronamespace in (select oid from migrated)
  union all
    -- PRIMARY KEY, UNIQUE, EXCLUDE and foreign keys have entries of their own; CHECK and NOT NULL only
    -- when NOT VALID or NOT ENFORCED (else they are part of CREATE TABLE / CREATE DOMAIN).
    select 'pg_catalog.pg_constraint'::regclass, k.oid, k.conname::text,
           case when k.contype in ('p', 'u', 'x') then true
                when k.contype = 'f' then k.conparentid = 0
                else (k.conislocal or k.conrelid = 0)
                     and (not k.convalidated or (pg_catalog.to_jsonb(k) ->> 'conenforced') = 'false') end,
           case when k.conrelid <> 0 then 'pg_catalog.pg_class'::regclass else 'pg_catalog.pg_type'::regclass end,
           case when k.conrelid <> 0 then k.conrelid else k.contypid end,
           false, 0, k.contype::text, k.convalidated, null, null
    from pg_catalog.pg_constraint k
    where k.connamespace in (select oid from migrated)
  union all
    select 'pg_catalog.pg_trigger'::regclass, g.oid, g.tgname::text,
           coalesce((pg_catalog.to_jsonb(g) ->> 'tgparentid')::oid, 0) = 0 or g.tgenabled <> (
               select pg.tgenabled from pg_catalog.pg_trigger pg
               where pg.oid = (pg_catalog.to_jsonb(g) ->> 'tgparentid')::oid),
           'pg_catalog.pg_class'::regclass, g.tgrelid, false, 0, null, null, null, null
    from pg_catalog.pg_trigger g
    join pg_catalog.pg_class c on c.oid = g.tgrelid
    where not g.tgisinternal and c.relnamespace in (select oid from migrated)
  union all
    select 'pg_catalog.pg_rewrite'::regclass, w.oid, w.rulename::text, w.rulename <> '_RETURN', 'pg_catalog.pg_class'::regclass,
           w.ev_class, false, 0, null, null, null, null
    from pg_catalog.pg_rewrite w
    join pg_catalog.pg_class c on c.oid = w.ev_class
    where c.relnamespace in (select oid from migrated)
  union all
    select 'pg_catalog.pg_policy'::regclass, y.oid, y.polname::text, true, 'pg_catalog.pg_class'::regclass, y.polrelid,
           false, 0, null, null, null, null
    from pg_catalog.pg_policy y
    join pg_catalog.pg_class c on c.oid = y.polrelid
    where c.relnamespace in (select oid from migrated)
  union all
    select 'pg_catalog.pg_attrdef'::regclass, a.oid, null, false, 'pg_catalog.pg_class'::regclass, a.adrelid,
           false, 0, null, null, null, null
    from pg_catalog.pg_attrdef a
    join pg_catalog.pg_class c on c.oid = a.adrelid
    where c.relnamespace in (select oid from migrated)
  union all
    select 'pg_catalog.pg_statistic_ext'::regclass, s.oid, s.stxname::text, true, 'pg_catalog.pg_class'::regclass, s.stxrelid,
           false, 0, null, null, null, null
    from pg_catalog.pg_statistic_ext s
    where s.stxnamespace in (select oid from migrated)
  union all
    select classid, objid, name, true, null, null, false, 0, null, null, null, null
    from (
        select 'pg_catalog.pg_operator'::regclass as classid, oid as objid, oprname::text as name,
               oprnamespace as ns from pg_catalog.pg_operator
        union all select 'pg_catalog.pg_opclass', oid, opcname, opcnamespace from pg_catalog.pg_opclass
        union all select 'pg_catalog.pg_opfamily', oid, opfname, opfnamespace from pg_catalog.pg_opfamily
        union all select 'pg_catalog.pg_collation', oid, collname, collnamespace from pg_catalog.pg_collation
        union all select 'pg_catalog.pg_conversion', oid, conname, connamespace from pg_catalog.pg_conversion
        union all select 'pg_catalog.pg_ts_parser', oid, prsname, prsnamespace from pg_catalog.pg_ts_parser
        union all select 'pg_catalog.pg_ts_template', oid, tmplname, tmplnamespace from pg_catalog.pg_ts_template
        union all select 'pg_catalog.pg_ts_dict', oid, dictname, dictnamespace from pg_catalog.pg_ts_dict
        union all select 'pg_catalog.pg_ts_config', oid, cfgname, cfgnamespace from pg_catalog.pg_ts_config
    ) namespaced
    where ns in (select oid from migrated) and objid >= 16384
  union all
    -- What the application attached to the platform's tables: its policies, and the triggers that call
    -- its own functions (the platform's own triggers call the platform's).
    select 'pg_catalog.pg_trigger'::regclass, g.oid, g.tgname::text, true, 'pg_catalog.pg_class'::regclass,
           g.tgrelid, false, 0, null, null, null, null
    from pg_catalog.pg_trigger g
    join pg_catalog.pg_class c on c.oid = g.tgrelid
    join pg_catalog.pg_proc p on p.oid = g.tgfoid
    where not g.tgisinternal and c.relnamespace in (select oid from platform)
      and p.pronamespace in (select oid from migrated)
  union all
    select 'pg_catalog.pg_policy'::regclass, y.oid, y.polname::text, true, 'pg_catalog.pg_class'::regclass,
           y.polrelid, false, 0, null, null, null, null
    from pg_catalog.pg_policy y
    join pg_catalog.pg_class c on c.oid = y.polrelid
    where c.relnamespace in (select oid from platform)
  union all
    -- Database-wide objects.
    select classid, objid, name, true, null, null, coalesce(acl_changed, false), 0, null, null, null, null
    from (
        select 'pg_catalog.pg_extension'::regclass as classid, oid as objid, extname::text as name,
               null::boolean as acl_changed
        from pg_catalog.pg_extension
        union all select 'pg_catalog.pg_cast', oid, null, null from pg_catalog.pg_cast
        union all select 'pg_catalog.pg_transform', oid, null, null from pg_catalog.pg_transform
        union all select 'pg_catalog.pg_language', oid, lanname,
                         lanacl is not null and lanacl <> pg_catalog.acldefault('l', lanowner)
                  from pg_catalog.pg_language
        union all select 'pg_catalog.pg_am', oid, amname, null from pg_catalog.pg_am
        union all select 'pg_catalog.pg_foreign_data_wrapper', oid, fdwname,
                         fdwacl is not null and fdwacl <> pg_catalog.acldefault('F', fdwowner)
                  from pg_catalog.pg_foreign_data_wrapper
        union all select 'pg_catalog.pg_foreign_server', oid, srvname,
                         srvacl is not null and srvacl <> pg_catalog.acldefault('S', srvowner)
                  from pg_catalog.pg_foreign_server
        -- a user mapping's entry has no catalog id: `name` is the tag pg_dump gives it
        union all select 'pg_catalog.pg_user_mapping', umid, 'USER MAPPING ' || usename || ' SERVER ' || srvname, null
                  from pg_catalog.pg_user_mappings
        union all select 'pg_catalog.pg_event_trigger', oid, evtname, null from pg_catalog.pg_event_trigger
        union all select 'pg_catalog.pg_publication', oid, pubname, null from pg_catalog.pg_publication
        union all select 'pg_catalog.pg_publication_rel', oid, null, null from pg_catalog.pg_publication_rel
        union all select 'pg_catalog.pg_subscription', oid, subname, null from pg_catalog.pg_subscription
                  where subdbid = (select oid from pg_catalog.pg_database where datname = current_database())
        union all select 'pg_catalog.pg_default_acl', oid, null, null from pg_catalog.pg_default_acl
                  where defaclnamespace = 0 or defaclnamespace in (select oid from migrated)
        union all select 'pg_catalog.pg_largeobject', oid, oid::text,
                         lomacl is not null and lomacl <> pg_catalog.acldefault('L', lomowner)
                  from pg_catalog.pg_largeobject_metadata
    ) global
    where objid >= 16384
), own as (
    select o.*,
           -- an object internal to another (a table's row type, a range's constructors and multirange) is
           -- created with it; identity sequences are the exception: pg_dump gives them an entry
           o.own_entry and (o.relkind = 'S' or not exists (
               select 1 from pg_catalog.pg_depend d
               where d.classid = o.classid and d.objid = o.objid and d.deptype = 'i'
                 and (d.refclassid, d.refobjid) <> (d.classid, d.objid))) as own,
           (select count(*) from pg_catalog.pg_description d
            where d.classoid = o.classid and d.objoid = o.objid)::integer as comments
    from objects o
    where not exists (select 1 from members m where m.classid = o.classid and m.objid = o.objid)
      and (o.parent_class is null or not exists (
          select 1 from members m where m.classid = o.parent_class and m.objid = o.parent_id))
)
select o.classid::oid::bigint as classid,
       o.objid::bigint as objid,
       o.own as own_entry,
       o.parent_class::oid::bigint as parent_class,
       o.parent_id::bigint as parent_id,
       o.acl_changed,
       o.column_acls,
       o.contype,
       o.validated,
       o.populated,
       o.relkind,
       o.name,
       rn.nspname as rel_schema,
       r.relname as rel_name,
       r.relrowsecurity as rel_rls,
       r.relnamespace in (select oid from platform) as attachment,
       i.type as kind,
       i.schema,
       i.identity,
       a.type as address_type,
       a.object_names as address_names,
       a.object_args as address_args,
       o.comments,
       -- an extension's comment as its control file gives it, set by CREATE EXTENSION on the target too
       o.classid = 'pg_catalog.pg_extension'::regclass and pg_catalog.obj_description(o.objid, 'pg_extension')
           = (select x.comment from pg_catalog.pg_available_extensions x where x.name = o.name) as default_comment
from own o
left join pg_catalog.pg_class r on r.oid = case
    when o.classid = 'pg_catalog.pg_class'::regclass and o.relkind not in ('i', 'I', 'S', 'c') then o.objid
    when o.parent_class = 'pg_catalog.pg_class'::regclass then o.parent_id end
left join pg_catalog.pg_namespace rn on rn.oid = r.relnamespace
cross join lateral pg_catalog.pg_identify_object(o.classid, o.objid, 0) i
-- the address is what the target resolves to reset privileges: only objects that carry them need it
-- (and extensions, whose members do)
left join lateral pg_catalog.pg_identify_object_as_address(o.classid, o.objid, 0) a
    on o.own and o.classid in ('pg_catalog.pg_class'::regclass, 'pg_catalog.pg_proc'::regclass,
                               'pg_catalog.pg_type'::regclass, 'pg_catalog.pg_namespace'::regclass,
                               'pg_catalog.pg_foreign_data_wrapper'::regclass,
                               'pg_catalog.pg_foreign_server'::regclass, 'pg_catalog.pg_language'::regclass,
                               'pg_catalog.pg_largeobject'::regclass, 'pg_catalog.pg_extension'::regclass)
-- what is neither an archive entry nor carries a comment or grants of its own counts for nothing: left out
where o.own or o.comments > 0 or o.acl_changed
order by 1, 2;

-- Ordinary and partitioned tables, with partitioning, inheritance, RLS state, owner, comment and grants.
select c.oid::bigint as oid,
       n.nspname as schema,
       c.relname as name,
       c.relkind::text as relkind,
       c.relpersistence::text as persistence,
       c.relispartition as is_partition,
       pg_get_expr(c.relpartbound, c.oid) as partition_bound,
       case when c.relkind = 'p' then pg_get_partkeydef(c.oid) end as partition_key,
       coalesce((select jsonb_agg(jsonb_build_array(pn.nspname, pc.relname) order by i.inhseqno)
                 from pg_inherits i
                 join pg_class pc on pc.oid = i.inhparent
                 join pg_namespace pn on pn.oid = pc.relnamespace
                 where i.inhrelid = c.oid), '[]') as parents,
       c.relrowsecurity as rls_enabled,
       c.relforcerowsecurity as rls_forced,
       pg_get_userbyid(c.relowner) as owner,
       obj_description(c.oid, 'pg_class') as comment,
       c.relacl::text[] as acl,
       c.reloptions as options,
       c.reltuples::bigint as reltuples
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p')
  and n.nspname = any(%(schemas)s)
  and not exists (select 1 from pg_depend e
                  where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
order by n.nspname, c.relname;

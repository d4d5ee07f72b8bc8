-- Ordinary and partitioned tables: partitioning, RLS state and the planner's row estimate.
select c.oid::bigint as oid,
       n.nspname as schema,
       c.relname as name,
       c.relkind::text as relkind,
       pn.nspname as parent_schema,
       pc.relname as parent_name,
       c.relrowsecurity as rls_enabled,
       c.relforcerowsecurity as rls_forced,
       c.reltuples::bigint as reltuples
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join pg_inherits i on c.relispartition and i.inhrelid = c.oid
left join pg_class pc on pc.oid = i.inhparent
left join pg_namespace pn on pn.oid = pc.relnamespace
where c.relkind in ('r', 'p')
  and n.nspname = any(%(schemas)s)
  and not exists (select 1 from pg_depend e
                  where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
order by n.nspname, c.relname;

-- Ordinary and partitioned tables: partitioning, RLS state, the planner's row estimate, and the privileges
-- of the API roles on them (directly, as members of a role that has them, or through PUBLIC; SELECT, INSERT
-- and UPDATE on the table or on some of its columns).
select c.oid::bigint as oid,
       n.nspname as schema,
       c.relname as name,
       c.relkind::text as relkind,
       pn.nspname as parent_schema,
       pc.relname as parent_name,
       c.relrowsecurity as rls_enabled,
       c.relforcerowsecurity as rls_forced,
       c.reltuples::bigint as reltuples,
       array(select r.rolname || ' ' || p.privilege
             from pg_catalog.pg_roles r
             cross join pg_catalog.unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE'])
                  with ordinality p(privilege, ord)
             where r.rolname = any(%(api_roles)s)
               and case when p.privilege = 'DELETE' then pg_catalog.has_table_privilege(r.oid, c.oid, p.privilege)
                        else pg_catalog.has_any_column_privilege(r.oid, c.oid, p.privilege) end
             order by r.rolname, p.ord) as api_privileges
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

-- Views (materialized ones aside) of those schemas that no extension owns: whether they run with the
-- caller's rights (the security_invoker option, PostgreSQL 15+; read as the server reads a boolean) and
-- which API roles may read them (directly, as members of a role that may, or through PUBLIC).
select n.nspname as schema,
       c.relname as name,
       pg_catalog.pg_get_userbyid(c.relowner) as owner,
       coalesce((select pg_catalog.bool_or(pg_catalog.split_part(o, '=', 2)::boolean)
                 from pg_catalog.unnest(c.reloptions) o
                 where pg_catalog.split_part(o, '=', 1) = 'security_invoker'), false) as security_invoker,
       array(select r.rolname::text
             from pg_catalog.pg_roles r
             where r.rolname = any(%(api_roles)s)
               and pg_catalog.has_table_privilege(r.oid, c.oid, 'SELECT')
             order by r.rolname) as api_roles_can_select
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind = 'v'
  and n.nspname = any(%(schemas)s)
  and not exists (select 1 from pg_catalog.pg_depend e
                  where e.classid = 'pg_catalog.pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
order by n.nspname, c.relname;

-- Every schema but the system ones; extension_owned marks schemas an extension created, exposed the
-- schemas an API role may use (USAGE, directly, as a member of a role that has it, or through PUBLIC).
select n.nspname as name,
       exists (select 1 from pg_depend d
               where d.classid = 'pg_namespace'::regclass and d.objid = n.oid and d.deptype = 'e')
         as extension_owned,
       exists (select 1 from pg_catalog.pg_roles r
               where r.rolname = any(%(api_roles)s)
                 and pg_catalog.has_schema_privilege(r.oid, n.oid, 'USAGE'))
         as exposed
from pg_namespace n
where n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
order by n.nspname;

-- Functions and procedures of those schemas that no extension owns (aggregates and window functions
-- take no SET clause): SECURITY DEFINER, and whether their settings fix search_path.
select n.nspname as schema,
       p.proname as name,
       pg_catalog.pg_get_function_identity_arguments(p.oid) as arguments,
       case p.prokind when 'p' then 'procedure' else 'function' end as kind,
       p.prosecdef as security_definer,
       exists (select 1 from pg_catalog.unnest(p.proconfig) s
               where pg_catalog.starts_with(s, 'search_path=')) as search_path_set
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where p.prokind in ('f', 'p')
  and n.nspname = any(%(schemas)s)
  and not exists (select 1 from pg_catalog.pg_depend e
                  where e.classid = 'pg_catalog.pg_proc'::regclass and e.objid = p.oid and e.deptype = 'e')
order by n.nspname, p.proname, 3;

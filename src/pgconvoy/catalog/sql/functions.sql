-- Functions and procedures that no extension owns, leaving out those another object creates for itself
-- (the constructors of a range type depend on it internally).
select n.nspname as schema,
       p.proname as name,
       pg_get_function_identity_arguments(p.oid) as arguments,
       case p.prokind when 'f' then 'function' when 'p' then 'procedure'
                      when 'a' then 'aggregate' else 'window' end as kind,
       l.lanname as language,
       case when p.prokind <> 'a' then pg_get_function_result(p.oid) end as returns,
       case when p.prokind <> 'a' then pg_get_functiondef(p.oid) end as definition,
       obj_description(p.oid, 'pg_proc') as comment,
       pg_get_userbyid(p.proowner) as owner,
       p.proacl::text[] as acl
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang
where n.nspname = any(%(schemas)s)
  and not exists (select 1 from pg_depend e
                  where e.classid = 'pg_proc'::regclass and e.objid = p.oid and e.deptype in ('e', 'i'))
order by n.nspname, p.proname, arguments;

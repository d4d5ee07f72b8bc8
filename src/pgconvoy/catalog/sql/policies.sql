-- Row-level security policies of those tables.
select pol.polrelid::bigint as table_oid,
       pol.polname as name,
       pol.polpermissive as permissive,
       case pol.polcmd when 'r' then 'SELECT' when 'a' then 'INSERT' when 'w' then 'UPDATE'
                       when 'd' then 'DELETE' else 'ALL' end as command,
       case when pol.polroles = '{0}' then array['public']::name[]
            else array(select r.rolname from pg_roles r where r.oid = any(pol.polroles) order by r.rolname)
       end as roles,
       pg_get_expr(pol.polqual, pol.polrelid) as using,
       pg_get_expr(pol.polwithcheck, pol.polrelid) as with_check
from pg_policy pol
join pg_class c on c.oid = pol.polrelid
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(%(schemas)s)
order by pol.polrelid, pol.polname;

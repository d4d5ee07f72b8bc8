-- name: rls_policy_always_true
-- level: warn
-- description: A permissive policy for INSERT, UPDATE, DELETE or ALL whose USING or WITH CHECK is
--   literally true: every role it applies to may change every row, which defeats row level security.
-- remediation: Restrict the condition (e.g. to the row's owner or tenant), or limit the policy's roles
--   to a trusted role such as service_role.
select format('%I.%I.%I', n.nspname, c.relname, p.polname) as object,
       format('policy %I on %I.%I allows %s for %s with %s (true)', p.polname, n.nspname, c.relname,
              case p.polcmd when 'a' then 'INSERT' when 'w' then 'UPDATE' when 'd' then 'DELETE' else 'ALL' end,
              case when p.polroles = array[0]::oid[] then 'public'
                   else (select string_agg(quote_ident(r.rolname), ', ' order by r.rolname)
                         from pg_catalog.pg_roles r where r.oid = any(p.polroles)) end,
              concat_ws(' and ',
                        case when pg_catalog.pg_get_expr(p.polqual, p.polrelid) = 'true' then 'USING' end,
                        case when pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) = 'true' then 'WITH CHECK' end)
       ) as detail
from pg_catalog.pg_policy p
join pg_catalog.pg_class c on c.oid = p.polrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where p.polpermissive
  and p.polcmd in ('a', 'w', 'd', '*')
  and n.nspname = any(current_setting('pgconvoy.schemas')::text[])
  and (pg_catalog.pg_get_expr(p.polqual, p.polrelid) = 'true'
       or pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) = 'true')
order by 1;

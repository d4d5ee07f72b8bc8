-- name: rls_enabled_no_policy
-- level: warn
-- description: Row level security is enabled on a table that has no policy, so every role that does not
--   bypass RLS (the table owner aside) sees no rows and can write none.
-- remediation: CREATE POLICY for the roles that need access, or disable row level security on purpose.
select format('%I.%I', n.nspname, c.relname) as object,
       format('table %I.%I has row level security enabled but no policy', n.nspname, c.relname) as detail
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('r', 'p')
  and c.relrowsecurity
  and n.nspname = any(current_setting('pgconvoy.schemas')::text[])
  and not exists (select 1 from pg_catalog.pg_policy p where p.polrelid = c.oid)
order by 1;

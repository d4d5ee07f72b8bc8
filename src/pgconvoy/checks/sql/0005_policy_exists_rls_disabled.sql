-- name: policy_exists_rls_disabled
-- level: error
-- description: A table has row level security policies but row level security is disabled, so the
--   policies are ignored and every role with a grant sees every row.
-- remediation: ALTER TABLE ... ENABLE ROW LEVEL SECURITY (or drop the policies if they are obsolete).
select format('%I.%I', n.nspname, c.relname) as object,
       format('table %I.%I has policies (%s) but row level security is disabled', n.nspname, c.relname,
              string_agg(quote_ident(p.polname), ', ' order by p.polname)) as detail
from pg_catalog.pg_class c
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
join pg_catalog.pg_policy p on p.polrelid = c.oid
where c.relkind in ('r', 'p')
  and not c.relrowsecurity
  and n.nspname = any(current_setting('pgconvoy.schemas')::text[])
group by n.nspname, c.relname
order by 1;

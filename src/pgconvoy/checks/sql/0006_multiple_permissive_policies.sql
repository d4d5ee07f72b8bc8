-- name: multiple_permissive_policies
-- level: warn
-- description: Several permissive policies apply to the same role and action on one table. PostgreSQL
--   evaluates every one of them for every row (they are OR-ed), which is slower than one combined policy.
-- remediation: Merge the policies into one policy per role and action (combine the conditions with OR).
with actions as (
    select p.polrelid, p.polname, p.polroles, a.action
    from pg_catalog.pg_policy p
    cross join lateral unnest(case p.polcmd when 'r' then array['SELECT'] when 'a' then array['INSERT']
                                            when 'w' then array['UPDATE'] when 'd' then array['DELETE']
                                            else array['SELECT', 'INSERT', 'UPDATE', 'DELETE'] end) a(action)
    where p.polpermissive
)
select format('%I.%I', n.nspname, c.relname) as object,
       format('table %I.%I has %s permissive policies for role %I and action %s: %s', n.nspname, c.relname,
              count(*), r.rolname, a.action, string_agg(quote_ident(a.polname), ', ' order by a.polname)) as detail
from actions a
join pg_catalog.pg_class c on c.oid = a.polrelid
join pg_catalog.pg_namespace n on n.oid = c.relnamespace
-- a policy TO PUBLIC (role oid 0) applies to every role
join pg_catalog.pg_roles r on r.oid = any(a.polroles) or a.polroles = array[0]::oid[]
where n.nspname = any(current_setting('pgconvoy.schemas')::text[])
  and r.rolname !~ '^pg_'
  and not r.rolbypassrls
group by n.nspname, c.relname, r.rolname, a.action
having count(*) > 1
order by 1, 2;

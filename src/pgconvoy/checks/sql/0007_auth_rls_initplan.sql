-- name: auth_rls_initplan
-- level: warn
-- description: A policy calls auth.uid(), auth.jwt(), auth.role(), auth.email() or current_setting()
--   directly, so the call is evaluated once per row instead of once per query.
-- remediation: Wrap the call in a scalar subquery, e.g. (select auth.uid()) = user_id; the planner then
--   runs it once as an init plan.
-- Expressions are read with an empty search_path, so calls always print schema-qualified. A call counts
-- as wrapped when a SELECT leads to it ("select auth.uid()", "select (auth.jwt() ->> 'sub')").
with policies as (
    select n.nspname, c.relname, p.polname, e.clause, e.expr
    from pg_catalog.pg_policy p
    join pg_catalog.pg_class c on c.oid = p.polrelid
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    cross join lateral (values ('USING', pg_catalog.pg_get_expr(p.polqual, p.polrelid)),
                               ('WITH CHECK', pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid))) e(clause, expr)
    where n.nspname = any(current_setting('pgconvoy.schemas')::text[])
      and e.expr is not null
), counted as (
    select *,
           (select count(*) from regexp_matches(expr,
               '(auth\.(uid|jwt|role|email)|current_setting)\(', 'gi')) as calls,
           (select count(*) from regexp_matches(expr,
               'select\s+[(\s]*(auth\.(uid|jwt|role|email)|current_setting)\(', 'gi')) as wrapped
    from policies
)
select format('%I.%I.%I', nspname, relname, polname) as object,
       format('policy %I on %I.%I calls a function per row in %s (%s); wrap it as (select ...)',
              polname, nspname, relname, clause, regexp_replace(expr, '\s+', ' ', 'g')) as detail
from counted
where calls > wrapped
order by 1, clause desc;

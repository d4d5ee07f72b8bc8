-- The platform's tables (in its managed schemas, not migrated) that the application attached something
-- to: a row-level security policy, or a trigger that calls one of the application's functions.
select distinct n.nspname as schema, c.relname as name
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any(%(platform)s)
  and (exists (select 1 from pg_policy y where y.polrelid = c.oid)
       or exists (select 1 from pg_trigger g
                  join pg_proc p on p.oid = g.tgfoid
                  join pg_namespace pn on pn.oid = p.pronamespace
                  where g.tgrelid = c.oid and not g.tgisinternal and pn.nspname = any(%(schemas)s)))
order by 1, 2;

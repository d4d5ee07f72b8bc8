-- User triggers of those tables (not constraint-internal ones, not clones on partitions).
select t.tgrelid::bigint as table_oid,
       t.tgname as name,
       pg_get_triggerdef(t.oid) as definition,
       pn.nspname as function_schema,
       p.proname as function_name,
       t.tgenabled::text as enabled,
       obj_description(t.oid, 'pg_trigger') as comment
from pg_trigger t
join pg_class c on c.oid = t.tgrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_proc p on p.oid = t.tgfoid
join pg_namespace pn on pn.oid = p.pronamespace
where not t.tgisinternal
  and t.tgparentid = 0
  and c.relkind in ('r', 'p')
  and n.nspname = any(%(schemas)s)
order by t.tgrelid, t.tgname;

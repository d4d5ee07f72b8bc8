-- Views and materialized views, with the relations each one reads.
select n.nspname as schema,
       c.relname as name,
       c.relkind = 'm' as materialized,
       pg_get_viewdef(c.oid) as definition,
       coalesce((select jsonb_agg(distinct jsonb_build_array(rn.nspname, rc.relname))
                 from pg_rewrite r
                 join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
                                 and d.refclassid = 'pg_class'::regclass
                 join pg_class rc on rc.oid = d.refobjid
                 join pg_namespace rn on rn.oid = rc.relnamespace
                 where r.ev_class = c.oid and d.refobjid <> c.oid
                   and rc.relkind in ('r', 'p', 'v', 'm', 'f')), '[]') as depends_on,
       c.reloptions as options,
       obj_description(c.oid, 'pg_class') as comment,
       pg_get_userbyid(c.relowner) as owner,
       c.relacl::text[] as acl
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where c.relkind in ('v', 'm')
  and n.nspname = any(%(schemas)s)
  and not exists (select 1 from pg_depend e
                  where e.classid = 'pg_class'::regclass and e.objid = c.oid and e.deptype = 'e')
order by n.nspname, c.relname;

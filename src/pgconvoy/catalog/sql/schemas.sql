-- Every schema but the system ones; extension_owned marks schemas an extension created.
select n.nspname as name,
       exists (select 1 from pg_depend d
               where d.classid = 'pg_namespace'::regclass and d.objid = n.oid and d.deptype = 'e')
         as extension_owned
from pg_namespace n
where n.nspname !~ '^pg_' and n.nspname <> 'information_schema'
order by n.nspname;

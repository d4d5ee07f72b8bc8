-- Every extension of the database (they are database-wide), the schema of its objects, and whether
-- ALTER EXTENSION ... SET SCHEMA can move it.
select e.extname as name,
       n.nspname as schema,
       e.extrelocatable as relocatable
from pg_catalog.pg_extension e
join pg_catalog.pg_namespace n on n.oid = e.extnamespace
order by e.extname;

-- The server and the role pgconvoy reads as.
select current_setting('server_version_num')::int as server_version,
       current_database() as database,
       current_user as role,
       r.rolsuper as superuser,
       r.rolbypassrls as bypass_rls
from pg_roles r
where r.rolname = current_user;

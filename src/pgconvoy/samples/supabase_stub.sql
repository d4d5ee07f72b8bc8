-- Supabase stand-in.
--
-- A minimal copy of what every Supabase project already has before its own schema is applied:
-- the API roles, the `auth` schema with `auth.users` and the JWT helper functions, and the
-- `extensions` schema that Supabase installs extensions into. Loading it first makes a plain
-- PostgreSQL database (a bundled sample, or a scratch migration target) look like a Supabase one.
--
-- Idempotent: safe to run twice in the same database, and in several databases of one cluster
-- (roles are cluster-wide, so each is created only when missing).
-- Runs on PostgreSQL 15 and later.

do $stub$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$stub$;

create schema if not exists extensions;
create schema if not exists auth;

create table if not exists auth.users (
  id uuid primary key,
  email text,
  created_at timestamptz
);

-- The caller's user id, from the JWT that PostgREST puts into the session settings.
create or replace function auth.uid() returns uuid
  language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
  )::uuid
$$;

-- The caller's API role (anon, authenticated, service_role).
create or replace function auth.role() returns text
  language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
  )::text
$$;

-- All claims of the caller's JWT.
create or replace function auth.jwt() returns jsonb
  language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

comment on schema auth is 'Supabase Auth (stand-in): users and JWT helpers';
comment on schema extensions is 'Supabase installs extensions here';

grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema extensions to anon, authenticated, service_role;
grant execute on function auth.uid(), auth.role(), auth.jwt() to anon, authenticated, service_role;
grant all on table auth.users to service_role;
grant usage on schema public to anon, authenticated, service_role;

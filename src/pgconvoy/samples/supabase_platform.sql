-- Supabase platform stand-in.
--
-- Makes a plain PostgreSQL database look like the database of a fresh Supabase project *before*
-- the application's own schema is applied: the platform roles, the `extensions`, `auth`,
-- `storage`, `realtime` and `pgbouncer` schemas with their owners and grants, the default
-- privileges that hand every new table/function/sequence in `public` to the API roles, the
-- auth and storage tables an application references, and their helper functions.
-- It is a catalog stand-in: nothing here runs GoTrue, Storage or PostgREST.
--
-- Load as a superuser:  psql -v ON_ERROR_STOP=1 -X -q -f supabase_platform.sql DBNAME
-- PostgreSQL 15 and later. No psql meta-commands. Idempotent, and cluster-safe: roles are
-- cluster-wide, so each role is created only when missing (an existing role is left exactly as
-- it is, attributes and settings included); everything else is per database and converges on
-- every run (CREATE ... IF NOT EXISTS, CREATE OR REPLACE, ALTER ... OWNER, GRANT). It can run
-- twice in one database and in several databases of one cluster. Load it into a database that
-- has not had another stand-in: CREATE TABLE IF NOT EXISTS keeps an existing auth.users.
--
-- ---------------------------------------------------------------------------------------------
-- The `postgres` substitution
-- ---------------------------------------------------------------------------------------------
-- On Supabase the application connects as `postgres`, which is NOT a superuser
-- (10000000000000_demote-postgres.sql: NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION
-- BYPASSRLS) and owns the application's objects in `public`; `supabase_admin` is the superuser.
-- Our test servers' bootstrap superuser is already called `postgres`, so the role `app_owner`
-- plays Supabase's `postgres` here: same attributes, same role memberships (anon,
-- authenticated, service_role, supabase_auth_admin, supabase_storage_admin, pg_monitor,
-- pg_read_all_data, pg_signal_backend), same search_path setting, and every grant and
-- ALTER DEFAULT PRIVILEGES that Supabase makes to or FOR ROLE `postgres` is made to or
-- FOR ROLE `app_owner`. Read "postgres" in Supabase output as "app_owner" here.
-- One deliberate difference: on Supabase `postgres` owns the database, so it gets CREATE on
-- schema public through pg_database_owner. This file does not re-own the database it is loaded
-- into; it grants CREATE (besides Supabase's explicit USAGE) on schema public to app_owner.
-- Objects that Supabase leaves owned by `postgres` (schema `extensions`, the supabase_realtime
-- publication) are owned by app_owner.
--
-- ---------------------------------------------------------------------------------------------
-- Provenance (read with `git show COMMIT:PATH`)
-- ---------------------------------------------------------------------------------------------
-- supabase/postgres  commit 7db7e1a9e34b9ffb9b0e3372ccf08eb4fa772f4b (2024-10-23)
--   migrations/db/init-scripts/00000000000000-initial-schema.sql   roles, extensions schema,
--       public grants + default privileges (for postgres and supabase_admin), role timeouts
--   migrations/db/init-scripts/00000000000001-auth-schema.sql      auth schema, supabase_auth_admin
--   migrations/db/init-scripts/00000000000002-storage-schema.sql   storage schema + default
--       privileges, supabase_storage_admin
--   migrations/db/init-scripts/00000000000003-post-setup.sql       dashboard_user, search_paths
--   migrations/db/migrations/10000000000000_demote-postgres.sql     postgres attributes, grants
--   migrations/db/migrations/20211115181400_update-auth-permissions.sql   auth default privileges
--   migrations/db/migrations/20211118015519_create-realtime-schema.sql,
--     20211122051245_update-realtime-permissions.sql, 20211130151719_update-realtime-permissions.sql
--   migrations/db/migrations/20211124212715_update-auth-owner.sql   auth.* function owner
--   migrations/db/migrations/20220322085208_gotrue-session-limit.sql
--   migrations/db/migrations/20220609081115_grant-supabase-auth-admin-and-supabase-storage-admin-to-postgres.sql
--   migrations/db/migrations/20221028101028_set_authenticator_timeout.sql,
--     20221103090837_revoke_admin.sql, 20231130133139_set_lock_timeout_to_authenticator_role.sql
--   migrations/db/migrations/20230201083204_grant_auth_roles_to_postgres.sql,
--     20230306081037_grant_pg_monitor_to_postgres.sql, 20240606060239_grant_predefined_roles_to_postgres.sql
--   migrations/db/migrations/20230224042246_grant_extensions_perms_for_postgres.sql
--   migrations/db/migrations/20230529180330_alter_api_roles_for_inherit.sql
--   migrations/db/migrations/20231013070755_grant_authenticator_to_supabase_storage_admin.sql
--   ansible/files/pgbouncer_config/pgbouncer_auth_schema.sql        pgbouncer role/schema/get_auth
--   Licence (LICENSE): The PostgreSQL License, Copyright (c) 2020, Supabase -- text below.
-- supabase/auth (GoTrue)  commit bc32168e13fdc928c98b449fc76bc3fdb9a293c5 (2026-08-20)
--   migrations/*.up.sql, 00_init_auth_schema.up.sql .. 20260625000000_add_custom_claims_allowlist.up.sql,
--   with {{ index .Options "Namespace" }} = auth. The tables below are their end state, taken
--   from a scratch database in which all 70 files were applied in order; notably
--   20211124214934_update_auth_functions, 20211202183645_update_auth_uid,
--   20220224000811_update_auth_functions (uid, role, email),
--   20220531120530_add_auth_jwt_function (jwt, comments), 20220811173540_add_sessions_table,
--   20231117164230_add_id_pkey_identities, 20240214120130_add_is_anonymous_column,
--   20240612123726_enable_rls_update_grants (RLS, SELECT WITH GRANT OPTION to postgres),
--   20250731150234_add_oauth_clients_table, 20250904133000_add_oauth_client_id_to_session,
--   20251007112900_add_session_refresh_token_columns, 20251111201300_add_scopes_to_sessions.
--   Licence (LICENSE): MIT, Copyright (c) 2021-2025 Supabase -- text below.
-- supabase/storage  commit 4fa61fba9371c4bd40cbb81509f07bcb3af21683 (2026-08-21)
--   migrations/tenant/0001-initialmigration.sql .. 0063-fix-search-name-relative-to-prefix.sql,
--   end state from a scratch database likewise; notably 0002-storage-schema (tables, RLS on
--   objects), 0003 (path_tokens), 0004/0007 (RLS on migrations/buckets), 0008, 0012, 0013,
--   0014, 0016, 0017, 0018, 0019 (objects.id DEFAULT gen_random_uuid()), 0025, 0038/0044
--   (storage.buckettype), 0046/0049 (buckets/objects grants), 0060/0061 (helper bodies,
--   IMMUTABLE), 0062-object-versioning-core (versioning columns and checks).
--   Licence (LICENSE): Apache License 2.0, Copyright 2019 Supabase. This file contains a
--   modified (trimmed) form of those definitions; see http://www.apache.org/licenses/LICENSE-2.0
-- Owners and ACLs were cross-checked against a public full pg_dump of a Supabase-hosted project
-- (PostgreSQL 17.4, mid-2025); where it differs from the older supabase/postgres migrations
-- (e.g. `postgres` has only USAGE on schemas auth and storage there), the dump is followed.
--
-- ---------------------------------------------------------------------------------------------
-- Trimming rules
-- ---------------------------------------------------------------------------------------------
-- * Catalog only: no platform data (auth.schema_migrations and storage.migrations are empty,
--   no buckets), no passwords, no event triggers (pgrst_ddl_watch, issue_pg_*), no triggers or
--   trigger functions on storage tables, no policies (Supabase ships none on these tables).
-- * auth: users, identities, sessions, refresh_tokens, plus what they need or what is trivial:
--   oauth_clients (target of sessions_oauth_client_id_fkey), instances, audit_log_entries,
--   schema_migrations, enums aal_level / oauth_registration_type / oauth_client_type; every
--   column, default, constraint, index, comment and RLS flag as upstream. Not kept: mfa_*,
--   sso_*, saml_*, flow_state, one_time_tokens, oauth_* other than oauth_clients, webauthn_*,
--   custom_oauth_providers and their enums.
-- * storage: buckets, objects, migrations, enum buckettype, functions foldername/filename/
--   extension. Not kept: s3_multipart_uploads(_parts), iceberg_*, buckets_analytics,
--   buckets_vectors, vector_indexes, the other functions (search*, list_*, operation, ...)
--   and the triggers on buckets/objects (protect_delete, update_updated_at_column, ...).
-- * Functions are created with their real bodies (they are tiny); none is SECURITY DEFINER
--   except pgbouncer.get_auth, as upstream.
-- * Extensions: pgvector (`vector`) and pg_stat_statements are created in `extensions` when
--   pg_available_extensions has them (pgvector is absent on our PostgreSQL 15 server), as
--   supabase_admin, as the platform does. uuid-ossp, pgcrypto, pgjwt, pgsodium, pg_graphql,
--   pg_net and supabase_vault are skipped (and so the graphql, graphql_public, vault, pgsodium,
--   net and cron schemas). No kept table needs them: upstream already uses the built-in
--   gen_random_uuid() (PostgreSQL 13+) in every kept DEFAULT; the only extension call,
--   storage.objects.id DEFAULT extensions.uuid_generate_v4() in the supabase/postgres
--   init-script, was replaced by gen_random_uuid() upstream in storage 0019.
-- * Roles not created: supabase_functions_admin (created only with pg_net), pgsodium_* roles,
--   supabase_realtime_admin. authenticator's session_preload_libraries = 'supautils,
--   safeupdate' is not set (the libraries are not installed; logins would fail).
--
-- ---------------------------------------------------------------------------------------------
-- Licence texts of the sources
-- ---------------------------------------------------------------------------------------------
-- supabase/postgres -- The PostgreSQL License
--   Copyright (c) 2020, Supabase
--   Permission to use, copy, modify, and distribute this software and its documentation for any
--   purpose, without fee, and without a written agreement is hereby granted, provided that the
--   above copyright notice and this paragraph and the following two paragraphs appear in all
--   copies.
--   IN NO EVENT SHALL Supabase BE LIABLE TO ANY PARTY FOR DIRECT, INDIRECT, SPECIAL, INCIDENTAL,
--   OR CONSEQUENTIAL DAMAGES, INCLUDING LOST PROFITS, ARISING OUT OF THE USE OF THIS SOFTWARE AND
--   ITS DOCUMENTATION, EVEN IF Supabase HAS BEEN ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
--   Supabase SPECIFICALLY DISCLAIMS ANY WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED
--   WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE. THE SOFTWARE PROVIDED
--   HEREUNDER IS ON AN "AS IS" BASIS, AND Supabase HAS NO OBLIGATIONS TO PROVIDE MAINTENANCE,
--   SUPPORT, UPDATES, ENHANCEMENTS, OR MODIFICATIONS.
-- supabase/auth -- MIT License
--   Copyright (c) 2021-2025 Supabase <support@supabase.com>
--   Permission is hereby granted, free of charge, to any person obtaining a copy of this
--   software and associated documentation files (the "Software"), to deal in the Software
--   without restriction, including without limitation the rights to use, copy, modify, merge,
--   publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
--   to whom the Software is furnished to do so, subject to the following conditions:
--   The above copyright notice and this permission notice shall be included in all copies or
--   substantial portions of the Software.
--   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
--   INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
--   PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
--   FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
--   OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
--   DEALINGS IN THE SOFTWARE.
-- supabase/storage -- Apache License 2.0, Copyright 2019 Supabase; licensed under the Apache
--   License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0); distributed on an "AS IS"
--   BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND. Modified: trimmed as described above.

set client_min_messages = warning;

-- =============================================================================================
-- Roles (cluster-wide: created only when missing; settings applied only when created)
-- =============================================================================================
do $roles$
begin
  -- The superuser the platform runs as.
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'supabase_admin') then
    create role supabase_admin superuser createdb createrole replication bypassrls login;
    alter role supabase_admin set search_path to "$user", public, auth, extensions;
  end if;
  -- Plays Supabase's (demoted) `postgres`.
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'app_owner') then
    create role app_owner nosuperuser createdb createrole login replication bypassrls;
    alter role app_owner set search_path to "$user", public, extensions;
  end if;
  -- API roles (INHERIT since 20230529180330_alter_api_roles_for_inherit).
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'anon') then
    create role anon nologin inherit;
    alter role anon set statement_timeout = '3s';
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticated') then
    create role authenticated nologin inherit;
    alter role authenticated set statement_timeout = '8s';
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    create role service_role nologin inherit bypassrls;
  end if;
  -- PostgREST logs in as authenticator and switches to an API role.
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'authenticator') then
    create role authenticator login noinherit;
    alter role authenticator set statement_timeout = '8s';
    alter role authenticator set lock_timeout = '8s';
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin login noinherit createrole noreplication;
    alter role supabase_auth_admin set search_path = auth;
    alter role supabase_auth_admin set idle_in_transaction_session_timeout = 60000;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'supabase_storage_admin') then
    create role supabase_storage_admin login noinherit createrole noreplication;
    alter role supabase_storage_admin set search_path = storage;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'dashboard_user') then
    create role dashboard_user nosuperuser createdb createrole replication;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'pgbouncer') then
    create role pgbouncer login;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'supabase_replication_admin') then
    create role supabase_replication_admin login replication;
  end if;
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'supabase_read_only_user') then
    create role supabase_read_only_user login bypassrls;
  end if;
end
$roles$;

-- Role memberships, granted only when missing (a repeated GRANT would only raise a notice).
do $members$
declare
  m record;
begin
  for m in
    select * from (values
      ('anon', 'authenticator'), ('authenticated', 'authenticator'), ('service_role', 'authenticator'),
      ('authenticator', 'supabase_storage_admin'),
      ('anon', 'app_owner'), ('authenticated', 'app_owner'), ('service_role', 'app_owner'),
      ('supabase_auth_admin', 'app_owner'), ('supabase_storage_admin', 'app_owner'),
      ('pg_monitor', 'app_owner'), ('pg_read_all_data', 'app_owner'), ('pg_signal_backend', 'app_owner'),
      ('pg_read_all_data', 'supabase_read_only_user')
    ) as t(granted, member)
  loop
    if not exists (
      select 1
      from pg_catalog.pg_auth_members am
      join pg_catalog.pg_roles g on g.oid = am.roleid
      join pg_catalog.pg_roles u on u.oid = am.member
      where g.rolname = m.granted and u.rolname = m.member
    ) then
      execute format('grant %I to %I', m.granted, m.member);
    end if;
  end loop;
end
$members$;

-- =============================================================================================
-- Database and schemas
-- =============================================================================================
do $db$
begin
  execute format('grant all on database %I to app_owner, dashboard_user', current_database());
end
$db$;

-- public: Supabase grants USAGE explicitly; CREATE is the pg_database_owner substitute (header).
grant usage on schema public to app_owner, anon, authenticated, service_role;
grant create on schema public to app_owner;

create schema if not exists extensions authorization app_owner;
alter schema extensions owner to app_owner;
grant usage on schema extensions to anon, authenticated, service_role;
grant all on schema extensions to dashboard_user;

create schema if not exists auth authorization supabase_admin;
alter schema auth owner to supabase_admin;
grant usage on schema auth to anon, authenticated, service_role, app_owner;
grant all on schema auth to supabase_auth_admin, dashboard_user;

create schema if not exists storage authorization supabase_admin;
alter schema storage owner to supabase_admin;
grant usage on schema storage to app_owner, anon, authenticated, service_role;
grant all on schema storage to supabase_storage_admin, dashboard_user;

create schema if not exists realtime authorization supabase_admin;
alter schema realtime owner to supabase_admin;
grant usage on schema realtime to app_owner, anon, authenticated, service_role;

create schema if not exists pgbouncer authorization pgbouncer;
alter schema pgbouncer owner to pgbouncer;

-- =============================================================================================
-- Default privileges
-- =============================================================================================
-- What the application creates in public (as app_owner, or as supabase_admin from the
-- dashboard) is granted to the API roles.
alter default privileges for role app_owner in schema public
  grant all on tables to app_owner, anon, authenticated, service_role;
alter default privileges for role app_owner in schema public
  grant all on functions to app_owner, anon, authenticated, service_role;
alter default privileges for role app_owner in schema public
  grant all on sequences to app_owner, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on tables to app_owner, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on functions to app_owner, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on sequences to app_owner, anon, authenticated, service_role;

alter default privileges for role app_owner in schema storage
  grant all on tables to app_owner, anon, authenticated, service_role;
alter default privileges for role app_owner in schema storage
  grant all on functions to app_owner, anon, authenticated, service_role;
alter default privileges for role app_owner in schema storage
  grant all on sequences to app_owner, anon, authenticated, service_role;

alter default privileges for role supabase_auth_admin in schema auth
  grant all on tables to app_owner, dashboard_user;
alter default privileges for role supabase_auth_admin in schema auth
  grant all on sequences to app_owner, dashboard_user;
alter default privileges for role supabase_auth_admin in schema auth
  grant all on functions to app_owner, dashboard_user;

alter default privileges for role supabase_admin in schema extensions
  grant all on tables to app_owner with grant option;
alter default privileges for role supabase_admin in schema extensions
  grant all on functions to app_owner with grant option;
alter default privileges for role supabase_admin in schema extensions
  grant all on sequences to app_owner with grant option;

alter default privileges for role supabase_admin in schema realtime
  grant all on tables to app_owner, dashboard_user;
alter default privileges for role supabase_admin in schema realtime
  grant all on functions to app_owner, dashboard_user;
alter default privileges for role supabase_admin in schema realtime
  grant all on sequences to app_owner, dashboard_user;

-- =============================================================================================
-- Extensions (only those this server has; created as supabase_admin, like the platform)
-- =============================================================================================
do $ext$
declare
  as_admin boolean := exists (
    select 1 from pg_catalog.pg_roles where rolname = 'supabase_admin' and rolsuper);
begin
  if as_admin then
    execute 'set role supabase_admin';
  end if;
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_stat_statements') then
    create extension if not exists pg_stat_statements with schema extensions;
  end if;
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'vector') then
    create extension if not exists vector with schema extensions;
  end if;
  if as_admin then
    execute 'reset role';
  end if;
end
$ext$;

-- =============================================================================================
-- auth (GoTrue)
-- =============================================================================================
do $types$
begin
  if to_regtype('auth.aal_level') is null then
    create type auth.aal_level as enum ('aal1', 'aal2', 'aal3');
  end if;
  if to_regtype('auth.oauth_registration_type') is null then
    create type auth.oauth_registration_type as enum ('dynamic', 'manual');
  end if;
  if to_regtype('auth.oauth_client_type') is null then
    create type auth.oauth_client_type as enum ('public', 'confidential');
  end if;
end
$types$;
alter type auth.aal_level owner to supabase_auth_admin;
alter type auth.oauth_registration_type owner to supabase_auth_admin;
alter type auth.oauth_client_type owner to supabase_auth_admin;

create table if not exists auth.users (
  instance_id uuid,
  id uuid not null,
  aud character varying(255),
  role character varying(255),
  email character varying(255),
  encrypted_password character varying(255),
  email_confirmed_at timestamp with time zone,
  invited_at timestamp with time zone,
  confirmation_token character varying(255),
  confirmation_sent_at timestamp with time zone,
  recovery_token character varying(255),
  recovery_sent_at timestamp with time zone,
  email_change_token_new character varying(255),
  email_change character varying(255),
  email_change_sent_at timestamp with time zone,
  last_sign_in_at timestamp with time zone,
  raw_app_meta_data jsonb,
  raw_user_meta_data jsonb,
  is_super_admin boolean,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  phone text default null::character varying,
  phone_confirmed_at timestamp with time zone,
  phone_change text default ''::character varying,
  phone_change_token character varying(255) default ''::character varying,
  phone_change_sent_at timestamp with time zone,
  confirmed_at timestamp with time zone generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  email_change_token_current character varying(255) default ''::character varying,
  email_change_confirm_status smallint default 0,
  banned_until timestamp with time zone,
  reauthentication_token character varying(255) default ''::character varying,
  reauthentication_sent_at timestamp with time zone,
  is_sso_user boolean default false not null,
  deleted_at timestamp with time zone,
  is_anonymous boolean default false not null,
  constraint users_pkey primary key (id),
  constraint users_phone_key unique (phone),
  constraint users_email_change_confirm_status_check
    check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2)
);
create unique index if not exists confirmation_token_idx on auth.users using btree (confirmation_token)
  where ((confirmation_token)::text !~ '^[0-9 ]*$'::text);
create unique index if not exists email_change_token_current_idx on auth.users using btree (email_change_token_current)
  where ((email_change_token_current)::text !~ '^[0-9 ]*$'::text);
create unique index if not exists email_change_token_new_idx on auth.users using btree (email_change_token_new)
  where ((email_change_token_new)::text !~ '^[0-9 ]*$'::text);
create unique index if not exists reauthentication_token_idx on auth.users using btree (reauthentication_token)
  where ((reauthentication_token)::text !~ '^[0-9 ]*$'::text);
create unique index if not exists recovery_token_idx on auth.users using btree (recovery_token)
  where ((recovery_token)::text !~ '^[0-9 ]*$'::text);
create unique index if not exists users_email_partial_key on auth.users using btree (email) where (is_sso_user = false);
create index if not exists users_instance_id_email_idx on auth.users using btree (instance_id, lower((email)::text));
create index if not exists users_instance_id_idx on auth.users using btree (instance_id);
create index if not exists users_is_anonymous_idx on auth.users using btree (is_anonymous);
comment on table auth.users is 'Auth: Stores user login data within a secure schema.';
comment on column auth.users.is_sso_user is 'Auth: Set this column to true when the account comes from SSO. These accounts can have duplicate emails.';
comment on index auth.users_email_partial_key is 'Auth: A partial unique index that applies only when is_sso_user is false';

create table if not exists auth.instances (
  id uuid not null,
  uuid uuid,
  raw_base_config text,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  constraint instances_pkey primary key (id)
);
comment on table auth.instances is 'Auth: Manages users across multiple sites.';

create table if not exists auth.audit_log_entries (
  instance_id uuid,
  id uuid not null,
  payload json,
  created_at timestamp with time zone,
  ip_address character varying(64) default ''::character varying not null,
  constraint audit_log_entries_pkey primary key (id)
);
create index if not exists audit_logs_instance_id_idx on auth.audit_log_entries using btree (instance_id);
comment on table auth.audit_log_entries is 'Auth: Audit trail for user actions.';

create table if not exists auth.schema_migrations (
  version character varying(255) not null,
  constraint schema_migrations_pkey primary key (version)
);
comment on table auth.schema_migrations is 'Auth: Manages updates to the auth system.';

create table if not exists auth.oauth_clients (
  id uuid not null,
  client_secret_hash text,
  registration_type auth.oauth_registration_type not null,
  redirect_uris text not null,
  grant_types text not null,
  client_name text,
  client_uri text,
  logo_uri text,
  created_at timestamp with time zone default now() not null,
  updated_at timestamp with time zone default now() not null,
  deleted_at timestamp with time zone,
  client_type auth.oauth_client_type default 'confidential'::auth.oauth_client_type not null,
  token_endpoint_auth_method text not null,
  constraint oauth_clients_pkey primary key (id),
  constraint oauth_clients_client_name_length check (char_length(client_name) <= 1024),
  constraint oauth_clients_client_uri_length check (char_length(client_uri) <= 2048),
  constraint oauth_clients_logo_uri_length check (char_length(logo_uri) <= 2048),
  constraint oauth_clients_token_endpoint_auth_method_check check (token_endpoint_auth_method =
    any (array['client_secret_basic'::text, 'client_secret_post'::text, 'none'::text]))
);
create index if not exists oauth_clients_deleted_at_idx on auth.oauth_clients using btree (deleted_at);

create table if not exists auth.sessions (
  id uuid not null,
  user_id uuid not null,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  factor_id uuid,
  aal auth.aal_level,
  not_after timestamp with time zone,
  refreshed_at timestamp without time zone,
  user_agent text,
  ip inet,
  tag text,
  oauth_client_id uuid,
  refresh_token_hmac_key text,
  refresh_token_counter bigint,
  scopes text,
  constraint sessions_pkey primary key (id),
  constraint sessions_scopes_length check (char_length(scopes) <= 4096),
  constraint sessions_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade,
  constraint sessions_oauth_client_id_fkey foreign key (oauth_client_id)
    references auth.oauth_clients (id) on delete cascade
);
create index if not exists sessions_not_after_idx on auth.sessions using btree (not_after desc);
create index if not exists sessions_oauth_client_id_idx on auth.sessions using btree (oauth_client_id);
create index if not exists sessions_user_id_idx on auth.sessions using btree (user_id);
create index if not exists user_id_created_at_idx on auth.sessions using btree (user_id, created_at);
comment on table auth.sessions is 'Auth: Stores session data associated to a user.';
comment on column auth.sessions.not_after is 'Auth: Not after is a nullable column that contains a timestamp after which the session should be regarded as expired.';
comment on column auth.sessions.refresh_token_hmac_key is 'Holds a HMAC-SHA256 key used to sign refresh tokens for this session.';
comment on column auth.sessions.refresh_token_counter is 'Holds the ID (counter) of the last issued refresh token.';

-- The not-null constraint names are what PostgreSQL 18 gives the upstream history (the
-- column `id` was renamed to provider_id and a new `id` added); PostgreSQL 15 ignores them.
create table if not exists auth.identities (
  provider_id text constraint identities_id_not_null not null,
  user_id uuid not null,
  identity_data jsonb not null,
  provider text not null,
  last_sign_in_at timestamp with time zone,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  email text generated always as (lower((identity_data ->> 'email'::text))) stored,
  id uuid default gen_random_uuid() constraint identities_id_not_null1 not null,
  constraint identities_pkey primary key (id),
  constraint identities_provider_id_provider_unique unique (provider_id, provider),
  constraint identities_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade
);
create index if not exists identities_email_idx on auth.identities using btree (email text_pattern_ops);
create index if not exists identities_user_id_idx on auth.identities using btree (user_id);
comment on table auth.identities is 'Auth: Stores identities associated to a user.';
comment on column auth.identities.email is 'Auth: Email is a generated column that references the optional email property in the identity_data';
comment on index auth.identities_email_idx is 'Auth: Ensures indexed queries on the email column';

create table if not exists auth.refresh_tokens (
  instance_id uuid,
  id bigserial not null,
  token character varying(255),
  user_id character varying(255),
  revoked boolean,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  parent character varying(255),
  session_id uuid,
  constraint refresh_tokens_pkey primary key (id),
  constraint refresh_tokens_token_unique unique (token),
  constraint refresh_tokens_session_id_fkey foreign key (session_id) references auth.sessions (id) on delete cascade
);
create index if not exists refresh_tokens_instance_id_idx on auth.refresh_tokens using btree (instance_id);
create index if not exists refresh_tokens_instance_id_user_id_idx on auth.refresh_tokens using btree (instance_id, user_id);
create index if not exists refresh_tokens_parent_idx on auth.refresh_tokens using btree (parent);
create index if not exists refresh_tokens_session_id_revoked_idx on auth.refresh_tokens using btree (session_id, revoked);
create index if not exists refresh_tokens_updated_at_idx on auth.refresh_tokens using btree (updated_at desc);
comment on table auth.refresh_tokens is 'Auth: Store of tokens used to refresh JWT tokens once they expire.';

-- RLS enabled (no policies) on the tables 20240612123726_enable_rls_update_grants lists.
alter table auth.users enable row level security;
alter table auth.instances enable row level security;
alter table auth.audit_log_entries enable row level security;
alter table auth.schema_migrations enable row level security;
alter table auth.sessions enable row level security;
alter table auth.identities enable row level security;
alter table auth.refresh_tokens enable row level security;

-- Owned by supabase_auth_admin (GoTrue creates them); the sequence follows its table.
alter table auth.users owner to supabase_auth_admin;
alter table auth.instances owner to supabase_auth_admin;
alter table auth.audit_log_entries owner to supabase_auth_admin;
alter table auth.schema_migrations owner to supabase_auth_admin;
alter table auth.oauth_clients owner to supabase_auth_admin;
alter table auth.sessions owner to supabase_auth_admin;
alter table auth.identities owner to supabase_auth_admin;
alter table auth.refresh_tokens owner to supabase_auth_admin;

-- postgres (app_owner): everything plus SELECT WITH GRANT OPTION; dashboard_user: everything.
-- oauth_clients postdates 20240612123726, so it has only the default-privilege grants.
grant all on table auth.users, auth.instances, auth.audit_log_entries, auth.schema_migrations,
  auth.oauth_clients, auth.sessions, auth.identities, auth.refresh_tokens to app_owner, dashboard_user;
grant select on table auth.users, auth.instances, auth.audit_log_entries, auth.schema_migrations,
  auth.sessions, auth.identities, auth.refresh_tokens to app_owner with grant option;
grant all on sequence auth.refresh_tokens_id_seq to app_owner, dashboard_user;

-- The caller's user id / role / email / claims, from the JWT PostgREST puts in the settings.
create or replace function auth.uid() returns uuid
  language sql stable
as $$
  select 
  coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text
  language sql stable
as $$
  select 
  coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

create or replace function auth.email() returns text
  language sql stable
as $$
  select 
  coalesce(
    nullif(current_setting('request.jwt.claim.email', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
  )::text
$$;

create or replace function auth.jwt() returns jsonb
  language sql stable
as $$
  select 
    coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';
comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';
comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';
alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;
-- EXECUTE stays granted to PUBLIC (the default), so anon/authenticated/service_role can call them.
grant all on function auth.uid(), auth.role(), auth.email(), auth.jwt() to app_owner, dashboard_user;

-- =============================================================================================
-- storage
-- =============================================================================================
do $types$
begin
  if to_regtype('storage.buckettype') is null then
    create type storage.buckettype as enum ('STANDARD', 'ANALYTICS', 'VECTOR');
  end if;
end
$types$;
alter type storage.buckettype owner to supabase_storage_admin;

create table if not exists storage.migrations (
  id integer not null,
  name character varying(100) not null,
  hash character varying(40) not null,
  executed_at timestamp without time zone default current_timestamp,
  constraint migrations_pkey primary key (id),
  constraint migrations_name_key unique (name)
);

create table if not exists storage.buckets (
  id text not null,
  name text not null,
  owner uuid,
  created_at timestamp with time zone default now(),
  updated_at timestamp with time zone default now(),
  public boolean default false,
  avif_autodetection boolean default false,
  file_size_limit bigint,
  allowed_mime_types text[],
  owner_id text,
  type storage.buckettype default 'STANDARD'::storage.buckettype not null,
  versioning_status text default 'DISABLED'::text not null,
  constraint buckets_pkey primary key (id),
  constraint buckets_versioning_dark_check check (versioning_status = 'DISABLED'::text),
  constraint buckets_versioning_standard_only_check
    check (type = 'STANDARD'::storage.buckettype or versioning_status = 'DISABLED'::text),
  constraint buckets_versioning_status_check
    check (versioning_status = any (array['DISABLED'::text, 'ENABLED'::text, 'SUSPENDED'::text]))
);
create unique index if not exists bname on storage.buckets using btree (name);
comment on column storage.buckets.owner is 'Field is deprecated, use owner_id instead';

create table if not exists storage.objects (
  id uuid default gen_random_uuid() not null,
  bucket_id text,
  name text,
  owner uuid,
  created_at timestamp with time zone default now(),
  updated_at timestamp with time zone default now(),
  last_accessed_at timestamp with time zone default now(),
  metadata jsonb,
  path_tokens text[] generated always as (string_to_array(name, '/'::text)) stored,
  version text,
  owner_id text,
  user_metadata jsonb,
  archived_at timestamp with time zone,
  is_delete_marker boolean default false not null,
  is_versioned boolean default false not null,
  constraint objects_pkey primary key (id),
  constraint "objects_bucketId_fkey" foreign key (bucket_id) references storage.buckets (id)
);
create unique index if not exists bucketid_objname on storage.objects using btree (bucket_id, name);
create index if not exists idx_objects_bucket_id_name on storage.objects using btree (bucket_id, name collate "C");
create index if not exists idx_objects_bucket_id_name_lower on storage.objects using btree (bucket_id, lower(name) collate "C");
create index if not exists name_prefix_search on storage.objects using btree (name text_pattern_ops);
comment on column storage.objects.owner is 'Field is deprecated, use owner_id instead';

-- RLS enabled, no policies: the project adds its own.
alter table storage.migrations enable row level security;
alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;

alter table storage.migrations owner to supabase_storage_admin;
alter table storage.buckets owner to supabase_storage_admin;
alter table storage.objects owner to supabase_storage_admin;

grant all on table storage.buckets, storage.objects to anon, authenticated, service_role;
grant all on table storage.buckets, storage.objects to app_owner with grant option;

create or replace function storage.foldername(name text) returns text[]
  language plpgsql immutable
as $$
DECLARE
    _parts text[];
BEGIN
    -- Split on "/" to get path segments
    SELECT string_to_array(name, '/') INTO _parts;
    -- Return everything except the last segment
    RETURN _parts[1 : array_length(_parts,1) - 1];
END
$$;

create or replace function storage.filename(name text) returns text
  language plpgsql immutable
as $$
DECLARE
    _parts text[];
BEGIN
    SELECT string_to_array(name, '/') INTO _parts;
    RETURN _parts[array_length(_parts, 1)];
END
$$;

create or replace function storage.extension(name text) returns text
  language plpgsql immutable
as $$
DECLARE
    _parts text[];
    _filename text;
BEGIN
    -- Split on "/" to get path segments
    SELECT string_to_array(name, '/') INTO _parts;
    -- Get the last path segment (the actual filename)
    SELECT _parts[array_length(_parts, 1)] INTO _filename;
    -- Extract extension: reverse, split on '.', then reverse again
    RETURN reverse(split_part(reverse(_filename), '.', 1));
END
$$;

alter function storage.foldername(text) owner to supabase_storage_admin;
alter function storage.filename(text) owner to supabase_storage_admin;
alter function storage.extension(text) owner to supabase_storage_admin;
grant all on function storage.foldername(text), storage.filename(text), storage.extension(text) to app_owner;

-- =============================================================================================
-- pgbouncer auth lookup (SECURITY DEFINER as upstream; callable by pgbouncer and postgres only)
-- =============================================================================================
create or replace function pgbouncer.get_auth(p_usename text)
returns table(username text, password text) as
$$
BEGIN
    RAISE WARNING 'PgBouncer auth request: %', p_usename;

    RETURN QUERY
    SELECT usename::TEXT, passwd::TEXT FROM pg_catalog.pg_shadow
    WHERE usename = p_usename;
END;
$$ language plpgsql security definer;
alter function pgbouncer.get_auth(text) owner to supabase_admin;
revoke all on function pgbouncer.get_auth(text) from public;
grant execute on function pgbouncer.get_auth(text) to pgbouncer, app_owner;

-- =============================================================================================
-- Realtime's (empty) publication, owned by postgres on Supabase
-- =============================================================================================
do $pub$
declare
  saved text := current_setting('client_min_messages');
begin
  if not exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    -- Silences "wal_level is insufficient to publish logical changes" on non-logical servers.
    perform set_config('client_min_messages', 'error', false);
    create publication supabase_realtime;
    perform set_config('client_min_messages', saved, false);
  end if;
  alter publication supabase_realtime owner to app_owner;
end
$pub$;

reset client_min_messages;

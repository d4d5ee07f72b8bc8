-- =============================================================================
-- pgconvoy test fixture: Supabase "user management" starter (expo-user-management)
--
-- What:       The user-management quick-start schema of the Supabase examples:
--             a public.profiles table keyed by auth.users, RLS policies using
--             auth.uid(), a SECURITY DEFINER trigger on auth.users that creates
--             the profile from raw_user_meta_data, a Storage bucket for avatars
--             and RLS policies on storage.objects.
-- Repository: supabase/supabase
-- Path:       examples/user-management/expo-user-management/supabase/migrations/20240403090422_init.sql
-- Commit:     336641f3602527642452df125e2665103ca015d6 (as reported by the stored
--             index of the repository; the repository is too large (2.5 GB) to
--             fetch and check the commit locally). The same text is used by the
--             swift- and nextjs-user-management examples.
-- Licence:    Apache-2.0; checked LICENSE at the repository root (Apache License
--             Version 2.0, "Copyright 2023 Supabase").
--
-- Load order: /work/main/src/pgconvoy/samples/supabase_platform.sql first, then
-- this file.
--
-- Edits:
--   1. a "stand-in" section at the top (not upstream) adds the minimum of the
--      Supabase auth and storage schemas this migration needs and the stub
--      lacks, all with IF NOT EXISTS: columns auth.users.raw_user_meta_data and
--      raw_app_meta_data (jsonb), schema storage with storage.buckets and
--      storage.objects shaped like Supabase Storage's own tables (objects has
--      an FK to buckets and a STORED generated path_tokens text[] column), RLS
--      enabled on both, and the usual grants to anon/authenticated/service_role.
--   2. the migration itself follows unchanged (it inserts the 'avatars' bucket
--      row).
--   3. fixture-authored rows at the end (not upstream; the example has no
--      seed.sql): 2 auth.users rows whose insert fires the trigger and creates
--      2 profiles, an UPDATE filling username/website, and 2 storage.objects
--      rows (jsonb metadata, a path with '/').
--
-- Notable: cross-schema FK (public.profiles -> auth.users, storage.objects ->
-- storage.buckets), RLS policies on a table in another schema
-- (storage.objects), CHECK constraint, UNIQUE, trigger on auth.users,
-- STORED generated column (in the stand-in).
-- =============================================================================

-- -----------------------------------------------------------------------------
-- stand-in (not upstream): the parts of Supabase Auth/Storage this needs
-- -----------------------------------------------------------------------------
alter table auth.users add column if not exists raw_user_meta_data jsonb;
alter table auth.users add column if not exists raw_app_meta_data jsonb;

create schema if not exists storage;

create table if not exists storage.buckets (
  id text primary key,
  name text not null,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  public boolean default false
);

create table if not exists storage.objects (
  id uuid primary key default gen_random_uuid(),
  bucket_id text references storage.buckets (id),
  name text,
  owner uuid,
  created_at timestamptz default now(),
  updated_at timestamptz default now(),
  last_accessed_at timestamptz default now(),
  metadata jsonb,
  path_tokens text[] generated always as (string_to_array(name, '/')) stored
);

create unique index if not exists bucketid_objname on storage.objects (bucket_id, name);

alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;

grant usage on schema storage to anon, authenticated, service_role;
grant all on storage.buckets, storage.objects to anon, authenticated, service_role;
-- ----------------------------- end of stand-in ------------------------------

-- -----------------------------------------------------------------------------
-- [pgconvoy fixture] upstream examples/user-management/expo-user-management/supabase/migrations/20240403090422_init.sql
-- -----------------------------------------------------------------------------
-- Create a table for public profiles
create table profiles (
  id uuid references auth.users not null primary key,
  updated_at timestamp with time zone,
  username text unique,
  full_name text,
  avatar_url text,
  website text,

  constraint username_length check (char_length(username) >= 3)
);
-- Set up Row Level Security (RLS)
-- See https://supabase.com/docs/guides/database/postgres/row-level-security for more details.
alter table profiles
  enable row level security;

create policy "Public profiles are viewable by everyone." on profiles
  for select using (true);

create policy "Users can insert their own profile." on profiles
  for insert with check (auth.uid() = id);

create policy "Users can update own profile." on profiles
  for update using (auth.uid() = id);

-- This trigger automatically creates a profile entry when a new user signs up via Supabase Auth.
-- See https://supabase.com/docs/guides/auth/managing-user-data#using-triggers for more details.
create function public.handle_new_user()
returns trigger as $$
begin
  insert into public.profiles (id, full_name, avatar_url)
  values (new.id, new.raw_user_meta_data->>'full_name', new.raw_user_meta_data->>'avatar_url');
  return new;
end;
$$ language plpgsql security definer;
create trigger on_auth_user_created
  after insert on auth.users
  for each row execute procedure public.handle_new_user();

-- Set up Storage!
insert into storage.buckets (id, name)
  values ('avatars', 'avatars');

-- Set up access controls for storage.
-- See https://supabase.com/docs/guides/storage#policy-examples for more details.
create policy "Avatar images are publicly accessible." on storage.objects
  for select using (bucket_id = 'avatars');

create policy "Anyone can upload an avatar." on storage.objects
  for insert with check (bucket_id = 'avatars');

create policy "Anyone can update their own avatar." on storage.objects
  for update using ( auth.uid() = owner ) with check (bucket_id = 'avatars');

-- =============================================================================
-- [pgconvoy fixture] BEGIN fixture-authored rows (not upstream; see header edit 3)
-- =============================================================================
insert into auth.users (id, email, created_at, raw_user_meta_data, raw_app_meta_data) values
  ('9f1a6a2e-3b4c-4d5e-8f60-718293a4b5c6', 'ada@example.com', '2024-04-03 09:04:22+00',
   '{"full_name": "Ada Lovelace", "avatar_url": "9f1a6a2e/avatar.png"}', '{"provider": "email", "providers": ["email"]}'),
  ('0b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0', 'grace@example.com', '2024-04-04 10:00:00+00',
   '{"full_name": "Grace Hopper"}', '{"provider": "github"}');

update public.profiles set username = 'ada', website = 'https://example.com/~ada', updated_at = '2024-04-05 12:00:00+00'
  where id = '9f1a6a2e-3b4c-4d5e-8f60-718293a4b5c6';

insert into storage.objects (id, bucket_id, name, owner, metadata) values
  ('5a0e8f1c-1111-4222-8333-944455556666', 'avatars', '9f1a6a2e/avatar.png', '9f1a6a2e-3b4c-4d5e-8f60-718293a4b5c6',
   '{"size": 20480, "mimetype": "image/png", "cacheControl": "max-age=3600"}'),
  ('5a0e8f1c-7777-4888-8999-aaaabbbbcccc', 'avatars', 'shared/default.png', null, null);
-- =============================================================================
-- [pgconvoy fixture] END fixture-authored rows
-- =============================================================================

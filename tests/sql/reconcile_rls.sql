-- Row-level security cases for reconciliation tests (load after sample:supabase_platform).
create table public.notes (id int primary key, owner uuid, body text);
alter table public.notes enable row level security;
create policy notes_owner_read on public.notes for select to authenticated using (owner = (select auth.uid()));
create table public.drafts (id int primary key, owner uuid);
alter table public.drafts enable row level security;

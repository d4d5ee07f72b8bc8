-- Harder placements for the schema round trip (run after the Supabase stub): classic inheritance,
-- sub-partitions with a default partition and a partition-local constraint, quoted names, a policy and a
-- function that read other tables, views on views, trigger states, a default calling a function.

create schema "Sales Ops";

create function public.next_code() returns text language sql volatile
as $$ select 'C' || floor(random() * 1000)::int $$;

create table public.people (id bigint primary key, name text not null);
create table public."Customer Accounts" (
    "ID" bigint primary key,
    person_id bigint references public.people (id),
    code text not null default public.next_code(),
    "select" text
);
comment on column public."Customer Accounts"."select" is 'a keyword as a column';

-- Classic inheritance: the child must come after its parent.
create table public.base_events (id bigint not null, at timestamptz not null default now(),
                                 constraint base_events_at_check check (at > '2000-01-01'));
create table public.login_events (user_agent text) inherits (public.base_events);

-- Two levels of partitioning, a default partition, a local check on one partition, indexes at each level.
create table public.measurements (
    id bigint not null,
    region text not null,
    taken date not null,
    value numeric,
    primary key (id, region, taken)
) partition by list (region);
create table public.measurements_eu partition of public.measurements for values in ('eu')
    partition by range (taken);
create table public.measurements_eu_2025 partition of public.measurements_eu
    for values from ('2025-01-01') to ('2026-01-01');
create table public.measurements_other partition of public.measurements default;
alter table public.measurements_other add constraint measurements_other_value_check check (value >= 0);
create index measurements_taken_idx on public.measurements (taken);
create index measurements_other_value_idx on public.measurements_other (value);

-- Depends on "Customer Accounts" through a policy and a function's result type.
create table "Sales Ops".deals (
    id bigint generated always as identity primary key,
    account_id bigint not null references public."Customer Accounts" ("ID"),
    amount numeric(12, 2) not null
);
alter table "Sales Ops".deals enable row level security;
create policy deals_by_account on "Sales Ops".deals for select to authenticated
    using (exists (select 1 from public."Customer Accounts" a where a."ID" = account_id and a."select" is null));
create policy people_with_deals on public.people for select to authenticated
    using (exists (select 1 from "Sales Ops".deals d join public."Customer Accounts" a on a."ID" = d.account_id
                   where a.person_id = people.id));
alter table public.people enable row level security;

create function "Sales Ops".deals_of(p_account bigint) returns setof "Sales Ops".deals
    language sql stable as $$ select * from "Sales Ops".deals where account_id = p_account $$;

create view "Sales Ops".deal_totals with (security_invoker = true) as
    select account_id, sum(amount) as total from "Sales Ops".deals group by account_id;
create view "Sales Ops".big_accounts as
    select account_id from "Sales Ops".deal_totals where total > 1000;

create function public.audit() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger deals_audit after insert on "Sales Ops".deals for each row execute function public.audit();
alter table "Sales Ops".deals enable always trigger deals_audit;
create trigger measurements_audit after insert on public.measurements
    for each row execute function public.audit();
alter table public.measurements disable trigger measurements_audit;

create sequence "Sales Ops".ticket_seq;
comment on sequence "Sales Ops".ticket_seq is 'Support tickets';
grant usage, select on sequence "Sales Ops".ticket_seq to authenticated;

-- A SQL-standard body is parsed at creation: it can only be created once the table exists.
create function public.people_count() returns bigint language sql stable
begin atomic
  select count(*) from public.people;
end;
create function public.plus_one(n integer) returns integer language sql immutable return n + 1;

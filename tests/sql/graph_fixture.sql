-- A schema that exercises the graph: a three-table cycle, a self-reference, a table name repeated in a
-- second schema, a partitioned table with partitions, and a foreign key into an excluded schema.
create schema auth;
create table auth.users (id uuid primary key);
create schema billing;

create table public.tenants (id bigint primary key, name text not null);
create table public.accounts (
    id bigint primary key,
    tenant_id bigint not null references public.tenants,
    owner_id uuid references auth.users,
    parent_id bigint references public.accounts
);
create table billing.accounts (id bigint primary key, account_id bigint not null references public.accounts);

-- a -> b -> c -> a
create table public.cyc_a (id int primary key, c_id int);
create table public.cyc_b (id int primary key, a_id int references public.cyc_a);
create table public.cyc_c (id int primary key, b_id int references public.cyc_b);
alter table public.cyc_a add constraint cyc_a_c_fk foreign key (c_id) references public.cyc_c deferrable;
create table public.after_cycle (id int primary key, c_id int references public.cyc_c);

create table public.events (
    id bigint not null,
    account_id bigint references public.accounts,
    created_at timestamptz not null,
    primary key (id, created_at)
) partition by range (created_at);
create table public.events_2025 partition of public.events
    for values from ('2025-01-01') to ('2026-01-01');
create table public.events_2026 partition of public.events
    for values from ('2026-01-01') to ('2027-01-01');

insert into public.tenants values (1, 't1'), (2, 't2');
insert into public.accounts values (10, 1, null, null), (11, 1, null, 10), (12, 2, null, 11);
insert into billing.accounts values (1, 10);
insert into public.events values (1, 10, '2025-03-01'), (2, 11, '2026-03-01'), (3, 12, '2026-04-01');

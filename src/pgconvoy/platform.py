"""What a platform (Supabase) ships itself: a migration references it, never recreates it.

A database-wide object (event trigger, publication, default privileges, ...) owned by one of these
roles is the platform's, and so are the objects named below whoever owns them: the target platform
creates its own. What the application adds to them stays the application's (the tables it adds to
the `supabase_realtime` publication). Schemas the platform manages are `catalog.MANAGED_SCHEMAS`.
"""

from __future__ import annotations

# Supabase's reserved roles (supabase/postgres migrations and the Supabase docs' list of roles a
# project cannot create or alter).
PLATFORM_ROLES = frozenset({
    "supabase_admin", "supabase_auth_admin", "supabase_storage_admin", "supabase_realtime_admin",
    "supabase_replication_admin", "supabase_read_only_user", "supabase_functions_admin",
    "supabase_etl_admin", "authenticator", "pgbouncer", "dashboard_user", "pgsodium_keyholder",
    "pgsodium_keyiduser", "pgsodium_keymaker", "supabase_superuser",
})

# (archive entry type, tag) of database-wide objects the platform creates under the project's own role.
PLATFORM_OBJECTS = frozenset({
    ("PUBLICATION", "supabase_realtime"),
})

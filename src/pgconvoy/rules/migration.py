"""Nothing lost: the accounting of every object of the source (`pgconvoy.accounting`)."""

from __future__ import annotations

from pgconvoy.rules.registry import declare

declare("PC601", "object_not_migrated", "error",
        "an object of the source (or its comment, grants, row-level security) that no file creates",
        "migrate it by hand, or lower the rule once you have",
        "Every object of the migrated schemas and of the database is listed from the system catalogs and "
        "must be created by a file of target/; what is not is named with the reason (pg_dump leaves "
        "subscriptions out unless it runs as a superuser, a grant on a range's constructor has no entry, ...).",
        reported_by="accounting")
declare("PC602", "excluded_objects", "info", "the objects of an excluded table are not migrated",
        "none needed; remove the table from exclude: to migrate it",
        "A table in `exclude:` takes its own objects with it (indexes, triggers, policies, grants): listed "
        "so that nothing leaves silently.", reported_by="accounting")
declare("PC603", "database_settings_not_migrated", "warn", "database-level settings or comment not migrated",
        "apply them on the target by hand (ALTER DATABASE ... SET, COMMENT ON DATABASE)",
        "The target's database is created by its platform or by hand: the source database's own settings "
        "and comment are not carried.", reported_by="accounting")

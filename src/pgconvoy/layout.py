"""The resolved migration layout: groups in order, their tables in load order, and file names.

This is the plain-data contract between the manifests (what the user wrote), rendering, data export
and the runner. Group NN renders `NN-schema-NAME.sql` and `(NN+9)-data-NAME.sql`, as in the seed report.
The rows of the platform's tables that project.yml `platform_data:` lists load first, as group 00
`platform` (`09-data-platform.sql`), into tables the target's platform created: it has a data file only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pgconvoy.catalog.model import Catalog, Name
from pgconvoy.graph import FkGraph, forward_references, load_unit

DataFormat = Literal["copy", "insert"]
ForeignKeys = Literal["during", "after"]
DATA_OFFSET = 9
PLATFORM_GROUP = "platform"
OnConflict = Literal["error", "skip-existing"]


def run_order(name: str) -> tuple[int, str]:
    """How `run` orders the files of target/: by their number (`9-…` before `10-…`), then name; files
    without one last."""
    number = name.split("-", 1)[0]
    return (int(number) if number.isdigit() else 1 << 30, name)


@dataclass(frozen=True, slots=True)
class Group:
    number: int  # from the manifest's file name: 01-foundation.yml -> 1
    name: str  # foundation
    tables: tuple[Name, ...]  # load order inside the group
    two_pass: tuple[tuple[Name, tuple[str, ...]], ...] = ()  # columns loaded as NULL, then UPDATEd
    deferred: tuple[Name, ...] = ()  # tables loaded with constraints deferred instead of two passes
    description: str | None = None

    @property
    def schema_file(self) -> str:
        return f"{self.number:02d}-schema-{self.name}.sql"

    @property
    def data_file(self) -> str:
        return f"{self.number + DATA_OFFSET:02d}-data-{self.name}.sql"

    def two_pass_columns(self, table: Name) -> tuple[str, ...]:
        return next((cols for t, cols in self.two_pass if t == table), ())


@dataclass(frozen=True, slots=True)
class Layout:
    groups: tuple[Group, ...]  # ordered by number
    data_format: DataFormat = "copy"
    foreign_keys: ForeignKeys = "during"  # "after": every FK is added in post-data, once the rows are in
    platform: tuple[Name, ...] = ()  # platform_data: the platform's tables whose rows load first, in FK order
    on_conflict: OnConflict = "error"  # what a platform row whose key the target holds already does
    tables: tuple[Name, ...] = field(init=False, compare=False)  # every group's tables, in load order

    def __post_init__(self) -> None:
        object.__setattr__(self, "tables", tuple(t for g in self.groups for t in g.tables))

    @property
    def platform_group(self) -> Group | None:
        """The group of platform_data's rows (data file `09-data-platform.sql`, nothing else), or None."""
        return Group(0, PLATFORM_GROUP, self.platform) if self.platform else None

    @property
    def data_groups(self) -> tuple[Group, ...]:
        """The groups that have a data file, in run order: the platform's rows first."""
        platform = self.platform_group
        return self.groups if platform is None else (platform, *self.groups)

    def group_of(self, table: Name) -> Group | None:
        return next((g for g in self.groups if table in g.tables), None)

    @property
    def last_data_number(self) -> int:
        return max((g.number for g in self.groups), default=0) + DATA_OFFSET


@dataclass(frozen=True, slots=True)
class LoadRules:
    """What loading groups in order with their foreign keys in place needs, table by table."""

    two_pass: dict[Name, tuple[str, ...]]  # columns loaded as NULL, restored by a second pass
    deferred: frozenset[Name]  # tables whose keys are added after the data (one pass)


def load_rules(catalog: Catalog, groups: Sequence[Sequence[Name]]) -> LoadRules:
    """For tables loading group by group, in order: every foreign key that points at a table loading at the
    same position or later needs one of
    - nothing, when it is DEFERRABLE and its table is in the same group (a group's rows load in one
      transaction, checked at its commit, as reconcile accepts);
    - its columns loaded as NULL then restored (two_pass), when they are all nullable;
    - the table deferred (its keys added once the data is in), when one is NOT NULL: a two-pass rule
      there is what compile refuses (PC205)."""
    order = tuple(t for g in groups for t in g)
    group_of = {t: i for i, g in enumerate(groups) for t in g}
    unit = load_unit(catalog)
    columns: dict[Name, set[str]] = {}
    deferred: set[Name] = set()
    for table, fks in forward_references(catalog, order).items():
        for fk in fks:
            if fk.deferrable and group_of.get(unit(fk.ref_table)) == group_of[table]:
                continue
            found = catalog.table(fk.table)
            if found is not None and any((c := found.column(name)) is not None and c.not_null for name in fk.columns):
                deferred.add(table)
            else:
                columns.setdefault(table, set()).update(fk.columns)
    two_pass = {t: tuple(sorted(cols)) for t, cols in columns.items() if t not in deferred}
    return LoadRules(two_pass, frozenset(deferred))


def single_group(catalog: Catalog, graph: FkGraph, name: str = "all", data_format: DataFormat = "copy") -> Layout:
    """Every table in one group, in the graph's order, with the rules that order needs."""
    rules = load_rules(catalog, [graph.order])
    group = Group(1, name, graph.order, tuple(sorted(rules.two_pass.items())),
                  tuple(t for t in graph.order if t in rules.deferred))
    return Layout((group,), data_format)

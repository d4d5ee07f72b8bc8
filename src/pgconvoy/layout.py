"""The resolved migration layout: groups in order, their tables in load order, and file names.

This is the plain-data contract between the manifests (what the user wrote), rendering, data export
and the runner. Group NN renders `NN-schema-NAME.sql` and `(NN+9)-data-NAME.sql`, as in the seed report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pgconvoy.catalog.model import Catalog, Name
from pgconvoy.graph import FkGraph, forward_references

DataFormat = Literal["copy", "insert"]
ForeignKeys = Literal["during", "after"]
DATA_OFFSET = 9


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
    tables: tuple[Name, ...] = field(init=False, compare=False)  # every group's tables, in load order

    def __post_init__(self) -> None:
        object.__setattr__(self, "tables", tuple(t for g in self.groups for t in g.tables))

    def group_of(self, table: Name) -> Group | None:
        return next((g for g in self.groups if table in g.tables), None)

    @property
    def last_data_number(self) -> int:
        return max((g.number for g in self.groups), default=0) + DATA_OFFSET


def two_pass_rules(catalog: Catalog, order: tuple[Name, ...]) -> dict[Name, tuple[str, ...]]:
    """The columns each table must load as NULL when tables load in `order` with FKs in place."""
    return {
        table: tuple(sorted({c for fk in fks for c in fk.columns}))
        for table, fks in forward_references(catalog, order).items()
    }


def single_group(catalog: Catalog, graph: FkGraph, name: str = "all", data_format: DataFormat = "copy") -> Layout:
    """Every table in one group, in the graph's order, with the two-pass rules that order needs."""
    rules = two_pass_rules(catalog, graph.order)
    group = Group(1, name, graph.order, tuple(sorted(rules.items())))
    return Layout((group,), data_format)

"""Writing group files and `project.yml` in the shape users write them."""

from __future__ import annotations

from typing import Any

import yaml

from pgconvoy.manifest.models import GroupManifest, Project, TableSpec


def group_data(manifest: GroupManifest) -> dict[str, Any]:
    """A group as plain data in the shape users write: bare names, `rows: N` when there is no tolerance."""
    data: dict[str, Any] = {}
    if manifest.description:
        data["description"] = manifest.description
    data["tables"] = [_table_data(name, spec) for name, spec in manifest.entries()]
    if manifest.indexes:
        data["indexes"] = [i.name if i.name and i.table is None else _Flow(i.model_dump(exclude_none=True))
                           for i in manifest.indexes]
    if manifest.rls:
        data["rls"] = {t: _Flow(r.model_dump(exclude_none=True, exclude_defaults=True) or {"enabled": True})
                       for t, r in manifest.rls.items()}
    if manifest.expect:
        data["expect"] = _Flow(manifest.expect.model_dump(exclude_none=True))
    return data


def _table_data(name: str, spec: TableSpec) -> str | dict[str, Any]:
    entry: dict[str, Any] = {}
    if spec.rows is not None:
        tolerance = spec.rows.tolerance
        entry["rows"] = spec.rows.expected if tolerance == 0 else {"expected": spec.rows.expected,
                                                                     "tolerance": tolerance}
    if spec.two_pass:
        entry["two_pass"] = list(spec.two_pass)
    if spec.deferred:
        entry["deferred"] = True
    return {name: _Flow(entry)} if entry else name


def dump_group(manifest: GroupManifest) -> str:
    """A group file's YAML text: stable key order, one line per table, inner maps in flow style."""
    return _dump(group_data(manifest))


def dump_project(project: Project) -> str:
    """`project.yml` text: name, source and schemas always, other keys when they differ from defaults."""
    data: dict[str, Any] = {"name": project.name}
    if project.source is not None:
        data["source"] = project.source
    data["schemas"] = _FlowList(project.schemas)
    rest = project.model_dump(exclude_defaults=True, exclude={"name", "source", "schemas"})
    for key, value in rest.items():
        data[key] = _Flow(value) if isinstance(value, dict) else value
    return _dump(data)


class _Flow(dict[str, Any]):
    """A mapping written on one line: `{rows: 3}`."""


class _FlowList(list[Any]):
    """A list written on one line: `[public, hotels]`."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_flow(dumper: yaml.SafeDumper, value: dict[str, Any]) -> yaml.MappingNode:
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=True)


def _represent_flow_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Flow, _represent_flow)
_Dumper.add_representer(_FlowList, _represent_flow_list)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)

"""The user's project as validated data: `project.yml`, `groups/NN-name.yml` and `checks/*`.

YAML is composed (not just loaded) so that every mapping key and sequence item keeps its line: a
validation error then points at `file:line` with the key path, e.g.
`groups/01-foundation.yml:7: tables[2].tenant_registry.rows: expected an integer or {expected, tolerance}, got 'three'`.
String values may use Jinja like dbt: `{{ env_var('X') }}` or `{{ env_var('X', 'default') }}`.

Hostile input gets one such line too, never a traceback: files are regular, at most 10 MB of UTF-8
without NUL bytes; aliases may not expand past a million nodes nor anything nest past 100 levels; Jinja
runs in jinja2's sandbox, on a budget of work and size per file.

- `models`: the pydantic models and their validators;
- `loading`: reading a file, YAML with line marks, `Lines`;
- `jinja`: the sandboxed environment; `budget`: the limits of its work and of the sizes of its values;
- `errors`: ManifestError, validation errors as `file:line: key: message`;
- `project`: `load_project`, the loaded project, `json_schema`; `dump`: writing group files and `project.yml`.
"""

from pgconvoy.manifest.dump import dump_group, dump_project, group_data
from pgconvoy.manifest.errors import ManifestError, Path_, describe_errors
from pgconvoy.manifest.loading import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, Lines, read_file, read_yaml
from pgconvoy.manifest.models import (
    CheckDefaults,
    ChecksFile,
    CheckSpec,
    DataOptions,
    Expect,
    GroupManifest,
    Ignore,
    IndexSpec,
    LintLevel,
    Project,
    RlsSpec,
    RoleSpec,
    Rows,
    TableItem,
    TableSpec,
    Threshold,
    Timeouts,
    milliseconds,
    size_bytes,
)
from pgconvoy.manifest.project import (
    CHECKS_DIR,
    GROUP_FILE,
    GROUPS_DIR,
    PROJECT_FILE,
    LoadedCheck,
    LoadedGroup,
    LoadedProject,
    json_schema,
    load_project,
)

__all__ = [
    "CHECKS_DIR", "GROUPS_DIR", "GROUP_FILE", "MAX_DEPTH", "MAX_FILE_BYTES", "MAX_NODES", "PROJECT_FILE",
    "CheckDefaults", "CheckSpec", "ChecksFile", "DataOptions", "Expect", "GroupManifest", "Ignore",
    "IndexSpec", "Lines", "LintLevel", "LoadedCheck", "LoadedGroup", "LoadedProject", "ManifestError",
    "Path_", "Project", "RlsSpec", "RoleSpec", "Rows", "TableItem", "TableSpec", "Threshold", "Timeouts",
    "describe_errors", "dump_group", "dump_project", "group_data", "json_schema", "load_project",
    "milliseconds", "read_file", "read_yaml", "size_bytes",
]

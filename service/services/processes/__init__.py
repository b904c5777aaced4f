"""Process versions (deploy, activate, load) and their change: migration, comparison, checks.

`from service.services import processes` gives the version functions (versions.py), which every
layer above uses; the other use cases of process change are submodules of this package.
"""

from service.services.processes.versions import (
    DeployResult,
    VersionSummary,
    activate,
    active_definition,
    active_version,
    active_version_or_none,
    clear_cache,
    definition,
    deploy,
    deploy_file,
    ensure_configured_process,
    find_version,
    initial_statuses,
    list_versions,
)

__all__ = [
    "DeployResult", "VersionSummary", "activate", "active_definition", "active_version",
    "active_version_or_none", "clear_cache", "definition", "deploy", "deploy_file",
    "ensure_configured_process", "find_version", "initial_statuses", "list_versions",
]

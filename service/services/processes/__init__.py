"""Process versions (deploy, activate, load) and their change: migration, comparison, checks.

`from service.services import processes` gives the version functions (versions.py), which every
layer above uses; the other use cases of process change are submodules of this package.
"""

from service.services.processes.versions import (
    DeployResult,
    VersionSummary,
    activate,
    activation_overview,
    active_definition,
    active_version,
    active_version_or_none,
    clear_cache,
    definition,
    definitions_in_use,
    deploy,
    deploy_file,
    deployed_definitions,
    ensure_configured_process,
    find_version,
    initial_statuses,
    list_versions,
    rollback,
    school_versions,
    versions_in_use,
)

__all__ = [
    "DeployResult", "VersionSummary", "activate", "activation_overview", "active_definition", "active_version",
    "active_version_or_none", "clear_cache", "definition", "definitions_in_use", "deploy", "deploy_file",
    "deployed_definitions", "ensure_configured_process", "find_version", "initial_statuses", "list_versions",
    "rollback", "school_versions", "versions_in_use",
]

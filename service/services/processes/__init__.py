"""Process versions and everything about changing the process (see versions.py, migration.py)."""

from service.services.processes.versions import *  # noqa: F403
from service.services.processes.versions import __all__, initial_statuses  # noqa: F401

"""Test fixtures shared by every test in the repository: the engine's pytest plugin
(lowcode/testing/pytest_plugin.py: ``site``, ``ctx``, ``client``, ``site_with_apps``, ...),
which apps outside this repository load the same way. MariaDB and Redis come from
``scripts/services.sh`` (``make test`` starts them; tests/services.py starts them too when
a developer runs pytest directly)."""
import os

import pytest

pytest.register_assert_rewrite("lowcode.testing.pytest_plugin")  # imported below before pytest loads it

# Tests and tests/e2e import these from here; importing the plugin also sets Django up.
from lowcode.testing.pytest_plugin import create_site, drop_site, mariadb_root, redis_url  # noqa: E402,F401

ROOT = os.path.dirname(os.path.abspath(__file__))

pytest_plugins = ["lowcode.testing.pytest_plugin"]

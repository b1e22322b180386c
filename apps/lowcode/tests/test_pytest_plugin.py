"""The site fixtures as a partner's tests use them: a test folder outside this repository
with only ``pytest_plugins = ["lowcode.testing.pytest_plugin"]`` in its conftest.py."""
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_site_with_apps_in_a_partners_tests(tmp_path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["lowcode.testing.pytest_plugin"]\n')
    (tmp_path / "test_partner.py").write_text(textwrap.dedent('''
        import lowcode

        def test_fresh_site(site_with_apps, bench):
            site = site_with_apps("property_app")
            with lowcode.site_context(site, bench=bench) as local:
                assert lowcode.get_installed_apps() == ["lowcode", "crm_app", "property_app"]
                assert local.db.exists("Custom Field", "Lead-interested_property")
                assert local.conf["db_type"] == site_with_apps.db_type == "sqlite"

        def test_shared_site(ctx):
            assert "service_app" in lowcode.get_installed_apps()
    '''))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "apps"), ROOT]))
    result = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path), "-q", "-p", "no:cacheprovider",
                             "-k", "sqlite"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "2 passed" in result.stdout, result.stdout[-2000:]


def test_engines_come_from_lowcode_test_engines(tmp_path):
    """LOWCODE_TEST_ENGINES=sqlite: a machine without MariaDB and Redis runs the site tests
    on SQLite only (no MariaDB credentials needed, not even to drop the site); anything but
    sqlite and mariadb is refused naming the variable."""
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["lowcode.testing.pytest_plugin"]\n')
    (tmp_path / "test_engines.py").write_text(textwrap.dedent('''
        def test_fresh_site(site_with_apps):
            site_with_apps()
            assert site_with_apps.db_type == "sqlite"
    '''))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOWCODE_MARIADB", "LOWCODE_REDIS"))}
    env.update(PYTHONPATH=os.path.join(ROOT, "apps"), LOWCODE_TEST_ENGINES="sqlite")  # not ROOT: no tests.services
    run = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path), "-q", "-p", "no:cacheprovider"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "1 passed" in run.stdout

    del env["LOWCODE_TEST_ENGINES"]  # both engines, and no MariaDB: the error says what to set
    run = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path), "-q", "-p", "no:cacheprovider"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode != 0 and "1 failed, 1 passed" in run.stdout, run.stdout[-3000:]
    assert "or LOWCODE_TEST_ENGINES=sqlite to test on SQLite only" in run.stdout

    env["LOWCODE_TEST_ENGINES"] = "sqlite,oracle"
    run = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path), "-q", "-p", "no:cacheprovider"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode != 0
    assert "LOWCODE_TEST_ENGINES='sqlite,oracle'" in run.stdout + run.stderr

"""``lowcode new-app``: the skeleton it writes installs on a site, serves its DocType over
REST, passes its own test (run by pytest in a subprocess, as a partner would, on the fresh
sites of the engine's pytest plugin), uninstalls, and builds into a wheel that carries
hooks.py and the DocType JSON; run in a bench, it lists the app in the bench's apps.txt."""
import glob
import json
import os
import re
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner

import lowcode
from lowcode.cli import main
from lowcode.tests.conftest import _cleanup

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def new_app(*args, bench):
    """``lowcode --sites-path BENCH new-app ...`` (never the test session's bench: its apps.txt)."""
    return CliRunner().invoke(main, ["--sites-path", str(bench), "new-app", *args])


@pytest.fixture
def made(tmp_path, unique, monkeypatch):
    """An app made by ``lowcode new-app`` in tmp_path, outside any bench, and importable."""
    name = f"newapp_{unique}"
    result = new_app(name, "--dest", str(tmp_path), "--title", "املاک", "--publisher", "Acme Ltd",
                     "--doctype", f"Estate Unit {unique}", bench=tmp_path / "no-bench")
    assert result.exit_code == 0, result.output
    assert f"Created app {name} in {tmp_path / name}" in result.output
    assert f"add {name} to the bench's apps.txt yourself" in result.output
    monkeypatch.syspath_prepend(str(tmp_path / name))
    return name, tmp_path / name, f"Estate Unit {unique}"


@pytest.fixture
def generated(made, ctx):
    """``made``, uninstalled from the test's site afterwards."""
    yield made
    _cleanup(ctx.db, made[0])


def test_the_skeleton_has_what_the_engine_reads(made):
    name, path, doctype = made
    folder = f"estate_unit_{doctype.rsplit(' ', 1)[1]}"
    for rel in ("pyproject.toml", "conftest.py", f"{name}/__init__.py", f"{name}/hooks.py", f"{name}/doctype/{folder}/{folder}.json",
                f"{name}/doctype/{folder}/{folder}.py", f"{name}/doctype/{folder}/test_{folder}.py",
                f"{name}/fixtures", f"{name}/workflows", f"{name}/public", f"{name}/guide/en/{name}.md"):
        assert (path / rel).exists(), rel
    from lowcode.apps import app_doctype_files, load_app_hooks
    hooks = load_app_hooks(name)
    assert (hooks["app_name"], hooks["app_title"], hooks["app_publisher"]) == (name, "املاک", "Acme Ltd")
    assert hooks["required_apps"] == ["lowcode"]
    assert [m for _, m in app_doctype_files(name)] == [f"{name}.doctype.{folder}.{folder}"]
    definition = json.loads((path / name / "doctype" / folder / f"{folder}.json").read_text())
    assert (definition["name"], definition["module"]) == (doctype, "املاک")
    assert f'name = "{name}"' in (path / "pyproject.toml").read_text()
    # Every hook hooks.py offers (commented out) is one the install accepts (lowcode/hook_names.py).
    from lowcode.hook_names import HOOKS
    offered = re.findall(r"^# (\w+) = ", (path / name / "hooks.py").read_text(), re.M)
    assert len(offered) >= 10 and set(offered) <= set(HOOKS), set(offered) - set(HOOKS)
    # The tests partners write use the engine's plugin (site_with_apps), not fixtures of their own.
    assert 'pytest_plugins = ["lowcode.testing.pytest_plugin"]' in (path / "conftest.py").read_text()
    assert f'site_with_apps("{name}")' in (path / name / "doctype" / folder / f"test_{folder}.py").read_text()


def test_install_use_over_rest_and_uninstall(generated, ctx, client):
    from lowcode import auth
    from lowcode.installer import install_app, uninstall_app
    name, path, doctype = generated
    assert install_app(name) is True
    key, secret = auth.generate_keys("Administrator")
    ctx.db.commit()

    # The DocType's controller (validate trims the title) runs behind REST.
    created = client.post(f"/api/resource/{doctype}", json.dumps({"title": "  Villa 7 "}),
                          content_type="application/json", HTTP_AUTHORIZATION=f"token {key}:{secret}")
    assert created.status_code == 200, created.content[:500]
    record = created.json()["data"]
    assert record["title"] == "Villa 7"
    assert lowcode.get_doc(doctype, record["name"]).title == "Villa 7"

    ctx.db.begin()
    assert doctype in uninstall_app(name)
    ctx.db.commit()
    assert not ctx.db.exists("DocType", doctype)
    assert name not in lowcode.get_installed_apps()


def test_its_generated_test_passes_on_the_plugins_fresh_sites(made):
    """pytest on the package, as a partner runs it: the plugin makes a site with the app on
    each engine (LOWCODE_TEST_ENGINES; MariaDB and Redis from the LOWCODE_* environment)."""
    from lowcode.testing.pytest_plugin import ENGINES
    name, path, doctype = made
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(path), os.path.join(ROOT, "apps"), ROOT]))
    run = subprocess.run([sys.executable, "-m", "pytest", name, "-q", "-p", "no:cacheprovider"], cwd=path,
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert f"{len(ENGINES)} passed" in run.stdout


def test_in_a_bench_the_app_is_listed_in_apps_txt(tmp_path):
    bench = tmp_path / "sites"
    bench.mkdir()
    (bench / "apps.txt").write_text("lowcode\ncrm_app")  # no newline at the end
    result = new_app("listed_app", "--dest", str(tmp_path), bench=bench)
    assert result.exit_code == 0, result.output
    assert f"Added listed_app to {bench / 'apps.txt'}" in result.output
    assert (bench / "apps.txt").read_text() == "lowcode\ncrm_app\nlisted_app\n"
    from lowcode.sites import add_to_apps_txt, apps_txt
    assert add_to_apps_txt("listed_app", str(bench)) is None  # listed once
    assert apps_txt(str(bench)) == ["lowcode", "crm_app", "listed_app"]


def test_wheel_carries_hooks_and_doctype_json(made, tmp_path):
    name, path, doctype = made
    out = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(path)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    wheel, = glob.glob(str(out / f"{name}-0.0.1-*.whl"))
    files = set(zipfile.ZipFile(wheel).namelist())
    folder = f"estate_unit_{doctype.rsplit(' ', 1)[1]}"
    assert {f"{name}/hooks.py", f"{name}/doctype/{folder}/{folder}.json", f"{name}/doctype/{folder}/{folder}.py",
            f"{name}/guide/en/{name}.md"} <= files


@pytest.mark.parametrize("args, message", [
    (["Property-App"], "invalid app name 'Property-App': use a lower-case Python identifier"),
    (["class"], "invalid app name 'class'"),
    (["json"], "invalid app name 'json': a Python package of that name is already installed"),
    (["crm_app"], "invalid app name 'crm_app': a Python package of that name is already installed"),
    (["fine_app", "--doctype", "3 Units"], "invalid --doctype '3 Units'"),
    (["fine_app", "--title", 'Say "hi"'], "invalid --title"),
    (["fine_app", "--publisher", "Two\nLines"], "invalid --publisher"),
])
def test_bad_names_are_refused_and_nothing_is_written(args, message, tmp_path):
    result = new_app(*args, "--dest", str(tmp_path), bench=tmp_path / "no-bench")
    assert result.exit_code == 1
    assert message in result.output
    assert os.listdir(tmp_path) == []


def test_an_existing_folder_is_not_overwritten(tmp_path):
    (tmp_path / "taken_app").mkdir()
    (tmp_path / "taken_app" / "keep.txt").write_text("mine")
    result = new_app("taken_app", "--dest", str(tmp_path), bench=tmp_path / "no-bench")
    assert result.exit_code == 1 and "already exists" in result.output
    assert os.listdir(tmp_path / "taken_app") == ["keep.txt"]

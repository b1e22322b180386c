"""docs/APPS.md stays true: its walk-through's commands run in a temporary bench (new-site on
SQLite, new-app, install-app, the app's own test, migrate, uninstall-app, the wheel), and its
hooks table is the one lowcode/hook_names.py makes.

``pip install -e`` is the one command not run (it would change the shared environment): the
app's folder goes on PYTHONPATH instead."""
import os
import re
import shlex
import subprocess
import sys
import textwrap
import zipfile

from lowcode.hook_names import HOOKS, markdown_table

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DOC = os.path.join(ROOT, "docs", "APPS.md")
LOWCODE = [sys.executable, "-c", "import sys; from lowcode.cli import main; sys.argv[0] = 'lowcode'; main()"]


def read_doc():
    with open(DOC, encoding="utf-8") as f:
        return f.read()


def walk_through():
    """The commands of the doc's first ``sh`` block, one per line."""
    block = re.search(r"```sh\n(.*?)```", read_doc(), re.S).group(1)
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


def test_the_hooks_table_is_made_from_hook_names():
    doc = read_doc()
    table = re.search(r"<!-- hooks table: generated from lowcode/hook_names.py -->\n(.*?)<!-- end of hooks table -->",
                      doc, re.S)
    assert table, "docs/APPS.md lost its hooks table markers"
    assert table.group(1) == markdown_table(), \
        "docs/APPS.md's hooks table differs from HOOKS: paste `python -m lowcode.hook_names` into it"
    assert all(f"| `{name}` |" in table.group(1) for name in HOOKS)
    printed = subprocess.run([sys.executable, "-m", "lowcode.hook_names"], capture_output=True, text=True,
                             env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "apps")), timeout=60)
    assert printed.stdout == table.group(1), printed.stderr  # what the doc says to paste


def test_the_walk_through_runs_in_a_fresh_bench(tmp_path):
    commands = walk_through()
    steps = [" ".join(c[:3]) if c[0] == "lowcode" and c[1].startswith("--") else " ".join(c[:2]) for c in commands]
    for essential in ("lowcode new-site", "lowcode new-app", "pip install", "python -m", "pip wheel"):
        assert any(s.startswith(essential) for s in steps), (essential, steps)
    assert any("install-app" in c for c in commands) and any("uninstall-app" in c for c in commands)

    env = {k: v for k, v in os.environ.items() if k != "LOWCODE_SITES"}  # the bench is ./sites
    env["LOWCODE_TEST_ENGINES"] = "sqlite"  # the app's test on SQLite only: MariaDB is the plugin's own test
    paths = [os.path.join(ROOT, "apps"), ROOT]
    outputs = []
    for command in commands:
        if command[:3] == ["pip", "install", "-e"]:
            paths.insert(0, str(tmp_path / command[3]))
            continue
        argv = {"lowcode": LOWCODE, "python": [sys.executable], "pip": [sys.executable, "-m", "pip"]}[command[0]]
        env["PYTHONPATH"] = os.pathsep.join(paths)
        run = subprocess.run(argv + command[1:], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, (command, run.stdout[-3000:], run.stderr[-3000:])
        outputs.append(run.stdout)
    text = "\n".join(outputs)

    assert "Created site villas.localhost (sqlite)" in text
    assert "Added villa_app to" in text
    assert (tmp_path / "sites" / "apps.txt").read_text().splitlines()[-1] == "villa_app"
    assert "Installed villa_app on villas.localhost" in text
    assert "Migrated villas.localhost" in text
    assert "1 passed" in text  # the generated test, on a fresh SQLite site of the plugin
    assert "Uninstalled villa_app from villas.localhost (1 DocTypes removed)" in text
    # The test the doc shows is the one new-app wrote.
    shown = re.search(r"The generated `doctype/villa/test_villa.py`:\n\n(.*?)\n\n", read_doc(), re.S).group(1)
    generated = (tmp_path / "apps" / "villa_app" / "villa_app" / "doctype" / "villa" / "test_villa.py").read_text()
    assert textwrap.dedent(shown) in generated
    wheel = tmp_path / "dist" / "villa_app-0.0.1-py3-none-any.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"villa_app/hooks.py", "villa_app/doctype/villa/villa.json", "villa_app/doctype/villa/villa.py"} <= names

"""The ``commands`` hook: apps in the bench's apps.txt add commands to ``lowcode``
(hooks.py ``commands`` dotted paths, and Frappe's ``<app>/commands.py`` list), run in
process through click's runner against a bench that holds the test site."""
import os

import pytest
from click.testing import CliRunner

from lowcode.cli import main

COMMANDS = '''
import click

from lowcode.cli import pass_bench


@click.command("count-roles")
@click.option("--like", default="%")
@pass_bench
def count_roles(bench, like):
    """How many roles match LIKE on the site."""
    with bench.context() as local:
        n = local.db.sql("SELECT COUNT(*) FROM `tabRole` WHERE `name` LIKE %s", (like,))[0][0]
    click.echo(f"{local.site}: {n} roles")


@click.command("migrate")
def migrate():
    """Takes the engine's name: must be left out."""
    click.echo("app migrate")


not_a_command = "text"
'''

FRAPPE_STYLE = '''
import click


@click.group("tools")
def tools():
    """The app's tools."""


@tools.command("hello")
@click.argument("who")
def hello(who):
    click.echo(f"hello {who}")


commands = [tools]
'''


@pytest.fixture
def app_bench(temp_app, site, bench, tmp_path, unique):
    """A bench whose apps.txt lists a temp app with commands, holding the test site."""
    name = f"cmdapp_{unique}"
    app = temp_app(f'commands = ["{name}.cli.count_roles", "{name}.cli.migrate", "{name}.cli.not_a_command"]\n',
                   name=name)
    app.write("cli.py", COMMANDS)
    app.write("commands.py", FRAPPE_STYLE)
    broken = temp_app('commands = ["no_such_module_anywhere.command"]\n')
    own = tmp_path / "bench"
    own.mkdir()
    (own / "apps.txt").write_text(f"lowcode\n{broken.name}\n{app.name}\n")
    os.symlink(os.path.join(bench, site), own / site)
    return str(own), site, app


def run(args, bench_path, site):
    # env: the runner puts back LOWCODE_SITES, which the command sets for the engine.
    result = CliRunner().invoke(main, ["--sites-path", bench_path, "--site", site] + args,
                                env={"LOWCODE_SITES": os.environ.get("LOWCODE_SITES")})
    return result


def test_app_commands_run_in_the_site(app_bench):
    bench_path, site, app = app_bench
    result = run(["count-roles", "--like", "System Manager"], bench_path, site)
    assert result.exit_code == 0, result.output
    assert f"{site}: 1 roles" in result.output

    listed = run(["--help"], bench_path, site)
    assert "count-roles" in listed.output and "tools" in listed.output and "new-site" in listed.output


def test_frappe_style_commands_py(app_bench):
    bench_path, site, app = app_bench
    result = run(["tools", "hello", "Sara"], bench_path, site)
    assert result.exit_code == 0, result.output
    assert "hello Sara" in result.output


def test_broken_and_clashing_commands_are_left_out_with_warnings(app_bench):
    bench_path, site, app = app_bench
    result = run(["tools", "hello", "x"], bench_path, site)
    assert result.exit_code == 0, result.output
    # The broken app is named; the engine's migrate keeps its name; a non-command is refused.
    assert "commands of app tmpapp_" in result.output and "no_such_module_anywhere" in result.output
    assert f"app {app.name}: the command 'migrate' ({app.name}.cli.migrate) is already taken" in result.output
    assert f"{app.name}.cli.not_a_command is not a click command" in result.output
    from lowcode import cli
    assert cli.main.get_command(None, "migrate") is cli.migrate


def test_unknown_command_still_fails_clearly(app_bench):
    bench_path, site, _ = app_bench
    result = run(["no-such-command"], bench_path, site)
    assert result.exit_code != 0
    assert "No such command 'no-such-command'" in result.output

"""`make run` and the README's instructions: the port and host can be chosen, one process
prepares the database, and every command shown works without an active virtualenv."""

import re
import shutil
import subprocess

import pytest

from lms.config import PROJECT_ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def run_recipe(*variables: str) -> list[str]:
    """The commands `make run` would run (printed by make -n, nothing executed)."""
    printed = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", *variables],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in printed.splitlines() if "--app wsgi" in line]


def test_make_run_serves_on_5000_by_default_and_on_the_chosen_port_and_host():
    assert run_recipe()[-1].endswith("run --host 127.0.0.1 --port 5000")
    assert run_recipe("PORT=8080", "HOST=0.0.0.0")[-1].endswith("run --host 0.0.0.0 --port 8080")


def test_make_run_prepares_everything_in_one_process_before_serving():
    flask_commands = run_recipe()
    assert len(flask_commands) == 2, flask_commands
    assert " demo setup" in flask_commands[0]


def readme_section(title: str) -> str:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    return text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_readme_says_how_to_choose_the_port():
    assert "make run PORT=8080" in readme_section("Try it")


def test_readme_commands_use_the_virtualenvs_flask():
    commands = re.findall(r"```sh\n(.*?)```", readme_section("Command line"), re.S)[0].splitlines()
    assert commands and all(line.startswith(".venv/bin/flask --app wsgi ") for line in commands), commands


def test_readme_lists_one_demo_login_per_role():
    from lms.common.vocabulary import Role

    section = readme_section("Try it")
    assert all(re.search(rf"\b{role.value}\b", section) for role in Role), [r.value for r in Role]

"""The command line of DESIGN §6 on both databases.

The commands run in this process (`tests.clikit.invoke`: the same Typer app, arguments,
standard input and environment, without the seconds a fresh interpreter spends importing
before the first line). What only a real process shows runs as one, through the
installed ``livebase`` script: an answer streaming out while standard input stays open,
and serve refusing to start.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from livebase.settings import normalise_database_url
from tests.clikit import invoke
from tests.conftest import _fresh_pg_database
from tests.live_server import _livebase


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cli_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    data = tmp_path_factory.mktemp(f"cli-{request.param}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEBASE_")}
    env.update(LIVEBASE_DEMO="1", LIVEBASE_DATA_DIR=str(data), LIVEBASE_LOG_LEVEL="WARNING")
    if request.param == "postgresql":
        url = _fresh_pg_database(f"livebase_cli_test_{os.getpid()}")
        env["LIVEBASE_DATABASE_URL"] = url.replace("postgresql+psycopg://", "postgresql://")
    run(env, "migrate")
    yield env


@pytest.fixture
def plain_env(tmp_path: Path) -> dict[str, str]:
    """For the commands that never open the database (moderate, --help, serve's refusal):
    one run, not one per database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEBASE_")}
    env.update(LIVEBASE_DEMO="1", LIVEBASE_DATA_DIR=str(tmp_path), LIVEBASE_LOG_LEVEL="WARNING")
    return env


def run(
    env: dict[str, str], *args: str, stdin: str = "", ok: bool = True
) -> subprocess.CompletedProcess[str]:
    return invoke(env, *args, stdin=stdin, ok=ok)


def last_line(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout.strip().splitlines()[-1]


def test_create_commands_print_the_new_id_last(cli_env: dict[str, str]) -> None:
    base = last_line(run(cli_env, "bases", "create", "--name", "海淀基地", "--district", "海淀区"))
    assert base.startswith("base_")
    org = last_line(
        run(cli_env, "orgs", "create", "--base", base, "--kind", "brand", "--name", "品牌一")
    )
    assert org.startswith("org_")
    user = last_line(
        run(cli_env, "users", "create", "--username", "cli_host", stdin="a-good-password\n")
    )
    assert user.startswith("usr_")
    grant = last_line(run(cli_env, "users", "grant", "cli_host", "host", "--org", org))
    assert grant.startswith("rg_")
    op_user = last_line(
        run(cli_env, "users", "create", "--username", "cli_op", stdin="a-good-password\n")
    )
    assert op_user.startswith("usr_")
    assert last_line(
        run(cli_env, "users", "grant", "cli_op", "operator", "--base", base)
    ).startswith("rg_")


def test_cli_errors_exit_non_zero_with_a_message(cli_env: dict[str, str]) -> None:
    proc = run(
        cli_env,
        "orgs",
        "create",
        "--base",
        "base_missing",
        "--kind",
        "brand",
        "--name",
        "x",
        ok=False,
    )
    assert proc.returncode == 1 and "No base" in proc.stderr
    proc = run(
        cli_env, "users", "create", "--username", "Bad Name", stdin="pw-long-enough\n", ok=False
    )
    assert proc.returncode == 1 and "Username" in proc.stderr
    proc = run(cli_env, "users", "grant", "nobody_here", "admin", ok=False)
    assert proc.returncode == 1
    run(cli_env, "users", "create", "--username", "scope_less", stdin="pw-long-enough\n")
    proc = run(cli_env, "users", "grant", "scope_less", "operator", ok=False)
    assert proc.returncode == 1 and "needs a base" in proc.stderr


def test_demo_loads_once_and_again_adds_nothing(cli_env: dict[str, str]) -> None:
    first = run(cli_env, "demo")
    assert "livebase-demo" in first.stdout and "held by compliance" not in first.stdout
    run(cli_env, "demo")
    url = normalise_database_url(
        cli_env.get("LIVEBASE_DATABASE_URL", ""), Path(cli_env["LIVEBASE_DATA_DIR"])
    )
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            products, shows, users = (
                c.execute(sa.text(f"select count(*) from {table}")).scalar_one()
                for table in ("products", "shows", "users")
            )
    finally:
        engine.dispose()
    # Two shows: the agency's upcoming one and a brand's own show on air (issue 18 item 19).
    assert products == 20 and shows == 2 and users >= 10


def test_moderate_streams_one_json_line_per_input_line(plain_env: dict[str, str]) -> None:
    lines = (
        "\n".join(
            [
                "主播好看",
                '{"text": "加我微信 abc12345 私聊", "id": "m2"}',
                '{"text": "全网最低价", "kind": "listing"}',
                "{not json",
                '{"text": "x", "kind": "poem"}',
                "",
            ]
        )
        + "\n"
    )
    proc = run(plain_env, "moderate", stdin=lines)
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(out) == 6
    assert out[0]["verdict"] == "allow" and out[0]["kind"] == "chat"
    assert out[1]["id"] == "m2" and out[1]["verdict"] != "allow" and "contact" in out[1]["labels"]
    assert out[2]["kind"] == "listing" and "ad_law" in out[2]["labels"]
    assert out[3] == {"error": out[3]["error"], "line": 4}
    assert out[4]["line"] == 5 and "error" in out[4]
    assert out[5]["verdict"] == "allow"


def test_moderate_answers_before_the_input_ends(plain_env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [*_livebase(), "moderate"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=plain_env,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write("你好\n")
        proc.stdin.flush()
        first = json.loads(proc.stdout.readline())  # blocks until the answer streams out
        assert first["verdict"] == "allow"
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)


def test_help_lists_the_contract_commands(plain_env: dict[str, str]) -> None:
    out = run(plain_env, "--help").stdout
    for cmd in ("serve", "migrate", "demo", "worker", "moderate", "bases", "orgs", "users"):
        assert cmd in out


def test_serve_refuses_a_default_secret_outside_demo(plain_env: dict[str, str]) -> None:
    # A real process: were the refusal broken, serve would start listening, and a
    # timeout ends a process, not a server inside the test process.
    env = dict(plain_env, LIVEBASE_DEMO="0")
    proc = subprocess.run(
        [*_livebase(), "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1 and "LIVEBASE_SECRET_KEY" in proc.stderr

"""The ``livebase`` command line (DESIGN §6). Create commands print the new id last."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Annotated

import typer

from livebase.runtime import Runtime, build_runtime
from livebase.settings import Settings

app = typer.Typer(
    help="livebase: a self-hostable live-commerce platform.",
    no_args_is_help=True,
    add_completion=False,
)
bases_app = typer.Typer(help="Bases (直播电商基地).", no_args_is_help=True)
orgs_app = typer.Typer(help="Organisations: brands and agencies.", no_args_is_help=True)
users_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
app.add_typer(bases_app, name="bases")
app.add_typer(orgs_app, name="orgs")
app.add_typer(users_app, name="users")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _sessions() -> Runtime:
    return build_runtime(Settings())


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="processes (production)")] = 1,
) -> None:
    """Run the app (embedded mode runs timed jobs too)."""
    import uvicorn

    settings = Settings()
    try:
        settings.check_production_safety()
    except Exception as exc:
        _fail(str(exc))
    uvicorn.run(
        "livebase.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Forwarded headers only from the proxies named; with none, never (uvicorn would
        # otherwise trust 127.0.0.1, i.e. any local process).
        proxy_headers=bool(settings.trusted_proxies.strip()),
        forwarded_allow_ips=settings.trusted_proxies.strip() or None,
        access_log=False,
        log_config=None,
    )


@app.command()
def migrate() -> None:
    """Upgrade the database to the newest schema."""
    from livebase.migrate import upgrade

    settings = Settings()
    upgrade(settings.sqlalchemy_url)
    typer.echo(f"migrated {settings.sqlalchemy_url.split('@')[-1]}")


@app.command()
def demo() -> None:
    """Load the demo base, organisations, accounts, products and a show (idempotent)."""
    from livebase.demo import load_demo

    rt = _sessions()
    try:
        with rt.sessions() as db, db.begin():
            summary = load_demo(db, rt.settings.uploads_dir)
    finally:
        rt.close()
    typer.echo(summary)


@app.command()
def worker() -> None:
    """Run timed jobs until interrupted (production: run one or more).

    The runtime is built from the feature registry, so this process knows every job kind
    that ``serve`` knows."""
    from livebase.jobs.service import Runner
    from livebase.logs import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    rt = _sessions()
    runner = Runner(rt.sessions, rt.jobs)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    runner.start()
    typer.echo("worker running; Ctrl-C to stop", err=True)
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        runner.stop()
        rt.close()


@app.command()
def moderate(kind: Annotated[str, typer.Option(help="chat | listing | script")] = "chat") -> None:
    """Check texts from standard input, one JSON verdict a line (DESIGN §6)."""
    from livebase.compliance import KINDS
    from livebase.compliance.cli import moderate_binary

    if kind not in KINDS:
        _fail(f"--kind must be one of {', '.join(KINDS)}")
    # Bytes, so a line that is not UTF-8 gets {"error", "line"} instead of ending the run.
    moderate_binary(sys.stdin.buffer, sys.stdout.buffer, default_kind=kind)


@bases_app.command("create")
def bases_create(
    name: Annotated[str, typer.Option()], district: Annotated[str, typer.Option()]
) -> None:
    from livebase.accounts.actors import SYSTEM_CLI
    from livebase.bases.service import do_create_base

    rt = _sessions()
    with rt.sessions() as db, db.begin():
        base = do_create_base(db, SYSTEM_CLI, name, district)
        typer.echo(base.id)
    rt.close()


@bases_app.command("list")
def bases_list() -> None:
    from livebase.bases.service import list_bases

    rt = _sessions()
    with rt.sessions() as db:
        for b in list_bases(db):
            typer.echo(f"{b.id}\t{b.name}\t{b.district}")
    rt.close()


@orgs_app.command("create")
def orgs_create(
    base: Annotated[str, typer.Option()],
    kind: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
) -> None:
    from livebase.accounts.actors import SYSTEM_CLI
    from livebase.bases.service import do_create_org
    from livebase.errors import ApiError

    rt = _sessions()
    try:
        with rt.sessions() as db, db.begin():
            org = do_create_org(db, SYSTEM_CLI, base, kind, name)
            typer.echo(org.id)
    except ApiError as exc:
        _fail(exc.detail)
    finally:
        rt.close()


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option()],
    display_name: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Create a user; the password is read from standard input."""
    from livebase.accounts.service import do_register
    from livebase.errors import ApiError

    password = sys.stdin.readline().rstrip("\n")
    rt = _sessions()
    try:
        with rt.sessions() as db, db.begin():
            user = do_register(db, username, password, display_name)
            typer.echo(user.id)
    except ApiError as exc:
        _fail(exc.detail)
    finally:
        rt.close()


@users_app.command("grant")
def users_grant(
    username: str,
    role: str,
    base: Annotated[str | None, typer.Option()] = None,
    org: Annotated[str | None, typer.Option()] = None,
    counter: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Give USERNAME the ROLE in a scope (operator/moderator: --base; merchant, agency,
    host: --org; clerk: --counter; admin: none)."""
    from livebase.accounts.actors import SYSTEM_CLI
    from livebase.accounts.service import do_grant, user_by_username
    from livebase.bases.service import get_base, get_org, get_pickup_counter
    from livebase.errors import ApiError

    rt = _sessions()
    try:
        with rt.sessions() as db, db.begin():
            user = user_by_username(db, username)
            if user is None:
                _fail(f"no user {username}")
                return
            if org:
                base = get_org(db, org).base_id
            elif counter:
                base = get_pickup_counter(db, counter).base_id
            elif base:
                get_base(db, base)
            grant = do_grant(
                db, SYSTEM_CLI, user, role, base_id=base, org_id=org, counter_id=counter
            )
            typer.echo(grant.id)
    except ApiError as exc:
        _fail(exc.detail)
    finally:
        rt.close()


def main() -> None:
    app()


if __name__ == "__main__":
    main()

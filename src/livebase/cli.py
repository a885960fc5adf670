"""The ``livebase`` command line (DESIGN §6). Create commands print the new id last."""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Annotated

import typer

from livebase.bonded.cli import bonded_app
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
luckybag_app = typer.Typer(help="Lucky bags (福袋): check a draw.", no_args_is_help=True)
app.add_typer(luckybag_app, name="luckybag")
media_app = typer.Typer(
    help="The media server: nginx-rtmp configured and supervised by livebase (DESIGN §8).",
    no_args_is_help=True,
)
app.add_typer(media_app, name="media")
app.add_typer(bonded_app, name="bonded")


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

    from livebase.rooms.wire import UVICORN_WS

    # The collector tuned for a long-lived server (livebase.gcpolicy), in every worker
    # process too (they read the environment); LIVEBASE_GC_TUNING=0 keeps CPython's.
    os.environ.setdefault("LIVEBASE_GC_TUNING", "1")
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
        # uvicorn's websockets protocol, letting the room hub write pre-built frames to
        # each transport, without permessage-deflate (livebase.rooms.wire; measured in
        # docs/realtime.md).
        **UVICORN_WS,
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


@luckybag_app.command("verify")
def luckybag_verify(
    bag_id: Annotated[str, typer.Argument(help="the lucky bag's id")],
    url: Annotated[
        str | None, typer.Option(help="server to read from (default LIVEBASE_PUBLIC_URL)")
    ] = None,
    file: Annotated[
        str | None, typer.Option(help='JSON file {"bag": {...}, "entrants": [...]} instead')
    ] = None,
) -> None:
    """Recompute a drawn bag's winners from its revealed seed: exit 0 on a match, 1 on a
    mismatch, 2 when it cannot be checked."""
    import os
    from pathlib import Path

    from livebase.rooms import luckybag_verify as lv

    try:
        if file is not None:
            bag, entrants = lv.load(Path(file))
        else:
            base = url or os.environ.get("LIVEBASE_PUBLIC_URL") or "http://127.0.0.1:8000"
            bag, entrants = lv.fetch(base, bag_id)
        if str(bag.get("id", bag_id)) != bag_id:
            raise lv.NotVerifiable(f"the file holds bag {bag.get('id')}, not {bag_id}")
        wrong = lv.problems(bag, entrants)
    except lv.NotVerifiable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:  # unreachable server and the like
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    winners = ", ".join(lv._winner_ids(bag)) or "-"
    typer.echo(f"bag {bag_id}: {len(entrants)} entrants, winners {winners}")
    if wrong:
        for line in wrong:
            typer.echo(f"mismatch: {line}")
        typer.echo("MISMATCH")
        raise typer.Exit(1)
    typer.echo("match: seed, entrants and winners verified")


@media_app.command("config")
def media_config() -> None:
    """Write nginx.conf (RTMP ingest, HLS, recording, callbacks) from LIVEBASE_* settings."""
    from livebase.media import nginx

    settings = Settings()
    conf = nginx.write_config(settings)
    missing = nginx.nginx_available(settings)
    if missing is None:
        try:
            nginx.check_config(settings)
        except RuntimeError as exc:
            _fail(f"nginx refuses {conf}: {exc}")
    else:
        typer.echo(f"note: {missing}; {nginx.INSTALL_HINT}", err=True)
    typer.echo(str(conf))


@media_app.command("serve")
def media_serve() -> None:
    """Run nginx-rtmp in the foreground, restarted whenever it dies, until interrupted."""
    from livebase.logs import configure_logging
    from livebase.media import nginx

    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    missing = nginx.nginx_available(settings)
    if missing is not None:
        _fail(f"{missing}. {nginx.INSTALL_HINT}")
    conf = nginx.write_config(settings)
    try:
        nginx.check_config(settings)
    except RuntimeError as exc:
        _fail(f"nginx refuses {conf}: {exc}")
    sup = nginx.Supervisor(settings)
    signal.signal(signal.SIGTERM, lambda *_: sup.stop())
    typer.echo(
        f"media server: rtmp :{settings.rtmp_port}/live, HLS http://0.0.0.0:"
        f"{settings.media_http_port}/hls/ (config {conf}); Ctrl-C to stop",
        err=True,
    )
    thread = threading.Thread(target=sup.run, name="nginx-supervisor", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        sup.stop()
        thread.join(20)


@media_app.command("test-stream")
def media_test_stream(
    show_id: Annotated[str, typer.Argument(help="the show to push into")],
    seconds: Annotated[float | None, typer.Option(help="stop after this long")] = None,
    size: Annotated[str, typer.Option(help="WxH")] = "1280x720",
    bitrate: Annotated[int, typer.Option(help="video kbit/s")] = 2000,
    caption: Annotated[
        str | None,
        typer.Option(help="a line of text across the picture (the frame check reads it)"),
    ] = None,
) -> None:
    """Push ffmpeg's test pattern with a burned-in clock and a tone to the show's ingest
    URL (its server and key, as its host would in OBS)."""
    import subprocess
    import time

    from livebase.errors import NotFound
    from livebase.media import ffmpeg
    from livebase.shows import service as shows

    rt = _sessions()
    try:
        with rt.sessions() as db:
            try:
                show = shows.get_show(db, show_id)
            except NotFound:
                _fail(f"no show {show_id}")
            url = f"{rt.settings.effective_rtmp_url}/{show.public_id}?key={show.stream_key}"
    finally:
        rt.close()
    cmd = ffmpeg.test_stream_command(
        rt.settings, url, seconds=seconds, size=size, bitrate_kbps=bitrate,
        start_epoch=time.time(), caption=caption,
    )  # fmt: skip
    typer.echo(
        f"pushing a test pattern to {rt.settings.effective_rtmp_url}/{show.public_id}", err=True
    )
    try:
        code = subprocess.call(cmd)
    except KeyboardInterrupt:
        code = 0
    if code != 0:
        _fail(f"ffmpeg exited with {code} (is the media server up? is the show ended?)")


def main() -> None:
    app()


if __name__ == "__main__":
    main()

"""``livebase bonded …``: the positive list from a CSV file (DESIGN §6 addition)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

bonded_app = typer.Typer(help="Bonded goods (保税): the positive list.", no_args_is_help=True)


@bonded_app.command("import-list")
def import_list(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    base: Annotated[str | None, typer.Option(help="One base (default: every base).")] = None,
    replace: Annotated[
        bool, typer.Option(help="Replace the list instead of extending it.")
    ] = False,
) -> None:
    """Import ``hs_code,name,notes[,allowed]`` lines. A file with a bad line imports
    nothing and prints every bad line (``line N: …``) on standard error."""
    from livebase.accounts.actors import SYSTEM_CLI
    from livebase.bases.service import get_base, list_bases
    from livebase.bonded.listing import do_import_list
    from livebase.errors import ApiError
    from livebase.runtime import build_runtime
    from livebase.settings import Settings

    text = file.read_text(encoding="utf-8-sig")
    rt = build_runtime(Settings())
    try:
        with rt.sessions() as db, db.begin():
            targets = [get_base(db, base)] if base else list(list_bases(db))
            if not targets:
                typer.echo("error: no base to import the list into", err=True)
                raise typer.Exit(1)
            for b in targets:
                out = do_import_list(db, SYSTEM_CLI, b.id, text, replace=replace)
                typer.echo(f"{b.id}\tadded {out['added']}\tupdated {out['updated']}")
    except ApiError as exc:
        for err in (exc.extra or {}).get("errors", []):
            typer.echo(f"line {err['line']}: {err['error']}", err=True)
        typer.echo(f"error: {exc.detail}", err=True)
        raise typer.Exit(1) from None
    finally:
        rt.close()

"""The ``livebase`` command line run inside the test process.

A subprocess costs 5–8 s before the command's first line runs on a shared two-core
machine (a fresh interpreter importing every feature's routes and pages); the command's
own work takes a fraction of that. `invoke` runs the same Typer app with its arguments,
standard input and environment (only the ``LIVEBASE_*`` variables given: the others of
this process are unset for the call), and answers what `subprocess.run` would: exit
code, standard output and standard error apart.

The installed console script itself is proven by the tests that still start it as a
process: `tests/test_cli.py` (serve's refusal, moderate's streaming), `livebase serve` in
`tests/live_server.py` and `livebase worker` in `tests/jobs/test_modes.py`.
"""

from __future__ import annotations

import os
import subprocess

from typer.testing import CliRunner

from livebase.cli import app


def invoke(
    env: dict[str, str], *args: str, stdin: str = "", ok: bool = True
) -> subprocess.CompletedProcess[str]:
    settings = {k: v for k, v in env.items() if k.startswith("LIVEBASE_")}
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("LIVEBASE_")}
    # catch_exceptions=False: an unexpected error fails the test with its traceback, as
    # the process would have printed it, instead of becoming a quiet exit code 1.
    result = CliRunner().invoke(
        app, list(args), input=stdin, env={**unset, **settings}, catch_exceptions=False
    )
    proc = subprocess.CompletedProcess(
        ["livebase", *args], result.exit_code, result.stdout, result.stderr
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc

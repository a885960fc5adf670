"""Word lists reload without a restart, atomically, from the package and override dirs."""

import threading
import time
from pathlib import Path

from livebase.compliance import Checker
from livebase.compliance.wordlist import PACKAGE_DIR


def write(path: Path, body: str) -> None:
    path.write_text(body, encoding="utf-8")


def wait_for(predicate: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_an_edited_list_is_picked_up_on_the_next_check(tmp_path: Path) -> None:
    write(tmp_path / "abuse.tsv", "坏词甲\tabuse\t\n")
    checker = Checker(package_dir=tmp_path, watch_interval=0.0)
    assert checker.check("chat", "坏词甲").verdict == "mask"
    assert checker.check("chat", "坏词乙").verdict == "allow"  # cached as allow

    write(tmp_path / "abuse.tsv", "坏词甲\tabuse\t\n坏词乙\tabuse\taction=block\n")

    assert wait_for(lambda: checker.check("chat", "坏词乙").verdict == "block")


def test_polling_waits_for_the_watch_interval(tmp_path: Path) -> None:
    write(tmp_path / "abuse.tsv", "坏词甲\tabuse\t\n")
    now = [100.0]
    checker = Checker(package_dir=tmp_path, watch_interval=1.0, clock=lambda: now[0])
    write(tmp_path / "extra.tsv", "坏词丙\tabuse\t\n")
    now[0] += 0.5
    assert checker.check("chat", "坏词丙").verdict == "allow"  # not looked at yet
    now[0] += 0.6
    # The rebuild runs beside the checks; the new lists arrive once it is done.
    assert wait_for(lambda: checker.check("chat", "坏词丙").verdict == "mask")


def test_reload_reports_whether_anything_changed(tmp_path: Path) -> None:
    write(tmp_path / "abuse.tsv", "坏词甲\tabuse\t\n")
    checker = Checker(package_dir=tmp_path, watch_interval=None)
    assert checker.reload() is False
    (tmp_path / "abuse.tsv").unlink()
    assert checker.reload() is True
    assert checker.check("chat", "坏词甲").verdict == "allow"


def test_override_dir_adds_files_and_replaces_same_named_ones(tmp_path: Path) -> None:
    override = tmp_path / "override"
    override.mkdir()
    checker = Checker(override_dir=override, watch_interval=None)
    assert checker.check("chat", "脑残粉").verdict == "mask"  # shipped abuse.tsv
    write(override / "moderators.tsv", "蓝莓派\tspam\t\n")
    write(override / "abuse.tsv", "傻逼\tabuse\t\n")  # replaces the shipped abuse list
    assert checker.reload() is True
    assert checker.check("chat", "蓝莓派").labels == ["spam"]
    assert checker.check("chat", "脑残粉").verdict == "allow"
    assert checker.check("chat", "傻逼").verdict == "mask"


def test_off_option_removes_a_shipped_term(tmp_path: Path) -> None:
    write(tmp_path / "moderators.tsv", "神经病\tabuse\toff\n")
    checker = Checker(override_dir=tmp_path, watch_interval=None)
    assert checker.check("chat", "神经病").verdict == "allow"
    assert checker.check("chat", "白痴").verdict == "mask"


def test_malformed_lines_are_reported_and_the_rest_still_loads(tmp_path: Path) -> None:
    write(
        tmp_path / "abuse.tsv",
        "# comment\n坏词甲\tabuse\t\n坏词乙\tinsult\t\n坏词丙\tabuse\tkinds=forum\nno-tab-here\n",
    )
    checker = Checker(package_dir=tmp_path, watch_interval=None)
    problems = checker.problems
    assert len(problems) == 3
    assert any("abuse:3" in p and "insult" in p for p in problems)
    assert checker.check("chat", "坏词甲").verdict == "mask"


def test_checks_during_reloads_see_either_the_old_or_the_new_lists(tmp_path: Path) -> None:
    for path in PACKAGE_DIR.glob("*.tsv"):
        write(tmp_path / path.name, path.read_text(encoding="utf-8"))
    write(tmp_path / "variants.txt", (PACKAGE_DIR / "variants.txt").read_text(encoding="utf-8"))
    checker = Checker(package_dir=tmp_path, watch_interval=0.0, cache_size=0)
    errors: list[BaseException] = []
    seen: set[str] = set()
    stop = threading.Event()

    def hammer() -> None:
        try:
            while not stop.is_set():
                seen.add(checker.check("chat", "蓝莓派 私聊").verdict)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for i in range(4):
            action = "block" if i % 2 == 0 else "mask"
            write(tmp_path / "extra.tsv", f"蓝莓派\tabuse\taction={action}\n")
            checker.force_reload()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
    assert errors == []
    assert seen <= {"mask", "block"}
    assert checker.check("chat", "蓝莓派").verdict == "mask"

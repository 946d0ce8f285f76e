"""Atomic writes: no half-written files, no write through planted links, pipes written through."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from assurisk.safe_write import OutputError, atomic_write, check_destination, write_text


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_replaces_atomically_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    write_text(target, "new")
    assert target.read_text() == "new" and leftovers(tmp_path) == []


def test_failure_mid_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def boom(p):
        p.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match="No space left"):
        atomic_write(target, boom)
    assert target.read_text() == "old" and leftovers(tmp_path) == []


def test_symlink_at_the_target_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "out.txt"
    link.symlink_to(victim)
    write_text(link, "new")
    assert victim.read_text() == "precious"
    assert not link.is_symlink() and link.read_text() == "new"


def test_planted_links_at_old_style_temporary_names_are_ignored(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    for pid in range(os.getpid() - 2, os.getpid() + 3):  # the names v1 used: .<name>.<pid>.tmp
        (tmp_path / f".out.txt.{pid}.tmp").symlink_to(victim)
    write_text(tmp_path / "out.txt", "new")
    assert victim.read_text() == "precious" and (tmp_path / "out.txt").read_text() == "new"


def test_fifo_is_written_through_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    write_text(fifo, "streamed")
    reader.join(10)
    assert got == ["streamed"]
    assert os.path.exists(fifo) and not fifo.is_file()  # still the FIFO


def test_non_streamable_format_refuses_a_pipe(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match="pipe or device"):
        check_destination(fifo, streamable=False)


@pytest.mark.parametrize("case", ["dir", "missing_folder", "exists_no_overwrite", "read_only_folder"])
def test_destination_problems_are_named_before_any_work(tmp_path, case):
    if case == "dir":
        target, match = tmp_path, "is a directory"
    elif case == "missing_folder":
        target, match = tmp_path / "no" / "x.txt", "does not exist"
    elif case == "exists_no_overwrite":
        target, match = tmp_path / "x.txt", "already exists"
        target.write_text("a")
    else:
        if os.geteuid() == 0:
            pytest.skip("root can write into read-only folders")
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target, match = ro / "x.txt", "not writable"
    with pytest.raises(OutputError, match=match):
        check_destination(target, overwrite=case != "exists_no_overwrite")


def test_sigterm_during_a_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    code = f"""
import time, pathlib
from assurisk.safe_write import atomic_write
def slow(p):
    pathlib.Path(p).write_text("partial")
    print("writing", flush=True)
    time.sleep(30)
atomic_write({str(target)!r}, slow)
"""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGTERM)
    proc.wait(20)
    assert proc.returncode != 0
    assert target.read_text() == "old" and leftovers(tmp_path) == []


def test_new_files_get_ordinary_permissions_and_old_ones_keep_theirs(tmp_path):
    mask = os.umask(0o022)
    try:
        write_text(tmp_path / "new.txt", "x")
        assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o644
        old = tmp_path / "old.txt"
        old.write_text("a")
        old.chmod(0o600)
        write_text(old, "b")
        assert old.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(mask)

"""The runner: submission code in a forked child whose results leave only through a pipe; at their arrival the
whole tree is SIGKILLed and reaped (this process is its subreaper), then files are snapshotted."""

from __future__ import annotations

import os
import select
import signal
import struct
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

# ---------------------------------------------------------------------------------------------------
# the runner: submission code in a child whose results leave only through a pipe
# ---------------------------------------------------------------------------------------------------

PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36


def _prctl(option: int, value: int) -> bool:
    try:
        import ctypes
        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except Exception:  # noqa: BLE001
        return False


def _proc_children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(name))
    return kids


def descendants(pid: int) -> list[int]:
    kids, out, todo = _proc_children(), [], [pid]
    while todo:
        for k in kids.get(todo.pop(), ()):
            out.append(k)
            todo.append(k)
    return out


def kill_tree(rounds: int = 2000) -> bool:
    """SIGKILLs and reaps every descendant of this process (a subreaper, so orphans are ours) until none is
    left. True when the tree is gone."""
    me = os.getpid()
    for i in range(rounds):
        pids = descendants(me)
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if pid == 0:
                break
        if not pids:
            return True
        if i > 20:
            time.sleep(0.001)
    return not descendants(me)


def _send(fd: int, payload: bytes) -> None:
    data = struct.pack("<Q", len(payload)) + payload
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_frame(fd: int, max_bytes: int, deadline: float | None, child: int):
    """One length-prefixed frame, or (None, why). Stops at EOF, the deadline, or an oversized frame."""
    buf = bytearray()
    need = 8
    length = None
    while True:
        timeout = None if deadline is None else max(deadline - time.monotonic(), 0)
        if timeout is not None and timeout == 0:
            return None, "timeout"
        r, _, _ = select.select([fd], [], [], timeout if timeout is not None else 1.0)
        if not r:
            if deadline is not None and time.monotonic() >= deadline:
                return None, "timeout"
            continue
        chunk = os.read(fd, min(1 << 20, need - len(buf)))
        if not chunk:
            return None, "eof"
        buf += chunk
        if len(buf) < need:
            continue
        if length is None:
            length = struct.unpack("<Q", bytes(buf[:8]))[0]
            if length > max_bytes:
                return None, f"results of {length} bytes exceed the {max_bytes}-byte bound"
            need = 8 + length
            if len(buf) >= need:
                return bytes(buf[8:need]), None
            continue
        return bytes(buf[8:need]), None


@dataclass
class Isolated:
    """What the trusted parent saw of one isolated call."""
    payload: bytes | None
    ended: str            # "returned", "exited", "timeout", "oversized"
    detail: str
    wall_s: float         # fork -> results received (or the end)
    tree_cpu_s: float     # CPU of every process of the child's tree, reaped by this process
    tree_killed: bool
    files: dict = field(default_factory=dict)


def _child_exit_status(pid: int, wait_s: float = 1.0) -> str:
    """How the child ended, after its pipe closed (it may take a moment to become a zombie)."""
    end = time.monotonic() + wait_s
    while True:
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return "exited"
        if got:
            return f"exit code {os.waitstatus_to_exitcode(status)}"
        if time.monotonic() > end:
            return "its pipe closed while it kept running"
        time.sleep(0.01)


def run_isolated(work: Callable[[], bytes], *, timeout: float | None = None, max_bytes: int = 256 << 20,
                 snapshot: tuple = (), snapshot_dir: str = ".", max_file_bytes: int = 64 << 20,
                 child_setup: Callable[[], None] | None = None,
                 after_fork: Callable[[], None] | None = None) -> Isolated:
    """Forks; the child runs `work()` (hostile from the first line of submission code) and sends the bytes
    it returns through a pipe. The parent reads exactly one frame, closes the pipe, SIGKILLs and reaps the
    whole tree (no exit handler, no orphan survives), then snapshots `snapshot` files from `snapshot_dir`.
    Nothing the tree does after its results arrived reaches the parent."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_DUMPABLE, 0)  # the child cannot open /proc/<parent>/fd or mem
    sys.stdout.flush()
    sys.stderr.flush()
    before = os.times()
    rfd, wfd = os.pipe()
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # ---- the child: never returns
        exit_now = os._exit
        try:
            os.close(rfd)
            _prctl(PR_SET_DUMPABLE, 1)
            os.dup2(2, 1)  # the submission's prints go to stderr
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
            for name in os.listdir("/proc/self/fd"):
                fd = int(name)
                if fd > 2 and fd != wfd:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            if child_setup:
                child_setup()
            payload = work()
            _send(wfd, payload)
        except BaseException:  # noqa: BLE001
            try:
                sys.stderr.write(traceback.format_exc()[-4000:])
                sys.stderr.flush()
            except BaseException:  # noqa: BLE001
                pass
            exit_now(70)
        # The results are sent: wait to be killed; no interpreter teardown, no atexit.
        while True:
            time.sleep(3600)
    os.close(wfd)
    if after_fork:  # the parent's side only: what the child must never hold (a nonce on stdin, say)
        after_fork()
    deadline = None if timeout is None else time.monotonic() + timeout
    payload, why = _read_frame(rfd, max_bytes, deadline, pid)
    wall = time.perf_counter() - t0
    os.close(rfd)
    status = _child_exit_status(pid) if payload is None else "returned"
    gone = kill_tree()
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    files = {}
    for name in snapshot:
        data = read_plain_file(os.path.join(snapshot_dir, name), max_file_bytes)
        if data is not None:
            files[name] = data
    if payload is not None:
        return Isolated(payload, "returned", "the work returned its results", wall, cpu, gone, files)
    if why == "timeout":
        return Isolated(None, "timeout", f"no results within {timeout:g} s", wall, cpu, gone, files)
    if why == "eof":
        return Isolated(None, "exited", f"the submission's process ended before returning results ({status})", wall, cpu, gone, files)
    return Isolated(None, "oversized", why or "?", wall, cpu, gone, files)


def read_plain_file(path: str, max_bytes: int) -> bytes | None:
    """A regular file's bytes (never through a link, never a FIFO), or None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        import stat as st
        s = os.fstat(fd)
        if not st.S_ISREG(s.st_mode) or s.st_size > max_bytes:
            return None
        chunks, total = [], 0
        while total <= max_bytes:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            chunks.append(b)
            total += len(b)
        return b"".join(chunks) if total <= max_bytes else None
    finally:
        os.close(fd)

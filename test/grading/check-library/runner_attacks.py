"""Attacks on the shared check library's runner, written as a hostile submission would: each prints one JSON
line saying what the trusted parent saw. Run by test/grading/check-library.test.ts."""
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "src", "grading", "python"))
import envbench_check as ec  # noqa: E402

work = tempfile.mkdtemp(prefix="ec-attack-")
target = os.path.join(work, "result.txt")


def exit_hook():
    import atexit

    def forge():
        with open(target, "w") as f:
            f.write("forged by an exit hook")
    atexit.register(forge)
    with open(target, "w") as f:
        f.write("honest")
    return b"honest"


def orphan_late_write():
    if os.fork() == 0:
        os.setsid()
        if os.fork():
            os._exit(0)
        time.sleep(0.3)
        with open(target, "w") as f:
            f.write("forged by an orphan")
        os._exit(0)
    with open(target, "w") as f:
        f.write("honest")
    return b"honest"


def stops_parent():
    parent = os.getppid()
    os.kill(parent, 19)  # SIGSTOP: the parent's clock still runs; a helper wakes it (SIGCONT) later
    if os.fork() == 0:
        time.sleep(0.5)
        os.kill(parent, 18)
        os._exit(0)
    time.sleep(1.0)
    return b"done"


def oversized():
    return b"x" * (2 << 20)


def dies_early():
    os._exit(0)


def late_frame_thread():
    import threading

    import struct

    def writer():  # a second, forged frame into every inherited descriptor (the results pipe among them)
        time.sleep(0.2)
        for fd in os.listdir("/proc/self/fd"):
            try:
                os.write(int(fd), struct.pack("<Q", 6) + b"forged")
            except OSError:
                pass
    threading.Thread(target=writer, daemon=True).start()
    return b"first"


def burns_cpu_in_orphan():
    if os.fork() == 0:
        os.setsid()
        if os.fork():
            os._exit(0)
        end = time.time() + 30
        while time.time() < end:
            pass
        os._exit(0)
    t = time.process_time()
    while time.process_time() - t < 0.5:
        pass
    return b"ok"


name = sys.argv[1]
fn = globals()[name]
res = ec.run_isolated(fn, timeout=20, max_bytes=1 << 20, snapshot=("result.txt",), snapshot_dir=work)
time.sleep(0.8)  # anything that survived would write now
after = open(target).read() if os.path.exists(target) else None
print(json.dumps({
    "ended": res.ended, "payload": (res.payload or b"")[:20].decode(errors="replace"),
    "snapshot": (res.files.get("result.txt") or b"").decode(), "after": after, "tree_killed": res.tree_killed,
    "descendants": len(ec.descendants(os.getpid())), "wall_s": res.wall_s, "tree_cpu_s": res.tree_cpu_s,
}))

"""Run several processes and restart any that dies: what `script/server` serves with.

    python -m geoservice.supervise web python -m geoservice.serve … --- worker python manage.py …

Groups are separated by `---`; the first word of a group is its name. A child that exits is
started again after a pause (1 s, doubling up to 30 s while it keeps dying within 10 s of
its start) and the supervisor says so. SIGTERM or SIGINT (Ctrl-C) stops every child with
SIGTERM (a worker finishes the delivery in hand), then SIGKILL after STOP_SECONDS. Children
run in their own session, so a Ctrl-C in the terminal reaches them only through the
supervisor, and they are sent SIGTERM by the kernel if the supervisor itself is killed.
In production the same job belongs to the platform (systemd, docker's restart policy).
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

STOP_SECONDS = 15
FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 30.0
HEALTHY_AFTER_SECONDS = 10.0
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the supervisor dies, however it dies."""
    with contextlib.suppress(OSError):  # not Linux: children may outlive a killed supervisor
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def say(text: str) -> None:
    print(f"\033[1;34m==>\033[0m {text}", flush=True)


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    pause: float = FIRST_PAUSE_SECONDS
    restart_at: float | None = None
    restarts: int = field(default=0)
    pass_fds: tuple[int, ...] = ()  # file descriptors the child inherits (a listening socket)

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, start_new_session=True,
                                        preexec_fn=_die_with_parent, pass_fds=self.pass_fds)
        self.started_at = time.monotonic()
        self.restart_at = None


def parse(argv: list[str]) -> list[Child]:
    children, group = [], []
    for word in [*argv, "---"]:
        if word != "---":
            group.append(word)
            continue
        if len(group) < 2:
            raise SystemExit("usage: python -m geoservice.supervise NAME COMMAND… "
                             "[--- NAME COMMAND…]")
        children.append(Child(group[0], group[1:]))
        group = []
    return children


def run(children: list[Child]) -> int:
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.start()
    while not stopping:
        now = time.monotonic()
        for child in children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    say(f"starting {child.name} again (restart {child.restarts})")
                    child.start()
                continue
            code = child.process.poll()
            if code is None:
                continue
            lived = now - child.started_at
            child.pause = FIRST_PAUSE_SECONDS if lived >= HEALTHY_AFTER_SECONDS else min(
                child.pause * 2, LONGEST_PAUSE_SECONDS)
            child.restart_at = now + child.pause
            say(f"{child.name} exited with code {code} after {lived:.0f} s; "
                f"restarting in {child.pause:.0f} s")
        time.sleep(0.2)
    say("stopping " + ", ".join(child.name for child in children))
    running = [c.process for c in children if c.process and c.process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for process in running:
        try:
            process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return 0


def main() -> None:
    sys.exit(run(parse(sys.argv[1:])))


if __name__ == "__main__":
    main()

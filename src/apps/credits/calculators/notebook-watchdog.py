# The parent of every notebook run: starts `jupyter nbconvert`, and ends everything the run started
# (nbconvert, the kernel, whatever a cell spawned) when the run ends, when Switchboard closes this
# process's stdin (timeout, abort, shutdown), or when Switchboard dies (stdin then reads EOF too).
#
# Jupyter starts each kernel in a session of its own, so killing nbconvert's process group leaves
# the kernel and its children alive. This process is a child subreaper: orphans of the run are
# re-parented to it instead of init, so walking its descendants in /proc finds all of them.
import ctypes
import os
import signal
import subprocess
import sys
import threading

PR_SET_CHILD_SUBREAPER = 36


def descendants():
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                # The command may hold spaces or parentheses: the fields after its last ")" are fixed.
                fields = stat.read().rsplit(b")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def end_everything():
    for _ in range(50):
        pids = descendants()
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reap()


def main():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # Not Linux: the process group kill from Switchboard is the fallback.
    try:
        child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL)
    except OSError as error:
        print(f"{sys.argv[1]}: {error.strerror}", file=sys.stderr)
        sys.exit(127)

    def watch_parent():
        # EOF: Switchboard closed the pipe on purpose, or died.
        while sys.stdin.buffer.read(4096):
            pass
        end_everything()
        os._exit(137)

    threading.Thread(target=watch_parent, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: (end_everything(), os._exit(143)))
    code = child.wait()
    end_everything()
    sys.exit(code)


main()

"""Supervisor that every stdio MCP server runs under: no server outlives the factory, even after SIGKILL.

Run as a standalone script (`python -I -S mcp_reaper.py PARENT_PID COMMAND ARGS...`, no project imports,
so it starts in milliseconds). The factory cannot catch its own SIGKILL, so the kernel does the work:
this supervisor asks for SIGTERM when the factory dies (PR_SET_PDEATHSIG), starts the server in a
process group of its own with SIGKILL armed for the supervisor's death, and becomes a child subreaper so
the server's own children are reparented to it. On SIGTERM (factory death or the factory closing the
session) or when the server exits, it SIGKILLs the server's group and reaps every descendant before it
exits, leaving neither live processes nor zombies. Children that leave the group (setsid) escape the
kill; MCP servers do not do that.
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
_LIBC = ctypes.CDLL(None, use_errno=True)
_CHILD = {"pid": 0}


def _kill_server(*_: object) -> None:
    if _CHILD["pid"] > 0:
        try:
            os.killpg(_CHILD["pid"], signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    else:
        os._exit(1)


def _exec_server(supervisor: int, command: list) -> None:
    os.setpgid(0, 0)
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != supervisor:
        os._exit(1)
    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    try:
        os.execvp(command[0], command)
    except OSError as error:
        sys.stderr.write(f"magnet-mcp-reaper: cannot start {command[0]!r}: {error}\n")
        os._exit(127)


def main() -> None:
    parent, command = int(sys.argv[1]), sys.argv[2:]
    for name in ("SIGTERM", "SIGHUP", "SIGINT"):
        signal.signal(getattr(signal, name), _kill_server)
    _LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the factory died before the death signal was armed
        os._exit(1)
    supervisor = os.getpid()
    child = os.fork()
    if child == 0:
        _exec_server(supervisor, command)
    _CHILD["pid"] = child
    code = 1
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            sys.stderr.write(f"magnet-mcp-reaper: server exited with status {code}\n")
            sys.stderr.flush()
            _kill_server()  # whatever the server left running in its group
    os._exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()

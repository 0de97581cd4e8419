"""`cimjax launch -n N -- COMMAND ...`: N local processes of one command on JAX's distributed runtime.

For a machine without a cluster manager, and for tests. The launcher picks a free port on
127.0.0.1 for the coordinator, starts N copies of COMMAND with the process's rank in its
environment (`CIMJAX_COORDINATOR`, `CIMJAX_NUM_PROCESSES`, `CIMJAX_PROCESS_ID`, read by
`--distributed`), prefixes every output line with `[rank]`, and stops every process as soon
as one fails or on Ctrl-C. Nothing here imports jax.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from cimjax.errors import ConfigError

ENV_COORDINATOR = "CIMJAX_COORDINATOR"
ENV_NUM_PROCESSES = "CIMJAX_NUM_PROCESSES"
ENV_PROCESS_ID = "CIMJAX_PROCESS_ID"
STOP_GRACE_S = 10.0  # seconds a process gets to exit after SIGTERM before SIGKILL


def register(sub) -> None:
    p = sub.add_parser("launch", help="run N local processes of a cimjax command on JAX's distributed runtime",
                       description=__doc__.split("\n\n")[1].replace("\n", " "))
    p.add_argument("-n", "--num-processes", type=int, required=True, help="number of processes (>= 1)")
    p.add_argument("--port", type=int, default=None, help="coordinator port on 127.0.0.1 (default: a free one)")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND",
                   help="the command after `--`, e.g. `-- cimjax sample --distributed --n 4096 --out s/`")
    p.set_defaults(func=_launch)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command(argv: list[str]) -> list[str]:
    argv = argv[1:] if argv[:1] == ["--"] else argv
    if not argv:
        raise ConfigError("launch: no command given; write it after `--`, e.g. `-- cimjax sample ...`")
    if argv[0] == "cimjax":  # the same interpreter and package as this launcher
        return [sys.executable, "-m", "cimjax", *argv[1:]]
    return argv


DISTRIBUTED_COMMANDS = ("sample", "demo")  # the cimjax commands that take --distributed
_RANK_FLAGS = ("--coordinator", "--num-processes", "--process-id")  # what the launcher sets per rank


def _check_cimjax_command(cmd: list[str], num_processes: int) -> None:
    """A cimjax command must join the run: a command without --distributed, or one that sets the
    rank flags itself, would run N unrelated copies (writing one --out) or wait for ranks never started."""
    if cmd[1:3] != ["-m", "cimjax"]:
        return
    rest = cmd[3:]
    sub = next((a for a in rest if not a.startswith("-")), None)
    if sub is None or any(a in ("-h", "--help", "--version") for a in rest):
        return
    shown = f"`cimjax {sub}`"
    if sub not in DISTRIBUTED_COMMANDS:
        raise ConfigError(f"launch: {shown} does not run distributed (only {', '.join(DISTRIBUTED_COMMANDS)} take "
                          f"--distributed); {num_processes} processes would each run it alone")
    if "--distributed" not in rest:
        raise ConfigError(f"launch: {shown} needs --distributed, else {num_processes} processes each run the whole "
                          f"job alone, into the same --out")
    given = [f for f in _RANK_FLAGS if any(a == f or a.startswith(f + "=") for a in rest)]
    if given:
        raise ConfigError(f"launch: remove {', '.join(given)} from {shown}: the launcher sets the coordinator, the "
                          f"number of processes and each rank")


def _check_port(port: int) -> None:
    """`--port` must be free on 127.0.0.1, else process 0's coordinator cannot listen there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT from a last run is free
        try:
            s.bind(("127.0.0.1", port))
        except OSError as err:
            raise ConfigError(f"--port {port}: cannot listen on 127.0.0.1:{port} ({err.strerror}); choose another "
                              f"port or leave --port out for a free one") from None


def _forward(stream, rank: int, out) -> None:
    for line in iter(stream.readline, ""):
        out.write(f"[{rank}] {line}")
        out.flush()
    stream.close()


def _stop(procs: list[subprocess.Popen], sig: int) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(sig)
    deadline = time.monotonic() + STOP_GRACE_S
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def launch(argv: list[str], num_processes: int, port: int | None = None) -> int:
    """Runs `argv` as `num_processes` ranks; returns 0, the first failing rank's code, or 130."""
    if isinstance(num_processes, bool) or not isinstance(num_processes, int) or num_processes < 1:
        raise ConfigError(f"--num-processes {num_processes!r} must be an int >= 1")
    if port is not None and not 0 < port < 65536:
        raise ConfigError(f"--port {port} must be in 1..65535")
    cmd = _command(argv)
    _check_cimjax_command(cmd, num_processes)
    if port is not None:
        _check_port(port)
    coordinator = f"127.0.0.1:{port or free_port()}"
    procs, threads = [], []
    try:
        for rank in range(num_processes):
            env = {**os.environ, ENV_COORDINATOR: coordinator, ENV_NUM_PROCESSES: str(num_processes),
                   ENV_PROCESS_ID: str(rank)}
            try:
                p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     bufsize=1)
            except OSError as err:
                raise ConfigError(f"launch: cannot start {cmd[0]!r}: {err.strerror}") from None
            procs.append(p)
            for stream, out in ((p.stdout, sys.stdout), (p.stderr, sys.stderr)):
                t = threading.Thread(target=_forward, args=(stream, rank, out), daemon=True)
                t.start()
                threads.append(t)
        code = 0
        while code == 0:
            states = [p.poll() for p in procs]  # poll every process: a failure anywhere stops the rest
            code = next((c for c in states if c), 0)
            if all(c is not None for c in states):
                break
            time.sleep(0.05)
        if code:
            failed = next(i for i, p in enumerate(procs) if p.returncode == code)
            code = 128 - code if code < 0 else code  # killed by signal s: the shell's 128 + s
            print(f"cimjax launch: process {failed} exited with code {code}; stopping the others", file=sys.stderr)
            _stop(procs, signal.SIGTERM)
        return code
    except KeyboardInterrupt:
        _stop(procs, signal.SIGINT)
        print("cimjax launch: interrupted; every process stopped", file=sys.stderr)
        return 130
    finally:
        _stop(procs, signal.SIGKILL)
        for t in threads:
            t.join(timeout=1.0)


def _launch(args) -> int:
    return launch(args.argv, args.num_processes, args.port)

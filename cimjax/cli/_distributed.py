"""`--distributed`: join JAX's distributed runtime before a command computes anything.

`jax.distributed.initialize()` detects SLURM, Open MPI and similar launchers from the
environment; `cimjax launch` sets `CIMJAX_COORDINATOR`, `CIMJAX_NUM_PROCESSES` and
`CIMJAX_PROCESS_ID`; explicit flags override both. On CPU the collectives run over gloo.

Two checks JAX does not make: a coordinator that never answers fails within
`--init-timeout` seconds with a message (JAX itself aborts the process), and processes
started with different settings are refused, by comparing a fingerprint of the command's
arguments across processes.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time

from cimjax.cli._launch import ENV_COORDINATOR, ENV_NUM_PROCESSES, ENV_PROCESS_ID
from cimjax.errors import ConfigError

DEFAULT_TIMEOUT_S = 60  # assumption: a minute covers a cluster's staggered process starts


def add_arguments(parser) -> None:
    g = parser.add_argument_group("distributed (several processes, one global batch)")
    g.add_argument("--distributed", action="store_true",
                   help="join JAX's distributed runtime (SLURM, Open MPI, `cimjax launch`, or the flags below)")
    g.add_argument("--coordinator", default=None, metavar="HOST:PORT", help="address of process 0's coordinator")
    g.add_argument("--num-processes", type=int, default=None, help="number of processes in the run")
    g.add_argument("--process-id", type=int, default=None, help="this process's rank, 0 .. num-processes - 1")
    g.add_argument("--init-timeout", type=float, default=DEFAULT_TIMEOUT_S,
                   help=f"seconds to wait for the coordinator and the other processes (default {DEFAULT_TIMEOUT_S})")


def _settings(args) -> tuple[str | None, int | None, int | None]:
    coordinator = args.coordinator or os.environ.get(ENV_COORDINATOR)
    num = args.num_processes if args.num_processes is not None else _env_int(ENV_NUM_PROCESSES)
    pid = args.process_id if args.process_id is not None else _env_int(ENV_PROCESS_ID)
    return coordinator, num, pid


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"environment {name}={value!r} must be an integer") from None


def check(args) -> None:
    """Validates the distributed flags before anything runs."""
    explicit = [f for f in ("coordinator", "num_processes", "process_id") if getattr(args, f) is not None]
    if explicit and not args.distributed:
        raise ConfigError(f"--{explicit[0].replace('_', '-')} needs --distributed")
    if not args.distributed:
        return
    coordinator, num, pid = _settings(args)
    if num is not None and num < 1:
        raise ConfigError(f"--num-processes {num} must be >= 1")
    if pid is not None and num is not None and not 0 <= pid < num:
        raise ConfigError(f"--process-id {pid} is out of range for --num-processes {num} (0 .. {num - 1})")
    if coordinator is not None:
        host, _, port = coordinator.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"--coordinator {coordinator!r} must be HOST:PORT")
    if not args.init_timeout > 0:
        raise ConfigError(f"--init-timeout {args.init_timeout} must be > 0")


def _wait_for(coordinator: str, timeout: float) -> None:
    host, _, port = coordinator.rpartition(":")
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise ConfigError(f"--coordinator {coordinator} did not answer within {timeout:g} s "
                                  "(is process 0 running, and the address reachable?)") from None
            time.sleep(0.2)


def initialize(args, fingerprint_of: dict) -> None:
    """Joins the runtime (when --distributed), then refuses processes whose settings differ.

    `fingerprint_of`: the settings every process must share (seed, sizes, configuration).
    """
    check(args)
    if not args.distributed:
        return
    import jax

    coordinator, num, pid = _settings(args)
    if coordinator is not None and pid not in (None, 0):
        _wait_for(coordinator, args.init_timeout)
    # CPU collectives over gloo; GPUs use NCCL whatever this says. (Asking for the backend
    # here would start it, and initialize() must come first.)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num, process_id=pid,
                               initialization_timeout=int(args.init_timeout))
    _check_same_settings(fingerprint_of)


def _check_same_settings(settings: dict) -> None:
    import jax
    import numpy as np
    from jax.experimental import multihost_utils

    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).digest()[:8]
    mine = np.frombuffer(digest, dtype=np.uint32)
    every = np.asarray(multihost_utils.process_allgather(mine)).reshape(jax.process_count(), -1)
    differ = [i for i, row in enumerate(every) if not np.array_equal(row, every[0])]
    if differ:
        raise ConfigError(f"processes {differ} were started with other settings than process 0 "
                          f"(seed, sizes or configuration); start every process with the same command")

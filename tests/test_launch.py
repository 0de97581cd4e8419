"""`cimjax launch`: ranks in the environment, prefixed output, one failure stops every process."""

import subprocess
import sys
import time

LAUNCH = [sys.executable, "-m", "cimjax", "launch"]
RANK = "import os, sys; r = int(os.environ['CIMJAX_PROCESS_ID']); "


def _run(argv, timeout=60):
    return subprocess.run(LAUNCH + argv, capture_output=True, text=True, timeout=timeout)


def test_every_rank_runs_with_its_environment():
    code = RANK + "print('rank', r, 'of', os.environ['CIMJAX_NUM_PROCESSES'], os.environ['CIMJAX_COORDINATOR'])"
    done = _run(["-n", "3", "--", sys.executable, "-c", code])
    assert done.returncode == 0, done.stderr
    lines = sorted(done.stdout.splitlines())
    assert [ln.split()[:4] for ln in lines] == [[f"[{r}]", "rank", str(r), "of"] for r in range(3)]
    assert len({ln.split()[-1] for ln in lines}) == 1 and lines[0].split()[-1].startswith("127.0.0.1:")


def test_one_failure_stops_the_others_quickly():
    code = RANK + "import time; time.sleep(0.3 if r == 1 else 120); sys.exit(7 if r == 1 else 0)"
    start = time.monotonic()
    done = _run(["-n", "3", "--", sys.executable, "-c", code])
    assert done.returncode == 7
    assert time.monotonic() - start < 30  # not the 120 s the others would sleep
    assert "process 1 exited with code 7; stopping the others" in done.stderr

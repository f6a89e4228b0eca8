"""What the benchmarks measure of a command: wall and CPU seconds, in one place."""
import resource
import subprocess
import time


def run_measured(cmd, env=None):
    """Wall seconds and CPU seconds (user + system) of one command run to completion."""
    wall, cpu, _ = run_measured_output(cmd, env)
    return wall, cpu


def run_measured_output(cmd, env=None):
    """run_measured, and what the command printed on stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, env=env)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{out.stderr.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout

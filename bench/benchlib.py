"""What several benchmarks measure the same way."""
import os
import subprocess
import time


def cpu_of(argv, env):
    """run argv to the end, stdout discarded; (cpu seconds, wall seconds)"""
    t = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    err = p.stderr.read().decode()
    p.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError("%s failed (%d): %s" % (argv, code, err[-500:]))
    return ru.ru_utime + ru.ru_stime, wall

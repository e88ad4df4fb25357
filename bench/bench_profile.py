"""Benchmark: how much `skyctl profile` slows a cpu-bound service.

On the sandbox and on real skynet when SKYNET_ROOT is set, one node with
sandbox/services/hot.lua (its driver off): `call .hot "bench", N` runs the
hot function N times, 10 per message the service sends itself (each about
0.2 ms of cpu, as a busy game service handles them), about 0.3 s in all,
timed by the node's own cpu clock (os.clock: the other services are idle,
and other processes of the machine count less than in wall time).  Rounds
alternate: without profiling, then inside the window of a `skyctl profile
.hot` at the default rate (checked to be open before and after the round).
The ratio is the fastest profiled round over the fastest plain one, both
measured in this run (the fastest: the least disturbed by the machine).
Target (issue 18): a ratio of at most 1.05.
Run: make bench, or SKYCTL_BUILD=build python3 bench/bench_profile.py"""
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import nodes  # noqa: E402

ROUNDS = 9
TARGET = 1.05


def timed(con, n):
    """the node's cpu seconds for one bench call of n crunches"""
    out, status = con.cmd('call .hot "bench", %d' % n, timeout=60)
    assert status == "OK", out
    return float(out[0].split("\t")[1])


def hooked(con):
    """whether a profile's window is open in .hot (its handlers are hooked)"""
    out, status = con.cmd('call .hot "leftovers"', timeout=30)
    assert status == "OK", out
    return out[0].split("\t", 1)[1] != ""


def profiled(con, node, n):
    """one round inside a profile's window; (seconds, samples)"""
    p = subprocess.Popen([nodes.SKYCTL, "-H", node.address, "profile", ".hot", "--seconds", "4",
                          "--no-agent"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not hooked(con):
        if time.monotonic() > deadline or p.poll() is not None:
            raise RuntimeError("the profile's window did not open: %s" % p.communicate()[1])
    secs = timed(con, n)
    if not hooked(con):
        raise RuntimeError("the round outlasted the window: raise --seconds")
    err = p.communicate(timeout=60)[1]
    m = re.search(r"profile: (\d+) samples", err)
    if p.returncode != 0 or not m:
        raise RuntimeError("profile failed: %s" % err)
    return secs, int(m.group(1))


def bench(backend):
    node = nodes.Node(backend, agents=1, services=("hot",), env={"hot_ms": 0}).start(timeout=30)
    try:
        with nodes.Console(node.port) as con:
            n = 1000
            while timed(con, n) < 0.3:      # about 0.3 s of work per round
                n *= 2
            plain, prof, samples = [], [], []
            for _ in range(ROUNDS):
                plain.append(timed(con, n))
                s, k = profiled(con, node, n)
                prof.append(s)
                samples.append(k)
        ratio = min(prof) / min(plain)
        print("%-8s %-52s %8.3f s" % (backend, "bench round, fastest without profiling",
                                       min(plain)))
        print("%-8s %-52s %8.3f s" % (backend, "bench round, fastest inside a profile window",
                                       min(prof)))
        print("%-8s %-52s %8d" % (backend, "samples per profiled round, median",
                                   statistics.median(samples)))
        print("%-8s ratio %.3f (target <= %.2f): %s" % (backend, ratio, TARGET,
                                                       "met" if ratio <= TARGET else "MISSED"))
        return ratio <= TARGET
    finally:
        node.stop()


def main():
    print("a cpu-bound service, timed with and without `skyctl profile` at the default rate")
    results = [bench(b) for b in nodes.backends()]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()

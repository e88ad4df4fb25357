"""Benchmark: `skyctl inject` against the naive way (one `nc` per service,
with the script copied to a file the node can read and stock `inject`).

Measures, on the sandbox and on real skynet when SKYNET_ROOT is set:
  1. a 2 KB script into 1000 services of one node, end to end from process
     start (first run installs the agent everywhere; then the steady state);
  2. one service, the first time (bootstrap + agent load) and after;
  3. the naive way on a sample of services, extrapolated to 1000, with the
     fastest nc can be (`nc -N` closes its side once its input ends; the
     `nc -q1` people type waits a second more each time).
Targets (issue 4): 1000 services < 0.5 s, one service < 50 ms first, < 5 ms after.
The tracking cost with a 1,000,000-entry table is bench_diff.py's.
Run: make bench, or SKYCTL_BUILD=build python3 bench/bench_inject.py"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import nodes  # noqa: E402

SAMPLE = 20  # services the naive way is timed on


def script_2k():
    body = ("-- %s\n" % ("x" * 60)) * 26
    return body + """local CMD = _P.lua.CMD
local balance
hotfix.replace(CMD, "deposit", function(n)
    assert(n > 0, "deposit must be positive")
    balance = balance + n
    return balance
end)
"""


def skyctl(node, *args):
    env = dict(os.environ, XDG_STATE_HOME=STATE)
    t = time.perf_counter()
    p = subprocess.run([nodes.SKYCTL, "-H", node.address, *args], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError("skyctl %s failed (%d): %s" % (" ".join(args), p.returncode,
                                                          (p.stderr or p.stdout)[-2000:]))
    return dt


def naive(node, path, handles):
    """one `nc -N` per service: connect, `inject <hex> <file>`, read the reply"""
    t = time.perf_counter()
    for h in handles:
        subprocess.run("printf 'inject %x %s\\n' | nc -N 127.0.0.1 %d" % (h, path, node.port),
                       shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    return (time.perf_counter() - t) / len(handles)


def agents(node):
    out = subprocess.run([nodes.SKYCTL, "-H", node.address, "list"], stdout=subprocess.PIPE,
                         text=True, timeout=30).stdout
    return [int(line.split()[0].lstrip(":"), 16) for line in out.splitlines()
            if "snlua agent" in line]


def bench(backend, path):
    rows = []
    node = nodes.Node(backend, agents=1000).start(timeout=60)
    try:
        cold = skyctl(node, "inject", "@agent", path)
        warm = min(skyctl(node, "inject", "@agent", path) for _ in range(3))
        per = naive(node, path, agents(node)[:SAMPLE])
        rows.append(("1000 services, first run", cold, per * 1000))
        rows.append(("1000 services, agent in place", warm, per * 1000))
    finally:
        node.stop()
    node = nodes.Node(backend, agents=3).start()
    try:
        first = skyctl(node, "inject", ":a", path)
        after = min(skyctl(node, "inject", ":a", path) for _ in range(5))
        per = naive(node, path, [0xa] * 5)
        rows.append(("1 service, first time", first, per))
        rows.append(("1 service, after", after, per))
    finally:
        node.stop()
    return rows


def spawn_floor():
    """what starting any process costs this harness"""
    best = None
    for _ in range(20):
        t = time.perf_counter()
        subprocess.run(["/bin/true"])
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return best


def main():
    global STATE
    STATE = nodes.scratch_dir("bench-state-")
    path = os.path.join(nodes.scratch_dir("bench-script-"), "fix.lua")
    with open(path, "w") as f:
        f.write(script_2k())
    print("inject benchmark: %d-byte script; naive = one `nc -N` per service running stock "
          "`inject` of a file on the node (timed on %d services, extrapolated)"
          % (os.path.getsize(path), SAMPLE))
    print("harness floor: spawning /bin/true from this harness takes %.1f ms (best of 20); "
          "every skyctl figure includes it" % (spawn_floor() * 1e3))
    print("%-8s %-32s %12s %12s %8s" % ("node", "case", "skyctl", "naive", "ratio"))
    for backend in nodes.backends():
        for case, ours, theirs in bench(backend, path):
            print("%-8s %-32s %10.1fms %10.1fms %7.1fx" % (backend, case, ours * 1e3,
                                                           theirs * 1e3, theirs / ours))


if __name__ == "__main__":
    main()

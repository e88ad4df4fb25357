"""Benchmark: skyctl's everyday commands against naive console clients.

On the sandbox and on real skynet when SKYNET_ROOT is set:
  1. 1000 commands from one skyctl process (`skyctl ping @agent` on a node
     with 1000 agents: one `list`, then 1000 pipelined `ping`s) vs the same
     1000 through one `nc` per command (timed on a sample, extrapolated);
  2. `skyctl list`, whole process, vs `printf 'list\\n' | nc ...`;
  3. skyctl's start-up (`skyctl --version`).
Naive clients: `nc -q1` (what people type; it waits 1 s after its input
ends) and `nc -N` (closes its side at once: the fastest nc can be; still
pays Nagle + delayed ACK, ~44 ms).
Targets (issue 3): (1) >= 100x, (2) no slower than nc, (3) < 5 ms.
Run: make bench, or SKYCTL_BUILD=build python3 bench/bench_core.py"""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import nodes  # noqa: E402

AGENTS = 1000
SAMPLE = {"-q1": 5, "-N": 20}  # nc runs timed per flavour, then extrapolated


def timed(argv, shell=False, check=None):
    t = time.perf_counter()
    p = subprocess.run(argv, shell=shell, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (argv, p.returncode, p.stderr[-500:]))
    if check:
        check(p.stdout)
    return dt


def nc(node, line, flavour):
    return timed("printf '%s\\n' | nc %s 127.0.0.1 %d" % (line, flavour, node.port), shell=True)


def expect_rows(n):
    def check(out):
        got = out.count(b"\n")
        if got != n:
            raise RuntimeError("expected %d rows, got %d" % (n, got))
    return check


def bench(backend):
    node = nodes.Node(backend, agents=AGENTS).start(timeout=60)
    try:
        sky = [nodes.SKYCTL, "-H", node.address]
        rows = []
        # 1. 1000 pings from one process
        ours = min(timed(sky + ["ping", "@agent"], check=expect_rows(AGENTS)) for _ in range(5))
        for flavour, k in SAMPLE.items():
            each = statistics.mean(nc(node, "ping :%x" % (0xa + i % AGENTS), flavour)
                                   for i in range(k))
            rows.append(("1000 x ping, nc %s" % flavour, ours, each * AGENTS, 100))
        # 2. list, whole process
        ours = statistics.median(timed(sky + ["list"]) for _ in range(30))
        for flavour, k in SAMPLE.items():
            each = statistics.median(nc(node, "list", flavour) for _ in range(k))
            rows.append(("list, nc %s" % flavour, ours, each, 1))
        # 3. start-up
        up = statistics.median(timed([nodes.SKYCTL, "--version"]) for _ in range(50))
        rows.append(("start-up (--version)", up, None, None))
        return rows
    finally:
        node.stop()


def main():
    print("core benchmark: %d agents; skyctl vs one nc per command" % AGENTS)
    print("%-8s %-26s %12s %12s %9s %8s" % ("node", "case", "skyctl", "naive", "ratio",
                                             "target"))
    bad = False
    for backend in nodes.backends():
        try:
            rows = bench(backend)
        except (RuntimeError, OSError) as e:
            print("%-8s skipped: %s" % (backend, str(e).splitlines()[0]))
            bad = True
            continue
        for case, ours, naive, target in rows:
            if naive is None:
                met = ours < 0.005
                print("%-8s %-26s %10.2fms %12s %9s %8s%s" % (backend, case, ours * 1e3, "", "",
                                                           "< 5 ms", "" if met else "  MISSED"))
            else:
                ratio = naive / ours
                met = ratio >= target
                print("%-8s %-26s %10.2fms %10.1fms %8.1fx %7s%s"
                      % (backend, case, ours * 1e3, naive * 1e3, ratio,
                         ">= %dx" % target, "" if met else "  MISSED"))
            bad |= not met
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

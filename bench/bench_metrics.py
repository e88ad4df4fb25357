"""Benchmark: the cpu skyctl spends on one scrape of 8 nodes x 10,000 services.

On the sandbox and on real skynet when SKYNET_ROOT is set, eight nodes with
AGENTS agents each:
  1. `skyctl -a metrics > /dev/null`, one whole run: cpu (user + system,
     from wait4), best of 3;
  2. `skyctl -a metrics --listen 127.0.0.1:0`, scraped N times over HTTP:
     the server's cpu (from /proc) over the scrapes, per scrape;
  3. the floor, measured in the same run: `skyctl --version` (start-up).
Target (issue 19): at most 0.5 s of skyctl cpu per scrape.
Run: make bench, or SKYCTL_BUILD=build python3 bench/bench_metrics.py
(AGENTS=N and NODES=N in the environment for a smaller cluster)."""
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import nodes  # noqa: E402
from benchlib import cpu_of  # noqa: E402

AGENTS = int(os.environ.get("AGENTS", 10000))
NODES = int(os.environ.get("NODES", 8))
SCRAPES = 5
TARGET_S = 0.5


def proc_cpu(pid):
    """user + system seconds of a running process"""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def served(env):
    """cpu per scrape of --listen, and the size of one scrape"""
    log = tempfile.TemporaryFile()
    p = subprocess.Popen([nodes.SKYCTL, "-a", "--timeout", "8", "metrics", "--listen",
                          "127.0.0.1:0"], env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.time() + 10
        m = None
        while not m and time.time() < deadline:
            log.seek(0)
            m = re.search(rb"serving http://[\d.]+:(\d+)/", log.read())
            time.sleep(0.02)
        url = "http://127.0.0.1:%d/metrics" % int(m.group(1))
        with urllib.request.urlopen(url, timeout=30) as r:   # connections made
            size = len(r.read(64 << 20))
        before = proc_cpu(p.pid)
        for _ in range(SCRAPES):
            with urllib.request.urlopen(url, timeout=30) as r:
                r.read(64 << 20)
        return (proc_cpu(p.pid) - before) / SCRAPES, size
    finally:
        p.terminate()
        p.wait(10)


def bench(backend):
    ns = []
    try:
        for _ in range(NODES):
            ns.append(nodes.Node(backend, agents=AGENTS, thread=2).start(timeout=600))
        xdg = nodes.scratch_dir("bench-")
        os.makedirs(os.path.join(xdg, "skyctl"))
        with open(os.path.join(xdg, "skyctl", "config.lua"), "w") as f:
            f.write("nodes = {%s}\n" % ", ".join('n%d = "%s"' % (i, n.address)
                                                  for i, n in enumerate(ns)))
        env = dict(os.environ, XDG_CONFIG_HOME=xdg)
        floor = min(cpu_of([nodes.SKYCTL, "--version"], env)[0] for _ in range(10))
        once, wall = min(cpu_of([nodes.SKYCTL, "-a", "--timeout", "8", "metrics"], env)
                         for _ in range(3))
        per, size = served(env)
        label = "%d x %d" % (NODES, AGENTS)
        print("%-8s %-48s %9.1f ms" % (backend, "floor: skyctl --version, cpu", floor * 1e3))
        print("%-8s %-48s %9.1f ms  (%.0fx floor; wall %.0f ms)"
              % (backend, "skyctl -a metrics, %s, cpu" % label, once * 1e3, once / floor,
                 wall * 1e3))
        print("%-8s %-48s %9.1f ms  (%.0fx floor; %d KB a scrape)"
              % (backend, "--listen, cpu per scrape", per * 1e3, per / floor, size >> 10))
        ok = once <= TARGET_S and per <= TARGET_S
        print("%-8s target <= %.1f s of cpu per scrape: %s" % (backend, TARGET_S,
                                                                "met" if ok else "MISSED"))
        return ok
    finally:
        for n in ns:
            n.stop()


def main():
    print("%d nodes x %d agents; skyctl cpu = user + system of the skyctl process"
          % (NODES, AGENTS))
    results = [bench(b) for b in nodes.backends()]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()

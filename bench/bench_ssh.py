"""Benchmark: the ssh transport (ssh://...) against direct TCP to the same node.

A sandbox node (and real skynet when SKYNET_ROOT is set) behind a throw-away
sshd on loopback (tests/sshd.py):
  1. per-command round trip on an established connection: the node prompt
     (`skyctl repl`) fed N `ping :a` lines, one after the other, minus the
     same run with one line (so set-up is not counted), divided by N-1;
  2. 1000 pipelined commands from one process (`skyctl ping @agent` on a
     node with 1000 agents);
  3. a whole `skyctl list` process (ssh pays its connection set-up here),
     also with ssh's connection sharing (ControlMaster/ControlPersist in
     SKYCTL_SSH), which leaves only a channel to open.
Target: over ssh, a command on an established connection stays under 5 ms
(no Nagle/delayed-ACK stall on the way).  Skipped, with the reason, when
sshd cannot be started.
Run: make bench, or SKYCTL_BUILD=build python3 bench/bench_ssh.py"""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import nodes  # noqa: E402
from sshd import SSHD, Sshd, SshdUnavailable  # noqa: E402

AGENTS = 1000
LINES = 200


def timed(argv, env, input=None, check=None):
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                       input=input, timeout=120)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (argv, p.returncode, p.stderr[-500:]))
    if check:
        check(p.stdout)
    return dt


def lines_out(n):
    def check(out):
        if out.count(b"\n") != n:
            raise RuntimeError("expected %d lines, got %d" % (n, out.count(b"\n")))
    return check


def cases(address, env):
    sky = [nodes.SKYCTL, "-H", address]
    many = b"ping :a\n" * LINES
    full = min(timed(sky + ["repl"], env, many, lines_out(LINES)) for _ in range(3))
    one = min(timed(sky + ["repl"], env, b"ping :a\n", lines_out(1)) for _ in range(3))
    per = (full - one) / (LINES - 1)
    pipelined = min(timed(sky + ["ping", "@agent"], env, check=lines_out(AGENTS))
                    for _ in range(3))
    whole = statistics.median(timed(sky + ["list"], env) for _ in range(10))
    return per, pipelined, whole


def bench(backend, sshd):
    node = nodes.Node(backend, agents=AGENTS).start(timeout=60)
    try:
        env = dict(os.environ, **sshd.env())
        env.pop("SKYCTL_HOST", None)
        tcp = cases(node.address, env)
        ssh = cases(sshd.url(node.port), env)
        mux = dict(env, SKYCTL_SSH=env["SKYCTL_SSH"] + " -o ControlMaster=auto -o ControlPath="
                   + os.path.join(sshd.dir, "cm-%C") + " -o ControlPersist=60")
        timed([nodes.SKYCTL, "-H", sshd.url(node.port), "list"], mux)     # starts the master
        shared = statistics.median(timed([nodes.SKYCTL, "-H", sshd.url(node.port), "list"], mux)
                                   for _ in range(10))
        subprocess.run(["ssh"] + mux["SKYCTL_SSH"].split() + ["-p", str(sshd.port), "-O", "exit",
                       "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=10)                                  # the master goes
        return [("one command, established", tcp[0], ssh[0]),
                ("1000 x ping, pipelined", tcp[1], ssh[1]),
                ("skyctl list, whole process", tcp[2], ssh[2]),
                ("the same, ssh ControlPersist", tcp[2], shared)], ssh[0] < 0.005
    finally:
        node.stop()


def main():
    print("ssh transport: the same node through ssh://127.0.0.1:SSHPORT/PORT and direct TCP")
    if not os.path.exists(SSHD):
        print("skipped: sshd not installed (openssh-server; tools/install-deps)")
        return
    try:
        sshd = Sshd().start()
    except (SshdUnavailable, RuntimeError, OSError, subprocess.SubprocessError) as e:
        print("skipped: cannot start sshd: %s" % str(e).splitlines()[0])
        return
    bad = False
    try:
        print("%-8s %-28s %12s %12s %9s" % ("node", "case", "tcp", "ssh", "ssh/tcp"))
        for backend in nodes.backends():
            try:
                rows, met = bench(backend, sshd)
            except (RuntimeError, OSError) as e:
                print("%-8s skipped: %s" % (backend, str(e).splitlines()[0]))
                bad = True
                continue
            for case, tcp, ssh in rows:
                print("%-8s %-28s %10.3fms %10.3fms %8.1fx" % (backend, case, tcp * 1e3,
                                                              ssh * 1e3, ssh / tcp))
            if not met:
                print("%-8s MISSED: a command over ssh took 5 ms or more" % backend)
            bad |= not met
    finally:
        sshd.stop()
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

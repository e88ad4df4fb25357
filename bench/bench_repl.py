"""One prompt line's round trip: `skyctl repl` (through the agent) against
stock debug mode (a raw console in `debug` mode), on loopback, against the
sandbox and, when SKYNET_ROOT is set, real skynet.  Target: under 5 ms a
line for skyctl (stock: ~100 ms).

    SKYCTL_BUILD=build python3 bench/bench_repl.py [--lines N]

skyctl's figure is (time for N+1 lines - time for 1 line) / N in one
process reading stdin, so start-up and the agent's installation are left
out; each line still waits for its answer before the next is read."""
import argparse
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import nodes  # noqa: E402


def skyctl_run(node, lines, env):
    text = "".join("%d + 1\n" % i for i in range(lines))
    t0 = time.perf_counter()
    r = subprocess.run([nodes.SKYCTL, "-H", node.address, "repl", ":a"], input=text,
                       capture_output=True, text=True, env=env, timeout=120)
    dt = time.perf_counter() - t0
    if r.returncode != 0 or r.stdout.count("\n") != lines:
        raise RuntimeError("skyctl repl failed: %s" % r.stderr)
    return dt


def skyctl_per_line(node, lines, env):
    skyctl_run(node, 1, env)  # installs the agent
    one = min(skyctl_run(node, 1, env) for _ in range(3))
    many = min(skyctl_run(node, lines + 1, env) for _ in range(3))
    return (many - one) / lines, one


def stock_per_line(node, lines):
    times = []
    with nodes.Console(node.port, timeout=10) as con:
        con.send("debug a\n")
        con.read_until(":0000000a>", timeout=10)
        for i in range(lines):
            t0 = time.perf_counter()
            con.send("%d + 1\n" % i)
            con.read_until(":0000000a>", timeout=10)
            times.append(time.perf_counter() - t0)
        con.send("cont\n")
        con.read_until("<CMD OK>\n", timeout=10)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=500, help="skyctl lines (default 500)")
    ap.add_argument("--stock-lines", type=int, default=10, help="debug-mode lines (default 10)")
    a = ap.parse_args()
    env = dict(os.environ, SKYCTL_HISTFILE="/dev/null",
               XDG_STATE_HOME=nodes.scratch_dir("bench-repl-"))
    print("%-8s %14s %14s %10s %12s" % ("backend", "skyctl ms/line", "stock ms/line", "ratio",
                                        "start-up ms"))
    ok = True
    for backend in nodes.backends():
        try:
            node = nodes.Node(backend).start()
        except RuntimeError:
            print("%-8s did not start" % backend)
            ok = False
            continue
        try:
            ours, startup = skyctl_per_line(node, a.lines, env)
            stock = stock_per_line(node, a.stock_lines)
        finally:
            node.stop()
        ok &= ours < 0.005
        print("%-8s %14.3f %14.1f %9.0fx %12.1f" % (backend, ours * 1e3, stock * 1e3,
                                                   stock / ours, startup * 1e3))
    print("target: under 5 ms a line: %s" % ("met" if ok else "NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

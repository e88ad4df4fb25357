"""Benchmark: what an inject costs a node, in instructions (issue 15).

bench_batch10k.py times skyctl against its floor; on a small machine one
run of either reads up to 1.5x another, so a change of a few per cent
does not show there.  An instruction count does not vary so: here the
node runs under callgrind, counting only the handling of messages
(skynet's skynet_context_message_dispatch, the sandbox's sched_worker),
that is the work of every service, hub and console included, and none
of the node's idle loops.  Two rows, instructions per service, skyctl /
floor (bench_batch10k's floor: a stock inject of the same 2 KB script
after a bare hotfix.replace, 8 at once from one service):

- first contact: `skyctl inject @agent` into a fresh node, the floor into
  another fresh node (each service's first debug RUN, either side);
- agent in place: `skyctl inject --again @agent` and the floor in turn on
  the node skyctl has reached, each after a `gc` of every service (not
  counted), ROUNDS times; the medians.

The agent's loading into the hub and the console's reading of it count
once a run whatever the node's size: the more services, the less they
weigh (BENCH_SERVICES, 300 by default).  Needs valgrind.  Sandbox always;
real skynet too when SKYNET_ROOT is set.
Run: SKYCTL_BUILD=build python3 bench/bench_instructions.py"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import nodes  # noqa: E402
import bench_batch10k as batch  # noqa: E402

SERVICES = int(os.environ.get("BENCH_SERVICES", "300"))
ROUNDS = 3
DISPATCH = {"skynet": "skynet_context_message_dispatch", "sandbox": "sched_worker"}


class CountedNode(nodes.Node):
    """a node under callgrind, counting its message handling only"""

    def __init__(self, backend, agents, dumps):
        super().__init__(backend, agents=agents)
        self.dumps = dumps

    def command(self, config_path):
        return ["valgrind", "--tool=callgrind", "--collect-atstart=no",
                "--toggle-collect=" + DISPATCH[self.backend],
                "--callgrind-out-file=%s/cg.%%p" % self.dumps] + super().command(config_path)

    def control(self, flag):
        subprocess.run(["callgrind_control", flag, str(self.proc.pid)], check=True,
                       capture_output=True, timeout=600)

    def counted(self, work):
        """instructions the node spent on work(), per agent service"""
        self.control("-z")
        work()
        self.control("-d")
        dumps = glob.glob("%s/cg.%d.*" % (self.dumps, self.proc.pid))
        newest = max(dumps, key=os.path.getmtime)
        with open(newest) as f:
            total = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M)
        for d in dumps:
            os.remove(d)
        return int(total.group(1)) / SERVICES


def median(xs):
    return sorted(xs)[len(xs) // 2]


def measure(backend, files, env, dumps):
    print("-- %s, %d services" % (backend, SERVICES), flush=True)

    def node():
        n = CountedNode(backend, SERVICES, dumps).start(timeout=300)
        con = nodes.Console(n.port, timeout=600)
        con.banner()
        batch.collect(con)
        return n, con

    def skyctl(n, args):
        r = subprocess.run([nodes.SKYCTL, "-H", n.address, "--timeout", "600"] + args, env=env,
                           capture_output=True, text=True, timeout=1200)
        if r.returncode != 0:
            raise RuntimeError("skyctl %s: exit %d: %s" % (args[0], r.returncode,
                                                             r.stderr.strip()[-300:]))

    def floor(con, script):
        return lambda: batch.floor(con, batch.host_of(con), files["floor"], "run", files[script])

    rows = {}
    n, con = node()
    try:
        rows["floor first"] = n.counted(floor(con, "fix1.floor"))
    finally:
        con.close()
        n.stop()
    n, con = node()
    try:
        rows["first"] = n.counted(lambda: skyctl(n, ["inject", "@agent", files["fix1"]]))
        ours, theirs = [], []
        for _ in range(ROUNDS):
            batch.collect(con)
            ours.append(n.counted(lambda: skyctl(n, ["inject", "--again", "@agent",
                                                     files["fix2"]])))
            batch.collect(con)
            theirs.append(n.counted(floor(con, "fix2.floor")))
        rows["in place"], rows["floor in place"] = median(ours), median(theirs)
    finally:
        con.close()
        n.stop()
    print("   %-16s %12s %12s %6s" % ("inject", "skyctl", "floor", "ratio"))
    for label, key in (("first contact", "first"), ("agent in place", "in place")):
        ours, theirs = rows[key], rows["floor " + key]
        print("   %-16s %12.0f %12.0f %5.2fx" % (label, ours, theirs, ours / theirs), flush=True)


def main():
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        print("instruction counts need valgrind (apt-get install valgrind): not measured")
        return
    tmp = tempfile.mkdtemp(prefix="skyctl-bench-ir-")
    files, env = batch.bench_files(tmp), batch.private_env(tmp)
    dumps = os.path.join(tmp, "callgrind")
    os.mkdir(dumps)
    print("instructions a service, the node's message handling under callgrind; floor = "
          "stock inject of the same script, %d at once from one service" % batch.PAR)
    for backend in nodes.backends():
        measure(backend, files, env, dumps)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

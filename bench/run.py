"""Run every bench/bench_*.py in turn (make bench).  Each prints its own
table; a failing one is reported and the others still run."""
import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    failed = []
    for path in sorted(glob.glob(os.path.join(HERE, "bench_*.py"))):
        name = os.path.basename(path)
        print("== %s" % name, flush=True)
        if subprocess.run([sys.executable, path]).returncode != 0:
            failed.append(name)
        print(flush=True)
    if failed:
        print("failed: %s" % ", ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()

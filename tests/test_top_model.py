"""The model behind `skyctl top` (src/sample.c) on its own: reply lines in,
rates out.  Builds tests/test_top_model.c against src/sample.c (with the
sanitizers when SKYCTL_BUILD is a SANITIZE=1 build)."""
import math
import os
import subprocess

import pytest

import nodes

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    exe = str(tmp_path_factory.mktemp("model") / "test_top_model")
    flags = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-O1", "-g"]
    if nodes.BUILD.rstrip("/").endswith("san"):
        flags += ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"]
    subprocess.run(["cc"] + flags + ["-I", os.path.join(nodes.ROOT, "src"), "-o", exe,
                    os.path.join(HERE, "test_top_model.c"),
                    os.path.join(nodes.ROOT, "src", "sample.c"), "-lm"], check=True)
    return exe


def run(driver, script):
    out = subprocess.run([driver], input=script, capture_output=True, text=True,
                         check=True, timeout=30).stdout
    return out


def rows(out):
    """The last D block as dicts."""
    block = out.rsplit("end\n", 2)[-2].split("\n")
    got = []
    for line in block:
        f = line.split("\t")
        if len(f) != 9:
            continue
        got.append(dict(addr=f[0], name=f[1], cpu=float(f[2]), rate=float(f[3]),
                        mqlen=int(f[4]), task=int(f[5]), mem=float(f[6]),
                        change=float(f[7]), states=f[8]))
    return got


STAT1 = [":0000000a\tcpu:0.5\tmessage:100\tmqlen:0\ttask:1",
         ":0000000b\tcpu:1.0\tmessage:10\tmqlen:7\ttask:0",
         ":0000000c\tcpu:0.25\tmessage:5\tmqlen:0\ttask:2"]
MEM1 = [":0000000a\t10.00 Kb (snlua agent 1)",
        ":0000000b\t20.00 Kb (snlua busy)",
        ":0000000c\t30.50 Kb (snlua flood (x) y)"]
STAT2 = [":0000000a\tcpu:0.6\tmessage:300\tmqlen:0\ttask:1",
         ":0000000b\tcpu:2.0\tmessage:12\tmqlen:9\ttask:0",
         ":0000000c\tcpu:0.25\tmessage:5\tmqlen:50\ttask:2"]
MEM2 = [":0000000a\t11.00 Kb (snlua agent 1)",
        ":0000000b\t20.00 Kb (snlua busy)",
        ":0000000c\t30.50 Kb (snlua flood (x) y)"]


def script(*samples, dump="D cpu"):
    s = ""
    for when, stat, mem in samples:
        s += "".join("S %s\n" % l for l in stat) + "".join("M %s\n" % l for l in mem)
        s += "T %s\n" % when
    return s + dump + "\n"


def test_rates_over_the_interval(driver):
    got = rows(run(driver, script((10, STAT1, MEM1), (12, STAT2, MEM2))))
    assert [r["addr"] for r in got] == [":0000000b", ":0000000a", ":0000000c"]
    b, a, c = got
    assert b["cpu"] == pytest.approx(50.0)        # 1 s of cpu in 2 s
    assert a["cpu"] == pytest.approx(5.0)
    assert a["rate"] == pytest.approx(100.0)      # 200 messages in 2 s
    assert a["change"] == 1024 and a["mem"] == 11 * 1024
    assert c["name"] == "snlua flood (x) y"       # the name runs to the last ')'
    assert c["mqlen"] == 50 and c["task"] == 2 and c["rate"] == 0


def test_own_probe_messages_are_left_out(driver):
    got = {r["addr"]: r for r in rows(run(driver, "O 2\n" + script((10, STAT1, MEM1), (12, STAT2, MEM2))))}
    assert got[":0000000a"]["rate"] == pytest.approx(99.0)   # (200 - 2) / 2 s
    assert got[":0000000b"]["rate"] == 0                      # only our stat and mem
    assert got[":0000000c"]["rate"] == 0                      # never below zero


def test_sort_keys(driver):
    base = script((10, STAT1, MEM1), (12, STAT2, MEM2), dump="")
    for key, order in [("mem", "cba"), ("queue", "cba"), ("msg", "abc"), ("cpu", "bac")]:
        got = rows(run(driver, base + "D %s\n" % key))
        assert "".join(r["addr"][-1] for r in got) == order, key


def test_filter_by_name_ignores_case(driver):
    got = rows(run(driver, script((10, STAT1, MEM1), (12, STAT2, MEM2), dump="D cpu AGENT")))
    assert [r["name"] for r in got] == ["snlua agent 1"]


def test_first_sample_has_no_rates(driver):
    got = rows(run(driver, script((10, STAT1, MEM1))))
    assert len(got) == 3 and all(math.isnan(r["cpu"]) and math.isnan(r["change"]) for r in got)
    assert [r["addr"] for r in got] == [":0000000a", ":0000000b", ":0000000c"]


def test_timeout_and_error_values(driver):
    stat2 = [":0000000a\tTIMEOUT", ":0000000b\tERROR", STAT2[2]]
    mem2 = [":0000000a\tTIMEOUT (snlua agent 1)", ":0000000b\tERROR (snlua busy)", MEM2[2]]
    got = {r["addr"]: r for r in rows(run(driver, script((10, STAT1, MEM1), (12, stat2, mem2))))}
    assert got[":0000000a"]["states"] == "22" and got[":0000000a"]["name"] == "snlua agent 1"
    assert got[":0000000b"]["states"] == "33" and got[":0000000b"]["name"] == "snlua busy"
    assert math.isnan(got[":0000000a"]["cpu"]) and math.isnan(got[":0000000b"]["change"])
    assert got[":0000000c"]["states"] == "11"


def test_replies_in_any_order_join_by_address(driver):
    got = rows(run(driver, script((10, STAT1, MEM1),
                                  (12, STAT2[::-1], MEM2[1:] + MEM2[:1]), dump="D queue")))
    assert [(r["addr"], r["mqlen"], r["mem"]) for r in got] == [
        (":0000000c", 50, 30.5 * 1024), (":0000000b", 9, 20 * 1024), (":0000000a", 0, 11 * 1024)]


def test_new_service_and_reused_address(driver):
    # :b restarted (its counters went back), :d is new, :c is gone
    stat2 = [STAT2[0], ":0000000b\tcpu:0.1\tmessage:1\tmqlen:0\ttask:0",
             ":0000000d\tcpu:0.1\tmessage:1\tmqlen:0\ttask:0"]
    mem2 = [MEM2[0], ":0000000b\t5.00 Kb (snlua other)", ":0000000d\t1.00 Kb (snlua new)"]
    got = {r["addr"]: r for r in rows(run(driver, script((10, STAT1, MEM1), (12, stat2, mem2))))}
    assert sorted(got) == [":0000000a", ":0000000b", ":0000000d"]
    assert math.isnan(got[":0000000b"]["cpu"]) and math.isnan(got[":0000000d"]["cpu"])
    assert got[":0000000a"]["cpu"] == pytest.approx(5.0)


def test_lines_that_are_not_replies_are_refused(driver):
    out = run(driver, "S hello\nM \nS :zz\tcpu:1\nS :a\n" + "S :a\tcpu:1\tmessage:1\tmqlen:0\ttask:0\n")
    assert out.split() == ["-1", "-1", "-1", "-1", "0"]


def test_memory_change_in_whole_bytes_never_minus_zero(driver):
    """Kb to two places: 10.01 and 20.01 Kb less 10.00 and 20.00 differ
    in the last bit; what the poller leaves (their median) taken off,
    each change is a whole number of bytes, and none reads "-0"."""
    mem1 = [":0000000a\t10.00 Kb (snlua a)", ":0000000b\t20.00 Kb (snlua b)",
            ":0000000c\t30.00 Kb (snlua c)"]
    mem2 = [":0000000a\t10.01 Kb (snlua a)", ":0000000b\t20.01 Kb (snlua b)",
            ":0000000c\t30.02 Kb (snlua c)"]
    stat = [":0000000%s\tcpu:0.1\tmessage:5\tmqlen:0\ttask:0" % a for a in "abc"]
    out = run(driver, "O 2\n" + script((10, stat, mem1), (12, stat, mem2)))
    block = out.rsplit("end\n", 2)[-2].split("\n")
    fields = [l.split("\t")[7] for l in block if l.count("\t") == 8]
    assert sorted(fields) == ["0", "0", "10"], fields

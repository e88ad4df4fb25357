"""The node file is Lua: a loop, a huge table or bytecode in it ends in a
one-line error naming the file (exit 6), never a hang or a machine's
worth of memory."""
from cli_helpers import skyctl


def run_with(tmp_path, text, mode="w"):
    conf = tmp_path / "config.lua"
    if mode == "wb":
        conf.write_bytes(text)
    else:
        conf.write_text(text)
    return conf, skyctl("--config", conf, "-n", "game1", "list", timeout=20)


def test_endless_loop_is_stopped(tmp_path):
    conf, r = run_with(tmp_path, "while true do end\n")
    assert r.returncode == 6
    assert r.stderr == "skyctl: %s: ran for more than 10000000 Lua instructions (a loop?)\n" % conf


def test_huge_table_hits_the_memory_cap(tmp_path):
    # without the cap this table takes gigabytes before Lua gives up
    conf, r = run_with(tmp_path, "t = {} for i = 1, 1e9 do t[i] = i end nodes = {}\n")
    assert r.returncode == 6
    assert r.stderr == "skyctl: %s: uses more than 16 MB of memory\n" % conf


def test_bytecode_is_refused_with_a_readable_message(tmp_path):
    conf, r = run_with(tmp_path, b"\x1bLua\x54\x00", mode="wb")
    assert r.returncode == 6
    assert r.stderr == ("skyctl: %s: attempt to load a binary chunk (mode is 't')\n" % conf)


def test_syntax_error_names_file_and_line(tmp_path):
    conf, r = run_with(tmp_path, "nodes = {\n")
    assert r.returncode == 6
    assert r.stderr.startswith("skyctl: %s:2: " % conf)

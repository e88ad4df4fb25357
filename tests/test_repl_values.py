"""What the prompt shows and keeps, fed from a pipe: a leading `local`
keeps its names for the next lines, a long value is cut with a note, and
.more prints the last values whole."""
from cli_helpers import skyctl


def repl(node, tmp_path, *lines):
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "HOME": str(tmp_path)}
    return skyctl("repl", ":a", node=node, env=env, input="".join(l + "\n" for l in lines))


def test_locals_stay_for_the_next_lines(node, tmp_path):
    r = repl(node, tmp_path, "local t = {1, 2}", "t", "local a <const>, b = 5", "a, b",
             "local function twice(x) return 2 * x end", "twice(21)", "local z", "z")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "{1, 2}\n5\tnil\n42\nnil\n"


def test_a_local_inside_a_block_stays_local(node, tmp_path):
    r = repl(node, tmp_path, "do local hidden = 1 end", "hidden")
    assert r.stdout == "nil\n"


def test_long_values_are_cut_and_more_shows_them(node, tmp_path):
    big = "big = {} for i = 1, 100 do big['k' .. i] = {i} end"
    r = repl(node, tmp_path, big, "big", "x = 1", ".more")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    cut = out.index("... (62 more lines: .more shows them)")
    assert cut == 40 and out[0] == "{" and out[1] == "  k1 = {1},"
    whole = out[cut + 1:]
    assert len(whole) == 102 and whole[-1] == "}" and "  k99 = {99}" in whole


def test_help_lists_more(node, tmp_path):
    r = repl(node, tmp_path, ".help")
    assert ".more" in r.stdout and "leading `local`" in r.stdout

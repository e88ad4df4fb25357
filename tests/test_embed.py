"""tools/embed.c: the Lua a binary carries loses its comments and its
indentation and nothing else. Each file of lua/ and sandbox/lua/, and a
file of the cases that can go wrong (strings holding comment marks, long
brackets of several levels, a comment between two tokens), keeps its lines
and compiles (luac -s) to the same bytecode as its source."""
import glob
import os
import re
import shutil
import subprocess

import pytest

import nodes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMBED = os.path.join(os.path.dirname(nodes.SKYCTL), "embed")
LUAC = shutil.which("luac5.4")

pytestmark = pytest.mark.skipif(not (os.path.exists(EMBED) and LUAC and shutil.which("lua5.4")),
                                reason="no build/embed, luac5.4 or lua5.4")

TRICKY = r'''-- gone
local a = "-- not a comment" -- gone too
local b = '\'--\' also not' --[[ gone: a long
comment ]] local c = [==[
  -- kept, [[ ]] and ]] inside ]==]
local--[[]]d = a .. b .. c	-- tab before me
	local e = "a \
  -- still the string"
--[=[ level 1 ]] still comment ]=] local f = 1 - -1
return a, b, c, d, e, f
'''


def embedded(tmp_path, paths):
    """{path: the text embed gives for it}"""
    out = tmp_path / "out.c"
    subprocess.run([EMBED, "t", str(out)] + paths, check=True)
    src = out.read_text()
    arrays = {int(m.group(1)): bytes(int(x) for x in m.group(2).split(",") if x.strip())
              for m in re.finditer(r"static const char f(\d+)\[\] = \{(.*?)\};", src, re.S)}
    return {p: arrays[int(i)][:int(n)]
            for p, (i, n) in zip(paths, re.findall(r'\{"[^"]+", f(\d+), (\d+)', src))}


def bytecode(tmp_path, path):
    out = tmp_path / "luac.out"
    subprocess.run([LUAC, "-s", "-o", str(out), path], check=True)
    return out.read_bytes()


def test_embedded_lua_is_the_same_code_on_the_same_lines(tmp_path):
    tricky = tmp_path / "tricky.lua"
    tricky.write_text(TRICKY)
    paths = [str(tricky)] + sorted(glob.glob(os.path.join(ROOT, "lua", "*.lua")) +
                                   glob.glob(os.path.join(ROOT, "sandbox", "lua", "*.lua")))
    for path, text in embedded(tmp_path, paths).items():
        orig = open(path, "rb").read()
        assert text.count(b"\n") == orig.count(b"\n"), path
        stripped = tmp_path / "stripped.lua"
        stripped.write_bytes(text)
        assert bytecode(tmp_path, str(stripped)) == bytecode(tmp_path, path), path
        assert len(text) < len(orig), path
    text = embedded(tmp_path, [str(tricky)])[str(tricky)].decode()
    assert "gone" not in text and "tab before" not in text and "\t" not in text
    lines = text.split("\n")
    assert lines[2:8] == ["local b = '\\'--\\' also not'", "local c = [==[",
                          "  -- kept, [[ ]] and ]] inside ]==]", "local--[[]]d = a .. b .. c",
                          'local e = "a \\', '  -- still the string"'], lines
    assert "local--[[]]d" in text and '"-- not a comment"' in text
    stripped.write_text(text)
    run = subprocess.run(["lua5.4", "-e", "print(dofile('%s'))" % stripped],
                         capture_output=True, text=True)
    assert run.stdout.startswith("-- not a comment\t'--' also not\t  -- kept"), run.stderr
    assert run.stdout.endswith("\t2\n"), run.stdout

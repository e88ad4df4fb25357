"""The prompt is no side door: code changed at `skyctl repl` through the
hotfix helpers is journaled as a patch named after the session, which
`patches` lists and `rollback` undoes; a line that only reads is not;
`.exec` runs a script without making it a patch.  Sandbox and real skynet."""
from cli_helpers import ask, leave, prompt, skyctl, spawn
from inject_client import journal



def test_code_changed_at_the_prompt_is_a_patch(node, env, tmp_path):
    c = spawn(node, env, ":a")
    prompt(c)
    ask(c, "_P.lua.CMD.deposit(3)", r"\r\n3\r\n")
    ask(c, "hotfix.replace(_P.lua.CMD, 'balance', function() return -1 end)",
        r"journaled as patch #1: 1 change; skyctl rollback undoes it")
    ask(c, "_P.lua.CMD.balance()", r"\r\n-1\r\n")
    ask(c, ".patches", r"1 +repl \S+ +.* applied")
    ask(c, ".rollback", r"ok +#1 repl \S+ \(1 restored\)")
    ask(c, "_P.lua.CMD.balance()", r"\r\n3\r\n")
    script = tmp_path / "ask.lua"
    script.write_text("return _P.lua.CMD.balance() * 2\n")
    ask(c, ".exec %s" % script, r"= 6")
    assert leave(c) == 0
    entries = journal(node, "a")
    assert [(e["kind"], e["name"][:5]) for e in entries] == \
        [("apply", "repl "), ("rollback", "repl ")]
    assert "@" in entries[0]["who"]
    r = skyctl("-H", node.address, "patches", ":a", env=env)
    assert r.returncode == 0 and "rolled back" in r.stdout, r.stdout

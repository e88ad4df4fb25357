-- skyctl bootstrap: the one short line skyctl types in debug mode (see
-- lua/agent.lua).  Line 1 registers the debug command SKYCTL, which loads a
-- %XX-escaped chunk and runs it with its source and the other arguments;
-- line 2, for --no-agent, registers
-- SKYCTL_ONCE, which unregisters itself when called.  Each is a statement
-- that cannot compile as an expression, so debug mode runs it once.
do require"skynet.debug".reg_debugcmd("SKYCTL",function(s,...)local c=s:gsub("%%(%x%x)",function(h)return string.char(tonumber(h,16))end)assert(load(c,"=skyctl","t",_G))(c,...)end)end
do local d=require"skynet.debug"d.reg_debugcmd("SKYCTL_ONCE",function(s,...)d.reg_debugcmd("SKYCTL_ONCE",nil)local c=s:gsub("%%(%x%x)",function(h)return string.char(tonumber(h,16))end)assert(load(c,"=skyctl","t",_G))(c,...)end)end

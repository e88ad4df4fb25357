-- skyctl bootstrap: the one short line skyctl types in debug mode (see
-- lua/agent.lua).  Line 1 registers the debug command SKYCTL, which loads a
-- %XX-escaped chunk and runs it with its source and the other arguments;
-- line 2, for --no-agent, registers
-- SKYCTL_ONCE, which unregisters itself when called; line 3, typed first
-- on a console without `dbgcmd` (skynet before 1.5), routes `info ADDR
-- SKYCTL...` to those debug commands (any other INFO still reaches the
-- service's own skynet.info_func) and answers `trace ADDR SKYCTL?`, the
-- probe telling a routed service from one never booted.  It wraps the debug
-- dispatch once per service (package.loaded.skyctl_route keeps the stock
-- one).  Each is a statement that cannot compile as an expression, so debug
-- mode runs it once.
do require"skynet.debug".reg_debugcmd("SKYCTL",function(s,...)local c=s:gsub("%%(%x%x)",function(h)return string.char(tonumber(h,16))end)assert(load(c,"=skyctl","t",_G))(c,...)end)end
do local d=require"skynet.debug"d.reg_debugcmd("SKYCTL_ONCE",function(s,...)d.reg_debugcmd("SKYCTL_ONCE",nil)local c=s:gsub("%%(%x%x)",function(h)return string.char(tonumber(h,16))end)assert(load(c,"=skyctl","t",_G))(c,...)end)end
do local s=require"skynet"local d=package.loaded.skyctl_route if not d then d=s.dispatch"debug"package.loaded.skyctl_route=d s.dispatch("debug",function(S,A,c,n,...)if c=="INFO"and type(n)=="string"and n:find"^SKYCTL"then return d(S,A,n,...)elseif c=="TRACELOG"and n=="SKYCTL?"then return s.ret()end return d(S,A,c,n,...)end)end end

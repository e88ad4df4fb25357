-- skyctl's way into a service with no debug mode: the source skyctl gives
-- the stock debug command RUN (`dbgcmd ADDR RUN <line> skyctl <chunk>
-- <args>...`, see src/agent.c), which starts no service and writes nothing
-- to the node's log.  The console splits a command on whitespace, so the
-- line has none (a comment separates `local` from its name).  It runs the
-- %XX-escaped chunk with the chunk and the other arguments, as lua/boot.lua's
-- SKYCTL does.  The chunk replies itself; RUN's own reply after it,
-- (true, output), is swallowed: the console cannot print a boolean (it
-- drops the connection and logs an error).
local--[[]]s=require"skynet"assert(load((...):gsub("%%(%x%x)",function(h)return(string.char(tonumber(h,16)))end),"=skyctl","t",_G))(...)local--[[]]r=s.ret;s.ret=function()s.ret=r;end

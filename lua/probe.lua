-- skyctl's first request to a hub in a session, run through lua/run.lua:
-- the agent of this version answers it (lua/agent.lua keeps its console
-- command in package.loaded.skyctl.command); otherwise the reply asks for
-- the agent.  Unlike `dbgcmd ADDR SKYCTL1`, asking a service with no agent
-- raises no error, so first contact leaves no traceback in the node's log.
local _, VERSION, REQUEST = ...
local skynet = require "skynet"
local S = package.loaded.skyctl
if type(S) == "table" and S.version == VERSION and S.command then
	S.command(VERSION, REQUEST)
else
	skynet.ret(skynet.pack("SKYCTL1 upgrade none"))
end

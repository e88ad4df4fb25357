-- debug_agent: one per debug session.  "start" attaches the target
-- (REMOTEDEBUG over a fresh channel) and answers when the session ends;
-- "cmd" passes a line the client typed into the channel; "ping" tells the
-- console the agent is still there.  It exits when its session ends.
local skynet = require "skynet"
local core = require "sandbox.core"

local CMD = {}
local channel
local keeper	-- releases our reference to the channel with the agent's state

function CMD.start(address, fd)
	assert(channel == nil, "start more than once")
	-- the console passes a ":hex" address through as a string: this
	-- format then fails, and the agent stays (a known quirk of skynet)
	skynet.error(string.format("Attach to :%08x", address))
	channel = core.chnew()
	keeper = setmetatable({}, { __gc = function() core.chrelease(channel) end })
	local ok = pcall(skynet.call, address, "debug", "REMOTEDEBUG", fd, channel)
	if ok then
		skynet.ret(skynet.pack(true))
	else
		skynet.ret(skynet.pack(false, "Debugger attach failed"))
	end
	skynet.exit()
end

function CMD.cmd(line)
	core.chwrite(channel, line)
end

function CMD.ping()
	skynet.ret()
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, ...)
		CMD[cmd](...)
	end)
end)

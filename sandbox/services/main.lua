-- Start service shared by the demo and the tests: opens the debug console
-- and launches the sample services named by the config. Runs unchanged on
-- real skynet and on skyctl-sandbox.
local skynet = require "skynet"
local socket = require "skynet.socket"

-- The address the console listens on, from the node's socket table: with
-- console_port = 0 the system picks a free port, and only this tells which
-- (tests/nodes.py reads it from the "main ready" line).
local function console_address(console)
	for _, s in ipairs(socket.netstat()) do
		if s.type == "LISTEN" and s.address == console then
			return s.sock
		end
	end
end

skynet.start(function()
	local port = assert(tonumber(skynet.getenv "console_port"), "console_port not set")
	local console = skynet.newservice("debug_console", "127.0.0.1", port)
	local address = console_address(console)
	for i = 1, tonumber(skynet.getenv "agents" or 3) do
		skynet.newservice("agent", i)
	end
	local extra = skynet.getenv "services"
	if extra then
		for name in extra:gmatch "[^,%s]+" do
			skynet.newservice(name)
		end
	end
	skynet.error("main ready, console at " .. tostring(address))
end)

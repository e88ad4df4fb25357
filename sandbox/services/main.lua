-- Start service shared by the demo and the tests: opens the debug console
-- and launches the sample services named by the config. Runs unchanged on
-- real skynet and on skyctl-sandbox.
local skynet = require "skynet"

skynet.start(function()
	local port = assert(tonumber(skynet.getenv "console_port"), "console_port not set")
	skynet.newservice("debug_console", "127.0.0.1", port)
	for i = 1, tonumber(skynet.getenv "agents" or 3) do
		skynet.newservice("agent", i)
	end
	local extra = skynet.getenv "services"
	if extra then
		for name in extra:gmatch "[^,%s]+" do
			skynet.newservice(name)
		end
	end
	skynet.error("main ready")
end)

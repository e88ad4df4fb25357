-- skyctl getenv and setenv on a console that has neither (skynet 1.5 to
-- 1.7: it has dbgcmd), run by the agent in a console service with
-- nothing left there (cli/envagent.c): what 1.8's console does for them,
-- printed as it prints it.  Arguments: the command, the key, the value.
local skynet = require "skynet"
local cmd, key, value = ...
if cmd == "getenv" then
	print(key .. "\t" .. tostring(skynet.getenv(key)))
else
	skynet.setenv(key, value)
end

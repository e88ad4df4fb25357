-- bootstrap: the first service; starts the system services in skynet's
-- order (so addresses match a real standalone node: launcher :3, cdummy
-- :4 with its harbor :5, datacenterd :6, service_mgr :7), then the
-- config's `start` service, and exits.
local skynet = require "skynet"
require "skynet.manager"

skynet.start(function()
	local launcher = assert(skynet.launch("snlua", "launcher"))
	skynet.name(".launcher", launcher)
	if tonumber(skynet.getenv "harbor" or 0) == 0 then
		skynet.setenv("standalone", "true")
	end
	local ok, slave = pcall(skynet.newservice, "cdummy")
	if not ok then
		skynet.abort()
	end
	skynet.name(".cslave", slave)
	skynet.newservice "datacenterd"
	skynet.newservice "service_mgr"
	pcall(skynet.newservice, skynet.getenv "start" or "main")
	skynet.exit()
end)

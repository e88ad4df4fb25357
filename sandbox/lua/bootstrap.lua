-- bootstrap: the first service; starts the system services in skynet's
-- order, so addresses match a real node's: a standalone node (harbor 0)
-- has launcher :3, cdummy :4 with its harbor :5, datacenterd :6,
-- service_mgr :7; a network's master node has cmaster :4, cslave :5 with
-- its harbor :6, datacenterd :7, service_mgr :8; another harbor has
-- cslave :4, harbor :5, service_mgr :6.  Then the config's `start`
-- service; then it exits.
local skynet = require "skynet"
require "skynet.manager"

skynet.start(function()
	local launcher = assert(skynet.launch("snlua", "launcher"))
	skynet.name(".launcher", launcher)
	local standalone = skynet.getenv "standalone"
	local slave = "cslave"
	if tonumber(skynet.getenv "harbor" or 0) == 0 then
		standalone = true
		skynet.setenv("standalone", "true")
		slave = "cdummy"
	elseif standalone and not pcall(skynet.newservice, "cmaster") then
		skynet.abort()
	end
	local ok, addr = pcall(skynet.newservice, slave)
	if not ok then
		skynet.abort()
	end
	skynet.name(".cslave", addr)
	if standalone then
		skynet.name("DATACENTER", skynet.newservice "datacenterd")
	end
	skynet.newservice "service_mgr"
	pcall(skynet.newservice, skynet.getenv "start" or "main")
	skynet.exit()
end)

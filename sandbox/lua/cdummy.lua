-- cdummy: the harbor slave of a standalone node (harbor 0): starts the
-- (silent) harbor service and keeps the node's global names, answering
-- QUERYNAME as skynet's cdummy does (a name nobody registered waits).
local skynet = require "skynet"
require "skynet.manager"

local globalname = {}
local queryname = {}	-- name -> responses waiting for it

local harbor = {}

function harbor.REGISTER(name, handle)
	assert(globalname[name] == nil)
	globalname[name] = handle
	for _, response in ipairs(queryname[name] or {}) do
		response(true, handle)
	end
	queryname[name] = nil
end

function harbor.QUERYNAME(name)
	if name:byte() == 46 then	-- "." , local name
		skynet.ret(skynet.pack(skynet.localname(name)))
	elseif globalname[name] then
		skynet.ret(skynet.pack(globalname[name]))
	else
		queryname[name] = queryname[name] or {}
		table.insert(queryname[name], skynet.response())
	end
end

skynet.start(function()
	skynet.launch("harbor", 0, skynet.self())
	skynet.dispatch("lua", function(_, _, cmd, ...)
		local f = harbor[cmd]
		if f then
			f(...)
		else
			skynet.ret()
		end
	end)
end)

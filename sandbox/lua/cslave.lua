-- cslave: the harbor slave of a node in a network (harbor ~= 0).  It
-- connects to the master, starts the `harbor` service (which makes the C
-- side hand it every message for another harbor, as PTYPE_HARBOR), sends
-- those to the master, delivers the ones that come back, and keeps the
-- global names for REGISTER and QUERYNAME as skynet's cslave does (a
-- query for a name nobody registered waits until someone does).
local skynet = require "skynet"
local core = require "sandbox.core"
local socket = require "skynet.socket"
local wire = require "sandbox.harborwire"
require "skynet.manager"

local master
local globalname = {}
local queryname = {}	-- name -> responses waiting for it

local function response_name(name)
	local handle = globalname[name]
	for _, response in ipairs(queryname[name] or {}) do
		response(true, handle)
	end
	queryname[name] = nil
end

local harbor = {}

function harbor.REGISTER(name, handle)
	assert(globalname[name] == nil)
	globalname[name] = handle
	response_name(name)
	socket.write(master, wire.name("R", name, handle))
end

function harbor.QUERYNAME(name)
	if name:byte() == 46 then	-- "." , local name
		skynet.ret(skynet.pack(skynet.localname(name)))
		return
	end
	if globalname[name] then
		skynet.ret(skynet.pack(globalname[name]))
		return
	end
	if not queryname[name] then
		queryname[name] = {}
		socket.write(master, wire.name("Q", name))
	end
	table.insert(queryname[name], skynet.response())
end

function harbor.LINK()
	skynet.ret()
end
harbor.CONNECT = harbor.LINK
harbor.LINKMASTER = harbor.LINK

-- a message from another harbor: deliver it, or fail its call as skynet's
-- harbor does for an unknown destination
local function deliver(dest, source, session, ptype, payload)
	if core.redirect(dest, source, ptype, session, payload) then
		return
	end
	skynet.error(string.format("Unknown destination :%x from :%x type(%d)", dest, source, ptype))
	if session ~= 0 and ptype ~= skynet.PTYPE_RESPONSE and ptype ~= skynet.PTYPE_ERROR then
		socket.write(master, wire.message(string.pack(">I4I4I4B", source, dest, session,
			skynet.PTYPE_ERROR)))
	end
end

local function from_master()
	while true do
		local kind, a, b, c, d, e = wire.read(master)
		if not kind then
			skynet.error("master is down")
			return
		elseif kind == "M" then
			deliver(a, b, c, d, e)
		elseif kind == "N" then
			globalname[a] = b
			response_name(a)
		end
	end
end

skynet.register_protocol {
	name = "harbor",
	id = skynet.PTYPE_HARBOR,
	unpack = core.tostring,
}

skynet.start(function()
	local harbor_id = tonumber(skynet.getenv "harbor")
	local host, port = assert(skynet.getenv "master"):match "^(.*):(%d+)$"
	skynet.error("slave connect to master " .. host .. ":" .. port)
	master = socket.open(host, tonumber(port))
	socket.start(master)
	socket.write(master, wire.hello(harbor_id))
	skynet.dispatch("lua", function(_, _, command, ...)
		local f = assert(harbor[command])
		f(...)
	end)
	skynet.dispatch("harbor", function(_, _, msg)
		socket.write(master, wire.message(msg))
	end)
	skynet.launch("harbor", harbor_id, skynet.self())
	skynet.fork(from_master)
	skynet.error("Shakehand ready")
end)

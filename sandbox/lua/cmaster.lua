-- cmaster: the master of a network of harbors (the node whose config has
-- `standalone`).  Every slave, its own node's included, connects here; the
-- master relays messages between harbors and keeps the global names.
-- (Real skynet's slaves then connect to each other; one relay is enough
-- for what the console sees.)
local skynet = require "skynet"
local socket = require "skynet.socket"
local wire = require "sandbox.harborwire"

local slaves = {}	-- harbor id -> fd
local names = {}	-- global name -> handle
local pending = {}	-- harbor id -> frames for it that came before it did

local function serve(fd, addr)
	socket.start(fd)
	local kind, id = wire.read(fd)
	if kind ~= "H" then
		socket.close(fd)
		return
	end
	slaves[id] = fd
	skynet.error(string.format("Harbor %d (fd=%d) report %s", id, fd, addr))
	for name, handle in pairs(names) do
		socket.write(fd, wire.name("N", name, handle))
	end
	for _, frame in ipairs(pending[id] or {}) do
		socket.write(fd, frame)
	end
	pending[id] = nil
	while true do
		local k, a, b, _, _, _, raw = wire.read(fd)
		if not k then
			break
		elseif k == "M" then
			local to, frame = slaves[a >> 24], wire.message(raw)
			if to then
				socket.write(to, frame)
			else	-- held for a harbor yet to come (forever, as on skynet)
				pending[a >> 24] = pending[a >> 24] or {}
				table.insert(pending[a >> 24], frame)
			end
		elseif k == "R" then
			names[a] = b
			for _, s in pairs(slaves) do
				socket.write(s, wire.name("N", a, b))
			end
		elseif k == "Q" and names[a] then
			socket.write(fd, wire.name("N", a, names[a]))
		end
	end
	slaves[id] = nil
	skynet.error("slave " .. id .. " is down")
	socket.close(fd)
end

skynet.start(function()
	local host, port = assert(skynet.getenv "standalone"):match "^(.*):(%d+)$"
	local id = socket.listen(host, tonumber(port))
	skynet.error("master listen socket " .. host .. ":" .. port)
	socket.start(id, function(fd, addr)
		skynet.fork(serve, fd, addr)
	end)
end)

-- harborwire: frames between the sandbox's harbor slaves and master (our
-- own format; real skynet's differs, and no client ever sees it).  A
-- frame is a 32-bit big-endian length and a body whose first byte says
-- what it is:
--   "H" id                       a slave says hello with its harbor id
--   "M" dest source session type payload   a message for another harbor
--                                (the header as service.c's relay writes it)
--   "R"/"Q"/"N" handle name      register / query / announce a global name
local socket = require "skynet.socket"

local wire = {}

function wire.hello(id)
	return string.pack(">s4", string.pack(">c1B", "H", id))
end

function wire.message(header_and_payload)
	return string.pack(">s4", "M" .. header_and_payload)
end

function wire.name(kind, name, handle)
	return string.pack(">s4", string.pack(">c1I4s2", kind, handle or 0, name))
end

-- the next frame of fd as kind, then its fields; nil once fd closed
function wire.read(fd)
	local head = socket.read(fd, 4)
	local body = head and socket.read(fd, (string.unpack(">I4", head)))
	if not body then
		return nil
	end
	local kind = body:sub(1, 1)
	if kind == "H" then
		return kind, (string.unpack(">B", body, 2))
	elseif kind == "M" then
		local dest, source, session, ptype, pos = string.unpack(">I4I4I4B", body, 2)
		return kind, dest, source, session, ptype, body:sub(pos), body:sub(2)
	end
	local handle, name = string.unpack(">I4s2", body, 2)
	return kind, name, handle
end

return wire

-- datacenterd: stand-in for skynet's datacenter (a shared key/value tree).
local skynet = require "skynet"

local data = {}

local function walk(t, key, ...)
	if t == nil or key == nil then
		return t
	end
	return walk(t[key], ...)
end

skynet.start(function()
	skynet.dispatch("lua", function(_, _, cmd, key, ...)
		if cmd == "QUERY" then
			skynet.ret(skynet.pack(walk(data[key], ...)))
		elseif cmd == "UPDATE" then
			local args = table.pack(key, ...)
			local t = data
			for i = 1, args.n - 2 do
				t[args[i]] = t[args[i]] or {}
				t = t[args[i]]
			end
			t[args[args.n - 1]] = args[args.n]
			skynet.ret()
		else
			skynet.ret()
		end
	end)
end)

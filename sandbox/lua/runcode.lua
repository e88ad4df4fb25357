-- runcode: the debug protocol's RUN (what `inject` uses).  Runs source in
-- this service with an environment of its own: print (captured), _P (for
-- each protocol with a dispatch function, the tables among the upvalues
-- reachable from it) and _U (the same from the service's core functions),
-- falling back to the service's globals.  Returns ok and the output lines.
-- The config key run_chunk_mode = "t" makes the node refuse precompiled
-- chunks, as a node whose inject loads text only would (a test's knob;
-- stock skynet loads both).
local skynet = require "skynet"

-- collect into u the table upvalues of f, following function upvalues;
-- seen keeps every function visited once
local function upvalue_tables(u, f, seen)
	local i = 1
	while true do
		local name, value = debug.getupvalue(f, i)
		if name == nil then
			return
		end
		local t = type(value)
		if t == "table" then
			u[name] = value
		elseif t == "function" and not seen[value] then
			seen[value] = true
			upvalue_tables(u, value, seen)
		end
		i = i + 1
	end
end

return function(source, filename, args, ...)
	local chunkname = filename and ("@" .. filename) or "=(load)"
	local output = {}
	-- prints the arguments up to the first nil (what real skynet shows)
	local function print(...)
		local line = {}
		for i, v in ipairs { ... } do
			line[i] = tostring(v)
		end
		output[#output + 1] = table.concat(line, "\t")
	end
	local seen = {}
	local U = {}
	for _, f in ipairs { ... } do
		upvalue_tables(U, f, seen)
	end
	local P = {}
	if U.proto then
		for _, p in pairs(U.proto) do
			local name, dispatch = p.name, p.dispatch
			if name and dispatch and not P[name] then
				P[name] = {}
				upvalue_tables(P[name], dispatch, seen)
			end
		end
	end
	local env = setmetatable({ print = print, _U = U, _P = P }, { __index = _ENV })
	local func, err = load(source, chunkname, skynet.getenv "run_chunk_mode" or "bt", env)
	if not func then
		return false, { err }
	end
	local ok, e = pcall(func, table.unpack(args, 1, args.n))
	if not ok then
		output[#output + 1] = e
		return false, output
	end
	return true, output
end

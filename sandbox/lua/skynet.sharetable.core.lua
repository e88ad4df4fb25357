-- skynet.sharetable.core as the sandbox has it.  skynet's runs a chunk in
-- a Lua state of its own (matrix) and hands the table it returns, code
-- and all, to any service by pointer (clone): every service reads the same
-- table, at no cost.  The sandbox's services are Lua states of a stock
-- Lua, which cannot share code, so a matrix keeps the table packed, each
-- function's bytecode apart, and clone builds a copy in the service that
-- asks, each function loaded when first read (so that, as on skynet, what
-- a service does not use costs it nothing): the same values, refused for
-- the same reasons.  A node started with the config key no_sharetable =
-- "1" has no such module, as a skynet built without it.
local core = require "sandbox.core"

if core.command("GETENV", "no_sharetable") == "1" then
	error("module 'skynet.sharetable.core' not found", 0)
end

local FN = "\0function" -- in a packed table: where a function's bytecode is shared

-- t as plain values (a table met twice is packed twice; within itself,
-- refused)
local function pack(t, within)
	if getmetatable(t) ~= nil then
		error("Can't share metatable", 0)
	end
	local out = {}
	within[t] = true
	for k, v in next, t do
		local kind = type(v)
		if kind == "table" then
			if within[v] then
				error("Can't share a table within itself in the sandbox", 0)
			end
			v = pack(v, within)
		elseif kind == "function" then
			if debug.getupvalue(v, 1) ~= nil then
				error("Invalid function with upvalue", 0)
			end
			v = { [FN] = core.share(string.dump(v)) }
		elseif kind ~= "string" and kind ~= "number" and kind ~= "boolean" then
			error("Invalid type [" .. kind .. "]", 0)
		end
		out[k] = v
	end
	within[t] = nil
	return out
end

local box = {}
box.__index = box

function box:getptr()
	return self.ptr
end

function box:size()
	return self.bytes
end

function box:close()
end

local M = {}

-- matrix(source, ...) -> box: source ("@file" or text) run with ..., its
-- table shared
function M.matrix(source, ...)
	local env = setmetatable({}, { __index = _G })
	local f, err
	if source:sub(1, 1) == "@" then
		f, err = loadfile(source:sub(2), "bt", env)
	else
		f, err = load(source, source, "t", env)
	end
	if not f then
		error(err, 0)
	end
	local t = f(...)
	if type(t) ~= "table" then
		error("Not a table, it's a " .. type(t) .. ".", 0)
	end
	local msg, sz = core.pack(pack(t, {}))
	local bytes = core.tostring(msg, sz)
	core.trash(msg, sz)
	return setmetatable({ ptr = core.share(bytes), bytes = #bytes }, box)
end

-- clone(pointer) -> the shared table, its functions loaded when first
-- read (in C, as skynet's: a service that keeps it keeps no Lua code of
-- this module with it)
M.clone = core.clone_shared

return M

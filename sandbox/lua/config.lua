-- config: evaluates a skynet config file into a table of strings, as
-- skynet does: Lua syntax, `$NAME` replaced by the environment variable,
-- `include "file"` (relative to the including file), every global a key.
-- Called with (path) or (nil, source) for a config given as text.
local path, source = ...
local result = {}

local function env(name)
	return assert(os.getenv(name), "os.getenv() failed: " .. name)
end

local function run(code, chunkname, dir)
	code = code:gsub("%$([%w_]+)", env)
	local include
	local function inc(filename)
		local full = filename:sub(1, 1) == "/" and filename or dir .. filename
		local f = assert(io.open(full))
		local text = f:read "a"
		f:close()
		run(text, "@" .. full, full:match "^(.*/)" or "")
	end
	include = inc
	setmetatable(result, { __index = { include = include } })
	assert(load(code, chunkname, "t", result))()
end

if path then
	local f = assert(io.open(path))
	local text = f:read "a"
	f:close()
	run(text, "@" .. path, path:match "^(.*/)" or "")
else
	run(source, "=(config)", "")
end
setmetatable(result, nil)

local out = {}
for k, v in pairs(result) do
	local t = type(v)
	if type(k) ~= "string" then
		error("Invalid config table key = " .. tostring(k))
	elseif t == "boolean" then
		out[k] = v and "true" or "false"
	elseif t == "number" then
		out[k] = tostring(v)
	elseif t == "string" then
		out[k] = v
	else
		error("Invalid config table key = " .. k)
	end
end
return out

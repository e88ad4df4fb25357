-- loader: the first code every service runs, with its launch arguments
-- ("name arg1 arg2 ..."). It makes the sandbox's modules (skynet,
-- skynet.manager, skynet.debug, skynet.socket, skynet.sharetable.core,
-- sandbox.*) win over any search path, finds the service script (the
-- node's own system services first, then the config's `luaservice` path)
-- and runs it with the args.
local args = ...
local core = require "sandbox.core"

-- print numbers as the Lua inside real skynet (5.5) does; assert adds the
-- caller's position like 5.5's; resume tracks the running coroutine
tostring = core.tostr
assert = core.assert
print = core.print
coroutine.resume = core.resume

local BUILTIN = {
	bootstrap = "bootstrap.lua",
	launcher = "launcher.lua",
	cdummy = "cdummy.lua",
	cmaster = "cmaster.lua",
	cslave = "cslave.lua",
	datacenterd = "datacenterd.lua",
	service_mgr = "service_mgr.lua",
	debug_console = "console.lua",
	debug_agent = "debug_agent.lua",
	snaxd = "snaxd.lua",
}

local function embedded_file(modname)
	if modname == "skynet" then
		return "skynet.lua"
	elseif modname:match "^skynet%.[%w_.]+$" then
		return modname .. ".lua"
	elseif modname:match "^sandbox%.[%w_]+$" then
		return modname:sub(9) .. ".lua"
	end
end

local function search_embedded(modname)
	local file = embedded_file(modname)
	local chunk = file and core.chunk(file)
	if not chunk then
		return "\n\tno embedded module '" .. modname .. "'"
	end
	return chunk, file
end
table.insert(package.searchers, 2, search_embedded)

package.path = core.command("GETENV", "lua_path") or "./?.lua;./?/init.lua"
package.cpath = core.command("GETENV", "lua_cpath") or ""

local words = {}
for w in args:gmatch "%S+" do
	words[#words + 1] = w
end
local name = table.remove(words, 1)
SERVICE_NAME = name

local function find_service()
	local builtin = BUILTIN[name]
	if builtin then
		return core.chunk(builtin)
	end
	local errs = {}
	local path = core.command("GETENV", "luaservice") or "./service/?.lua"
	for pattern in path:gmatch "[^;]+" do
		local filename = pattern:gsub("%?", name)
		local f, err = loadfile(filename)
		if f then
			local dir = pattern:match "^(.*/)[^/]*$"
			if dir then
				SERVICE_PATH = dir
				if not package.path:find(dir .. "?.lua", 1, true) then
					package.path = dir .. "?.lua;" .. package.path
				end
			end
			return f
		end
		errs[#errs + 1] = err
	end
	error(table.concat(errs, "\n"), 0)
end

local ok, err = xpcall(function()
	local main = find_service()
	main(table.unpack(words))
end, debug.traceback)
if not ok then
	core.error("lua loader error : " .. tostring(err))
	core.send(".launcher", 10, 0, core.pack("ERROR"))
	core.command("EXIT")
end

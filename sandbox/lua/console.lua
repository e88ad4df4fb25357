-- console: the sandbox's debug_console service, started as
-- skynet.newservice("debug_console", [ip,] port).  Speaks the console
-- protocol of docs/protocol.md: a banner, one command per line,
-- output lines then <CMD OK> or <CMD Error>, `key\tvalue` tables with keys
-- sorted as strings, HTTP GET/POST for one command, and debug mode.
-- Quirks of the real console are kept on purpose (see the comments).
local skynet = require "skynet"
local core = require "sandbox.core"
local socket = require "skynet.socket"

local args = table.pack(...)
assert(args.n <= 2)
local listen_ip = args.n == 2 and args[1] or "127.0.0.1"
local listen_port = tonumber(args[args.n])
local TIMEOUT = 300	-- ticks a stat/mem waits for each service by default

-- config key console_version: the console of an older skynet, so the tests
-- cover what skyctl does with such a node: "1.4" (before 1.5 added
-- dbgcmd), "1.7" (1.5.0 to 1.7.0: before 1.8 added getenv, setenv and
-- HTTP POST)
local LACKS = ({ ["1.4"] = { "dbgcmd", "getenv", "setenv" }, ["1.7"] = { "getenv", "setenv" } })
	[skynet.getenv "console_version"] or {}
local POST = not LACKS[1]	-- HTTP POST came with getenv and setenv
local COMMAND = {}	-- name -> function(words...)
local COMMANDX = {}	-- name -> function(cmd): cmd[1] the whole line, cmd.fd

local function sorted_keys(t)
	local keys = {}
	for k in pairs(t) do
		keys[#keys + 1] = k
	end
	table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
	return keys
end

-- a nested table in one field: "k1:v1\tk2:v2"
local function flatten(t)
	local parts = {}
	for _, k in ipairs(sorted_keys(t)) do
		parts[#parts + 1] = string.format("%s:%s", k, tostring(t[k]))
	end
	return table.concat(parts, "\t")
end

-- print a command's table result (raises for a value that is no table:
-- the caller lets that drop the connection, as the real console does)
local function print_table(print, t)
	for _, k in ipairs(sorted_keys(t)) do
		local v = t[k]
		if type(v) == "table" then
			print(k, flatten(v))
		else
			print(k, tostring(v))
		end
	end
end

local function run_command(line, print, fd)
	local words = {}
	for w in line:gmatch "%S+" do
		words[#words + 1] = w
	end
	local name = words[1]
	local ok, result
	local f = COMMAND[name]
	if f then
		ok, result = pcall(f, table.unpack(words, 2))
	else
		f = COMMANDX[name]
		if f then
			words.fd = fd
			words[1] = line
			ok, result = pcall(f, words)
		else
			print "Invalid command, type help for command list"
		end
	end
	if ok then
		if result then
			if type(result) == "string" then
				print(result)
			else
				print_table(print, result)
			end
		end
		print "<CMD OK>"
	else
		print(result)
		print "<CMD Error>"
	end
end

-- an HTTP request whose first line is `first`, read as skynet's httpd
-- reads it: headers end at the first CRLF CRLF (bare LFs don't count),
-- 8 KB at most; then Content-Length bytes of body (also 8 KB at most).
-- Return the URL and the body; a request it can't read raises (and the
-- connection closes without a reply, as on skynet).
local HTTP_LIMIT = 8192
local function read_http(fd, first)
	local data = first .. "\n"
	local e = data:find("\r\n\r\n", 1, true)
	while not e do
		if data:find "^\r\n" then
			break
		end
		local more = socket.read(fd)
		if not more then
			error "HTTP: connection closed in the header"
		end
		data = data .. more
		if #data > HTTP_LIMIT then
			error "HTTP: header too large"
		end
		e = data:find("\r\n\r\n", 1, true)
	end
	local head, body
	if e then
		head, body = data:sub(1, e + 1), data:sub(e + 4)
	else
		head, body = "", data:sub(3)
	end
	local lines = {}
	for line in head:gmatch "(.-)\r\n" do
		lines[#lines + 1] = line
	end
	local url, version = (lines[1] or ""):match "^%a+%s+(.-)%s+HTTP/([%d%.]+)$"
	if not url or tonumber(version) < 1.0 or tonumber(version) > 1.1 then
		error "HTTP: bad request line"
	end
	local length
	for i = 2, #lines do
		local name, value = lines[i]:match "^(.-):%s*(.*)"
		if not name and lines[i]:byte(1) ~= 9 then
			error "HTTP: bad header"
		end
		if name and name:lower() == "content-length" then
			length = tonumber(value)
		end
	end
	if length then
		if length > HTTP_LIMIT then
			error "HTTP: body too large"
		elseif #body >= length then
			body = body:sub(1, length)
		else
			body = body .. assert(socket.read(fd, length - #body), "HTTP: connection closed in the body")
		end
	end
	return url, body
end

local function session(fd, addr, print)
	print "Welcome to skynet console"
	skynet.error(addr, "connected")
	local ok, err = pcall(function()
		while true do
			local line = socket.readline(fd, "\n")
			if not line then
				break
			end
			if line:sub(1, 4) == "GET " then
				local url = read_http(fd, line)
				run_command((url:sub(2):gsub("/", " ")), print, fd)
				break
			elseif line:sub(1, 5) == "POST " and POST then
				local _, body = read_http(fd, line)
				run_command(body, print, fd)
				break
			end
			if line ~= "" then
				run_command(line, print, fd)
			end
		end
	end)
	if not ok then
		skynet.error(fd, err)
	end
	skynet.error(addr, "disconnect")
	socket.close(fd)
end

skynet.start(function()
	local id = socket.listen(listen_ip, listen_port)
	skynet.error("Start debug console at " .. listen_ip .. ":" .. listen_port)
	socket.start(id, function(fd, addr)
		-- each print is two writes, text then newline, like the real one
		local function print(...)
			local t = { ... }
			for i, v in ipairs(t) do
				t[i] = tostring(v)
			end
			socket.write(fd, table.concat(t, "\t"))
			socket.write(fd, "\n")
		end
		socket.start(fd)
		skynet.fork(session, fd, addr, print)
	end)
end)

require("sandbox.console_cmds")(COMMAND, COMMANDX, {
	TIMEOUT = TIMEOUT,
	socket = socket,
	core = core,
})
if LACKS[1] then
	local help = COMMAND.help
	function COMMAND.help()
		local t = help()
		for _, name in ipairs(LACKS) do
			t[name] = nil
		end
		return t
	end
	for _, name in ipairs(LACKS) do
		COMMAND[name] = nil
	end
end

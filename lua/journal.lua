-- skyctl journal listing: a service's patch journal (op journal), with
-- how far the service got along the patch set it was last brought to.
-- Like lua/rollback.lua and lua/set.lua, it runs in a service next to
-- lua/engine.lua and is kept out of it: every byte a request brings costs
-- each of the thousand services it reaches (about 3 us a KB with
-- jemalloc, 10 with glibc's malloc), so a listing brings no rollback or
-- patch set code.  The hub (lua/agent.lua) loads this chunk for itself
-- and sends it along with a journal or set request (req.ops); a service
-- runs it for that request and keeps none of it.  The chunk is called
-- with the engine's internals and adds its operations to their OPS and
-- set_plan to them.
--
-- journal: req.brief leaves out the changes (their count stays).
local E = ...
local S, OPS, export_all, carried, wholly, J, change =
	E.S, E.OPS, E.export_all, E.carried, E.wholly, E.J, E.change
local ipairs = ipairs

-- a journal entry (lua/engine.lua's J) as the client sees it; brief
-- leaves out the changes (their count stays): a cluster-wide `patches`
-- asks many services
local function export_entry(e, brief)
	local records, changes = e[J.changes] or {}, {}
	for j, r in ipairs(brief and {} or records) do
		changes[j] = change(r)
	end
	return {
		id = e[J.id], kind = e[J.of] and "rollback" or "apply", name = e[J.name],
		sha = e[J.sha], batch = e[J.batch], time = e[J.time], who = e[J.who], args = e[J.args],
		state = e[J.state], of = e[J.of], nchanges = #records,
		changes = not brief and export_all(changes) or nil, conflicts = e[J.conflicts],
		restored = e[J.restored], left = e[J.left] and #e[J.left] or nil,
	}
end

-- How far the service got along a set (its scripts' sha256, in order):
-- held, the length of the prefix of the set in place in order, each
-- wholly; extra, the other patches in place that are not in the set or
-- repeat one of the prefix; ahead, those of the set in place out of order
-- (after a gap, or no longer wholly).
local function set_plan(shas)
	local pos, held, strays, extra, ahead = {}, 0, {}, {}, {}
	for i, sha in ipairs(shas) do
		pos[sha] = pos[sha] or i
	end
	for _, e in ipairs(S.journal) do
		if carried(e) then
			local p = e[J.sha] and pos[e[J.sha]]
			if p == held + 1 and e[J.state] == "applied" and wholly(e) then
				held = p
			else
				strays[#strays + 1] = e
			end
		end
	end
	for _, e in ipairs(strays) do
		local p = e[J.sha] and pos[e[J.sha]]
		local list = p and p > held and ahead or extra
		list[#list + 1] = e
	end
	return held, extra, ahead
end

-- the set the service was last brought to and how far it got
local function set_progress()
	local set = S.set
	if not set then
		return nil
	end
	local held, extra, ahead = set_plan(set.shas)
	return { version = set.version, total = #set.shas, held = held, next = set.names[held + 1],
		extra = #extra, ahead = #ahead, time = set.time, who = set.who }
end

function OPS.journal(req)
	local list = {}
	for i, e in ipairs(S.journal) do
		list[i] = export_entry(e, req.brief)
	end
	return { ok = true, journal = list, set = set_progress() }
end

E.set_plan = set_plan

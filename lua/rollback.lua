-- skyctl rollback: undoing patches in a service (op rollback), brought by
-- the request that asks for it, like lua/journal.lua (which says why).
-- rollback: the newest patch still in place, or req.id and every one
-- applied after it, or every one (req.all); an item whose value changed
-- since the patch is a conflict, left alone (it stays in the journal
-- entry, state "partly rolled back") unless req.force.  Adds
-- rollback_entry to the engine's internals (lua/set.lua prunes with it).
local E = ...
local S, OPS, undo, export, describe, current, is_current, carried, J, change =
	E.S, E.OPS, E.undo, E.export, E.describe, E.current, E.is_current, E.carried, E.J, E.change
local ipairs, tostring = ipairs, tostring

-- undo one patch's changes that are still in place (newest first); an
-- item whose value changed since is a conflict, left alone unless force
-- and kept in slot left, so a later forced rollback can finish the patch
local function rollback_one(e, force)
	local restored, conflicts, left = {}, {}, {}
	local records = e[J.left] or e[J.changes]
	for j = #records, 1, -1 do
		local c = change(records[j])
		if force or is_current(c) then
			if undo(c) then
				restored[#restored + 1] = export(c)
			else
				conflicts[#conflicts + 1] = { path = c.path, why = "cannot be undone" }
			end
		else
			conflicts[#conflicts + 1] = { path = c.path, upvalue = c.name,
				why = "changed since", now = describe(current(c)), patched = describe(c.new) }
			table.insert(left, 1, records[j])
		end
	end
	e[J.left] = #left > 0 and left or nil
	e[J.state] = e[J.left] and "partly rolled back" or "rolled back"
	return restored, conflicts
end

-- roll patch e back, journal that, and add it to res.rolled (res.conflict
-- when an item was left alone)
local function rollback_entry(e, req, res)
	local restored, conflicts = rollback_one(e, req.force)
	local id = #S.journal + 1
	S.journal[id] = { id, e[J.name], e[J.sha], req.batch, req.time or os.time(), req.who, nil,
		"done", nil, nil, e[J.id], #restored, #conflicts > 0 and conflicts or nil }
	res.rolled[#res.rolled + 1] = { id = e[J.id], name = e[J.name], restored = restored,
		conflicts = conflicts, state = e[J.state], journal = id }
	if #conflicts > 0 then
		res.conflict = true
	end
end

-- undo the newest patch still in place, or req.id and every one applied
-- after it (newest first); req.all: every one.  The journal records each.
function OPS.rollback(req)
	local journal, targets = S.journal, {}
	for i = #journal, 1, -1 do
		local e = journal[i]
		if carried(e) then
			targets[#targets + 1] = e
			if e[J.id] == req.id or not (req.id or req.all) then
				break
			end
		end
	end
	if req.id and (#targets == 0 or targets[#targets][J.id] ~= req.id) then
		return { ok = false, err = "no patch #" .. tostring(req.id) .. " in place" }
	end
	if #targets == 0 then
		return { ok = false, err = "no patch to roll back" }
	end
	local res = { ok = true, rolled = {} }
	for _, e in ipairs(targets) do
		rollback_entry(e, req, res)
	end
	return res
end

E.rollback_entry = rollback_entry

-- default.lua: the dialplan of the `default` context (calls from the directory's users).
-- ferroswitch runs it for every such call with argv[1] = the dialled number and `session`
-- the caller's leg. Simple routes are returned in ACTIONS ({app, args} pairs the switch
-- runs after the script, FreeSWITCH's Lua dialplan style); the IVR drives the call itself.
local dest = argv[1] or ""

if dest:match("^10[01]%d$") then
  -- 1000-1019: ring every registered contact of that user.
  ACTIONS = { { "bridge", "user/" .. dest } }
elseif dest:match("^8810[01]%d$") then
  -- 88 + extension: a supervisor listens to that user's call (neither party hears them).
  ACTIONS = { { "answer" }, { "eavesdrop", "user/" .. dest:sub(3) }, { "hangup" } }
elseif dest == "9196" then
  ACTIONS = { { "answer" }, { "echo" } }
elseif dest == "9664" then
  ACTIONS = { { "answer" }, { "playback", "local_stream://moh" } }
elseif dest == "4486" then
  ACTIONS = { { "hangup", "USER_BUSY" } }
elseif dest == "5000" then
  ACTIONS = { { "lua", "ivr.lua" } }
elseif dest == "7000" then
  -- Whichever queue has the shortest predicted wait (mod_callcenter's estimate, shortest
  -- first; a queue with nobody logged in comes last).
  local t = freeswitch.API():executeString("callcenter_config queue predict sales support")
  local best = t:match("\n([%w_%-]+)|") or "sales"
  freeswitch.consoleLog("info", "default.lua: 7000 -> queue " .. best .. "\n")
  ACTIONS = { { "callcenter", best } }
elseif dest == "7001" then
  -- The ACD (mod_callcenter): wait in queue "sales" for an agent.
  ACTIONS = { { "callcenter", "sales" } }
elseif dest == "7002" then
  ACTIONS = { { "callcenter", "support" } }
else
  freeswitch.consoleLog("info", "default.lua: no route for " .. dest .. "\n")
  session:hangup("NO_ROUTE_DESTINATION")
end

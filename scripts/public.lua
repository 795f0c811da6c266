-- public.lua: the dialplan of the `public` context (calls from trusted sources, acl.trusted,
-- such as trunks). Numbers from outside reach the users and the IVR; nothing else.
local dest = argv[1] or ""

if dest:match("^10[01]%d$") then
  ACTIONS = { { "bridge", "user/" .. dest } }
elseif dest == "5000" then
  ACTIONS = { { "lua", "ivr.lua" } }
else
  freeswitch.consoleLog("info", "public.lua: no route for " .. dest .. "\n")
  session:hangup("NO_ROUTE_DESTINATION")
end

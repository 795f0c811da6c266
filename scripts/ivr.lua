-- ivr.lua: the demo IVR on 5000 (default.lua sends it here).
--
--   welcome, then outside business hours (Monday to Friday, 08:00-18:00) the after-hours
--   message and goodbye; else the main menu:
--     1 sales        -> user/1000
--     2 support      -> a sub-menu: 1 billing -> user/1010, 2 technical -> user/1011,
--                       * back to the main menu
--     3 echo test
--     0 operator     -> user/1001
--   An invalid key or no key: "invalid entry, please try again", three tries, then goodbye.
--
-- The clock can be set for tests and demos: the channel variable `ivr_clock`, else the
-- global variable `ivr_clock` ([vars] in ferroswitch.toml), e.g. "Sat 23:30"; else now.
-- Each choice is logged as "ivr.lua: <choice>".

local SALES, OPERATOR = "user/1000", "user/1001"
local BILLING, TECHNICAL = "user/1010", "user/1011"
local INVALID = "ivr/ivr-that_was_an_invalid_entry.wav!ivr/ivr-please_try_again.wav"
local GOODBYE = "voicemail/vm-goodbye.wav"

local function log(what)
  freeswitch.consoleLog("info", "ivr.lua: " .. what .. "\n")
  session:setVariable("ivr_result", what)
end

-- The day (mon..sun) and hour to route by.
local function clock()
  local c = session:getVariable("ivr_clock") or freeswitch.getGlobalVariable("ivr_clock")
  if c then
    local day, hour = c:match("^(%a%a%a)%a*%s+(%d+):%d+$")
    if day then
      return day:lower(), tonumber(hour)
    end
    freeswitch.consoleLog("warning", "ivr.lua: ivr_clock " .. c .. " is not like \"Mon 10:00\"; using the real time\n")
  end
  return os.date("%a"):lower(), tonumber(os.date("%H"))
end

local function open_now()
  local day, hour = clock()
  local weekday = ({ mon = true, tue = true, wed = true, thu = true, fri = true })[day]
  return weekday and hour >= 8 and hour < 18
end

-- One key among `valid` (a Lua set like "0123"), with three tries; "" when none came.
local function choose(prompt, valid)
  return session:playAndGetDigits(1, 1, 3, 5000, "#", prompt, INVALID, "^[" .. valid .. "]$", "ivr_choice")
end

local function goodbye()
  if session:ready() then
    session:streamFile(GOODBYE)
    session:hangup()
  end
end

-- Connects to `target`; when nobody takes the call, says so and says goodbye.
local function connect(prompt, target)
  session:streamFile(prompt)
  session:execute("bridge", target)
  if session:ready() then
    session:streamFile("ivr/ivr-all_agents_busy.wav")
    goodbye()
  end
end

-- The support sub-menu: true to go back to the main menu.
local function support()
  local key = choose("ivr/ivr-demo_support_menu.wav", "12*")
  if key == "1" then
    log("billing")
    connect("ivr/ivr-support.wav", BILLING)
  elseif key == "2" then
    log("technical")
    connect("ivr/ivr-support.wav", TECHNICAL)
  elseif key == "*" then
    log("back")
    return true
  else
    log("no choice")
    goodbye()
  end
  return false
end

session:answer()
session:sleep(200)
session:streamFile("ivr/ivr-welcome.wav")
if not open_now() then
  log("after hours")
  session:streamFile("ivr/ivr-after_hours.wav")
  goodbye()
  return
end

while session:ready() do
  local key = choose("ivr/ivr-demo_main_menu.wav", "0123")
  if key == "1" then
    log("sales")
    connect("ivr/ivr-sales.wav", SALES)
  elseif key == "2" then
    log("support")
    if not support() then
      break
    end
  elseif key == "3" then
    log("echo")
    session:execute("echo")
  elseif key == "0" then
    log("operator")
    connect("ivr/ivr-operator.wav", OPERATOR)
  else
    log("no choice")
    goodbye()
  end
  if key ~= "2" then
    break
  end
end

//! The sandbox from a script's point of view, with no call: what is there, what is refused,
//! and what gets stopped (with the script, the line and the reason).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use switch_lua::{LuaHost, LuaSettings, RunOutcome};

struct Scripts {
    dir: PathBuf,
    host: LuaHost,
}

impl Scripts {
    fn new(tag: &str) -> Scripts {
        Scripts::with(tag, |_| {})
    }

    fn with(tag: &str, f: impl FnOnce(&mut LuaSettings)) -> Scripts {
        let dir = std::env::temp_dir().join(format!("switch-lua-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("scripts/lib")).unwrap();
        let mut s = LuaSettings::new(dir.join("scripts"));
        s.max_cpu = Duration::from_millis(300);
        s.db_dir = dir.join("var");
        f(&mut s);
        Scripts {
            host: LuaHost::new(s),
            dir,
        }
    }

    fn run(&self, name: &str, source: &str) -> RunOutcome {
        std::fs::write(self.dir.join("scripts").join(name), source).unwrap();
        self.host
            .run_script(name, &["a1".into(), "a2".into()], None)
    }

    fn error(&self, name: &str, source: &str) -> String {
        let out = self.run(name, source);
        out.error
            .unwrap_or_else(|| panic!("{name} did not fail; printed {:?}", out.output))
    }
}

impl Drop for Scripts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn the_dangerous_parts_of_the_standard_library_are_gone() {
    let s = Scripts::new("gone");
    let out = s.run(
        "gone.lua",
        r#"
        print(io, debug, dofile, loadfile, os.execute, os.getenv, os.exit, os.remove,
              string.dump, package.loadlib, package.cpath, warn)
        print(type(os.time()), type(os.date("%H")), type(os.clock()))
        print(argv[0], argv[1], argv[2], select('#', ...))
        stream:write("to the stream")
        "#,
    );
    assert_eq!(out.error, None);
    assert_eq!(
        out.output,
        "nil\tnil\tnil\tnil\tnil\tnil\tnil\tnil\tnil\tnil\tnil\tnil\n\
         number\tstring\tnumber\n\
         gone.lua\ta1\ta2\t2\n\
         to the stream"
    );
}

#[test]
fn load_takes_text_only() {
    let s = Scripts::new("load");
    let out = s.run(
        "load.lua",
        r#"
        print(load("return 1 + 1")())
        local f, err = load("\27Lua\84\0", "x", "b")
        print(f, err)
        print(load("return x", "env", "t", {x = 5})())
        "#,
    );
    assert_eq!(out.error, None);
    let lines: Vec<&str> = out.output.lines().collect();
    assert_eq!(lines[0], "2");
    assert!(
        lines[1].starts_with("nil\t") && lines[1].contains("binary chunk"),
        "{}",
        lines[1]
    );
    assert_eq!(lines[2], "5");
}

#[test]
fn io_open_and_os_execute_are_errors_with_the_line() {
    let s = Scripts::new("io");
    let e = s.error("io.lua", "local x = 1\nlocal f = io.open('/etc/passwd')\n");
    assert!(e.starts_with("io.lua:2:") && e.contains("io"), "{e}");
    let e = s.error("exec.lua", "\n\nos.execute('touch /tmp/pwned')\n");
    assert!(e.starts_with("exec.lua:3:") && e.contains("execute"), "{e}");
}

#[test]
fn require_reads_only_the_scripts_folder() {
    let s = Scripts::new("require");
    std::fs::write(
        s.dir.join("scripts/lib/greet.lua"),
        "return { hi = function() return 'hi' end }",
    )
    .unwrap();
    std::fs::write(s.dir.join("secret.lua"), "return 'secret'").unwrap();
    let out = s.run("req.lua", "local g = require('lib.greet')\nprint(g.hi(), require('lib.greet') == g, require('string') == string)");
    assert_eq!(out.error, None);
    assert_eq!(out.output, "hi\ttrue\ttrue\n");
    for (i, name) in ["../secret", "/etc/passwd", "lib/../../secret", "nothere"]
        .iter()
        .enumerate()
    {
        let e = s.error(&format!("req{i}.lua"), &format!("\nrequire({name:?})"));
        assert!(e.starts_with(&format!("req{i}.lua:2: require")), "{e}");
    }
}

#[test]
fn a_memory_bomb_stops_at_the_limit() {
    let s = Scripts::with("mem", |s| s.memory_limit = 1 << 20);
    let e = s.error(
        "rep.lua",
        "local x = 1\nlocal s = string.rep('x', 100 * 1024 * 1024)\n",
    );
    assert!(
        e.starts_with("rep.lua:2:") && e.contains("lua.memory_limit"),
        "{e}"
    );
    let e = s.error("grow.lua", "local t = {}\nlocal s = 'xxxxxxxxxxxxxxxx'\nwhile true do\n  s = s .. s\n  t[#t + 1] = s\nend\n");
    assert!(
        e.contains("not enough memory") && e.contains("lua.memory_limit is 1048576 bytes"),
        "{e}"
    );
    assert!(e.starts_with("grow.lua:"), "{e}");
    let e = s.error(
        "gsub.lua",
        "local s = string.rep('a', 100000)\nlocal r = s:gsub('a', string.rep('b', 100))\n",
    );
    assert!(e.starts_with("gsub.lua:2:") && e.contains("memory"), "{e}");
}

#[test]
fn an_endless_loop_is_stopped_with_script_line_and_reason() {
    let s = Scripts::new("loop");
    let t = Instant::now();
    let e = s.error("loop.lua", "local n = 0\nwhile true do\n  n = n + 1\nend\n");
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(
        e.starts_with("loop.lua:") && e.contains("lua.max_cpu_ms (300 ms)"),
        "{e}"
    );
    // pcall does not save it, nor a coroutine, nor a load reader.
    let e = s.error(
        "pcall.lua",
        "while true do\n  pcall(function() while true do end end)\nend\n",
    );
    assert!(e.contains("lua.max_cpu_ms"), "{e}");
    let e = s.error(
        "co.lua",
        "coroutine.wrap(function()\n  while true do end\nend)()\n",
    );
    assert!(
        e.contains("co.lua:2:") && e.contains("lua.max_cpu_ms"),
        "{e}"
    );
    let e = s.error(
        "reader.lua",
        "while true do load(function() while true do end end) end\n",
    );
    assert!(e.contains("lua.max_cpu_ms"), "{e}");
}

#[test]
fn a_slow_pattern_is_stopped_too() {
    let s = Scripts::new("pattern");
    let t = Instant::now();
    let e = s.error(
        "find.lua",
        "local s = string.rep('a', 30000)\nlocal x = s:find('(.-)(.-)(.-)(.-)b')\n",
    );
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert!(
        e.starts_with("find.lua:2:") && e.contains("lua.max_cpu_ms"),
        "{e}"
    );
}

#[test]
fn deep_recursion_is_an_error() {
    let s = Scripts::new("recursion");
    let e = s.error(
        "deep.lua",
        "local function f(n) return 1 + f(n + 1) end\nf(1)\n",
    );
    assert!(
        e.contains("stack overflow") || e.contains("not enough memory"),
        "{e}"
    );
    assert!(e.starts_with("deep.lua:"), "{e}");
    let out = s.run("cdeep.lua", "local function f() return pcall(f) end\nprint(f())\nlocal function g(x) return (x:gsub('.', g)) end\nprint(pcall(g, 'ab'))");
    assert_eq!(out.error, None);
    assert!(out.output.contains("false"), "{}", out.output);
}

#[test]
fn finalizers_and_endless_table_shifts_are_refused() {
    let s = Scripts::new("gc");
    let e = s.error(
        "gc.lua",
        "setmetatable({}, {__gc = function() while true do end end})\n",
    );
    assert!(e.starts_with("gc.lua:1:") && e.contains("__gc"), "{e}");
    let e = s.error("len.lua", "local t = setmetatable({}, {__len = function() return math.maxinteger end})\ntable.insert(t, 1, 'x')\n");
    assert!(
        e.starts_with("len.lua:2:") && e.contains("table.insert"),
        "{e}"
    );
    let e = s.error("move.lua", "table.move({}, 1, math.maxinteger - 1, 2)\n");
    assert!(e.contains("table.move"), "{e}");
}

#[test]
fn patterns_behave_like_lua() {
    let s = Scripts::new("strings");
    let out = s.run(
        "str.lua",
        r#"
        print(("hello world"):find("o w"), ("hello"):find("l", 1, true), ("a.b"):find(".", 1, true))
        print(string.match("key = value", "(%w+)%s*=%s*(%w+)"))
        print(string.gsub("hello world", "o", "0"), string.gsub("abc", "%w", "%0%0", 2))
        print(string.gsub("$name is $age", "%$(%w+)", {name = "Ann", age = 7}))
        print(string.gsub("abc", "b", function(x) return x:upper() end))
        local words = {}
        for w in string.gmatch("one two  three", "%a+") do words[#words + 1] = w end
        print(table.concat(words, ","), ("x"):rep(3, "-"), ("abc"):find("b()"))
        print(pcall(string.find, "x", "[a"))
        "#,
    );
    assert_eq!(out.error, None);
    let lines: Vec<&str> = out.output.lines().collect();
    assert_eq!(lines[0], "5\t3\t2\t2");
    assert_eq!(lines[1], "key\tvalue");
    assert_eq!(lines[2], "hell0 w0rld\taabbc\t2");
    assert_eq!(lines[3], "Ann is 7\t2");
    assert_eq!(lines[4], "aBc\t1");
    assert_eq!(lines[5], "one,two,three\tx-x-x\t2\t2\t3");
    assert!(
        lines[6].starts_with("false\t") && lines[6].contains("malformed pattern"),
        "{}",
        lines[6]
    );
}

#[test]
fn dialplan_scripts_return_actions() {
    let s = Scripts::new("actions");
    let out = s.run(
        "dp.lua",
        r#"ACTIONS = { {"set", "x=1"}, {"bridge", "user/" .. argv[1]}, "hangup USER_BUSY" }"#,
    );
    assert_eq!(out.error, None);
    assert_eq!(
        out.actions,
        [
            ("set".to_string(), "x=1".to_string()),
            ("bridge".to_string(), "user/a1".to_string()),
            ("hangup".to_string(), "USER_BUSY".to_string())
        ]
    );
    assert!(out.auto_hangup);
}

#[test]
fn syntax_errors_name_file_and_line_and_an_edit_gone_wrong_keeps_the_old_version() {
    let s = Scripts::new("syntax");
    let e = s.error("bad.lua", "local x = 1\nif x then\n");
    assert!(e.starts_with("bad.lua:"), "{e}");
    let out = s.run("v.lua", "print('v1')");
    assert_eq!(out.output, "v1\n");
    let out = s.run("v.lua", "print('v2 longer')");
    assert_eq!(out.output, "v2 longer\n");
    let out = s.run("v.lua", "print('v3' ");
    assert_eq!(out.error, None);
    assert_eq!(out.output, "v2 longer\n");
}

#[test]
fn libraries_built_on_first_use_behave_as_if_always_there() {
    let s = Scripts::new("lazy");
    std::fs::write(
        s.dir.join("scripts/lib/m.lua"),
        "return { same = (require('math') == math), listed = package.loaded.table == table }",
    )
    .unwrap();
    let out = s.run(
        "lazy.lua",
        r##"
        print(rawget(_G, "math"), type(math.floor), rawget(_G, "math") == math, _G.math == math)
        print(table.concat({ "a", "b" }, ","), utf8.char(72, 105), type(os.time()), os.getenv)
        local co = coroutine.create(function() return string.format("%.2f", math.pi) end)
        print(coroutine.resume(co))
        print(pcall(error, "plain"))
        print(select("#", xpcall(function() return 1, 2, 3 end, print)))
        local m = require "lib.m"
        print(m.same, m.listed, package.loaded["lib.m"] == m)
        "##,
    );
    assert_eq!(out.error, None);
    assert_eq!(
        out.output,
        "nil\tfunction\ttrue\ttrue\n\
         a,b\tHi\tnumber\tnil\n\
         true\t3.14\n\
         false\tplain\n\
         4\n\
         true\ttrue\ttrue\n"
    );

    // A name the script sets first stays the script's, even once everything is built.
    let out = s.run(
        "own.lua",
        r#"
        math = "mine"
        pcall = function() return "my pcall" end
        print(math, pcall(), type(xpcall), type(coroutine.wrap))
        setmetatable(_G, { __index = function(_, k) return "missing " .. k end })
        print(math, pcall(), type(table.insert), type(require), nosuch)
        "#,
    );
    assert_eq!(out.error, None);
    assert_eq!(
        out.output,
        "mine\tmy pcall\tfunction\tfunction\n\
         mine\tmy pcall\tfunction\tfunction\tmissing nosuch\n"
    );

    // First read inside a coroutine, and the table guards hold on a lazily built table.
    let e = s.error(
        "guard.lua",
        "local co = coroutine.wrap(function()
  local t = setmetatable({}, { __len = function() return 1e12 end })
  table.insert(t, 1, 'x')
end)
co()
",
    );
    assert!(
        e.contains("guard.lua:3:") && e.contains("table.insert"),
        "{e}"
    );
}

#[test]
fn nothing_leaks_from_one_run_to_the_next() {
    let s = Scripts::new("leak");
    let out = s.run(
        "a.lua",
        "leaked = 42\nstring.upper = nil\ngetmetatable('').__index = {}\n",
    );
    assert_eq!(out.error, None);
    let out = s.run("b.lua", "print(leaked, ('x'):upper())");
    assert_eq!(out.output, "nil\tX\n");
}

#[test]
fn dbh_writes_rows_under_db_dir_only() {
    let s = Scripts::new("dbh");
    let out = s.run(
        "db.lua",
        r#"
        local db = freeswitch.Dbh("sqlite://calls")
        print(db:connected())
        db:query("create table if not exists t(n integer, name text)")
        db:query("insert into t values (1, 'a'), (2, 'b'), (3, NULL)")
        print(db:affected_rows())
        db:query("select n, name from t order by n", function(row)
            print(row.n, row.name)
            if row.n == "2" then return 1 end
        end)
        local ok, rows = db:query_rows("select count(*) as c from t")
        print(ok, rows[1].c)
        print(db:query("attach '/tmp/x.db' as x"), db:last_error() ~= nil)
        print(freeswitch.Dbh("sqlite:///etc/passwd"):connected())
        print(db:release(), db:connected())
        "#,
    );
    assert_eq!(out.error, None, "{}", out.output);
    assert_eq!(
        out.output,
        "true\n3\n1\ta\n2\tb\ntrue\t3\nfalse\ttrue\nfalse\ntrue\tfalse\n"
    );
    assert!(s.dir.join("var/calls.db").is_file());
}

#[test]
fn events_serialize_and_api_says_no_switch() {
    let s = Scripts::new("event");
    let out = s.run(
        "ev.lua",
        r#"
        local e = freeswitch.Event("CUSTOM", "my::thing")
        e:addHeader("X-Who", "me")
        e:addBody("hello")
        print(e:getHeader("X-Who"), e:getBody(), e:getType(), e:getHeader("Event-Subclass"))
        print(e:serialize("json"):find('"X-Who":"me"', 1, true) ~= nil)
        print(e:delHeader("X-Who"), e:getHeader("X-Who"))
        print(pcall(freeswitch.Event, "NO_SUCH_EVENT"))
        print(freeswitch.API():execute("status"))
        print(freeswitch.getGlobalVariable("nothing"))
        freeswitch.consoleLog("weird-level", "tolerated")
        local leg = freeswitch.Session("user/1000")
        print(leg:ready())
        "#,
    );
    assert_eq!(out.error, None, "{}", out.output);
    let lines: Vec<&str> = out.output.lines().collect();
    assert_eq!(lines[0], "me\thello\tCUSTOM\tmy::thing");
    assert_eq!(lines[1], "true");
    assert_eq!(lines[2], "true\tnil");
    assert!(
        lines[3].starts_with("false\t") && lines[3].contains("unknown event name"),
        "{}",
        lines[3]
    );
    assert_eq!(lines[4], "-ERR status Command not found!");
    assert_eq!(lines[6], "nil");
    assert_eq!(lines[7], "false");
}

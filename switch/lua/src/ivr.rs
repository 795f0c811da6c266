//! `freeswitch.IVRMenu`: FreeSWITCH's declarative menus (`switch_ivr_menu.c`).
//!
//! ```lua
//! local top = freeswitch.IVRMenu(nil, "main", "ivr/ivr-demo_main_menu.wav", nil,
//!     "ivr/ivr-that_was_an_invalid_entry.wav", "voicemail/vm-goodbye.wav", nil, nil, nil, nil,
//!     1, 3000, 1, 5000, 3, 3)
//! top:bindAction("menu-exec-app", "bridge user/1000", "1")
//! top:bindAction("menu-sub", "support", "2")
//! top:execute(session, "main")
//! ```
//!
//! A menu plays its greeting (the short one from the second round), reads up to
//! `digit_len` digits (longer bindings raise it) ending on `#`, and runs every binding the
//! input matches (exactly, or a `/regex/`): `menu-exit`, `menu-sub NAME`, `menu-exec-app
//! "app args"`, `menu-play-sound FILE`, `menu-back` (to the menu above), `menu-top`.
//! Input that matches nothing plays the invalid sound and counts as a failure; no input
//! counts as a timeout; `max_failures` or `max_timeouts` end the menu. The exit sound plays
//! when the top menu ends. `ivr_menu_status` is `success`, `failure` or `timeout`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use mlua::{AnyUserData, Lua, ObjectLike, UserData, UserDataMethods};

use crate::error::{located, location};
use crate::input::{read, stream_file, ReadSpec};
use crate::run::run_of;
use crate::session::this;

/// Most nested sub-menus.
const MAX_DEPTH: u32 = 12;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Exit,
    Sub,
    ExecApp,
    PlaySound,
    Back,
    Top,
}

struct Bind {
    action: Action,
    arg: String,
    digits: String,
    regex: Option<regex::Regex>,
}

/// The sounds and numbers a menu is made of.
pub(crate) struct MenuSpec {
    pub name: String,
    pub greeting: String,
    pub short_greeting: String,
    pub invalid: String,
    pub exit: String,
    pub confirm_macro: String,
    pub confirm_key: String,
    pub confirm_attempts: i64,
    pub inter_timeout: i64,
    pub digit_len: i64,
    pub timeout: i64,
    pub max_failures: i64,
    pub max_timeouts: i64,
}

struct Menu {
    spec: MenuSpec,
    digit_len: Cell<usize>,
    binds: RefCell<Vec<Bind>>,
}

/// The menus built from one top menu.
#[derive(Default)]
struct Tree {
    menus: RefCell<Vec<Rc<Menu>>>,
    depth: Cell<u32>,
    to_top: Cell<bool>,
}

/// A menu object in Lua.
pub(crate) struct LuaMenu {
    tree: Rc<Tree>,
    menu: Rc<Menu>,
}

/// `freeswitch.IVRMenu(main, name, ...)`: a menu of `main`'s tree (or a new top menu).
pub(crate) fn create(main: Option<&LuaMenu>, spec: MenuSpec) -> LuaMenu {
    let tree = main.map(|m| m.tree.clone()).unwrap_or_default();
    let menu = Rc::new(Menu {
        digit_len: Cell::new(spec.digit_len.max(1) as usize),
        spec,
        binds: RefCell::new(Vec::new()),
    });
    tree.menus.borrow_mut().push(menu.clone());
    LuaMenu { tree, menu }
}

impl UserData for LuaMenu {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_method("bindAction", |lua, me, (action, arg, digits): (String, Option<String>, String)| {
            let act = match action.trim() {
                "menu-exit" => Action::Exit,
                "menu-sub" => Action::Sub,
                "menu-exec-app" => Action::ExecApp,
                "menu-play-sound" => Action::PlaySound,
                "menu-back" => Action::Back,
                "menu-top" => Action::Top,
                other => return Err(located(lua, format!("IVRMenu:bindAction: unknown action {other:?} (menu-exit, menu-sub, menu-exec-app, menu-play-sound, menu-back, menu-top)"))),
            };
            let regex = match digits.strip_prefix('/') {
                Some(r) => Some(
                    regex::Regex::new(r.strip_suffix('/').unwrap_or(r))
                        .map_err(|e| located(lua, format!("IVRMenu:bindAction: bad regex {digits:?}: {e}")))?,
                ),
                None => {
                    if digits.len() > me.menu.digit_len.get() {
                        me.menu.digit_len.set(digits.len());
                    }
                    None
                }
            };
            me.menu.binds.borrow_mut().push(Bind {
                action: act,
                arg: arg.unwrap_or_default(),
                digits,
                regex,
            });
            Ok(())
        });
        m.add_method(
            "execute",
            |lua, me, (ud, name): (AnyUserData, Option<String>)| {
                let name = name.unwrap_or_else(|| me.menu.spec.name.clone());
                me.tree.depth.set(0);
                me.tree.to_top.set(false);
                let _ = execute(lua, &me.tree, &ud, &name)?;
                Ok(())
            },
        );
    }
}

/// How a menu's loop ended, for the menu above.
#[derive(PartialEq, Eq)]
enum Status {
    Success,
    /// `menu-exit`, or the call is gone: every menu ends.
    False,
    /// `menu-top`: unwinding to the top menu.
    Break,
}

fn execute(lua: &Lua, tree: &Rc<Tree>, ud: &AnyUserData, name: &str) -> mlua::Result<Status> {
    let _nested = crate::budget::enter()?;
    tree.depth.set(tree.depth.get() + 1);
    let r = run_menu(lua, tree, ud, name);
    tree.depth.set(tree.depth.get() - 1);
    r
}

fn run_menu(lua: &Lua, tree: &Rc<Tree>, ud: &AnyUserData, name: &str) -> mlua::Result<Status> {
    if tree.depth.get() > MAX_DEPTH {
        tracing::error!(
            "{}IVR menu {name:?}: too many levels of recursion",
            location(lua)
        );
        return Ok(Status::False);
    }
    let found = tree
        .menus
        .borrow()
        .iter()
        .find(|m| m.spec.name == name)
        .cloned();
    let Some(menu) = found else {
        tracing::error!("{}IVR menu {name:?}: no such menu", location(lua));
        return Ok(Status::False);
    };
    let top = Rc::ptr_eq(&menu, &tree.menus.borrow()[0]);
    let Some(h) = this(ud)?.up().cloned() else {
        return Ok(Status::False);
    };
    let run = run_of(lua)?;
    let s = &menu.spec;
    h.set_variable("ivr_menu_status", Some("success"));
    tracing::debug!(uuid = %h.uuid(), "executing IVR menu {name}");
    let (mut errs, mut timeouts, mut reps) = (0i64, 0i64, 0u32);
    let mut status = Status::Success;
    let mut running = true;
    while running && status == Status::Success && h.ready() {
        if errs >= s.max_failures.max(1) {
            h.set_variable("ivr_menu_status", Some("failure"));
            break;
        }
        if timeouts >= s.max_timeouts.max(1) {
            h.set_variable("ivr_menu_status", Some("timeout"));
            break;
        }
        let greeting = if reps > 0 && !s.short_greeting.is_empty() {
            &s.short_greeting
        } else {
            &s.greeting
        };
        reps += 1;
        let timeout = if s.timeout > 0 { s.timeout } else { 10_000 };
        let inter = if s.inter_timeout > 0 {
            s.inter_timeout
        } else {
            timeout
        };
        let terminator = h
            .get_variable("ivr_menu_terminator")
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "#".into());
        let got = read(
            lua,
            ud,
            &ReadSpec {
                min: 1,
                max: menu.digit_len.get(),
                prompt: greeting.clone(),
                timeout: Duration::from_millis(timeout as u64),
                digit_timeout: Duration::from_millis(inter as u64),
                terminators: terminator,
            },
        )?;
        let mut input = got.digits;
        if input.is_empty() && got.terminator.is_none() {
            timeouts += 1;
            continue;
        }
        if !input.is_empty() && !s.confirm_macro.is_empty() && !confirmed(lua, ud, s, &input)? {
            input.clear();
        }
        let binds: Vec<(Action, String)> = menu
            .binds
            .borrow()
            .iter()
            .filter(|b| match &b.regex {
                Some(r) => r.is_match(&input),
                None => !input.is_empty() && b.digits == input,
            })
            .map(|b| (b.action, b.arg.clone()))
            .collect();
        for (action, arg) in &binds {
            errs = 0;
            tracing::debug!(uuid = %h.uuid(), "IVR menu {name}: {input:?} -> {action:?} {arg:?}");
            status = match action {
                Action::Exit => Status::False,
                Action::PlaySound => {
                    stream_file(lua, ud, arg)?;
                    Status::Success
                }
                Action::Sub if arg == &s.name => Status::Success,
                Action::Sub => {
                    reps = 0;
                    execute(lua, tree, ud, arg)?
                }
                Action::ExecApp => exec_app(lua, ud, arg)?,
                Action::Back => {
                    running = false;
                    Status::Success
                }
                Action::Top => {
                    tree.to_top.set(true);
                    Status::Break
                }
            };
        }
        if top && tree.to_top.get() {
            tree.to_top.set(false);
            status = Status::Success;
            running = true;
            continue;
        }
        if binds.is_empty() {
            if !input.is_empty() {
                tracing::debug!(uuid = %h.uuid(), "IVR menu {name}: invalid input {input:?}");
                if !s.invalid.is_empty() {
                    stream_file(lua, ud, &s.invalid)?;
                }
            }
            errs += 1;
        }
        if !h.ready() {
            status = Status::False;
        }
    }
    if tree.depth.get() == 1 && !s.exit.is_empty() && h.ready() {
        stream_file(lua, ud, &s.exit)?;
    }
    run.after_wait(lua, ud)?;
    Ok(status)
}

/// `menu-exec-app "app args"`; a transfer ends the menus (it happens when the script ends).
fn exec_app(lua: &Lua, ud: &AnyUserData, text: &str) -> mlua::Result<Status> {
    let (app, args) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
    let Some(h) = this(ud)?.up().cloned() else {
        return Ok(Status::False);
    };
    let run = run_of(lua)?;
    if app == "transfer" {
        let _ = h.transfer(args.split_whitespace().next().unwrap_or(""));
        return Ok(Status::False);
    }
    if let Err(e) = run.wait(|| h.execute(app, args.trim())) {
        tracing::info!(uuid = %h.uuid(), "{}IVR menu-exec-app {text:?}: {e}", location(lua));
    }
    run.after_wait(lua, ud)?;
    Ok(if h.ready() {
        Status::Success
    } else {
        Status::False
    })
}

/// The confirm macro (a phrase said with the input) and key: true when confirmed.
fn confirmed(lua: &Lua, ud: &AnyUserData, s: &MenuSpec, input: &str) -> mlua::Result<bool> {
    let key = s.confirm_key.chars().next();
    let say: mlua::Function = ud.get("sayPhrase")?;
    for _ in 0..s.confirm_attempts.max(1) {
        say.call::<()>((ud.clone(), s.confirm_macro.as_str(), input))?;
        let Some(k) = key else { continue };
        let got = crate::input::collect(
            lua,
            ud,
            1,
            "#",
            Duration::from_millis(s.timeout.max(1000) as u64),
            Duration::from_millis(s.timeout.max(1000) as u64),
        )?;
        match got.digits.chars().next() {
            Some(d) => return Ok(d == k),
            None => continue,
        }
    }
    Ok(key.is_none())
}

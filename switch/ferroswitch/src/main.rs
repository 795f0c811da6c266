//! `ferroswitch`: starts the switch in the foreground on `conf/` of the current directory;
//! `ferroswitch cli` is the console, a client of the event socket.

mod cli;
mod client;
mod console;
mod local;

/// Many small allocations per SIP message and call: mimalloc is cheaper than glibc's malloc
/// for them and gives memory back after a burst of calls.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use switch_core::config::{parse_set, Config};

const USAGE: &str = "\
usage: ferroswitch [--conf DIR] [--set KEY=VALUE]...
       ferroswitch cli [-H HOST] [-P PORT] [-p PASSWORD] [-x COMMAND]   (see ferroswitch cli -h)

  --conf DIR         config folder (default: ./conf)
  --set KEY=VALUE    override a key of ferroswitch.toml, e.g. --set sip.udp=127.0.0.1:5080
  --check            validate the config and exit
  --no-console       no console even when standard input is a terminal
  -h, --help         this text
  -V, --version      print the version";

struct Args {
    conf: PathBuf,
    sets: Vec<(String, String)>,
    check: bool,
    no_console: bool,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        conf: PathBuf::from("conf"),
        sets: Vec::new(),
        check: false,
        no_console: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("ferroswitch {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--check" => args.check = true,
            "--no-console" => args.no_console = true,
            "--conf" => args.conf = it.next().ok_or("--conf needs a folder")?.into(),
            "--set" => {
                let kv = it.next().ok_or("--set needs KEY=VALUE")?;
                args.sets.push(
                    parse_set(&kv).ok_or_else(|| format!("--set {kv:?}: expected KEY=VALUE"))?,
                );
            }
            other => {
                if let Some(kv) = other.strip_prefix("--set=") {
                    args.sets.push(
                        parse_set(kv).ok_or_else(|| format!("--set {kv:?}: expected KEY=VALUE"))?,
                    );
                } else if let Some(dir) = other.strip_prefix("--conf=") {
                    args.conf = dir.into();
                } else {
                    return Err(format!("unknown argument {other:?}\n{USAGE}"));
                }
            }
        }
    }
    Ok(Some(args))
}

/// Transparent huge pages make every fresh allocator page a 2 MiB zeroing fault; the
/// switch's heap churns (one task and a few buffers per call), so small pages are cheaper.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE takes plain integers and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// mimalloc's `purge_delay` option (its number in mimalloc's option list).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed allocator pages stay mapped for a second before they go back to the system: under
/// steady call load they are reused at once instead of faulting in again.
fn keep_freed_pages_a_while() {
    // SAFETY: mi_option_set only stores an integer in mimalloc's option table.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
}

/// Raises the soft limit on open files to the hard one, as servers with thousands of sockets
/// do (four per bridged call, plus resting RTP pairs): the common default of 1024 would cap
/// the switch near 250 calls. Failure leaves the limit as it was.
fn more_open_files() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write a struct we own.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            let want = lim.rlim_max.min(1 << 20);
            if want > lim.rlim_cur {
                lim.rlim_cur = want;
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            }
        }
    }
}

fn main() -> ExitCode {
    no_huge_pages();
    keep_freed_pages_a_while();
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("cli") {
        return cli::main(&argv[2..]);
    }
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferroswitch: {e}");
            return ExitCode::from(2);
        }
    };
    let config = match Config::load(&args.conf, &args.sets) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ferroswitch: config error: {e}");
            return ExitCode::from(2);
        }
    };
    if args.check {
        println!("config OK: {}", args.conf.display());
        return ExitCode::SUCCESS;
    }
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|f| !f.trim().is_empty())
        .unwrap_or_else(|| config.log.level.clone());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    if let Err(e) = switch_core::log::init(&filter, ansi) {
        eprintln!("ferroswitch: {e}");
        return ExitCode::from(2);
    }
    let demo = config.directory.demo_password_users();
    if !demo.is_empty() {
        tracing::warn!(
            users = demo.len(),
            "{} directory user(s) still have the demo password 1234 (e.g. {}): change them before exposing the switch",
            demo.len(),
            demo[0]
        );
    }
    more_open_files();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Each call's Lua script runs on a blocking-pool thread for the
        // script's whole life, so the pool must hold one per live call.
        .max_blocking_threads(8192)
        .thread_stack_size(4 << 20)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferroswitch: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let no_console = args.no_console;
    rt.block_on(async move {
        let running = match switch_core::runtime::start(config).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("{e}");
                return ExitCode::FAILURE;
            }
        };
        // Lua scripts route the contexts that name one, and `luarun`/`lua` run them.
        switch_lua::install(&running.ctx, tokio::runtime::Handle::current());
        tracing::info!("ferroswitch {} ready", env!("CARGO_PKG_VERSION"));
        let console = console_requested(no_console).then(|| {
            let (done, exited) = tokio::sync::oneshot::channel::<()>();
            let backend =
                local::LocalBackend::new(tokio::runtime::Handle::current(), running.ctx.clone());
            std::thread::spawn(move || {
                if let Err(e) = backend.run() {
                    eprintln!("ferroswitch: console: {e}");
                }
                let _ = done.send(());
            });
            exited
        });
        match console {
            Some(exited) => tokio::select! {
                _ = wait_for_signal() => {}
                _ = exited => {}
            },
            None => wait_for_signal().await,
        }
        tracing::info!("shutting down");
        running.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// The in-process console runs when standard input and output are a terminal.
fn console_requested(no_console: bool) -> bool {
    use std::io::IsTerminal;
    !no_console && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

//! `callcenter_config`: FreeSWITCH's command syntax and output, plus skills, stats,
//! queue settings and wait predictions in the same style.
//!
//! ```text
//! callcenter_config agent add <name> <callback|uuid-standby>
//! callcenter_config agent del <name>
//! callcenter_config agent reload <name>
//! callcenter_config agent set <key> <agent> <value> [break reason]
//!     keys: status state contact uuid type max_no_answer wrap_up_time reject_delay_time
//!           busy_delay_time no_answer_delay_time ready_time skills break_reason
//! callcenter_config agent get <status|state|uuid|contact|skills|break_reason|...> <agent>
//! callcenter_config agent list [<agent>]
//! callcenter_config tier add <queue> <agent> [<level>] [<position>]
//! callcenter_config tier set <state|level|position> <queue> <agent> <value>
//! callcenter_config tier del <queue> <agent>
//! callcenter_config tier reload <queue|all> [<agent>]
//! callcenter_config tier list [<queue>]
//! callcenter_config queue load|unload|reload <queue>
//! callcenter_config queue add <queue> [<strategy>]      (ferroswitch)
//! callcenter_config queue del <queue>                   (ferroswitch)
//! callcenter_config queue set <key> <queue> <value>     (ferroswitch)
//! callcenter_config queue get <key> <queue>             (ferroswitch)
//! callcenter_config queue list [agents|members|tiers|callbacks <queue> [<status>] [<state>]]
//! callcenter_config queue count [agents|members|tiers|callbacks <queue> [<status>] [<state>]]
//! callcenter_config queue stats <queue>                 (ferroswitch)
//! callcenter_config queue predict <queue> [<queue>...]  (ferroswitch)
//! ```
//! Replies: `+OK` (after any table), a bare number for counts, the bare value for
//! `agent get`, or `-ERR <reason>` naming the queue, agent, key or value at fault.

mod agent;
mod lex;
mod queue;
mod table;
mod tier;

pub use lex::split;
pub use queue::STATS_COLUMNS;
pub use table::{AGENT_COLUMNS, CALLBACK_COLUMNS, MEMBER_COLUMNS, QUEUE_COLUMNS, TIER_COLUMNS};

use crate::engine::Engine;
use crate::error::Error;
use crate::time::Timestamp;

/// The usage text (`callcenter_config` with no arguments).
pub const USAGE: &str = "callcenter_config <target> <args>,
\tcallcenter_config agent add [name] [type] |
\tcallcenter_config agent del [name] |
\tcallcenter_config agent reload [name] |
\tcallcenter_config agent set status [agent_name] [status] [[break_reason]] |
\tcallcenter_config agent set state [agent_name] [state] |
\tcallcenter_config agent set contact [agent_name] [contact] |
\tcallcenter_config agent set ready_time [agent_name] [wait till epoch] |
\tcallcenter_config agent set reject_delay_time [agent_name] [wait second] |
\tcallcenter_config agent set busy_delay_time [agent_name] [wait second] |
\tcallcenter_config agent set no_answer_delay_time [agent_name] [wait second] |
\tcallcenter_config agent set skills [agent_name] [name=level,...] |
\tcallcenter_config agent get status [agent_name] |
\tcallcenter_config agent get state [agent_name] |
\tcallcenter_config agent get uuid [agent_name] |
\tcallcenter_config agent list [[agent_name]] |
\tcallcenter_config tier add [queue_name] [agent_name] [[level]] [[position]] |
\tcallcenter_config tier set state [queue_name] [agent_name] [state] |
\tcallcenter_config tier set level [queue_name] [agent_name] [level] |
\tcallcenter_config tier set position [queue_name] [agent_name] [position] |
\tcallcenter_config tier del [queue_name] [agent_name] |
\tcallcenter_config tier reload [queue_name] [agent_name] |
\tcallcenter_config tier list |
\tcallcenter_config queue load [queue_name] |
\tcallcenter_config queue unload [queue_name] |
\tcallcenter_config queue reload [queue_name] |
\tcallcenter_config queue add [queue_name] [[strategy]] |
\tcallcenter_config queue del [queue_name] |
\tcallcenter_config queue set [key] [queue_name] [value] |
\tcallcenter_config queue get [key] [queue_name] |
\tcallcenter_config queue list |
\tcallcenter_config queue list agents [queue_name] [status] [state] |
\tcallcenter_config queue list members [queue_name] |
\tcallcenter_config queue list tiers [queue_name] |
\tcallcenter_config queue list callbacks [queue_name] |
\tcallcenter_config queue count |
\tcallcenter_config queue count agents [queue_name] [status] [state] |
\tcallcenter_config queue count members [queue_name] |
\tcallcenter_config queue count tiers [queue_name] |
\tcallcenter_config queue stats [queue_name] |
\tcallcenter_config queue predict [queue_name] [[queue_name] ...]";

/// Runs one `callcenter_config` line (with or without the leading command name) at `now`
/// and returns the reply text.
pub fn execute(engine: &mut Engine, now: Timestamp, line: &str) -> String {
    let mut words = split(line);
    if words
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case("callcenter_config"))
    {
        words.remove(0);
    }
    if words.is_empty() {
        return format!("-USAGE: \n{USAGE}\n");
    }
    let args: Vec<&str> = words.iter().map(String::as_str).collect();
    let section = args[0].to_ascii_lowercase();
    let Some(action) = args.get(1).map(|a| a.to_ascii_lowercase()) else {
        return invalid(&format!("{section} <action> ..."));
    };
    let rest = &args[2..];
    match section.as_str() {
        "agent" => agent::run(engine, now, &action, rest),
        "tier" => tier::run(engine, now, &action, rest),
        "queue" => queue::run(engine, now, &action, rest),
        other => {
            format!("-ERR Invalid! unknown target '{other}' (expected agent, tier or queue)\n")
        }
    }
}

/// `-ERR Invalid!` with the expected form.
pub(crate) fn invalid(usage: &str) -> String {
    format!("-ERR Invalid! usage: callcenter_config {usage}\n")
}

/// `+OK` or `-ERR <reason>`.
pub(crate) fn reply(r: Result<(), Error>) -> String {
    match r {
        Ok(()) => "+OK\n".to_string(),
        Err(e) => err(&e),
    }
}

pub(crate) fn err(e: &Error) -> String {
    format!("-ERR {e}\n")
}

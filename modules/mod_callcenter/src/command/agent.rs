//! `callcenter_config agent ...`.

use crate::engine::{Engine, AGENT_KEYS};
use crate::error::Error;
use crate::model::{AgentConfig, AgentStatus, AgentType, UnknownName};
use crate::time::Timestamp;

use super::table::{agent_row, table, AGENT_COLUMNS};
use super::{err, invalid, reply};

pub(super) fn run(e: &mut Engine, now: Timestamp, action: &str, args: &[&str]) -> String {
    match action {
        "add" => {
            let [name, kind, ..] = args else {
                return invalid("agent add <name> <callback|uuid-standby>");
            };
            let agent_type: AgentType = match kind.parse() {
                Ok(t) => t,
                Err(UnknownName { expected, .. }) => {
                    return err(&Error::value("agent type", kind, expected))
                }
            };
            let mut c = AgentConfig::new(name, "");
            c.agent_type = agent_type;
            reply(e.add_agent(now, c))
        }
        "del" => match args {
            [name, ..] => reply(e.del_agent(now, name)),
            _ => invalid("agent del <name>"),
        },
        "reload" => match args {
            [name, ..] => reply(e.reload_agent(now, name)),
            _ => invalid("agent reload <name>"),
        },
        "set" => {
            let [key, agent, value, more @ ..] = args else {
                return invalid("agent set <key> <agent> <value>");
            };
            if key.eq_ignore_ascii_case("status") {
                let status: AgentStatus = match value.parse() {
                    Ok(s) => s,
                    Err(UnknownName { expected, .. }) => {
                        return err(&Error::value("Agent Status", value, expected))
                    }
                };
                let reason = (!more.is_empty()).then(|| more.join(" "));
                return reply(e.set_agent_status(now, agent, status, reason.as_deref()));
            }
            if !AGENT_KEYS.contains(&key.to_ascii_lowercase().as_str()) {
                return err(&Error::InvalidKey {
                    target: "Agent Update",
                    key: format!("{key} (keys: {})", AGENT_KEYS.join(", ")),
                });
            }
            reply(e.set_agent(now, agent, key, value))
        }
        "get" => {
            let [key, agent, ..] = args else {
                return invalid("agent get <key> <agent>");
            };
            let Some(a) = e.agent(agent) else {
                return err(&Error::UnknownAgent(agent.to_string()));
            };
            let v = match key.to_ascii_lowercase().as_str() {
                "status" => a.status.to_string(),
                "state" => a.state.to_string(),
                "uuid" => a.uuid.clone(),
                "contact" => a.contact.clone(),
                "type" => a.agent_type.to_string(),
                "skills" => a.skills.to_string(),
                "break_reason" => a.break_reason.clone().unwrap_or_default(),
                "max_no_answer" => a.max_no_answer.to_string(),
                "wrap_up_time" => a.wrap_up_time.to_string(),
                "reject_delay_time" => a.reject_delay_time.to_string(),
                "busy_delay_time" => a.busy_delay_time.to_string(),
                "no_answer_delay_time" => a.no_answer_delay_time.to_string(),
                "ready_time" => a.ready_time.as_secs().to_string(),
                "no_answer_count" => a.no_answer_count.to_string(),
                "calls_answered" => a.calls_answered.to_string(),
                "talk_time" => a.talk_time.to_string(),
                "unreachable_count" => a.unreachable_count.to_string(),
                _ => {
                    return err(&Error::InvalidKey {
                        target: "Agent Get",
                        key: key.to_string(),
                    })
                }
            };
            v
        }
        "list" => match args {
            [] => table(
                AGENT_COLUMNS,
                e.agents().into_iter().map(agent_row).collect(),
            ),
            [name] => match e.agent(name) {
                Some(a) => table(AGENT_COLUMNS, vec![agent_row(a)]),
                None => err(&Error::UnknownAgent(name.to_string())),
            },
            _ => invalid("agent list [<agent>]"),
        },
        other => format!(
            "-ERR Invalid! unknown agent action '{other}' (expected add, del, reload, set, get or list)\n"
        ),
    }
}

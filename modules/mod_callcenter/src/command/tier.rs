//! `callcenter_config tier ...`.

use crate::engine::Engine;
use crate::error::Error;
use crate::model::Tier;
use crate::time::Timestamp;

use super::table::{table, tier_row, TIER_COLUMNS};
use super::{err, invalid, reply};

fn level(key: &str, v: Option<&&str>) -> Result<u32, Error> {
    match v {
        None => Ok(1),
        Some(&"") => Ok(1),
        Some(s) => s
            .trim()
            .parse()
            .map_err(|_| Error::value(key, s, "a whole number")),
    }
}

pub(super) fn run(e: &mut Engine, now: Timestamp, action: &str, args: &[&str]) -> String {
    match action {
        "add" => {
            let [queue, agent, ..] = args else {
                return invalid("tier add <queue> <agent> [<level>] [<position>]");
            };
            let lvl = match level("level", args.get(2)) {
                Ok(l) => l,
                Err(x) => return err(&x),
            };
            let pos = match level("position", args.get(3)) {
                Ok(p) => p,
                Err(x) => return err(&x),
            };
            reply(e.add_tier(now, Tier::new(queue, agent, lvl, pos)))
        }
        "set" => {
            let [key, queue, agent, value, ..] = args else {
                return invalid("tier set <state|level|position> <queue> <agent> <value>");
            };
            reply(e.set_tier(now, queue, agent, key, value))
        }
        "del" => match args {
            [queue, agent, ..] => reply(e.del_tier(now, queue, agent)),
            _ => invalid("tier del <queue> <agent>"),
        },
        "reload" => match args {
            [queue] => reply(e.reload_tiers(now, queue, None)),
            [queue, agent, ..] => reply(e.reload_tiers(now, queue, Some(agent))),
            _ => invalid("tier reload <queue|all> [<agent>]"),
        },
        "list" => {
            let tiers: Vec<String> = match args {
                [] => e.all_tiers().into_iter().map(tier_row).collect(),
                [queue, ..] => {
                    if e.queue(queue).is_none() {
                        return err(&Error::UnknownQueue(queue.to_string()));
                    }
                    e.tiers(queue).into_iter().map(tier_row).collect()
                }
            };
            table(TIER_COLUMNS, tiers)
        }
        other => format!(
            "-ERR Invalid! unknown tier action '{other}' (expected add, set, del, reload or list)\n"
        ),
    }
}

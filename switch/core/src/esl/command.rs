//! What a client's frame asks for: the commands of FreeSWITCH's mod_event_socket, parsed
//! from a [`Frame`] without side effects.

use super::parser::Frame;
use crate::event::EventFormat;

/// One client command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// `auth <password>`
    Auth(String),
    /// `api <command> [args]`
    Api { cmd: String, args: String },
    /// `bgapi <command> [args]`, with the client's `Job-UUID` header if it sent one.
    BgApi {
        cmd: String,
        args: String,
        job_uuid: Option<String>,
    },
    /// `event [plain|json|xml] <names...>`
    Event {
        format: EventFormat,
        names: Vec<String>,
    },
    /// `myevents <uuid> [plain|json|xml]`
    MyEvents {
        uuid: Option<String>,
        format: EventFormat,
    },
    /// `nixevent <names...>`
    NixEvent(Vec<String>),
    /// `noevents`
    NoEvents,
    /// `filter <header> <value>`
    Filter { header: String, value: String },
    /// `filter delete all|<header> [<value>]`
    FilterDelete {
        header: String,
        value: Option<String>,
    },
    /// `sendmsg [<uuid>]` with `call-command` and other headers.
    SendMsg { uuid: Option<String>, frame: Frame },
    /// Outbound mode: the controller asks for the channel's data.
    Connect,
    /// `sendevent <NAME>` with headers and maybe a body.
    SendEvent { name: String, frame: Frame },
    /// `linger [<seconds>]`
    Linger(Option<u64>),
    /// `nolinger`
    NoLinger,
    /// `log [<level>]` (debug when none is given)
    Log(String),
    /// `nolog`
    NoLog,
    /// `exit`
    Exit,
    /// Something else (the reply is `-ERR command not found`).
    Unknown(String),
    /// A known command with bad arguments; the text is the reason.
    Invalid(&'static str),
}

impl Request {
    /// Reads one frame.
    pub fn parse(frame: Frame) -> Request {
        let line = frame.command.trim().to_string();
        let (word, rest) = match line.split_once(char::is_whitespace) {
            Some((w, r)) => (w.to_ascii_lowercase(), r.trim().to_string()),
            None => (line.to_ascii_lowercase(), String::new()),
        };
        let words = || {
            rest.split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        match word.as_str() {
            "auth" => Request::Auth(rest),
            "api" | "bgapi" => {
                let (cmd, args) = crate::api::split_command(&rest);
                if cmd.is_empty() {
                    return Request::Invalid("no command given");
                }
                let (cmd, args) = (cmd.to_string(), args.to_string());
                if word == "api" {
                    Request::Api { cmd, args }
                } else {
                    let job_uuid = frame.header("Job-UUID").map(str::to_string);
                    Request::BgApi {
                        cmd,
                        args,
                        job_uuid,
                    }
                }
            }
            "event" | "events" => {
                let mut names = words();
                let format = match names.first().and_then(|w| EventFormat::parse(w)) {
                    Some(f) => {
                        names.remove(0);
                        f
                    }
                    None => EventFormat::Plain,
                };
                Request::Event { format, names }
            }
            "myevents" => {
                let mut uuid = None;
                let mut format = EventFormat::Plain;
                for w in words() {
                    match EventFormat::parse(&w) {
                        Some(f) => format = f,
                        None => uuid = Some(w),
                    }
                }
                Request::MyEvents { uuid, format }
            }
            "nixevent" | "nixevents" => Request::NixEvent(words()),
            "noevents" | "noevent" => Request::NoEvents,
            "filter" => {
                let (header, value) = match rest.split_once(char::is_whitespace) {
                    Some((h, v)) => (h.to_string(), v.trim().to_string()),
                    None => (rest.clone(), String::new()),
                };
                if header.eq_ignore_ascii_case("delete") {
                    match value.split_once(char::is_whitespace) {
                        Some((h, v)) => Request::FilterDelete {
                            header: h.to_string(),
                            value: Some(v.trim().to_string()),
                        },
                        None if !value.is_empty() => Request::FilterDelete {
                            header: value,
                            value: None,
                        },
                        None => Request::Invalid("invalid syntax"),
                    }
                } else if header.is_empty() || value.is_empty() {
                    Request::Invalid("invalid syntax")
                } else {
                    Request::Filter { header, value }
                }
            }
            "sendmsg" => Request::SendMsg {
                uuid: (!rest.is_empty()).then_some(rest),
                frame,
            },
            "sendevent" => {
                if rest.is_empty() {
                    return Request::Invalid("no event name given");
                }
                Request::SendEvent { name: rest, frame }
            }
            "linger" => match rest.as_str() {
                "" => Request::Linger(None),
                n => match n.parse() {
                    Ok(n) => Request::Linger(Some(n)),
                    Err(_) => Request::Invalid("invalid linger time"),
                },
            },
            "nolinger" => Request::NoLinger,
            "log" => Request::Log(if rest.is_empty() {
                "debug".into()
            } else {
                rest
            }),
            "nolog" => Request::NoLog,
            "exit" => Request::Exit,
            "connect" => Request::Connect,
            _ => Request::Unknown(line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> Request {
        Request::parse(Frame {
            command: s.into(),
            ..Default::default()
        })
    }

    #[test]
    fn commands() {
        assert_eq!(req("auth ClueCon"), Request::Auth("ClueCon".into()));
        assert_eq!(
            req("api show channels as json"),
            Request::Api {
                cmd: "show".into(),
                args: "channels as json".into()
            }
        );
        assert!(matches!(req("bgapi status"), Request::BgApi { ref cmd, .. } if cmd == "status"));
        assert_eq!(req("api"), Request::Invalid("no command given"));
        assert_eq!(
            req("event json CHANNEL_CREATE CUSTOM a::b"),
            Request::Event {
                format: EventFormat::Json,
                names: vec!["CHANNEL_CREATE".into(), "CUSTOM".into(), "a::b".into()]
            }
        );
        assert_eq!(
            req("event ALL"),
            Request::Event {
                format: EventFormat::Plain,
                names: vec!["ALL".into()]
            }
        );
        assert_eq!(
            req("filter Unique-ID abc def"),
            Request::Filter {
                header: "Unique-ID".into(),
                value: "abc def".into()
            }
        );
        assert_eq!(
            req("filter delete Unique-ID abc"),
            Request::FilterDelete {
                header: "Unique-ID".into(),
                value: Some("abc".into())
            }
        );
        assert_eq!(
            req("filter delete all"),
            Request::FilterDelete {
                header: "all".into(),
                value: None
            }
        );
        assert_eq!(req("filter Unique-ID"), Request::Invalid("invalid syntax"));
        assert_eq!(req("linger 5"), Request::Linger(Some(5)));
        assert_eq!(req("log"), Request::Log("debug".into()));
        assert_eq!(req("EXIT"), Request::Exit);
        assert_eq!(req("frobnicate"), Request::Unknown("frobnicate".into()));
        assert_eq!(
            req("myevents abc json"),
            Request::MyEvents {
                uuid: Some("abc".into()),
                format: EventFormat::Json
            }
        );
    }
}

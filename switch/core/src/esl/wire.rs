//! The frames the switch writes, byte for byte as FreeSWITCH writes them.

/// The greeting.
pub(super) const AUTH_REQUEST: &str = "Content-Type: auth/request\n\n";

/// What a client outside `esl.acl` gets before the connection closes.
pub(super) const REJECTION: &str =
    "Content-Type: text/rude-rejection\nContent-Length: 24\n\nAccess Denied, go away.\n";

/// Sent before the switch closes a connection (after `exit`, a failed `auth`, bad input).
pub const DISCONNECT_NOTICE: &str = "Content-Type: text/disconnect-notice\nContent-Length: 67\n\nDisconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n";

/// `Content-Type: command/reply` with `Reply-Text: text`.
pub fn command_reply(text: &str) -> String {
    format!(
        "Content-Type: command/reply\nReply-Text: {}\n\n",
        one_line(text)
    )
}

/// `Content-Type: api/response` with the body.
pub fn api_response(body: &str) -> String {
    format!(
        "Content-Type: api/response\nContent-Length: {}\n\n{body}",
        body.len()
    )
}

/// The `bgapi` reply, with the job's uuid twice as FreeSWITCH sends it.
pub(super) fn job_reply(uuid: &str) -> String {
    format!("Content-Type: command/reply\nReply-Text: +OK Job-UUID: {uuid}\nJob-UUID: {uuid}\n\n")
}

/// Reply texts must stay on one line.
fn one_line(s: &str) -> String {
    s.trim_end().replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, EventFormat};

    #[test]
    fn frames_are_byte_exact() {
        assert_eq!(
            command_reply("+OK accepted"),
            "Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
        );
        assert_eq!(
            api_response("+OK\n"),
            "Content-Type: api/response\nContent-Length: 4\n\n+OK\n"
        );
        let e = Event::new("HEARTBEAT");
        assert_eq!(
            e.frame(EventFormat::Plain).to_string(),
            "Content-Length: 23\nContent-Type: text/event-plain\n\nEvent-Name: HEARTBEAT\n\n"
        );
        let notice_body = DISCONNECT_NOTICE.split("\n\n").nth(1).unwrap();
        assert_eq!(notice_body.len(), 67);
        let rejection_body = REJECTION.split("\n\n").nth(1).unwrap();
        assert_eq!(rejection_body.len(), 24);
        assert_eq!(
            command_reply("-ERR a\nb\n"),
            "Content-Type: command/reply\nReply-Text: -ERR a b\n\n"
        );
    }
}

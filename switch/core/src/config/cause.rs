//! Hangup cause names, as FreeSWITCH spells them, with their Q.850 (or FreeSWITCH) codes.

/// Every hangup cause name the dialplan accepts, with its numeric code: Q.850 cause values
/// below 128, FreeSWITCH's own above (487 is `ORIGINATOR_CANCEL`, as in FreeSWITCH).
pub const HANGUP_CAUSES: &[(&str, u16)] = &[
    ("UNSPECIFIED", 0),
    ("UNALLOCATED_NUMBER", 1),
    ("NO_ROUTE_TRANSIT_NET", 2),
    ("NO_ROUTE_DESTINATION", 3),
    ("CHANNEL_UNACCEPTABLE", 6),
    ("CALL_AWARDED_DELIVERED", 7),
    ("NORMAL_CLEARING", 16),
    ("USER_BUSY", 17),
    ("NO_USER_RESPONSE", 18),
    ("NO_ANSWER", 19),
    ("SUBSCRIBER_ABSENT", 20),
    ("CALL_REJECTED", 21),
    ("NUMBER_CHANGED", 22),
    ("REDIRECTION_TO_NEW_DESTINATION", 23),
    ("EXCHANGE_ROUTING_ERROR", 25),
    ("DESTINATION_OUT_OF_ORDER", 27),
    ("INVALID_NUMBER_FORMAT", 28),
    ("FACILITY_REJECTED", 29),
    ("RESPONSE_TO_STATUS_ENQUIRY", 30),
    ("NORMAL_UNSPECIFIED", 31),
    ("NORMAL_CIRCUIT_CONGESTION", 34),
    ("NETWORK_OUT_OF_ORDER", 38),
    ("NORMAL_TEMPORARY_FAILURE", 41),
    ("SWITCH_CONGESTION", 42),
    ("ACCESS_INFO_DISCARDED", 43),
    ("REQUESTED_CHAN_UNAVAIL", 44),
    ("PRE_EMPTED", 45),
    ("FACILITY_NOT_SUBSCRIBED", 50),
    ("OUTGOING_CALL_BARRED", 52),
    ("INCOMING_CALL_BARRED", 54),
    ("BEARERCAPABILITY_NOTAUTH", 57),
    ("BEARERCAPABILITY_NOTAVAIL", 58),
    ("SERVICE_UNAVAILABLE", 63),
    ("BEARERCAPABILITY_NOTIMPL", 65),
    ("CHAN_NOT_IMPLEMENTED", 66),
    ("FACILITY_NOT_IMPLEMENTED", 69),
    ("SERVICE_NOT_IMPLEMENTED", 79),
    ("INVALID_CALL_REFERENCE", 81),
    ("INCOMPATIBLE_DESTINATION", 88),
    ("INVALID_MSG_UNSPECIFIED", 95),
    ("MANDATORY_IE_MISSING", 96),
    ("MESSAGE_TYPE_NONEXIST", 97),
    ("WRONG_MESSAGE", 98),
    ("IE_NONEXIST", 99),
    ("INVALID_IE_CONTENTS", 100),
    ("WRONG_CALL_STATE", 101),
    ("RECOVERY_ON_TIMER_EXPIRE", 102),
    ("MANDATORY_IE_LENGTH_ERROR", 103),
    ("PROTOCOL_ERROR", 111),
    ("INTERWORKING", 127),
    ("ORIGINATOR_CANCEL", 487),
    ("SYSTEM_SHUTDOWN", 701),
    ("LOSE_RACE", 702),
    ("MANAGER_REQUEST", 703),
    ("BLIND_TRANSFER", 800),
    ("ATTENDED_TRANSFER", 801),
    ("ALLOTTED_TIMEOUT", 802),
    ("USER_CHALLENGE", 803),
    ("MEDIA_TIMEOUT", 804),
    ("PICKED_OFF", 805),
    ("USER_NOT_REGISTERED", 806),
    ("PROGRESS_TIMEOUT", 807),
    ("GATEWAY_DOWN", 809),
];

/// The code of a hangup cause name (exact, upper case), or `None` if it is not one.
pub fn hangup_cause_code(name: &str) -> Option<u16> {
    HANGUP_CAUSES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, code)| *code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_causes_have_their_codes() {
        assert_eq!(hangup_cause_code("NORMAL_CLEARING"), Some(16));
        assert_eq!(hangup_cause_code("USER_BUSY"), Some(17));
        assert_eq!(hangup_cause_code("ORIGINATOR_CANCEL"), Some(487));
        assert_eq!(hangup_cause_code("user_busy"), None);
        assert_eq!(hangup_cause_code("BUSY"), None);
    }

    #[test]
    fn names_and_codes_are_unique() {
        for (i, (name, code)) in HANGUP_CAUSES.iter().enumerate() {
            for (other, other_code) in &HANGUP_CAUSES[i + 1..] {
                assert_ne!(name, other);
                assert_ne!(code, other_code, "{name} and {other}");
            }
        }
    }
}

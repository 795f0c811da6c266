//! Mapping between hangup causes (FreeSWITCH's Q.850 names) and SIP status codes, as
//! FreeSWITCH's Sofia endpoint maps them, so logs and CDRs read the same.

/// The SIP status a caller gets when its call ends with `cause` before answer.
pub fn cause_to_sip(cause: &str) -> u16 {
    match cause {
        "UNALLOCATED_NUMBER" | "NO_ROUTE_TRANSIT_NET" | "NO_ROUTE_DESTINATION" => 404,
        "USER_BUSY" => 486,
        "NO_USER_RESPONSE" => 408,
        "NO_ANSWER" | "SUBSCRIBER_ABSENT" | "NORMAL_UNSPECIFIED" | "USER_NOT_REGISTERED" => 480,
        "CALL_REJECTED" => 603,
        "NUMBER_CHANGED" | "REDIRECTION_TO_NEW_DESTINATION" => 410,
        "DESTINATION_OUT_OF_ORDER" => 502,
        "INVALID_NUMBER_FORMAT" => 484,
        "FACILITY_REJECTED" | "FACILITY_NOT_IMPLEMENTED" | "SERVICE_NOT_IMPLEMENTED" => 501,
        "REQUESTED_CHAN_UNAVAIL"
        | "NORMAL_CIRCUIT_CONGESTION"
        | "NETWORK_OUT_OF_ORDER"
        | "NORMAL_TEMPORARY_FAILURE"
        | "SWITCH_CONGESTION"
        | "SERVICE_UNAVAILABLE"
        | "SYSTEM_SHUTDOWN" => 503,
        "OUTGOING_CALL_BARRED" | "INCOMING_CALL_BARRED" | "BEARERCAPABILITY_NOTAUTH" => 403,
        "BEARERCAPABILITY_NOTAVAIL" | "INCOMPATIBLE_DESTINATION" => 488,
        "RECOVERY_ON_TIMER_EXPIRE" => 504,
        "ORIGINATOR_CANCEL" => 487,
        "EXCHANGE_ROUTING_ERROR" => 483,
        _ => 480,
    }
}

/// The hangup cause for a SIP final status received from a callee.
pub fn sip_to_cause(status: u16) -> &'static str {
    match status {
        200..=299 => "NORMAL_CLEARING",
        401 | 402 | 403 | 407 | 603 | 608 => "CALL_REJECTED",
        404 => "UNALLOCATED_NUMBER",
        485 | 604 => "NO_ROUTE_DESTINATION",
        408 | 504 => "RECOVERY_ON_TIMER_EXPIRE",
        410 => "NUMBER_CHANGED",
        413 | 414 | 416 | 420 | 421 | 423 | 505 | 513 => "INTERWORKING",
        480 => "NO_USER_RESPONSE",
        400 | 481 | 500 | 503 => "NORMAL_TEMPORARY_FAILURE",
        486 | 600 => "USER_BUSY",
        484 => "INVALID_NUMBER_FORMAT",
        488 | 606 => "INCOMPATIBLE_DESTINATION",
        502 => "NETWORK_OUT_OF_ORDER",
        405 => "SERVICE_UNAVAILABLE",
        406 | 415 | 501 => "SERVICE_NOT_IMPLEMENTED",
        482 | 483 => "EXCHANGE_ROUTING_ERROR",
        487 => "ORIGINATOR_CANCEL",
        _ => "NORMAL_UNSPECIFIED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_round_trips() {
        assert_eq!(cause_to_sip(sip_to_cause(486)), 486);
        assert_eq!(cause_to_sip("NO_ANSWER"), 480);
        assert_eq!(sip_to_cause(487), "ORIGINATOR_CANCEL");
        assert_eq!(cause_to_sip("ORIGINATOR_CANCEL"), 487);
    }
}

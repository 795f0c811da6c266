#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (corpus/<target>/...).

The seeds are committed; run this again only after changing them or the script format
of fuzz_targets/transaction_layer.rs.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def msg(text: str) -> bytes:
    return text.strip("\n").replace("\n", "\r\n").encode() + b"\r\n\r\n"


def with_body(head: str, body: str) -> bytes:
    body_b = body.replace("\n", "\r\n").encode()
    return msg(head + f"\nContent-Length: {len(body_b)}") + body_b


SDP = """v=0
o=alice 1 1 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 40000 RTP/AVP 0 8 101
a=rtpmap:101 telephone-event/8000
"""

COMMON = """From: "Alice" <sip:alice@192.0.2.10>;tag=a1
To: <sip:1000@192.0.2.1>{to_tag}
Call-ID: seed-{cid}@192.0.2.10
CSeq: {cseq} {method}"""


def request(method, branch, cseq=1, to_tag="", transport="UDP", cid="1", extra=""):
    head = (
        f"{method} sip:1000@192.0.2.1 SIP/2.0\n"
        f"Via: SIP/2.0/{transport} 192.0.2.10:5060;branch={branch};rport\n"
        "Max-Forwards: 70\n"
        + COMMON.format(to_tag=to_tag, cid=cid, cseq=cseq, method=method)
        + "\nContact: <sip:alice@192.0.2.10:5060>"
        + extra
    )
    return msg(head + "\nContent-Length: 0")


INVITE = with_body(
    "INVITE sip:1000@192.0.2.1 SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKseed1;rport\n"
    "Max-Forwards: 70\n"
    + COMMON.format(to_tag="", cid="1", cseq=1, method="INVITE")
    + "\nContact: <sip:alice@192.0.2.10:5060>\nContent-Type: application/sdp",
    SDP,
)

PARSE = {
    "invite_sdp.sip": INVITE,
    "ack.sip": request("ACK", "z9hG4bKseed1", to_tag=";tag=t1"),
    "cancel.sip": request("CANCEL", "z9hG4bKseed1"),
    "bye_tcp.sip": request("BYE", "z9hG4bKbye", cseq=2, to_tag=";tag=t1", transport="TCP"),
    "register_auth.sip": request(
        "REGISTER",
        "z9hG4bKreg",
        extra='\nExpires: 3600\nAuthorization: Digest username="1000", realm="ferroswitch",'
        ' nonce="abc", uri="sip:192.0.2.1", response="0123456789abcdef0123456789abcdef",'
        " algorithm=MD5",
    ),
    "options_ipv6.sip": msg(
        "OPTIONS sip:1000@[2001:db8::2] SIP/2.0\n"
        "Via: SIP/2.0/UDP [2001:db8::1]:5070;branch=z9hG4bKv6\n"
        "f: <sip:a@[2001:db8::1]>;tag=x\nt: <sip:1000@[2001:db8::2]>\ni: v6@x\n"
        "CSeq: 3 OPTIONS\nl: 0"
    ),
    "rfc2543_invite.sip": request("INVITE", "old-style-branch", cid="2543"),
    "trying.sip": msg(
        "SIP/2.0 100 Trying\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKours;rport=5060;received=192.0.2.1\n"
        "From: <sip:1000@192.0.2.1>;tag=ours\nTo: <sip:bob@192.0.2.10>\n"
        "Call-ID: out@192.0.2.1\nCSeq: 5 INVITE\nContent-Length: 0"
    ),
    "ok_sdp.sip": with_body(
        "SIP/2.0 200 OK\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKours;rport=5060\n"
        "From: <sip:1000@192.0.2.1>;tag=ours\nTo: <sip:bob@192.0.2.10>;tag=b1\n"
        "Call-ID: out@192.0.2.1\nCSeq: 5 INVITE\nContact: <sip:bob@192.0.2.10>\n"
        "Content-Type: application/sdp",
        SDP,
    ),
    "busy.sip": msg(
        "SIP/2.0 486 Busy Here\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKours\n"
        "From: <sip:1000@192.0.2.1>;tag=ours\nTo: <sip:bob@192.0.2.10>;tag=b1\n"
        "Call-ID: out@192.0.2.1\nCSeq: 5 INVITE\nContent-Length: 0"
    ),
}


# transaction_layer script operations (see fuzz_targets/transaction_layer.rs).
def dgram(data: bytes, peer: int = 0) -> bytes:
    return bytes([0, peer]) + struct.pack("<H", len(data)) + data


def tick(ms: int) -> bytes:
    return bytes([1]) + struct.pack("<H", ms)


def send(method: int, peer: int = 0) -> bytes:
    return bytes([2, method, peer])


def respond(i: int, status: int) -> bytes:
    return bytes([3, i]) + struct.pack("<H", status)


def cancel(i: int) -> bytes:
    return bytes([4, i])


def answer(i: int, status: int) -> bytes:
    # The target maps status to 100 + status % 600.
    return bytes([5, i]) + struct.pack("<H", status - 100)


def transport_error(peer: int) -> bytes:
    return bytes([6, peer])


def next_timeout(n: int = 1) -> bytes:
    return bytes([7]) * n


ACK_2XX = request("ACK", "z9hG4bKack2xx", to_tag=";tag=tu")
ACK_NON2XX = request("ACK", "z9hG4bKseed1", to_tag=";tag=tu")

SCRIPTS = {
    "uas_invite_200_ack": dgram(INVITE) + respond(0, 180) + respond(0, 200) + tick(500)
    + dgram(ACK_2XX) + next_timeout(5),
    "uas_invite_486_ack": dgram(INVITE) + dgram(INVITE) + respond(0, 486) + tick(500)
    + dgram(ACK_NON2XX) + dgram(ACK_NON2XX) + next_timeout(5),
    "uas_invite_cancel": dgram(INVITE) + respond(0, 180) + dgram(PARSE["cancel.sip"])
    + respond(0, 487) + dgram(ACK_NON2XX) + next_timeout(5),
    "uas_invite_no_ack": dgram(INVITE) + respond(0, 200) + next_timeout(20),
    "uac_invite_cancel": send(0) + answer(0, 180) + cancel(0) + answer(1, 200)
    + answer(0, 487) + answer(0, 487) + next_timeout(5),
    "uac_invite_held_cancel": send(0) + cancel(0) + tick(100) + answer(0, 183)
    + answer(1, 200) + answer(0, 200) + answer(0, 200) + next_timeout(5),
    "uac_invite_timeout": send(0) + next_timeout(10),
    "uac_options": send(1) + tick(500) + answer(0, 100) + tick(4000) + answer(0, 200)
    + next_timeout(3),
    "uac_tcp_transport_error": send(0, 1) + send(2, 1) + transport_error(1),
    "uas_bye_tcp": dgram(PARSE["bye_tcp.sip"], 1) + respond(0, 200),
    "malformed": dgram(INVITE.replace(b"Max-Forwards: 70", b"Max-Forwards: x"))
    + dgram(b"\x00garbage") + dgram(b"\r\n\r\n"),
    "rfc2543": dgram(PARSE["rfc2543_invite.sip"]) + dgram(PARSE["rfc2543_invite.sip"])
    + respond(0, 404) + next_timeout(3),
}


def write(target: str, files: dict) -> None:
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


write("parse_message", PARSE)
write("transaction_layer", SCRIPTS)

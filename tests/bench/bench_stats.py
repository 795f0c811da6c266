#!/usr/bin/env python3
"""Result parsing for tests/bench/sip_load.sh (Python 3 stdlib only).

  bench_stats.py sipp STAT_CSV
      The last row of a SIPp -trace_stat file, as
      "successful failed retransmissions call_rate out_of_call dead_call"
      (all zeros when the file is missing or empty: SIPp died before writing it).

  bench_stats.py rtp CDR_SQLITE SINCE_EPOCH_US
      RTP counters of the bridged calls whose A leg started at or after SINCE_EPOCH_US, as
      "a_rows b_rows answered a_in a_out b_in b_out expected"
      a_in/a_out: what the switch received from / sent to the callers (A legs),
      b_in/b_out: the same for the callees (B legs), expected: the packets a 20 ms stream
      sends in each answered A leg's media time (end - answer), summed.
"""

import csv
import sqlite3
import sys


def sipp(path):
    keys = [
        "SuccessfulCall(C)",
        "FailedCall(C)",
        "Retransmissions(C)",
        "CallRate(C)",
        "OutOfCallMsgs(C)",
        "DeadCallMsgs(C)",
    ]
    try:
        with open(path, newline="") as f:
            rows = [r for r in csv.reader(f, delimiter=";") if r]
    except OSError:
        rows = []
    if len(rows) < 2:
        print("0 0 0 0 0 0")
        return
    last = dict(zip(rows[0], rows[-1]))
    out = []
    for k in keys:
        v = last.get(k, "0").strip() or "0"
        try:
            v = f"{float(v):.0f}" if k == "CallRate(C)" else str(int(float(v)))
        except ValueError:
            v = "0"
        out.append(v)
    print(" ".join(out))


def rtp(path, since_us):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    a = db.execute(
        "select count(*), count(answer_epoch_us), coalesce(sum(rtp_packets_in),0),"
        " coalesce(sum(rtp_packets_out),0),"
        " coalesce(sum(case when answer_epoch_us is not null"
        "   then (end_epoch_us - answer_epoch_us) / 20000.0 else 0 end),0)"
        " from cdr where leg='A' and start_epoch_us >= ?",
        (since_us,),
    ).fetchone()
    b = db.execute(
        "select count(*), coalesce(sum(rtp_packets_in),0), coalesce(sum(rtp_packets_out),0)"
        " from cdr where leg='B' and call_uuid in"
        " (select call_uuid from cdr where leg='A' and start_epoch_us >= ?)",
        (since_us,),
    ).fetchone()
    a_rows, answered, a_in, a_out, expected = a
    b_rows, b_in, b_out = b
    print(a_rows, b_rows, answered, a_in, a_out, b_in, b_out, int(round(expected)))


def main(argv):
    if len(argv) == 3 and argv[1] == "sipp":
        sipp(argv[2])
    elif len(argv) == 4 and argv[1] == "rtp":
        rtp(argv[2], int(argv[3]))
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

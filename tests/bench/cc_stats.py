#!/usr/bin/env python3
"""Result parsing for tests/bench/cc_load.sh (Python 3 stdlib only).

  cc_stats.py calls CALLCENTER_DB
      The queue calls of mod_callcenter's cc_calls table (one row per call that joined a
      queue), as one line of "key=value" words:
        rows       calls that joined a queue
        answered   calls an agent answered (answered_by set)
        reasons    exit reasons and their counts, e.g. "Bridge:600" ("-" when none)
        wait_avg wait_p50 wait_p95 wait_max   queue wait (join -> agent answered), ms
        waiting_max  most callers waiting at once (join -> answered or left)
        insys_max    most queue calls at once (join -> end, the talk time included)
        agents     distinct agents that answered
        per_agent_min per_agent_max   calls answered by the least / most busy agent
        offers     agent legs offered (rung), summed over the calls
        span_ms    first join -> last join
"""

import sqlite3
import sys


def pct(sorted_vals, p):
    if not sorted_vals:
        return 0
    i = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * (len(sorted_vals) - 1)))))
    return sorted_vals[i]


def peak(intervals):
    ev = []
    for a, b in intervals:
        if b < a:
            b = a
        ev.append((a, 1))
        ev.append((b, -1))
    ev.sort(key=lambda e: (e[0], e[1]))
    cur = best = 0
    for _, d in ev:
        cur += d
        best = max(best, cur)
    return best


def calls(path):
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        rows = db.execute(
            "select entered, answered_by, answered_at, left_at, ended_at, exit_reason,"
            " wait_ms, offers from cc_calls"
        ).fetchall()
    except sqlite3.Error:
        rows = []
    n = len(rows)
    answered = [r for r in rows if r[1]]
    waits = sorted(r[6] for r in answered)
    reasons = {}
    for r in rows:
        reasons[r[5]] = reasons.get(r[5], 0) + 1
    per_agent = {}
    for r in answered:
        per_agent[r[1]] = per_agent.get(r[1], 0) + 1
    # Waiting: from the join until an agent answered, else until the call left the line
    # (0: still there when the table was read: count it to its end or the join).
    def wait_end(r):
        for t in (r[2], r[3], r[4]):
            if t:
                return t
        return r[0]

    def sys_end(r):
        for t in (r[4], r[3], r[2]):
            if t:
                return t
        return r[0]

    waiting_max = peak([(r[0], wait_end(r)) for r in rows])
    insys_max = peak([(r[0], sys_end(r)) for r in rows])
    entered = [r[0] for r in rows]
    out = {
        "rows": n,
        "answered": len(answered),
        "reasons": ",".join(f"{k}:{v}" for k, v in sorted(reasons.items())) or "-",
        "wait_avg": f"{sum(waits) / len(waits):.1f}" if waits else "0",
        "wait_p50": pct(waits, 50),
        "wait_p95": pct(waits, 95),
        "wait_max": waits[-1] if waits else 0,
        "waiting_max": waiting_max,
        "insys_max": insys_max,
        "agents": len(per_agent),
        "per_agent_min": min(per_agent.values()) if per_agent else 0,
        "per_agent_max": max(per_agent.values()) if per_agent else 0,
        "offers": sum(r[7] or 0 for r in rows),
        "span_ms": (max(entered) - min(entered)) if entered else 0,
    }
    print(" ".join(f"{k}={v}" for k, v in out.items()))


def main(argv):
    if len(argv) == 3 and argv[1] == "calls":
        calls(argv[2])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

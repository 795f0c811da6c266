"""A real ESL client library (greenswitch, on gevent) against ferroswitch.

usage: greenswitch_client.py HOST PORT PASSWORD

Connects and authenticates, checks `api status`, subscribes to CHANNEL_ANSWER and
BACKGROUND_JOB, prints READY, then waits for one CHANNEL_ANSWER (the test places a call),
runs `bgapi status` and waits for its BACKGROUND_JOB. Prints what it saw; exit 0 on success.
"""
import sys

import gevent
import greenswitch


def main():
    host, port, password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    fs = greenswitch.InboundESL(host=host, port=port, password=password)
    fs.connect()
    status = fs.send("api status").data
    if not status.startswith("UP "):
        print("FAIL status: %r" % status, flush=True)
        return 1
    answers, jobs = [], []
    fs.register_handle("CHANNEL_ANSWER", lambda e: answers.append(e.headers))
    fs.register_handle("BACKGROUND_JOB", lambda e: jobs.append(e))
    reply = fs.send("events plain CHANNEL_ANSWER BACKGROUND_JOB").data
    if reply != "+OK event listener enabled plain":
        print("FAIL events: %r" % reply, flush=True)
        return 1
    print("READY", flush=True)
    with gevent.Timeout(30, False):
        while not answers:
            gevent.sleep(0.05)
    if not answers:
        print("FAIL no CHANNEL_ANSWER", flush=True)
        return 1
    a = answers[0]
    print("ANSWER %s %s %s" % (a.get("Unique-ID"), a.get("Caller-Destination-Number"),
                               a.get("Answer-State")), flush=True)
    reply = fs.send("bgapi status")
    job = reply.headers.get("Job-UUID")
    with gevent.Timeout(10, False):
        while not any(j.headers.get("Job-UUID") == job for j in jobs):
            gevent.sleep(0.05)
    done = [j for j in jobs if j.headers.get("Job-UUID") == job]
    if not done:
        print("FAIL no BACKGROUND_JOB for %s" % job, flush=True)
        return 1
    print("JOB %s %s" % (job, done[0].headers.get("Job-Command")), flush=True)
    fs.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""greenswitch's outbound server against ferroswitch's `socket` application.

usage: greenswitch_outbound.py PORT

Listens on 127.0.0.1:PORT and prints READY. For the one call the switch connects, it runs
`connect`, `myevents`, `answer`, a blocking `playback` of ivr/ivr-welcome.wav (which waits
for CHANNEL_EXECUTE_COMPLETE), prints what it saw, then `hangup`. Exit 0 on success.
"""
import sys

import gevent
import greenswitch

done = []


class Call(object):
    def __init__(self, session):
        self.session = session

    def run(self):
        s = self.session
        s.connect()
        print("CONNECT %s %s" % (s.uuid, s.session_data.get("Caller-Destination-Number")),
              flush=True)
        s.myevents()
        s.answer()
        event = s.playback("ivr/ivr-welcome.wav", block=True)
        print("PLAYED %s" % event.headers.get("Application"), flush=True)
        s.hangup()
        done.append(True)


def main():
    port = int(sys.argv[1])
    server = greenswitch.OutboundESLServer(bind_address="127.0.0.1", bind_port=port,
                                           application=Call, max_connections=5)
    gevent.spawn(server.listen)
    while server.bound_port is None:
        gevent.sleep(0.05)
    print("READY", flush=True)
    with gevent.Timeout(30, False):
        while not done:
            gevent.sleep(0.05)
    gevent.sleep(0.5)
    print("DONE" if done else "FAIL no call", flush=True)
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())

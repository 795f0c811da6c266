"""One event-socket subscriber for esl_load.sh: connects to 127.0.0.1:PORT (retrying until
the switch is up), authenticates, subscribes to every event in plain format and counts the
events it receives until SIGTERM; then prints `EVENTS <count> <seconds>`.

usage: esl_subscriber.py PORT PASSWORD
"""
import signal
import socket
import sys
import time

stop = False


def on_term(_sig, _frame):
    global stop
    stop = True


def main():
    port, password = int(sys.argv[1]), sys.argv[2]
    signal.signal(signal.SIGTERM, on_term)
    while not stop:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        print("EVENTS 0 0", flush=True)
        return 0
    s.settimeout(0.5)
    s.sendall(("auth %s\n\nevent plain ALL\n\n" % password).encode())
    count, started, buf = 0, None, b""
    needle = b"Content-Type: text/event-plain"
    while not stop:
        try:
            chunk = s.recv(1 << 16)
        except socket.timeout:
            continue
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
        n = buf.count(needle)
        if n:
            if started is None:
                started = time.time()
            count += n
            buf = buf[buf.rfind(needle) + len(needle):]
        elif len(buf) > 1 << 20:
            buf = buf[-64:]
    secs = time.time() - started if started else 0
    print("EVENTS %d %.1f" % (count, secs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Drives `ferroswitch cli` under a pseudo-terminal, as an operator would at the console.

usage: cli_pty.py FERROSWITCH_BIN ESL_PORT

Types `originate user/1001 &park`, reads the `+OK <uuid>` reply, types `show channels`
and checks the uuid is listed, types `uuid_kill <uuid>`, checks `+OK`, then `/exit`.
Prints UUID <uuid> and OK on success; exit 0 on success.
"""
import os
import pty
import re
import select
import sys
import time


def read_until(fd, pattern, timeout=15.0):
    buf = b""
    deadline = time.time() + timeout
    rx = re.compile(pattern)
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if fd in r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            m = rx.search(buf.decode("utf-8", "replace"))
            if m:
                return m
    print("FAIL waiting for %r; got %r" % (pattern, buf[-2000:]), flush=True)
    sys.exit(1)


def main():
    binary, port = sys.argv[1], sys.argv[2]
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["TERM"] = "dumb"
        os.execv(binary, [binary, "cli", "-H", "127.0.0.1", "-P", port, "-p", "ClueCon"])
    time.sleep(0.5)
    os.write(fd, b"originate user/1001 &park\r")
    m = read_until(fd, r"\+OK ([0-9a-f-]{36})")
    uuid = m.group(1)
    print("UUID %s" % uuid, flush=True)
    os.write(fd, b"show channels\r")
    read_until(fd, re.escape(uuid))
    os.write(fd, ("uuid_kill %s\r" % uuid).encode())
    read_until(fd, r"\+OK")
    os.write(fd, b"/exit\r")
    time.sleep(0.3)
    try:
        os.kill(pid, 9)
    except OSError:
        pass
    print("OK", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

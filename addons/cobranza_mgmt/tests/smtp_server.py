"""A real SMTP server on 127.0.0.1 for the delivery tests (the standard library's smtpd is gone
from Python 3.12, and aiosmtpd is not one of the project's packages).

It speaks enough of RFC 5321 for Python's smtplib (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
QUIT), keeps every message it accepts, and can answer RCPT with a temporary 4xx refusal.
"""
import email
import email.policy
import socket
import socketserver
import threading


def free_port():
    """A port nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Handler(socketserver.StreamRequestHandler):

    def _reply(self, *lines):
        for index, line in enumerate(lines):
            separator = " " if index == len(lines) - 1 else "-"
            self.wfile.write(f"{line[:3]}{separator}{line[4:]}\r\n".encode())

    def handle(self):
        server = self.server
        self._reply("220 cobranza-test ESMTP")
        sender, recipients = None, []
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = command[:4].upper()
            if verb == "EHLO":
                self._reply("250 cobranza-test", "250 8BITMIME")
            elif verb == "HELO":
                self._reply("250 cobranza-test")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip(), []
                self._reply("250 OK")
            elif verb == "RCPT":
                if server.refuse_with:
                    self._reply(server.refuse_with)
                else:
                    recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                    self._reply("250 OK")
            elif verb == "DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                with server.lock:
                    server.messages.append({
                        "from": sender, "to": recipients,
                        "message": email.message_from_bytes(b"".join(data), policy=email.policy.default),
                    })
                self._reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self._reply("250 OK")
            elif verb == "QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("502 Command not implemented")


class SMTPServer(socketserver.ThreadingTCPServer):
    """``with SMTPServer(port) as server:`` serves on 127.0.0.1:port until the block ends."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port):
        super().__init__(("127.0.0.1", port), _Handler)
        self.messages = []
        self.lock = threading.Lock()
        self.refuse_with = None  # e.g. "451 4.3.0 Try again later": every RCPT is refused with it
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
        self._thread.join()

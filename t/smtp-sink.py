#!/usr/bin/python3
# An SMTP sink for the tests: aiosmtpd on a loopback port, each message
# received saved as DIR/N.eml (envelope in DIR/N.env).
#
#   smtp-sink.py PORT DIR
import sys
import time
import os

from aiosmtpd.controller import Controller


class Save:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, str(self.count))
        with open(base + ".env.tmp", "w") as f:
            f.write("from %s\n" % envelope.mail_from)
            for rcpt in envelope.rcpt_tos:
                f.write("to %s\n" % rcpt)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".env.tmp", base + ".env")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 OK"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Save(directory), hostname="127.0.0.1", port=port)
    controller.start()
    open(os.path.join(directory, "ready.%d" % port), "w").close()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


main()

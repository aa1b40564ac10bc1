#!/usr/bin/python3
# An HTTP receiver for the tests: on a loopback port, each POST body is
# saved as DIR/N.json and answered with the status given (default 200);
# with a delay, each answer waits that many seconds first.
#
#   http-sink.py PORT DIR [STATUS [DELAY]]
import http.server
import os
import sys
import time

PORT, DIR = int(sys.argv[1]), sys.argv[2]
STATUS = int(sys.argv[3]) if len(sys.argv) > 3 else 200
DELAY = float(sys.argv[4]) if len(sys.argv) > 4 else 0
COUNT = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        COUNT[0] += 1
        path = os.path.join(DIR, "%d.json" % COUNT[0])
        with open(path + ".tmp", "wb") as f:
            f.write(body)
        os.rename(path + ".tmp", path)
        time.sleep(DELAY)
        self.send_response(STATUS)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", PORT), Handler)
open(os.path.join(DIR, "ready.%d" % PORT), "w").close()
server.serve_forever()

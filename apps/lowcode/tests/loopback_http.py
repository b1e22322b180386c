"""A real HTTP server on 127.0.0.1 for tests (an SMS gateway, a webhook receiver): the
test gives the request handler; this starts it on a free port and stops it."""
import threading
from http.server import ThreadingHTTPServer


class LoopbackHTTP:
    def __init__(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.timeout = 5
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

"""A webhook receiver that no Atelier code controls: verifies each request with the `standardwebhooks` package and
appends what it saw to a JSON-lines log. Answers 500 to the first --fail requests, 204 afterwards.

    python3 receiver.py --port P --secret whsec_… --log FILE [--fail N]
"""
from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--fail", type=int, default=0)
    args = parser.parse_args()
    verifier = Webhook(args.secret)
    lock = threading.Lock()
    seen = {"count": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                payload = verifier.verify(body, headers)
                verified, error = True, None
            except WebhookVerificationError as e:
                payload, verified, error = None, False, str(e)
            with lock:
                seen["count"] += 1
                status = 500 if seen["count"] <= args.fail else 204
                with open(args.log, "a") as log:
                    log.write(json.dumps({
                        "id": headers.get("webhook-id"), "timestamp": headers.get("webhook-timestamp"),
                        "verified": verified, "error": error, "payload": payload, "answered": status,
                    }) + "\n")
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()

"""A seed-style Python image gateway, the baseline Atelier is compared with (bench/peers, not a test).

What a typical Flask image gateway does with an OpenAI-style call: forward the JSON body upstream with
`requests`, decode the base64 PNG, check it is an image (Pillow reads its header), save it under DATA_DIR
(written, fsynced, renamed), then base64-encode the saved file again for the client's ImagesResponse.

    python flask_gateway.py --port P --upstream http://127.0.0.1:S/v1 --data-dir DIR
Served by Werkzeug's threaded server (one thread per connection, one process), so peak RSS is one number.
"""
import argparse
import base64
import io
import json
import os
import threading
import uuid

import requests
from flask import Flask, Response, request
from PIL import Image

app = Flask(__name__)
settings = {}
sessions = threading.local()


def upstream_session() -> requests.Session:
    if not hasattr(sessions, "session"):
        sessions.session = requests.Session()
    return sessions.session


def save(png: bytes) -> str:
    path = os.path.join(settings["data_dir"], f"{uuid.uuid4().hex}.png")
    with open(path + ".tmp", "wb") as file:
        file.write(png)
        file.flush()
        os.fsync(file.fileno())
    os.replace(path + ".tmp", path)
    return path


@app.post("/v1/images/generations")
def generations():
    answer = upstream_session().post(
        settings["upstream"] + "/images/generations", data=request.get_data(),
        headers={"Authorization": "Bearer " + settings["api_key"], "Content-Type": "application/json"}, timeout=900)
    if answer.status_code != 200:
        return Response(answer.content, status=answer.status_code, content_type="application/json")
    body = answer.json()
    for item in body.get("data", []):
        png = base64.b64decode(item["b64_json"])
        with Image.open(io.BytesIO(png)) as image:
            image.verify()
        with open(save(png), "rb") as file:
            item["b64_json"] = base64.b64encode(file.read()).decode("ascii")
    return Response(json.dumps(body), status=200, content_type="application/json")


@app.get("/healthz")
def healthz():
    return {"ok": True}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--api-key", default="sk-bench")
    options = parser.parse_args()
    os.makedirs(options.data_dir, exist_ok=True)
    settings.update(upstream=options.upstream.rstrip("/"), data_dir=options.data_dir, api_key=options.api_key)
    app.run(host="127.0.0.1", port=options.port, threaded=True)

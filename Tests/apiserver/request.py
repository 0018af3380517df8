#!/usr/bin/env python3
"""A tiny HTTPS client for tests of the test API server (python3 standard library only).

    python3 request.py --port N --ca CA [--cert CRT --key KEY] < requests.json

stdin holds a JSON array of requests, sent in order over one keep-alive connection (a new one
after a connection error):
    {"method": "GET", "path": "/api/v1/...", "token": "abc", "contentType": "...", "body": <JSON>, "timeout": 30}
("timeout": seconds to wait for the answer, a client's deadline; 30 by default)
stdout gets one JSON array of answers, one per request:
    {"status": 200, "headers": {"content-type": ...}, "body": <parsed JSON or text>}
or {"error": "..."} when the connection failed (for instance, a reset).
"""

import argparse
import http.client
import json
import ssl
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.ca)
    if args.cert:
        context.load_cert_chain(args.cert, args.key)
    connection = None
    answers = []
    for request in json.load(sys.stdin):
        timeout = request.get("timeout", 30)
        if connection is not None and connection.timeout != timeout:
            connection.close()
            connection = None
        if connection is None:
            connection = http.client.HTTPSConnection(args.host, args.port, context=context, timeout=timeout)
        headers = {"Accept": "application/json"}
        if request.get("token"):
            headers["Authorization"] = "Bearer " + request["token"]
        body = None
        if "body" in request:
            body = request["body"] if isinstance(request["body"], str) else json.dumps(request["body"])
            headers["Content-Type"] = request.get("contentType", "application/json")
        try:
            connection.request(request.get("method", "GET"), request["path"], body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8")
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = text
            answers.append({"status": response.status,
                            "headers": {k.lower(): v for k, v in response.getheaders()},
                            "body": parsed})
        except (OSError, http.client.HTTPException) as error:
            answers.append({"error": "%s: %s" % (type(error).__name__, error)})
            connection.close()
            connection = None
    json.dump(answers, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

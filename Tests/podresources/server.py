#!/usr/bin/env python3
"""A kubelet pod-resources API for integration tests and benchmarks.

A real gRPC server (grpcio), not swift-multus code: it serves v1.PodResourcesLister on a unix
socket, encoding with the protobuf runtime from testdata/podresources/podresources.proto (compiled
by grpcio-tools into a temporary directory at start). The pods it knows come from a JSON file in
the proto's JSON mapping (a list of PodResources).

  server.py --socket PATH --pods FILE [--get serve|unimplemented|disabled] [--delay SECONDS] [--exhausted N]
  server.py --socket PATH --pods FILE --fault hang-up|http1

--fault hang-up plays a kubelet that dies mid-call: a plain socket that reads the request and
closes the connection without an answer. --fault http1 answers it in HTTP/1.1 instead.

--get unimplemented leaves Get out of the service, so grpcio answers UNIMPLEMENTED as a kubelet
older than 1.27 does; disabled answers UNKNOWN "PodResources API Get method disabled" as a kubelet
with the KubeletPodResourcesGet gate off does. --delay holds every answer back. --exhausted N
answers the first N calls RESOURCE_EXHAUSTED "rejected by rate limit", as the kubelet's rate limiter
(100 calls a second, bursts of 10) refuses a call over the limit.

Once serving it prints {"socket": PATH} on stdout. Each line on stdin is a control command:
"calls" answers the methods called so far, in order. It exits when stdin closes.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from concurrent import futures

import grpc
from google.protobuf import json_format
from grpc_tools import protoc

PROTO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata", "podresources")


def compile_messages():
    """The generated message module, compiled from the .proto into a temporary directory."""
    out = tempfile.mkdtemp(prefix="podresources-proto-")
    status = protoc.main(["protoc", f"-I{PROTO_DIR}", f"--python_out={out}", os.path.join(PROTO_DIR, "podresources.proto")])
    if status != 0:
        raise SystemExit(f"protoc failed with status {status}")
    sys.path.insert(0, out)
    import podresources_pb2  # noqa: E402 (generated just now)
    return podresources_pb2, out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--pods", required=True)
    parser.add_argument("--get", choices=["serve", "unimplemented", "disabled"], default="serve")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--fault", choices=["hang-up", "http1"])
    parser.add_argument("--exhausted", type=int, default=0)
    args = parser.parse_args()
    if args.fault:
        return misbehave(args.socket, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" if args.fault == "http1" else b"")

    pb, generated = compile_messages()
    with open(args.pods) as f:
        pods = [json_format.ParseDict(p, pb.PodResources()) for p in json.load(f)]
    calls = []
    lock = threading.Lock()
    refusals = [args.exhausted]

    def record(method, context):
        with lock:
            calls.append(method)
            refused = refusals[0] > 0
            refusals[0] -= 1 if refused else 0
        if args.delay:
            time.sleep(args.delay)
        if refused:
            # The kubelet's limiter interceptor (pkg/kubelet/apis/podresources/grpc) words it so.
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "rejected by rate limit")

    def list_pods(request, context):
        record("List", context)
        return pb.ListPodResourcesResponse(pod_resources=pods)

    def get_pod(request, context):
        record("Get", context)
        if args.get == "disabled":
            context.abort(grpc.StatusCode.UNKNOWN, "PodResources API Get method disabled")
        for pod in pods:
            if pod.name == request.pod_name and pod.namespace == request.pod_namespace:
                return pb.GetPodResourcesResponse(pod_resources=pod)
        context.abort(grpc.StatusCode.UNKNOWN, f"pod {request.pod_name} in namespace {request.pod_namespace} not found")

    def unary(function, request_type):
        return grpc.unary_unary_rpc_method_handler(
            function, request_deserializer=request_type.FromString, response_serializer=lambda m: m.SerializeToString())

    methods = {"List": unary(list_pods, pb.ListPodResourcesRequest)}
    if args.get != "unimplemented":
        methods["Get"] = unary(get_pod, pb.GetPodResourcesRequest)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("v1.PodResourcesLister", methods),))
    if os.path.exists(args.socket):
        os.unlink(args.socket)
    server.add_insecure_port(f"unix:{args.socket}")
    server.start()
    print(json.dumps({"socket": args.socket}), flush=True)

    for line in sys.stdin:
        if line.strip() == "calls":
            with lock:
                print(json.dumps({"ok": True, "result": list(calls)}), flush=True)
        else:
            print(json.dumps({"ok": False, "error": f"unknown command {line.strip()!r}"}), flush=True)
    server.stop(0)
    shutil.rmtree(generated, ignore_errors=True)


def misbehave(path, reply):
    """Accepts connections, reads what arrives for a moment, sends `reply` and closes them."""
    import socket
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(path):
        os.unlink(path)
    listener.bind(path)
    listener.listen(8)
    calls = []

    def serve():
        while True:
            connection, _ = listener.accept()
            connection.settimeout(0.2)
            try:
                while connection.recv(65536):
                    pass
            except OSError:
                pass
            connection.sendall(reply)
            calls.append("misbehaved")
            connection.close()

    threading.Thread(target=serve, daemon=True).start()
    print(json.dumps({"socket": path}), flush=True)
    for line in sys.stdin:
        print(json.dumps({"ok": True, "result": list(calls)}), flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Writes the golden pod-resources messages in testdata/podresources/ with the protobuf runtime,
for the decoder's and encoder's unit tests (Tests/PodResourcesTests/ProtoGoldenTests.swift).

  PYTHONPATH=/usr/local/lib/swift-multus/python python3 Tests/podresources/golden.py
"""
import os

from google.protobuf import json_format

from server import PROTO_DIR, compile_messages

# What a kubelet reports for two pods. The first carries every field the decoder must skip too:
# CPU IDs (packed varints), memory with topology (a nested message and a varint), device
# topology, a DRA share ID (optional string) and a CDI name without "=".
RICH = [
    {
        "name": "web-sriov", "namespace": "default", "cpuIds": ["2", "3"],
        "memory": [{"memoryType": "memory", "size": "1073741824", "topology": {"nodes": [{"ID": "0"}]}}],
        "containers": [
            {
                "name": "app", "cpuIds": ["2"],
                "devices": [
                    {"resourceName": "intel.com/sriov", "deviceIds": ["0000:05:00.2", "0000:05:00.1"],
                     "topology": {"nodes": [{"ID": "1"}]}},
                    {"resourceName": "nvidia.com/gpu", "deviceIds": ["GPU-0"]},
                ],
                "dynamicResources": [
                    {"claimName": "rdma-claim", "claimNamespace": "default", "claimResources": [
                        {"cdiDevices": [{"name": "nvidia.com/net=0000:08:00.1"}, {"name": "malformed"}],
                         "driverName": "net.nvidia.com", "poolName": "node-a", "deviceName": "vf-1", "shareId": "s1"},
                    ]},
                ],
            },
            {"name": "sidecar", "devices": [{"resourceName": "intel.com/sriov", "deviceIds": ["0000:05:00.3"]}]},
        ],
    },
    {"name": "other", "namespace": "kube-system", "containers": [{"name": "c"}]},
]

# The same pods with only the fields swift-multus keeps: its encoder must produce these bytes.
PLAIN = [
    {
        "name": "web-sriov", "namespace": "default",
        "containers": [
            {
                "name": "app",
                "devices": [
                    {"resourceName": "intel.com/sriov", "deviceIds": ["0000:05:00.2", "0000:05:00.1"]},
                    {"resourceName": "nvidia.com/gpu", "deviceIds": ["GPU-0"]},
                ],
                "dynamicResources": [
                    {"claimName": "rdma-claim", "claimNamespace": "default", "claimResources": [
                        {"cdiDevices": [{"name": "nvidia.com/net=0000:08:00.1"}, {"name": "malformed"}],
                         "driverName": "net.nvidia.com", "poolName": "node-a", "deviceName": "vf-1"},
                    ]},
                ],
            },
            {"name": "sidecar", "devices": [{"resourceName": "intel.com/sriov", "deviceIds": ["0000:05:00.3"]}]},
        ],
    },
    {"name": "other", "namespace": "kube-system", "containers": [{"name": "c"}]},
]


def main():
    pb, _ = compile_messages()
    pods = lambda data: [json_format.ParseDict(p, pb.PodResources()) for p in data]
    out = {
        "get-request.bin": pb.GetPodResourcesRequest(pod_name="web-sriov", pod_namespace="default"),
        "get-request-long.bin": pb.GetPodResourcesRequest(pod_name="p" * 200, pod_namespace="ns-ü"),
        "list-response.bin": pb.ListPodResourcesResponse(pod_resources=pods(RICH)),
        "list-response-plain.bin": pb.ListPodResourcesResponse(pod_resources=pods(PLAIN)),
        "get-response.bin": pb.GetPodResourcesResponse(pod_resources=pods(RICH)[0]),
        "get-response-empty.bin": pb.GetPodResourcesResponse(),
    }
    for name, message in out.items():
        with open(os.path.join(PROTO_DIR, name), "wb") as f:
            f.write(message.SerializeToString(deterministic=True))
        print(name, len(message.SerializeToString()))


if __name__ == "__main__":
    main()

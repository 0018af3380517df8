#!/usr/bin/env python3
"""Writes claim-device-status.json (run on demand: python3 make-claim-seed.py): testdata/dra's
claim with a VF and a GPU as the test API server stores it after the GPU driver and swift-multus
each applied their status.devices entry, managedFields and all. No kube-apiserver runs here; the
test API server's server-side apply (Tests/apiserver/fieldsets.py) stands in for it.

And claim-and-slices.json: the same claim with testdata/dra's slices as `items`, for the fuzz
target's DRA entry point, which reads one document as both the claim and the slice list, so
that its ADD and DEL get as far as the device status."""
import json, os, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, f"{ROOT}/Tests/apiserver")
from session import APIServerSession  # noqa: E402

CLAIM = "web-dra-net-x7k2p"
ENTRIES = {
    "gpu.nvidia.com": {"driver": "gpu.nvidia.com", "pool": "node-1", "device": "gpu-0",
                       "conditions": [{"type": "Ready", "status": "True", "reason": "GPUPrepared", "message": "MIG disabled",
                                       "lastTransitionTime": "2026-12-06T09:14:05Z", "observedGeneration": 1}],
                       "data": {"uuid": "GPU-7f3c1d2e"}},
    "swift-multus": {"driver": "sriovnetwork.k8snetworkplumbingwg.io", "pool": "node-1", "device": "pf0-vf1",
                     "conditions": [{"type": "Ready", "status": "True", "reason": "NetworkAttached",
                                     "message": "net1 of pod default/web-dra (container 3f2a9c1b7e4d), network default/dra-vf",
                                     "lastTransitionTime": "2026-12-06T09:14:07Z", "observedGeneration": 1}],
                     "networkData": {"interfaceName": "net1", "ips": ["10.1.10.2/24", "fd00:10::2/64"], "hardwareAddress": "ce:1f:4a:52:0b:77"}},
}

with tempfile.TemporaryDirectory() as work:
    server = APIServerSession(work, f"{ROOT}/testdata/dra", role="cluster-admin")
    for manager, entry in ENTRIES.items():
        body = {"apiVersion": "resource.k8s.io/v1", "kind": "ResourceClaim", "metadata": {"name": CLAIM, "namespace": "default"},
                "status": {"devices": [entry]}}
        request = [{"method": "PATCH", "path": f"/apis/resource.k8s.io/v1/namespaces/default/resourceclaims/{CLAIM}/status?fieldManager={manager}",
                    "token": server.token, "contentType": "application/apply-patch+yaml", "body": body}]
        out = subprocess.run([sys.executable, f"{ROOT}/Tests/apiserver/request.py", "--port", str(server.port), "--ca", server.ca],
                             input=json.dumps(request), capture_output=True, text=True, check=True)
        answer = json.loads(out.stdout)[0]
        assert answer["status"] == 200, answer
    claim = server.control({"op": "get", "kind": "ResourceClaim", "namespace": "default", "name": CLAIM})
    server.close()
for entry in claim["metadata"]["managedFields"]:
    entry["time"] = "2026-12-06T09:14:07Z"
with open(f"{HERE}/claim-device-status.json", "w") as f:
    json.dump(claim, f, indent=2)
    f.write("\n")
with open(f"{ROOT}/testdata/dra/slices.json") as f:
    claim["items"] = json.load(f)["items"]
# The fuzz pod's extended resource maps request "vfs" (Tests/Fuzz/FuzzTarget.swift, DRAFuzzAPI).
claim["status"]["allocation"]["devices"]["results"].append(
    {"request": "vfs", "driver": "sriovnetwork.k8snetworkplumbingwg.io", "pool": "node-1", "device": "pf0-vf2"})
with open(f"{HERE}/claim-and-slices.json", "w") as f:
    json.dump(claim, f, indent=2)
    f.write("\n")

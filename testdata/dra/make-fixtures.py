#!/usr/bin/env python3
"""Writes the DRA fixtures of this directory (run on demand: python3 make-fixtures.py).

No kube-apiserver can run on the development machines, so these objects are written here, field
for field after k8s.io/api/resource/v1 (ResourceClaim, ResourceSlice) as Kubernetes 1.34+ serves
them: what the resource claim controller, the scheduler and a DRA driver (the SR-IOV one in its
Multus mode, publishing k8s.cni.cncf.io/deviceID and k8s.cni.cncf.io/resourceName) write.
"""
import json

SRIOV = "sriovnetwork.k8snetworkplumbingwg.io"
GPU = "gpu.nvidia.com"
RES = "sriovnetwork.k8snetworkplumbingwg.io/vf-pool-a"


def claim(name, uid, requests, results, pod="web-dra", pod_uid="uid-web-dra", reference="net"):
    """A claim the resource claim controller generated from a template for `pod`, allocated by
    the scheduler on node-1 (`results`), or not yet (None)."""
    obj = {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "ResourceClaim",
        "metadata": {
            "name": name, "namespace": "default", "uid": uid, "resourceVersion": "4711", "generation": 1,
            "creationTimestamp": "2026-12-06T09:14:02Z",
            "annotations": {"resource.kubernetes.io/pod-claim-name": reference},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": pod, "uid": pod_uid,
                                 "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": {"devices": {"requests": requests}},
    }
    if results is not None:
        obj["status"] = {
            "allocation": {
                "devices": {"results": results},
                "nodeSelector": {"nodeSelectorTerms": [{"matchFields": [
                    {"key": "metadata.name", "operator": "In", "values": ["node-1"]}]}]},
                "allocationTimestamp": "2026-12-06T09:14:03Z",
            },
            "reservedFor": [{"resource": "pods", "name": pod, "uid": pod_uid}],
        }
    return obj


def request(name, device_class, count=1):
    return {"name": name, "exactly": {"deviceClassName": device_class, "allocationMode": "ExactCount", "count": count}}


def result(req, driver, device, pool="node-1"):
    return {"request": req, "driver": driver, "pool": pool, "device": device}


def sriov_device(vf, pci, resource=RES):
    attributes = {
        SRIOV + "/pciAddress": {"string": pci},
        SRIOV + "/pfName": {"string": "ens1f0"},
        SRIOV + "/vfID": {"int": vf},
        "resource.kubernetes.io/pcieRoot": {"string": "pci0000:00"},
        "k8s.cni.cncf.io/deviceID": {"string": pci},
    }
    if resource:
        attributes["k8s.cni.cncf.io/resourceName"] = {"string": resource}
    return {"name": "pf0-vf%d" % vf, "attributes": attributes}


def resource_slice(name, driver, node, generation, devices, uid):
    return {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "ResourceSlice",
        "metadata": {
            "name": name, "generateName": name[:-5], "uid": uid, "resourceVersion": "4600", "generation": 1,
            "creationTimestamp": "2026-12-06T08:00:00Z",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": node, "uid": "node-uid-" + node, "controller": True}],
        },
        "spec": {"driver": driver, "pool": {"name": node, "generation": generation, "resourceSliceCount": 1},
                 "nodeName": node, "devices": devices},
    }


def write(name, obj):
    with open(name, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def main():
    write("claim-vf-and-gpu.json", claim(
        "web-dra-net-x7k2p", "9b4c2f0e-6a51-4d3b-8f0e-2c7d5a1b3e01",
        [request("vf", SRIOV), request("gpu", GPU)],
        [result("vf", SRIOV, "pf0-vf1"), result("gpu", GPU, "gpu-0")]))
    write("claim-two-vfs.json", claim(
        "web-dra-two-vfs-q9m4t", "1f0d7c3a-2e84-4b6f-9a15-7e3c0b2d4f02",
        [request("vfs", SRIOV, 2)],
        [result("vfs", SRIOV, "pf0-vf3"), result("vfs", SRIOV, "pf0-vf2")],
        pod="web-dra-two", pod_uid="uid-web-dra-two"))
    write("claim-unallocated.json", claim(
        "web-dra-pending-r2d8w", "5c2a9e14-7b3f-4d60-8e21-4a9f6c0d1e03",
        [request("vf", SRIOV)], None, pod="web-dra-pending", pod_uid="uid-web-dra-pending"))
    write("slices.json", {"apiVersion": "resource.k8s.io/v1", "kind": "List", "items": [
        resource_slice("node-1-sriovnetwork.k8snetworkplumbingwg.io-7xk2p", SRIOV, "node-1", 2,
                       [sriov_device(1, "0000:08:00.1"), sriov_device(2, "0000:08:00.2"), sriov_device(3, "0000:08:00.3"),
                        sriov_device(4, "0000:08:00.4", resource=None)], "7a0c1e52-3b9d-4f86-a2c4-5e1d7b9f0a11"),
        # The pool's previous generation, not yet deleted by the driver: consumers ignore it.
        resource_slice("node-1-sriovnetwork.k8snetworkplumbingwg.io-old9z", SRIOV, "node-1", 1,
                       [sriov_device(1, "0000:99:00.1"), sriov_device(2, "0000:99:00.2"), sriov_device(3, "0000:99:00.3")],
                       "2e5b8d14-6c0a-4f37-9b21-8d4e0a6c2f12"),
        # The same driver on another node, with the same device names: spec.nodeName leaves it out.
        resource_slice("node-2-sriovnetwork.k8snetworkplumbingwg.io-m3q8r", SRIOV, "node-2", 1,
                       [sriov_device(1, "0000:41:00.1"), sriov_device(2, "0000:41:00.2"), sriov_device(3, "0000:41:00.3")],
                       "c4f1a7e3-0d5b-4e98-8a36-1f7b2c9d0e13"),
        resource_slice("node-1-gpu.nvidia.com-4kz9d", GPU, "node-1", 1,
                       [{"name": "gpu-0", "attributes": {
                           GPU + "/uuid": {"string": "GPU-7f3c1d2e-5a4b-4c3d-9e8f-0a1b2c3d4e5f"},
                           GPU + "/productName": {"string": "NVIDIA A100-SXM4-40GB"},
                           GPU + "/index": {"int": 0},
                           GPU + "/driverVersion": {"version": "560.35.3"},
                           "resource.kubernetes.io/pcieRoot": {"string": "pci0000:00"}},
                         "capacity": {GPU + "/memory": {"value": "40Gi"}}}],
                       "8d3e6b20-1f4c-4a57-b9e0-3c2d8f5a7b14"),
    ]})


if __name__ == "__main__":
    main()

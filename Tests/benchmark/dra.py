"""What finding a pod's device costs ADD (run through dra.sh, as root, on an otherwise idle
machine): one ptp NAD with a resourceName beside a bridge cluster network, the release binary, the
test API server over TLS (Multus v4.3.1's ClusterRole) and the grpcio kubelet. Three pods:
  device-plugin  the NAD's device from the kubelet (pod-resources Get): no API call for it;
  dra-v1         the device from a ResourceClaim through resource.k8s.io/v1 (testdata/dra's claim
                 with a VF and a GPU: GET the claim, LIST the slices of two drivers);
  dra-by-claim   the same claim while the server does not serve resource.k8s.io/v1: one GET
                 answered 404, then the kubelet's claim name (Multus v4.3.0's path);
  dra-status     dra-v1 with "draDeviceStatus": true (and the optional role of deploy/rbac.yml, the
                 token bound to node-1): one server-side apply of the claim's status besides,
                 while network-status is written; its DEL reads the claim and applies again.
ADD is timed, and DEL for dra-v1 and dra-status (DEL is otherwise from the cache alone); rounds
alternate the four in rotating order, and medians are compared, as this machine drifts between
batches. The status write's cost on ADD is dra-status against dra-v1.
"""
import argparse, json, os, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, f"{ROOT}/Tests/apiserver")
from session import APIServerSession  # noqa: E402

a = argparse.ArgumentParser()
for flag in ("--multus", "--work", "--netns", "--bridge"):
    a.add_argument(flag, required=True)
a.add_argument("--runs", type=int, default=60)
args = a.parse_args()
work = args.work
VF_POOL = "sriovnetwork.k8snetworkplumbingwg.io/vf-pool-a"
CLAIM = "web-dra-net-x7k2p"


def write(path, value):
    with open(path, "w") as f:
        f.write(value if isinstance(value, str) else json.dumps(value))


substitutions = {"@N@": "250", "@HEX@": "fa", "@IPAM@": f"{work}/ipam", "@BRIDGE@": args.bridge, "@PARENT@": args.bridge}
server = APIServerSession(work, f"{ROOT}/testdata/kube-scenarios", substitutions, token="dra-bench")
for name in ("claim-vf-and-gpu.json", "slices.json"):
    document = json.load(open(f"{ROOT}/testdata/dra/{name}"))
    for item in document.get("items", [document]):
        server.control({"op": "put", "object": item})


def nad(name, resource, third):
    config = {"cniVersion": "1.0.0", "name": name, "type": "ptp",
              "ipam": {"type": "host-local", "dataDir": f"{work}/ipam", "subnet": f"10.250.{third}.0/24"}}
    server.control({"op": "put", "object": {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
                    "metadata": {"name": name, "namespace": "default", "annotations": {"k8s.v1.cni.cncf.io/resourceName": resource}},
                    "spec": {"config": json.dumps(config)}}})


def pod(name, network, claim=None):
    spec = {"nodeName": "node-1", "containers": [{"name": "app", "image": "pause"}]}
    status = {"phase": "Pending"}
    if claim:
        spec["resourceClaims"] = [{"name": "net", "resourceClaimTemplateName": "vf-and-gpu"}]
        status["resourceClaimStatuses"] = [{"name": "net", "resourceClaimName": claim}]
    server.control({"op": "put", "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": name, "namespace": "default", "uid": "uid-" + name, "annotations": {"k8s.v1.cni.cncf.io/networks": network}},
        "spec": spec, "status": status}})


nad("dp-net", "intel.com/sriov_netdevice", 5)
nad("dra-vf", VF_POOL, 6)
nad("dra-by-claim", CLAIM, 7)
pods = {"device-plugin": ("web-dp", "dp-net", None), "dra-v1": ("web-v1", "dra-vf", CLAIM), "dra-by-claim": ("web-claim", "dra-by-claim", CLAIM),
        "dra-status": ("web-v1", "dra-vf", CLAIM)}
for name, network, claim in pods.values():
    pod(name, network, claim)

kubelet_pods = [
    {"name": "web-dp", "namespace": "default", "containers": [{"name": "app", "devices": [
        {"resourceName": "intel.com/sriov_netdevice", "deviceIds": ["0000:05:00.1"]}]}]},
] + [{"name": name, "namespace": "default", "containers": [{"name": "app", "dynamicResources": [
        {"claimName": CLAIM, "claimNamespace": "default", "claimResources": [
            {"cdiDevices": [{"name": "k8s.sriovnetwork.k8snetworkplumbingwg.io/vf=0000:08:00.1"}]}]}]}]}
     for name in ("web-v1", "web-claim")]
# dra-status: Multus's role plus the optional ClusterRole of deploy/rbac.yml, the token bound to
# node-1 as the DaemonSet pod's token is.
server.control({"op": "token", "token": "dra-status", "user": "system:serviceaccount:kube-system:multus", "namespaces": "*", "nodeName": "node-1",
                "role": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "update", "create"]},
                         {"apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/status"], "verbs": ["patch"]},
                         {"apiGroups": ["resource.k8s.io"], "resources": ["resourceclaims/driver"], "verbs": ["associated-node:patch"],
                          "resourceNames": ["sriovnetwork.k8snetworkplumbingwg.io"]}]})
status_kubeconfig = f"{work}/status.kubeconfig"
write(status_kubeconfig, open(server.kubeconfig).read().replace("token: dra-bench", "token: dra-status"))
write(f"{work}/pods.json", kubelet_pods)
# The release binary asks the kubelet's own socket path: dra.sh runs this in a mount namespace
# of its own, with a tmpfs over /var/lib.
socket = "/var/lib/kubelet/pod-resources/kubelet.sock"
os.makedirs(os.path.dirname(socket), exist_ok=True)
kubelet = subprocess.Popen([sys.executable, f"{ROOT}/Tests/podresources/server.py", "--socket", socket, "--pods", f"{work}/pods.json"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                           env=dict(os.environ, PYTHONPATH="/usr/local/lib/swift-multus/python"))
kubelet.stdout.readline()

conf = f"{work}/multus.conf"
base = {"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus", "cniDir": f"{work}/cache", "binDir": "/usr/lib/cni",
        "kubeconfig": server.kubeconfig, "clusterNetwork": "cluster-net", "confDir": f"{work}/net.d", "events": False}
write(conf, base)
status_conf = f"{work}/multus-status.conf"
write(status_conf, dict(base, kubeconfig=status_kubeconfig, draDeviceStatus=True))
env = dict(os.environ, CNI_CONTAINERID="dra-bench", CNI_NETNS=f"/var/run/netns/{args.netns}", CNI_PATH="/usr/lib/cni", CNI_IFNAME="eth0")


def add(variant):
    """ADD then DEL of the variant's pod; both timed."""
    name = pods[variant][0]
    config = status_conf if variant == "dra-status" else conf
    server.control({"op": "unserve", "groupVersions": ["resource.k8s.io/v1"] if variant == "dra-by-claim" else []})
    e = dict(env, CNI_ARGS=f"IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME={name};K8S_POD_UID=uid-{name}")
    elapsed = []
    for command in ("ADD", "DEL"):
        t = time.perf_counter()
        subprocess.run([args.multus], stdin=open(config), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(e, CNI_COMMAND=command), check=True)
        elapsed.append(time.perf_counter() - t)
    return elapsed


variants = list(pods)
for _ in range(5):
    for v in variants:
        add(v)
server.control({"op": "clearlog"})
times = {v: [] for v in variants}
deletes = {v: [] for v in variants}
for i in range(args.runs):
    order = variants[i % len(variants):] + variants[:i % len(variants)]
    for v in order:
        added, deleted = add(v)
        times[v].append(added)
        deletes[v].append(deleted)
calls = {}
for request in server.requests():
    calls[request["path"]] = calls.get(request["path"], 0) + 1
base = statistics.median(times["device-plugin"])
print(f"ADD of a pod with a cluster network and one NAD with a device, {args.runs} alternating rounds, release build:")
for v in variants:
    median = statistics.median(times[v])
    p90 = sorted(times[v])[int(len(times[v]) * 0.9) - 1]
    print(f"  {v:14s} median {median * 1000:6.2f} ms  p90 {p90 * 1000:6.2f} ms  ({(median - base) * 1000:+.2f} ms)")
print(f"  status write on ADD (dra-status - dra-v1): {(statistics.median(times['dra-status']) - statistics.median(times['dra-v1'])) * 1000:+.2f} ms")
print("DEL of the same pods (from the cache):")
for v in ("dra-v1", "dra-status"):
    median = statistics.median(deletes[v])
    p90 = sorted(deletes[v])[int(len(deletes[v]) * 0.9) - 1]
    print(f"  {v:14s} median {median * 1000:6.2f} ms  p90 {p90 * 1000:6.2f} ms")
dra = sum(n for path, n in calls.items() if path.startswith("/apis/resource.k8s.io/")) / args.runs
print(f"  resource.k8s.io requests per round (all four ADDs and DELs): {dra:.1f}")
kubelet.stdin.close()
kubelet.wait()
server.close()

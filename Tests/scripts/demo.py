"""The demo's steps (see demo.sh): one pod through multus with the test API server."""
import argparse, json, os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, f"{ROOT}/Tests/apiserver")
from session import APIServerSession

a = argparse.ArgumentParser()
for flag in ("--multus", "--work", "--netns", "--parent", "--bridge"):
    a.add_argument(flag, required=True)
args = a.parse_args()
work = args.work
server = APIServerSession(work, f"{ROOT}/testdata/kube-scenarios", {
    "@N@": "250", "@HEX@": "fa", "@IPAM@": f"{work}/ipam", "@BRIDGE@": args.bridge, "@PARENT@": args.parent})
config = {"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus", "kubeconfig": server.kubeconfig,
          "clusterNetwork": "cluster-net", "confDir": f"{work}/net.d", "cniDir": f"{work}/cache", "binDir": "/usr/lib/cni",
          "resultMode": "merged"}
env = dict(os.environ, CNI_CONTAINERID="demo", CNI_NETNS=f"/var/run/netns/{args.netns}", CNI_IFNAME="eth0", CNI_PATH="/usr/lib/cni",
           CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-json;K8S_POD_UID=uid-web-json")

def multus(command):
    done = subprocess.run([args.multus], input=json.dumps(config), capture_output=True, text=True, env=dict(env, CNI_COMMAND=command))
    if done.returncode != 0:
        sys.exit(f"multus {command} failed ({done.returncode}): {done.stdout}{done.stderr}")
    return done.stdout

try:
    pod = server.control({"op": "get", "kind": "Pod", "namespace": "default", "name": "web-json"})
    print("== pod default/web-json asks for:", pod["metadata"]["annotations"]["k8s.v1.cni.cncf.io/networks"])
    print("== ADD: the merged result multus prints")
    print(json.dumps(json.loads(multus("ADD")), indent=2))
    print("== the pod's interfaces")
    print(subprocess.run(["ip", "-n", args.netns, "-br", "addr"], capture_output=True, text=True).stdout, end="")
    stored = server.control({"op": "get", "kind": "Pod", "namespace": "default", "name": "web-json"})
    print("== k8s.v1.cni.cncf.io/network-status, as stored on the pod")
    print(json.dumps(json.loads(stored["metadata"]["annotations"]["k8s.v1.cni.cncf.io/network-status"]), indent=2))
    print("== API calls of this ADD, under Multus's own ClusterRole:")
    for r in server.requests():
        served = {"cache": "  (the watch cache: no etcd read)", "storage": "  (storage: an etcd read)"}.get(r.get("servedFrom"), "")
        print(f"   {r['status']} {r['method']} {r['path']}{served}")
    print("== events recorded on the pod (kubectl describe pod shows these)")
    for event in server.control({"op": "list", "kind": "Event", "namespace": "default"}):
        print(f"   {event['type']:7} {event['reason']:15} {event['message']}")
    multus("CHECK")
    print("== CHECK passed")
    server.control({"op": "clearlog"})
    multus("DEL")
    multus("DEL")
    print(f"== DEL, then DEL again (as containerd does): {len(server.requests())} API calls")
    print("== DEL: the pod's interfaces now")
    print(subprocess.run(["ip", "-n", args.netns, "-br", "addr"], capture_output=True, text=True).stdout, end="")
finally:
    server.close()

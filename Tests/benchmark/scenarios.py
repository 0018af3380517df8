"""The two workloads the benchmark times and link-order.sh profiles, each one multus config
attaching three networks (bridge + host-local as the main network, macvlan and ptp as secondaries):
  static      the networks inline in the multus config (no Kubernetes);
  kube        the test API server over TLS, under Multus's own ClusterRole: clusterNetwork as a
              NAD, and a pod whose networks annotation names two NADs; events on;
  kube-quiet  the same with "events": false.
"""
import json, os, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, f"{ROOT}/Tests/apiserver")
from session import APIServerSession  # noqa: E402

POD_ARGS = "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-comma;K8S_POD_INFRA_CONTAINER_ID=bench;K8S_POD_UID=uid-web-comma"


def write(path, value):
    with open(path, "w") as f:
        f.write(value if isinstance(value, str) else json.dumps(value))


class Scenarios:
    """Writes {work}/static-multus.conf and {work}/kube-multus.conf and starts the test API server;
    `delegates[name]` are the same three networks as plain plugin configs."""

    def __init__(self, work, bridge, parent):
        self.work = work
        self.delegates = {}
        self.cni_args = {"static": "", "kube": POD_ARGS, "kube-quiet": POD_ARGS}
        self.delegates["static"] = [
            {"cniVersion": "1.0.0", "name": "podnet", "type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": False,
             "ipam": self._ipam(1, True)},
            {"cniVersion": "1.0.0", "name": "macnet", "type": "macvlan", "master": parent, "mode": "bridge", "ipam": self._ipam(2)},
            {"cniVersion": "1.0.0", "name": "p2pnet", "type": "ptp", "ipam": self._ipam(3)},
        ]
        write(self.conf("static"), {"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus", "cniDir": f"{work}/cache",
                                    "binDir": "/usr/lib/cni", "delegates": self.delegates["static"]})

        # Its own subnets and bridge: the bridge plugin keeps a bridge (and its gateway address) after DEL.
        self.kube_bridge = bridge + "k"
        substitutions = {"@N@": "252", "@HEX@": "fc", "@IPAM@": f"{work}/ipam", "@BRIDGE@": self.kube_bridge, "@PARENT@": parent}
        self.server = APIServerSession(work, f"{ROOT}/testdata/kube-scenarios", substitutions, token="bench-token")
        objects = {o["metadata"]["name"]: o for o in json.load(open(f"{ROOT}/testdata/kube-scenarios/objects.json"))["items"]}

        def nad_config(name):
            text = objects[name]["spec"]["config"]
            for k, v in substitutions.items():
                text = text.replace(k, v)
            config = json.loads(text)
            config.setdefault("name", name)
            return config

        self.delegates["kube"] = [nad_config("cluster-net"), nad_config("macvlan-conf"), nad_config("ptp-conf")]
        self.delegates["kube-quiet"] = self.delegates["kube"]
        kube = {"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus", "cniDir": f"{work}/cache",
                "binDir": "/usr/lib/cni", "kubeconfig": self.server.kubeconfig, "clusterNetwork": "cluster-net", "confDir": f"{work}/net.d"}
        write(self.conf("kube"), kube)
        write(self.conf("kube-quiet"), dict(kube, events=False))

    def conf(self, name):
        return f"{self.work}/{name}-multus.conf"

    def _ipam(self, third, routes=False):
        d = {"type": "host-local", "dataDir": f"{self.work}/ipam", "subnet": f"10.251.{third}.0/24"}
        if routes:
            d["routes"] = [{"dst": "0.0.0.0/0"}]
        return d

    def close(self):
        self.server.close()
        os.system(f"ip link del {self.kube_bridge} 2>/dev/null")

#!/usr/bin/env python3
"""Makes the fixtures under testdata/multus-cache/<release>/<shape>/ by running Multus itself.

For each Multus release given (its thin plugin, `cmd/multus`, built from the release tag; see
generate.sh) and each network shape in inputs/, it:

1. starts the test API server (Tests/apiserver/apiserver.py) holding the shape's pod and NADs,
   with a bearer token granted Multus's ClusterRole;
2. makes a network namespace, a macvlan parent link and a scratch root, all under fixed names, so
   that what Multus writes differs between runs only where the kernel picks (MACs, host-side veth
   names) and in the API's timestamps, never by chance in paths or IDs;
3. runs the release's binary as the runtime would: CNI_COMMAND=ADD with inputs/<shape>/00-multus.conf
   on stdin (its kubeconfig, cniDir, confDir and clusterNetwork pointing into the scratch root);
4. copies out, byte for byte, what that ADD left: Multus's delegate cache `<cniDir>/<containerID>`,
   libcni's result files `<cniDir>/results/*`, and the ADD's stdout;
5. runs the same release's DEL (its stdout and exit status are kept too: Multus's own verdict on
   its cache), then removes the namespace, the parent link and the scratch root whatever DEL did.

Nothing is edited after the copy. Run as root; not part of CI (it needs the Multus builds).

    generate.py --multus v4.3.0=/path/to/multus [--multus v4.2.2=...] [--shape conflist]
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
APISERVER = os.path.join(REPO, "Tests", "apiserver", "apiserver.py")

# The generation run's names. The tests put their own in place of exactly these strings
# (Tests/IntegrationTests/MultusFixture.swift), so each must be distinctive.
ROOT = "/tmp/multus-fixture-root"
NETNS = "multus-fixture-ns"
NETNS_PATH = "/var/run/netns/" + NETNS
PARENT = "mfxparent0"
CONTAINER_ID = "5f1c0ffee0d15ea5e0ddba11c0de5eed5a1adba5eba11ade0fcab1e5caff01d0"
TOKEN = "multus-fixture-token"
MULTUS_USER = "system:serviceaccount:kube-system:multus"


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


class APIServer:
    """The test API server, driven over its stdin/stdout control channel."""

    def __init__(self, directory, objects):
        self.proc = subprocess.Popen([sys.executable, APISERVER, "--dir", directory], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=open(os.path.join(directory + ".log"), "w"), text=True)
        startup = json.loads(self.proc.stdout.readline())
        self.port, self.ca = startup["port"], startup["ca"]
        self.command({"op": "token", "token": TOKEN, "user": MULTUS_USER, "namespaces": "*", "role": "multus"})
        for obj in objects:
            self.command({"op": "put", "object": obj})

    def command(self, command):
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        if not answer.get("ok"):
            raise RuntimeError("apiserver: %s: %s" % (command.get("op"), answer.get("error")))
        return answer.get("result")

    def requests(self):
        return ["%s %s -> %s" % (r["method"], r["path"], r["status"]) for r in self.command({"op": "log"})["requests"]]

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)

    def kubeconfig(self, path):
        with open(path, "w") as f:
            f.write("apiVersion: v1\nkind: Config\nclusters:\n- name: test-apiserver\n  cluster:\n"
                    "    server: \"https://127.0.0.1:%d\"\n    certificate-authority: \"%s\"\n"
                    "users:\n- name: multus\n  user:\n    token: \"%s\"\n"
                    "contexts:\n- name: test\n  context:\n    cluster: test-apiserver\n    user: multus\n"
                    "current-context: test\n" % (self.port, self.ca, TOKEN))
        os.chmod(path, 0o600)


def filled(text):
    return text.replace("@ROOT@", ROOT).replace("@PARENT@", PARENT)


def run_multus(binary, command, shape_dir, pod):
    """One CNI call of Multus's thin plugin, as a container runtime makes it."""
    with open(os.path.join(shape_dir, "00-multus.conf")) as f:
        config = filled(f.read())
    meta = pod["metadata"]
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CNI_COMMAND": command, "CNI_CONTAINERID": CONTAINER_ID,
        "CNI_NETNS": NETNS_PATH, "CNI_IFNAME": "eth0", "CNI_PATH": "/usr/lib/cni",
        "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;K8S_POD_INFRA_CONTAINER_ID=%s;K8S_POD_UID=%s"
                    % (meta["namespace"], meta["name"], CONTAINER_ID, meta["uid"]),
    }
    done = subprocess.run([binary], input=config, env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


def set_up(shape_dir):
    tear_down()
    os.makedirs(os.path.join(ROOT, "net.d"))
    for name in sorted(os.listdir(shape_dir)):
        if name.startswith("10-"):
            with open(os.path.join(shape_dir, name)) as f, open(os.path.join(ROOT, "net.d", name), "w") as out:
                out.write(filled(f.read()))
    sh("ip", "netns", "add", NETNS)
    sh("ip", "link", "add", PARENT, "type", "bridge")
    sh("ip", "link", "set", PARENT, "up")


def tear_down():
    # The firewall step's rules, in case a DEL did not remove them.
    for rule in sh("iptables", "-S", "CNI-FORWARD", check=False).stdout.splitlines():
        if "10.250." in rule and rule.startswith("-A "):
            sh("iptables", "-D", *rule.split()[1:], check=False)
    sh("ip", "netns", "del", NETNS, check=False)
    sh("ip", "link", "del", PARENT, check=False)
    shutil.rmtree(ROOT, ignore_errors=True)


def copy_outputs(out_dir, add_stdout):
    """What Multus's ADD left, unchanged."""
    cni_dir = os.path.join(ROOT, "cache")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(os.path.join(out_dir, "results"))
    shutil.copyfile(os.path.join(cni_dir, CONTAINER_ID), os.path.join(out_dir, "delegates.json"))
    for name in sorted(os.listdir(os.path.join(cni_dir, "results"))):
        shutil.copyfile(os.path.join(cni_dir, "results", name), os.path.join(out_dir, "results", name))
    with open(os.path.join(out_dir, "add-result.json"), "w") as f:
        f.write(add_stdout)


def generate(release, binary, shape):
    shape_dir = os.path.join(HERE, "inputs", shape)
    out_dir = os.path.join(HERE, release, shape)
    with open(os.path.join(HERE, "inputs", "objects.json")) as f:
        objects = json.loads(filled(f.read()))["items"]
    pod = next(o for o in objects if o["kind"] == "Pod")
    set_up(shape_dir)
    server = None
    try:
        server = APIServer(ROOT + "/pki", objects)
        server.kubeconfig(os.path.join(ROOT, "kubeconfig"))
        code, stdout, stderr = run_multus(binary, "ADD", shape_dir, pod)
        print("%s %s: ADD exit %d, API: %s" % (release, shape, code, server.requests()))
        if code != 0:
            raise RuntimeError("ADD failed: %s %s\n%s" % (stdout, stderr, open(os.path.join(ROOT, "multus.log")).read()))
        copy_outputs(out_dir, stdout)
        code, stdout, stderr = run_multus(binary, "DEL", shape_dir, pod)
        with open(os.path.join(out_dir, "multus-del.json"), "w") as f:
            json.dump({"exitCode": code, "stdout": stdout}, f, indent=1)
            f.write("\n")
        print("%s %s: Multus's own DEL exit %d %s" % (release, shape, code, stdout.strip()))
    finally:
        if server:
            server.stop()
        tear_down()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--multus", action="append", required=True, help="RELEASE=PATH of its thin plugin binary")
    parser.add_argument("--shape", action="append", help="a directory of inputs/ (default: all)")
    options = parser.parse_args()
    shapes = options.shape or sorted(d for d in os.listdir(os.path.join(HERE, "inputs")) if os.path.isdir(os.path.join(HERE, "inputs", d)))
    for pair in options.multus:
        release, binary = pair.split("=", 1)
        for shape in shapes:
            generate(release, os.path.abspath(binary), shape)


if __name__ == "__main__":
    main()

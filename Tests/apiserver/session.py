"""Starting the test API server from a script (the demo, the benchmark), as the Swift tests'
TestAPIServer launcher does: objects from a directory with placeholders substituted, a bearer
token, and a kubeconfig for it."""
import json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))


class APIServerSession:
    def __init__(self, directory, objects, substitutions=None, token="demo-token", role="multus"):
        sets = [x for k, v in (substitutions or {}).items() for x in ("--set", f"{k}={v}")]
        self.process = subprocess.Popen(
            [sys.executable, f"{HERE}/apiserver.py", "--dir", f"{directory}/api", "--objects", objects] + sets,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        started = json.loads(self.process.stdout.readline())
        self.port, self.ca = started["port"], started["ca"]
        self.token = token
        # Multus's service account with Multus's own ClusterRole, as a cluster installed from its manifests has.
        self.control({"op": "token", "token": token, "user": "system:serviceaccount:kube-system:multus", "namespaces": "*", "role": role})
        self.kubeconfig = f"{directory}/multus.kubeconfig"
        with open(self.kubeconfig, "w") as f:
            f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:{self.port}
    certificate-authority: {self.ca}
users:
- name: multus
  user:
    token: {token}
contexts:
- name: multus-context
  context: {{cluster: local, user: multus}}
current-context: multus-context
""")

    def control(self, command):
        self.process.stdin.write(json.dumps(command) + "\n")
        reply = json.loads(self.process.stdout.readline())
        if not reply.get("ok"):
            raise RuntimeError(f"test API server: {command.get('op')}: {reply.get('error')}")
        return reply.get("result")

    def requests(self):
        return self.control({"op": "log"})["requests"]

    def close(self):
        self.process.stdin.close()
        self.process.wait()

"""What one Kubernetes ADD spends in OpenSSL (run through tls.sh, as root): the kube workload of
scenarios.py under callgrind, once with no kept TLS session (a full handshake) and once resuming
the session the first kept, and a DEL; prints the inclusive instruction counts of OpenSSL's
context set-up, the handshake and the CA bundle's parsing, and whether the DEL ran any TLS, YAML
or DNS code at all."""
import argparse, os, re, shutil, subprocess, tempfile
from scenarios import Scenarios

a = argparse.ArgumentParser()
for flag in ("--multus", "--work", "--netns", "--parent", "--bridge"):
    a.add_argument(flag, required=True)
args = a.parse_args()
world = Scenarios(args.work, args.bridge, args.parent)
env = dict(PATH="/usr/sbin:/usr/bin:/sbin:/bin", CNI_CONTAINERID="tls", CNI_NETNS=f"/var/run/netns/{args.netns}",
           CNI_PATH="/usr/lib/cni", CNI_IFNAME="eth0", CNI_ARGS=world.cni_args["kube"])
FUNCTIONS = ["SSL_CTX_new", "ssl_load_ciphers", "SSL_do_handshake", "X509_verify_cert", "PEM_read_bio_X509",
             "$s5HTTPS12TrustAnchorsC4load4intoSbs13OpaquePointerV_tF", "d2i_SSL_SESSION", "i2d_SSL_SESSION"]


def profiled(command, out):
    profile = f"{out}/{command}"
    with open(world.conf("kube")) as stdin:
        subprocess.run(["valgrind", "-q", "--tool=callgrind", f"--callgrind-out-file={profile}", args.multus], stdin=stdin,
                       stdout=subprocess.DEVNULL, check=True, env=dict(env, CNI_COMMAND=command))
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", profile], capture_output=True, text=True).stdout
    costs = {}
    for line in text.splitlines():
        m = re.match(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+\?\?\?:(\S+) ", line)
        if m:
            costs.setdefault(m.group(2), int(m.group(1).replace(",", "")))
    total = int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", text).group(1).replace(",", ""))
    return total, costs


with tempfile.TemporaryDirectory() as out:
    shutil.rmtree(f"{args.work}/cache/tls-sessions", ignore_errors=True)
    full = profiled("ADD", out)
    dele = profiled("DEL", out)
    resumed = profiled("ADD", out)
    subprocess.run([args.multus], stdin=open(world.conf("kube")), stdout=subprocess.DEVNULL, env=dict(env, CNI_COMMAND="DEL"))
world.close()

print("instructions (callgrind, inclusive) of one Kubernetes ADD")
print(f"  {'':58} {'full handshake':>15} {'resumed':>15}")
print(f"  {'whole call':58} {full[0]:>15,} {resumed[0]:>15,}")
for name in FUNCTIONS:
    print(f"  {name[:58]:58} {full[1].get(name, 0):>15,} {resumed[1].get(name, 0):>15,}")
touched = sorted({n for n in dele[1] if re.match(r"^(SSL_|OPENSSL_|yaml_|\$s4YAML|\$s3DNS|\$s5HTTPS)", n)})
print(f"DEL with a cache entry: {dele[0]:,} instructions; TLS, YAML or DNS functions run: {', '.join(touched) or 'none'}")

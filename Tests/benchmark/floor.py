"""The per-call floor (run through floor.sh, as root): the five figures of multus's fixed cost,
each against its baseline, in alternating rounds timed by floor/alternate.c (posix_spawn and a
monotonic clock; no shell or interpreter between the clock and the processes):

  1. own cost per ADD+DEL: multus with one delegate, a static C no-op plugin (floor/noop.c),
     against that no-op run directly (the difference, in ms);
  2. start-up: `CNI_COMMAND=VERSION` against a static C program printing the same answer (ratio);
  3. ADD+DEL with one bridge + host-local delegate against the bridge plugin run directly (ratio);
  4. ADD+DEL of a pod with a cluster network and two NADs (the test API server over TLS, Multus's
     ClusterRole, events on) against its three delegates run directly, one after another (ratio);
  5. etcd quorum reads per ADD and DEL of that pod: GETs of a pod or NAD the test API server
     served from storage rather than its watch cache (its request log's `servedFrom`).
The targets are printed beside each figure; they live here, never in a timed test.
"""
import argparse, json, os, statistics, subprocess
from scenarios import Scenarios, write

a = argparse.ArgumentParser()
for flag in ("--multus", "--work", "--netns", "--parent", "--bridge", "--alternate", "--noop"):
    a.add_argument(flag, required=True)
a.add_argument("--runs", type=int, default=200)
args = a.parse_args()
work = args.work
netns_path = f"/var/run/netns/{args.netns}"
world = Scenarios(work, args.bridge, args.parent)
os.makedirs(f"{work}/noop-bin", exist_ok=True)
os.link(args.noop, f"{work}/noop-bin/noop") if not os.path.exists(f"{work}/noop-bin/noop") else None

BASE = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CNI_CONTAINERID": "floor", "CNI_NETNS": netns_path, "CNI_PATH": "/usr/lib/cni"}


def env(**extra):
    return " ".join(f"{k}={v}" for k, v in dict(BASE, **extra).items())


def side(name, steps):
    """steps: (stdin file, env text, argv list) per process."""
    path = f"{work}/{name}.side"
    write(path, "".join(f"{stdin}\t{e}\t{' '.join(argv)}\n" for stdin, e, argv in steps))
    return path


def alternate(a_steps, b_steps, name, runs):
    out = subprocess.run([args.alternate, str(runs), "10", side(f"{name}-a", a_steps), side(f"{name}-b", b_steps)],
                         check=True, capture_output=True, text=True).stdout
    times = {"A": [], "B": []}
    for line in out.splitlines():
        _, which, ns = line.split()
        times[which].append(int(ns) / 1e6)
    return times["A"], times["B"]


def paired(base, via):
    diffs = sorted(v - b for v, b in zip(via, base))
    n, half = len(diffs), 0.98 * len(diffs) ** 0.5
    return statistics.median(diffs), diffs[max(0, int(n / 2 - half))], diffs[min(n - 1, int(n / 2 + half))]


def report(title, base, via, target, kind):
    bm, vm = statistics.median(base), statistics.median(via)
    d, lo, hi = paired(base, via)
    figure = f"+{d:.2f} ms" if kind == "difference" else f"{vm / bm:.3f}x"
    print(f"  {title}")
    print(f"    baseline {bm:8.3f} ms   multus {vm:8.3f} ms   (medians of {len(base)} alternating rounds)")
    print(f"    {kind}: {figure}   paired difference {d:.3f} ms, 95% interval {lo:.3f} to {hi:.3f}   target {target}")


# 1. The no-op delegate.
noop_config = {"cniVersion": "1.0.0", "name": "noop-net", "type": "noop"}
write(f"{work}/noop.json", noop_config)
write(f"{work}/noop-multus.conf", {"cniVersion": "1.0.0", "name": "floor", "type": "multus", "cniDir": f"{work}/cache",
                                   "binDir": f"{work}/noop-bin", "delegates": [noop_config]})
noop = f"{work}/noop-bin/noop"
direct = [(f"{work}/noop.json", env(CNI_COMMAND=c, CNI_IFNAME="eth0"), [noop]) for c in ("ADD", "DEL")]
via = [(f"{work}/noop-multus.conf", env(CNI_COMMAND=c, CNI_IFNAME="eth0"), [args.multus]) for c in ("ADD", "DEL")]
own = alternate(direct, via, "noop", args.runs)

# 2. Start-up: the same VERSION answer from a static C program.
write(f"{work}/empty", "")
reply = subprocess.run([args.multus], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       env=dict(BASE, CNI_COMMAND="VERSION")).stdout.strip()
start = alternate([(f"{work}/empty", env(CNI_COMMAND="VERSION", NOOP_VERSION_REPLY=reply.replace(" ", "")), [noop])],
                  [(f"{work}/empty", env(CNI_COMMAND="VERSION"), [args.multus])], "version", args.runs * 5)

# 3. One bridge delegate.
bridge = world.delegates["static"][0]
write(f"{work}/bridge.json", bridge)
write(f"{work}/bridge-multus.conf", {"cniVersion": "1.0.0", "name": "floor", "type": "multus", "cniDir": f"{work}/cache",
                                     "binDir": "/usr/lib/cni", "delegates": [bridge]})
bridge_direct = [(f"{work}/bridge.json", env(CNI_COMMAND=c, CNI_IFNAME="eth0"), ["/usr/lib/cni/bridge"]) for c in ("ADD", "DEL")]
bridge_via = [(f"{work}/bridge-multus.conf", env(CNI_COMMAND=c, CNI_IFNAME="eth0"), [args.multus]) for c in ("ADD", "DEL")]
one_bridge = alternate(bridge_direct, bridge_via, "bridge", args.runs // 2)

# 4. The Kubernetes pod: cluster network + two NADs, against its delegates one after another.
names, cni_args = ["eth0", "net1", "net2"], world.cni_args["kube"]
for i, d in enumerate(world.delegates["kube"]):
    write(f"{work}/kube-delegate{i}.json", d)
kube_direct = [(f"{work}/kube-delegate{i}.json", env(CNI_COMMAND="ADD", CNI_IFNAME=names[i], CNI_ARGS=cni_args), [f"/usr/lib/cni/{d['type']}"])
               for i, d in enumerate(world.delegates["kube"])]
kube_direct += [(f"{work}/kube-delegate{i}.json", env(CNI_COMMAND="DEL", CNI_IFNAME=names[i], CNI_ARGS=cni_args), [f"/usr/lib/cni/{d['type']}"])
                for i, d in reversed(list(enumerate(world.delegates["kube"])))]
kube_via = [(world.conf("kube"), env(CNI_COMMAND=c, CNI_IFNAME="eth0", CNI_ARGS=cni_args), [args.multus]) for c in ("ADD", "DEL")]
kube = alternate(kube_direct, kube_via, "kube", args.runs // 2)

# 5. Reads that reach etcd: every GET of a pod or NAD the server answered from storage.
def quorum_reads(command):
    world.server.control({"op": "clearlog"})
    subprocess.run([args.multus], stdin=open(world.conf("kube")), stdout=subprocess.DEVNULL, check=True,
                   env=dict(BASE, CNI_COMMAND=command, CNI_IFNAME="eth0", CNI_ARGS=cni_args))
    log = world.server.requests()
    reads = [r for r in log if r["method"] == "GET" and ("/pods/" in r["path"] or "/network-attachment-definitions/" in r["path"])]
    quorum = [r for r in reads if r.get("servedFrom") == "storage"]
    return len(quorum), len(reads), len(log)
add_reads, del_reads = quorum_reads("ADD"), quorum_reads("DEL")
world.close()

print()
print("swift-multus per-call floor (alternating rounds, medians)")
report("1. own cost per ADD+DEL, one static C no-op delegate", *own, "<= +2.0 ms", "difference")
report("2. start-up, CNI_COMMAND=VERSION, against a static C program printing the same answer", *start, "<= 1.5x", "ratio")
report("3. ADD+DEL, one bridge + host-local delegate, against the bridge plugin directly", *one_bridge, "<= 1.05x", "ratio")
report("4. ADD+DEL of a pod: cluster network + 2 NADs, Kubernetes (TLS, Multus's ClusterRole, events on), "
       "against its three delegates one after another", *kube, "<= 1.10x", "ratio")
print(f"  5. etcd quorum reads: ADD {add_reads[0]} (of {add_reads[1]} pod/NAD reads, {add_reads[2]} API calls in all); "
      f"DEL {del_reads[0]} (of {del_reads[1]} reads, {del_reads[2]} calls)   target 0 on the happy path")

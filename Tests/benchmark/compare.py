"""Two multus binaries against each other (run through compare.sh, as root): ADD+DEL of the
static scenario of scenarios.py (or, with --scenario kube, the Kubernetes one: a cluster-network
NAD and a pod with two NADs, through the test API server), rounds alternating old/new and new/old, reported as the median
of the per-round differences. Answers "did this change make us slower?" without the machine's
drift, which moves both sides of a round together."""
import argparse, os, statistics, subprocess, time
from scenarios import Scenarios

a = argparse.ArgumentParser()
for flag in ("--old", "--new", "--work", "--netns", "--parent", "--bridge"):
    a.add_argument(flag, required=True)
a.add_argument("--runs", type=int, default=100)
a.add_argument("--scenario", choices=("static", "kube"), default="static")
args = a.parse_args()
world = Scenarios(args.work, args.bridge, args.parent)
env = dict(os.environ, CNI_CONTAINERID="compare", CNI_NETNS=f"/var/run/netns/{args.netns}", CNI_IFNAME="eth0", CNI_PATH="/usr/lib/cni",
           CNI_ARGS=world.cni_args[args.scenario])


def once(binary):
    started = time.perf_counter()
    for command in ("ADD", "DEL"):
        subprocess.run([binary], stdin=open(world.conf(args.scenario)), stdout=subprocess.DEVNULL, env=dict(env, CNI_COMMAND=command), check=True)
    return time.perf_counter() - started


try:
    for _ in range(5):
        once(args.old), once(args.new)
    times = {args.old: [], args.new: []}
    for i in range(args.runs):
        for binary in ((args.old, args.new) if i % 2 == 0 else (args.new, args.old)):
            times[binary].append(once(binary))
finally:
    world.close()
diffs = sorted((n - o) * 1000 for n, o in zip(times[args.new], times[args.old]))
half = 0.98 * len(diffs) ** 0.5
low, high = diffs[max(0, int(len(diffs) / 2 - half))], diffs[min(len(diffs) - 1, int(len(diffs) / 2 + half))]
print(f"{args.scenario}: old {statistics.median(times[args.old]) * 1000:.2f} ms, new {statistics.median(times[args.new]) * 1000:.2f} ms median per ADD+DEL; "
      f"new - old per round: {statistics.median(diffs):.2f} ms, 95% interval {low:.2f} to {high:.2f} ({len(diffs)} rounds)")

"""attachConcurrency benchmark driver (run through parallel.sh, as root).

The main network is the real bridge plugin with host-local. Each secondary is the real ptp plugin
with host-local, followed by testdata/plugins/slow-step (dash), a chained step that sleeps 300 ms on ADD
and on DEL: a stand-in for a slow delegate (an SR-IOV VF being configured, a slow IPAM server).
For 1, 2, 4 and 8 secondaries, ADD and DEL are timed separately, with attachConcurrency 1 and 8;
the order of the two alternates from round to round, so drift of the machine hits both alike.
Each round also times the main network alone (no secondaries) and one secondary, the baselines of
the target: ADD with 8 at once takes at most the main network plus 1.2 times the slowest secondary
(all secondaries here are the same network, so one of them alone is the slowest).
"""
import argparse, os, resource, statistics, subprocess, time, json

a = argparse.ArgumentParser()
for flag in ("--multus", "--work", "--netns", "--bridge", "--steps"):
    a.add_argument(flag, required=True)
a.add_argument("--runs", type=int, default=15)
args = a.parse_args()
COUNTS, WIDTHS = (1, 2, 4, 8), (1, 8)
env = dict(os.environ, CNI_CONTAINERID="bench-par", CNI_NETNS=f"/var/run/netns/{args.netns}", CNI_PATH="/usr/lib/cni", CNI_IFNAME="eth0")


def ipam(third, routes=False):
    d = {"type": "host-local", "dataDir": f"{args.work}/ipam", "subnet": f"10.250.{third}.0/24"}
    if routes:
        d["routes"] = [{"dst": "0.0.0.0/0"}]
    return d


def conf(count, width):
    path = f"{args.work}/par-{count}-{width}.conf"
    main = {"cniVersion": "1.0.0", "name": "podnet", "type": "bridge", "bridge": args.bridge, "isGateway": True, "ipMasq": False,
            "ipam": ipam(0, True)}
    secondaries = [{"cniVersion": "1.0.0", "name": f"slow{k}",
                    "plugins": [{"type": "ptp", "ipam": ipam(k)}, {"type": "slow-step", "sleep": 0.3}]} for k in range(1, count + 1)]
    with open(path, "w") as f:
        json.dump({"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus", "cniDir": f"{args.work}/cache",
                   "binDir": args.steps, "attachConcurrency": width, "delegates": [main] + secondaries}, f)
    return path


cpu = {}  # (config path, command) -> CPU seconds of multus and its delegates, per call


def timed(path, command):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run([args.multus], stdin=open(path), stdout=subprocess.DEVNULL, env=dict(env, CNI_COMMAND=command), check=True)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.setdefault((path, command), []).append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return elapsed


def add_del(path):
    return timed(path, "ADD"), timed(path, "DEL")


configs = {(c, w): conf(c, w) for c in COUNTS for w in WIDTHS}
alone = conf(0, 1)
for c in COUNTS:  # warm-up: page cache, bridge created, host-local directories
    for w in WIDTHS:
        add_del(configs[(c, w)])
times = {key: {"ADD": [], "DEL": []} for key in list(configs) + ["main", "one"]}
for i in range(args.runs):
    for key, path in [("main", alone), ("one", configs[(1, 1)])]:
        for command, t in zip(("ADD", "DEL"), add_del(path)):
            times[key][command].append(t)
    for c in COUNTS:
        for w in (WIDTHS if i % 2 == 0 else WIDTHS[::-1]):
            for command, t in zip(("ADD", "DEL"), add_del(configs[(c, w)])):
                times[(c, w)][command].append(t)


def ms(values):
    return statistics.median(values) * 1000


print(f"\nattachConcurrency benchmark: bridge main + N secondaries (ptp + a 300 ms chained step), medians of {args.runs} rounds")
main_add, main_del = ms(times["main"]["ADD"]), ms(times["main"]["DEL"])
one_add = statistics.median(s - m for s, m in zip(times["one"]["ADD"], times["main"]["ADD"])) * 1000
one_del = statistics.median(s - m for s, m in zip(times["one"]["DEL"], times["main"]["DEL"])) * 1000
print(f"  main network alone: ADD {main_add:.0f} ms, DEL {main_del:.0f} ms; one secondary adds ADD {one_add:.0f} ms, DEL {one_del:.0f} ms")
target = main_add + 1.2 * one_add
print(f"  target for ADD with 8 at once: main + 1.2 x one secondary = {target:.0f} ms")
print(f"  {'secondaries':>11} | {'ADD, 1 at once':>14} | {'ADD, 8 at once':>14} | {'DEL, 1 at once':>14} | {'DEL, 8 at once':>14} | ADD target")
for c in COUNTS:
    a1, a8 = ms(times[(c, 1)]["ADD"]), ms(times[(c, 8)]["ADD"])
    d1, d8 = ms(times[(c, 1)]["DEL"]), ms(times[(c, 8)]["DEL"])
    print(f"  {c:>11} | {a1:>11.0f} ms | {a8:>11.0f} ms | {d1:>11.0f} ms | {d8:>11.0f} ms | {'met' if a8 <= target else 'missed'}")
busy = ms(cpu[(configs[(8, 8)], "ADD")])
print(f"  CPU of one ADD of 8 at once (multus and every plugin): {busy:.0f} ms; on {os.cpu_count()} cores that is at least "
      f"{busy / os.cpu_count():.0f} ms of wall time, however many run at once")

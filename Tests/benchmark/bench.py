"""swift-multus benchmark driver (run through bench.sh, as root, on an otherwise idle machine).

Both scenarios of scenarios.py (static, Kubernetes under Multus's ClusterRole with events), each
ADD+DEL of three networks, through multus and with the same three plugins exec'd directly; and
ADD alone with events on and off, to price the events.
Rounds alternate (direct, multus, multus, direct, ...) and medians are compared: on this kind of
machine the plugins' own times drift by tens of ms between batches, and a sequential A-then-B
comparison measures that drift instead. Also: multus start-up (hyperfine, CNI_COMMAND=VERSION),
multus's own peak RSS (VmHWM, sampled; delegates are other processes), API calls per ADD and DEL,
and the binary's size.
"""
import argparse, json, os, statistics, subprocess, time
from scenarios import Scenarios, write

a = argparse.ArgumentParser()
for flag in ("--multus", "--work", "--netns", "--parent", "--bridge"):
    a.add_argument(flag, required=True)
a.add_argument("--runs", type=int, default=60)
args = a.parse_args()
work, multus = args.work, args.multus
env = dict(os.environ, CNI_CONTAINERID="bench", CNI_NETNS=f"/var/run/netns/{args.netns}", CNI_PATH="/usr/lib/cni")
world = Scenarios(work, args.bridge, args.parent)

def scripts(name):
    """dash scripts for one ADD+DEL, through multus and directly; both pay the same shell cost."""
    delegates, cni_args = world.delegates[name], world.cni_args[name]
    for i, d in enumerate(delegates):
        write(f"{work}/{name}-delegate{i}.json", d)
    prefix = f"CNI_ARGS='{cni_args}' " if cni_args else ""
    via = "".join(f"{prefix}CNI_COMMAND={c} CNI_IFNAME=eth0 {multus} < {world.conf(name)} > /dev/null\n" for c in ("ADD", "DEL"))
    names = ["eth0", "net1", "net2"]
    direct = "".join(f"{prefix}CNI_COMMAND=ADD CNI_IFNAME={names[i]} /usr/lib/cni/{d['type']} < {work}/{name}-delegate{i}.json > /dev/null\n"
                     for i, d in enumerate(delegates))
    direct += "".join(f"{prefix}CNI_COMMAND=DEL CNI_IFNAME={names[i]} /usr/lib/cni/{d['type']} < {work}/{name}-delegate{i}.json > /dev/null\n"
                      for i, d in reversed(list(enumerate(delegates))))
    write(f"{work}/{name}-via.sh", via)
    write(f"{work}/{name}-direct.sh", direct)

def interleaved(name):
    def once(side):
        t = time.perf_counter()
        subprocess.run(["dash", "-e", f"{work}/{name}-{side}.sh"], check=True, env=env)
        return time.perf_counter() - t
    for _ in range(5):
        once("direct"); once("via")
    times = {"direct": [], "via": []}
    for i in range(args.runs):
        for side in (["direct", "via"] if i % 2 == 0 else ["via", "direct"]):
            times[side].append(once(side))
    return times

def adds_with_and_without_events(rounds):
    """ADD alone (its DEL untimed), events on against events off, alternating rounds."""
    def add(name):
        e = dict(env, CNI_COMMAND="ADD", CNI_IFNAME="eth0", CNI_ARGS=world.cni_args[name])
        t = time.perf_counter()
        subprocess.run([multus], stdin=open(world.conf(name)), stdout=subprocess.DEVNULL, env=e, check=True)
        elapsed = time.perf_counter() - t
        subprocess.run([multus], stdin=open(world.conf(name)), stdout=subprocess.DEVNULL, env=dict(e, CNI_COMMAND="DEL"), check=True)
        return elapsed
    for _ in range(5):
        add("kube"); add("kube-quiet")
    times = {"kube": [], "kube-quiet": []}
    for i in range(rounds):
        for name in (["kube", "kube-quiet"] if i % 2 == 0 else ["kube-quiet", "kube"]):
            times[name].append(add(name))
    return times

def peak_rss_kib(name, command):
    e = dict(env, CNI_COMMAND=command, CNI_IFNAME="eth0", CNI_ARGS=world.cni_args[name])
    p = subprocess.Popen([multus], stdin=open(world.conf(name)), stdout=subprocess.DEVNULL, env=e)
    peak = 0
    while p.poll() is None:
        try:
            for line in open(f"/proc/{p.pid}/status"):
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return peak

def report(title, times):
    d, m = times["direct"], times["via"]
    dm, mm = statistics.median(d), statistics.median(m)
    print(f"  {title}")
    print(f"    delegates exec'd directly : {dm*1000:7.2f} ms median  (mean {statistics.mean(d)*1000:.2f} ± {statistics.stdev(d)*1000:.2f}, {len(d)} rounds)")
    print(f"    through multus            : {mm*1000:7.2f} ms median  (mean {statistics.mean(m)*1000:.2f} ± {statistics.stdev(m)*1000:.2f})")
    print(f"    ratio of medians          : {mm/dm:7.3f}x")
    print(f"    overhead                  : {(mm-dm)*1000:7.2f} ms per ADD+DEL")
    # Each round runs both sides back to back, so its difference is free of the slow drift that
    # moves both; the median difference and a distribution-free 95% interval for it (order
    # statistics of the binomial) say how sure the overhead figure is.
    diffs = sorted((v - x) * 1000 for v, x in zip(m, d))
    n = len(diffs)
    half = 0.98 * n ** 0.5
    low, high = diffs[max(0, int(n / 2 - half))], diffs[min(n - 1, int(n / 2 + half))]
    print(f"    paired (per round)        : {statistics.median(diffs):7.2f} ms median difference, 95% interval {low:.2f} to {high:.2f} ms"
          f" (ratio {1 + statistics.median(diffs) / (dm * 1000):.3f}x)")

scripts("static")
scripts("kube")
control = world.server.control

# API calls of one ADD, one DEL and a repeated DEL, with events and without; every one must be allowed.
calls = {}
for name in ("kube", "kube-quiet"):
    for command in ("ADD", "DEL", "DEL again"):
        control({"op": "clearlog"})
        subprocess.run([multus], stdin=open(world.conf(name)), stdout=subprocess.DEVNULL, check=True,
                       env=dict(env, CNI_COMMAND=command.split()[0], CNI_IFNAME="eth0", CNI_ARGS=world.cni_args[name]))
        log = control({"op": "log"})["requests"]
        refused = [r for r in log if r["status"] >= 300]
        if refused:
            raise SystemExit(f"{name} {command}: refused API calls {refused}")
        calls[(name, command)] = [f"{r['method']} {r['path'].split('/')[-1]}" for r in log]

static_times = interleaved("static")
kube_times = interleaved("kube")
event_times = adds_with_and_without_events(args.runs)
rss = {(n, c): peak_rss_kib(n, c) for n in ("static", "kube") for c in ("ADD", "DEL")}
world.close()

subprocess.run(["hyperfine", "--style", "none", "-N", "--warmup", "50", "--runs", "500", "--export-json", f"{work}/start.json", multus],
               env=dict(env, CNI_COMMAND="VERSION"), check=True, stdout=subprocess.DEVNULL)
start = json.load(open(f"{work}/start.json"))["results"][0]

print()
print("swift-multus benchmark: ADD+DEL of three networks (bridge+host-local main, macvlan and ptp secondaries)")
report("static delegates (target <= 1.10x)", static_times)
report("Kubernetes: clusterNetwork NAD + pod with two NADs, Multus's ClusterRole, events on, test API server over TLS (target <= 1.10x)", kube_times)
for name, label in (("kube", "events on "), ("kube-quiet", "events off")):
    shown = {c: calls[(name, c)] for c in ("ADD", "DEL", "DEL again")}
    print(f"  API calls, {label}: ADD {len(shown['ADD'])} ({', '.join(shown['ADD'])}); DEL {len(shown['DEL'])}; repeated DEL {len(shown['DEL again'])}"
          f" (N=3 networks: target <= 2N+3 = 9 with events, N+2 = 5 without)")
on, off = event_times["kube"], event_times["kube-quiet"]
diffs = sorted((x - y) * 1000 for x, y in zip(on, off))
half = 0.98 * len(diffs) ** 0.5
low, high = diffs[max(0, int(len(diffs) / 2 - half))], diffs[min(len(diffs) - 1, int(len(diffs) / 2 + half))]
print(f"  ADD alone, events on/off: {statistics.median(on)*1000:.2f} / {statistics.median(off)*1000:.2f} ms median; paired difference "
      f"{statistics.median(diffs):.2f} ms, 95% interval {low:.2f} to {high:.2f} ms ({len(diffs)} rounds; target <= 1 ms)")
print(f"  start-up (CNI_COMMAND=VERSION): {start['mean']*1000:.2f} ms ± {start['stddev']*1000:.2f} (target <= 2 ms)")
print(f"  peak RSS, static ADD/DEL: {rss[('static','ADD')]/1024:.2f}/{rss[('static','DEL')]/1024:.2f} MB; "
      f"Kubernetes ADD/DEL: {rss[('kube','ADD')]/1024:.2f}/{rss[('kube','DEL')]/1024:.2f} MB (target <= 8 MB)")
print(f"  binary size: {os.path.getsize(multus)/1e6:.2f} MB (target <= 20 MB)")

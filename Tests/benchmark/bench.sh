#!/usr/bin/env bash
# Benchmark, run by hand as root (never part of the test suite): what the meta-plugin costs on top
# of the delegates it runs. Prints:
#   - ADD+DEL of three networks (bridge main, macvlan and ptp secondaries) through multus, against
#     the same three plugins exec'd directly with the same configs: ratio and ms of overhead;
#   - multus start-up (CNI_COMMAND=VERSION);
#   - multus peak RSS during an ADD (its own, not its delegates');
#   - binary size.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tests/scripts/setup.sh hyperfine
swift build -c release --product multus >/dev/null 2>&1
multus=$PWD/.build/release/multus
runs=${RUNS:-60}
source Tests/scripts/sandbox.sh
make_sandbox bench mbenchbr0

python3 - "$work" "$parent" <<'PY'
import json, sys
work, parent = sys.argv[1], sys.argv[2]
def ipam(n, routes=False):
    d = {"type": "host-local", "dataDir": f"{work}/ipam", "subnet": f"10.251.{n}.0/24"}
    if routes: d["routes"] = [{"dst": "0.0.0.0/0"}]
    return d
delegates = [
    {"cniVersion": "1.0.0", "name": "podnet", "type": "bridge", "bridge": "mbenchbr0", "isGateway": True, "ipMasq": False, "ipam": ipam(1, True)},
    {"cniVersion": "1.0.0", "name": "macnet", "type": "macvlan", "master": parent, "mode": "bridge", "ipam": ipam(2)},
    {"cniVersion": "1.0.0", "name": "p2pnet", "type": "ptp", "ipam": ipam(3)},
]
for i, d in enumerate(delegates):
    json.dump(d, open(f"{work}/delegate{i}.json", "w"))
json.dump({"cniVersion": "1.0.0", "name": "multus-cni-network", "type": "multus", "cniDir": f"{work}/cache",
           "binDir": "/usr/lib/cni", "delegates": delegates}, open(f"{work}/multus.conf", "w"))
PY

export CNI_CONTAINERID=bench CNI_NETNS=/var/run/netns/$netns CNI_PATH=/usr/lib/cni
cat > "$work/via-multus.sh" <<SH
CNI_COMMAND=ADD CNI_IFNAME=eth0 $multus < $work/multus.conf > /dev/null
CNI_COMMAND=DEL CNI_IFNAME=eth0 $multus < $work/multus.conf > /dev/null
SH
cat > "$work/direct.sh" <<SH
CNI_COMMAND=ADD CNI_IFNAME=eth0 /usr/lib/cni/bridge < $work/delegate0.json > /dev/null
CNI_COMMAND=ADD CNI_IFNAME=net1 /usr/lib/cni/macvlan < $work/delegate1.json > /dev/null
CNI_COMMAND=ADD CNI_IFNAME=net2 /usr/lib/cni/ptp < $work/delegate2.json > /dev/null
CNI_COMMAND=DEL CNI_IFNAME=net2 /usr/lib/cni/ptp < $work/delegate2.json > /dev/null
CNI_COMMAND=DEL CNI_IFNAME=net1 /usr/lib/cni/macvlan < $work/delegate1.json > /dev/null
CNI_COMMAND=DEL CNI_IFNAME=eth0 /usr/lib/cni/bridge < $work/delegate0.json > /dev/null
SH
# Both sides run under dash, so the shell's own cost is the same on each. Rounds alternate
# (direct, multus, multus, direct, ...): on this kind of machine the plugins' own times drift by
# tens of ms between batches, and a sequential A-then-B comparison measures the drift instead.
python3 - "$work" "$runs" <<'PY'
import json, statistics, subprocess, sys, time
work, runs = sys.argv[1], int(sys.argv[2])
def once(script):
    t = time.perf_counter()
    subprocess.run(["dash", f"{work}/{script}.sh"], check=True)
    return time.perf_counter() - t
for _ in range(5):
    once("direct"); once("via-multus")
times = {"direct": [], "via-multus": []}
for i in range(runs):
    order = ["direct", "via-multus"] if i % 2 == 0 else ["via-multus", "direct"]
    for script in order:
        times[script].append(once(script))
json.dump(times, open(f"{work}/adddel.json", "w"))
PY
CNI_COMMAND=VERSION hyperfine --style basic -N --warmup 50 --runs 500 --export-json "$work/start.json" "$multus" >&2

python3 - "$work" "$multus" <<'PY'
import json, os, subprocess, sys, time
work, multus = sys.argv[1], sys.argv[2]
import statistics
times = json.load(open(f"{work}/adddel.json"))
d, m = times["direct"], times["via-multus"]
dm, mm = statistics.median(d), statistics.median(m)
start = json.load(open(f"{work}/start.json"))["results"][0]

def peak_rss_kib(command):
    """multus's own high-water mark (VmHWM), sampled until it exits: delegates are other processes."""
    env = dict(os.environ, CNI_COMMAND=command, CNI_IFNAME="eth0")
    p = subprocess.Popen([multus], stdin=open(f"{work}/multus.conf"), stdout=subprocess.DEVNULL, env=env)
    peak = 0
    while p.poll() is None:
        try:
            for line in open(f"/proc/{p.pid}/status"):
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return peak
add_rss, del_rss = peak_rss_kib("ADD"), peak_rss_kib("DEL")
size = os.path.getsize(multus)
print()
print("swift-multus benchmark (3 networks: bridge+host-local main, macvlan and ptp secondaries)")
print(f"  ADD+DEL, delegates exec'd directly : {dm*1000:7.2f} ms median  (mean {statistics.mean(d)*1000:.2f} ± {statistics.stdev(d)*1000:.2f}, {len(d)} rounds)")
print(f"  ADD+DEL through multus             : {mm*1000:7.2f} ms median  (mean {statistics.mean(m)*1000:.2f} ± {statistics.stdev(m)*1000:.2f}, {len(m)} rounds)")
print(f"  ratio of medians                   : {mm/dm:7.3f}x  (target <= 1.10x)")
print(f"  overhead                           : {(mm-dm)*1000:7.2f} ms per ADD+DEL (median difference)")
print(f"  start-up (CNI_COMMAND=VERSION)     : {start['mean']*1000:7.2f} ms  (± {start['stddev']*1000:.2f}; target <= 2 ms)")
print(f"  peak RSS, ADD / DEL                : {add_rss/1024:7.2f} / {del_rss/1024:.2f} MB  (target <= 8 MB)")
print(f"  binary size                        : {size/1e6:7.2f} MB  (target <= 20 MB)")
PY

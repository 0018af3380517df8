"""Which code a CNI call runs, for the release link's --symbol-ordering-file (run through
link-order.sh).

Every verb runs once under callgrind, which names each function executed: VERSION, a config
error, ADD/CHECK/DEL of both scenarios.py workloads, STATUS and GC. The link map turns those
functions into the input sections the linker can move. A section named per function
(-ffunction-sections) moves alone; an object's plain .text moves whole, so it is listed once,
through its first function seen. Sections used by more verbs come first, so the code every call
runs is densest.
"""
import argparse, collections, json, os, re, subprocess, tempfile
from scenarios import Scenarios, write

a = argparse.ArgumentParser()
for flag in ("--multus", "--map", "--work", "--netns", "--parent", "--bridge", "--out"):
    a.add_argument(flag, required=True)
args = a.parse_args()
world = Scenarios(args.work, args.bridge, args.parent)
env = dict(os.environ, CNI_CONTAINERID="order", CNI_NETNS=f"/var/run/netns/{args.netns}", CNI_PATH="/usr/lib/cni", CNI_IFNAME="eth0")

gc_conf = f"{args.work}/gc.conf"
with open(world.conf("static")) as f:
    config = json.load(f)
config.update({"cniVersion": "1.1.0", "cni.dev/valid-attachments": []})
write(gc_conf, config)
bad_conf = f"{args.work}/bad.conf"
write(bad_conf, "{}")

runs = [("VERSION", bad_conf, "")]
runs += [("ADD", bad_conf, "")]
runs += [(verb, world.conf(name), world.cni_args[name]) for name in ("static", "kube") for verb in ("ADD", "CHECK", "DEL")]
runs += [("STATUS", gc_conf, ""), ("GC", gc_conf, "")]

uses = collections.defaultdict(set)  # function -> indexes of the runs that executed it
with tempfile.TemporaryDirectory() as out:
    for index, (verb, conf, cni_args) in enumerate(runs):
        profile = f"{out}/{index}"
        with open(conf) as stdin:
            subprocess.run(["valgrind", "-q", "--tool=callgrind", "--demangle=no", f"--callgrind-out-file={profile}", args.multus],
                           stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           env=dict(env, CNI_COMMAND=verb, CNI_ARGS=cni_args))
        with open(profile) as f:
            for line in f:
                # callgrind names a function once, as "fn=(id) name" or "cfn=(id) name"; "'N" marks recursion.
                m = re.match(r"^c?fn=\(\d+\) (.+)$", line.rstrip("\n"))
                # Unnamed code ("0x...") and callgrind's own entries ("(below main)") are no symbols.
                if m and not m.group(1).startswith(("0x", "(")):
                    uses[re.sub(r"'\d+$", "", m.group(1))].add(index)
world.close()

# lld's map: "VMA LMA Size Align Out In Symbol", an input section line "file:(section)" followed by
# the lines of the symbols it defines.
section_of = {}
section = None
with open(args.map) as f:
    for line in f:
        fields = line.split(None, 4)
        if len(fields) < 5:
            continue
        rest = fields[4].strip()
        if rest.endswith(")") and ":(" in rest:
            section = rest
        elif section and rest not in section_of:
            section_of[rest] = section

order = sorted(uses, key=lambda n: (-len(uses[n]), min(uses[n]), n))
listed, lines = set(), []
for name in order:
    key = section_of.get(name, name)
    if key not in listed:
        listed.add(key)
        lines.append(name)
with open(args.out, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"link-order: {len(uses)} functions run, in {len(lines)} input sections; wrote {args.out}")

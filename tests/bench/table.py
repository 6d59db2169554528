#!/usr/bin/env python3
"""table.py [--check] [--time S] [--size B] RESULTS - the table of make bench.

Reads what tests/bench/run.sh left in RESULTS (a manifest, one line a run:
TOOL VIA BACKEND WORKLOAD ok|fail|skip [WHY], where an nng or nngio run's
BACKEND is that of the ovio run it was paired with; each run's JSON; oviod's
CPU ticks and peak memory per run), prints the tables with the ratios
ovio / raw nng (the echo: the targets' baseline), (nng + I/O) / nng (what
the file I/O leaves of the echo's rate when a plain nng server does it on
its message thread), ovio / (nng + I/O) (what ovio's layers cost beyond
the I/O) and ovio / fio, and writes RESULTS/bench.json.

--check (make test's smoke pass): also checks that every run finished with
nonzero operations and no errors, that every JSON parses and that every
ovio row got its ratios, and ends with "N passed, N failed, N skipped".
It never checks a speed.
"""
import json
import os
import sys
import time

WORKLOADS = ["randread-4k-qd1", "randread-4k-qd32", "randread-4k-qd32-auto",
             "randread-4k-qd32-b8", "randwrite-4k-qd32",
             "randwrite-4k-qd32-auto", "read-1m-qd8", "write-1m-qd8"]
LABEL = {
    "randread-4k-qd1": "4 KiB random read, 1 in flight",
    "randread-4k-qd32": "4 KiB random read, 32 in flight, one a message",
    "randread-4k-qd32-auto": "4 KiB random read, 32 in flight, libovio's "
                             "own batches (nng: one a message)",
    "randread-4k-qd32-b8": "4 KiB random read, 32 in flight, ovio in "
                           "batches of 8 (nng: one a message)",
    "randwrite-4k-qd32": "4 KiB random write, 32 in flight, one a message",
    "randwrite-4k-qd32-auto": "4 KiB random write, 32 in flight, libovio's "
                              "own batches (nng: one a message)",
    "read-1m-qd8": "1 MiB sequential read, 8 in flight",
    "write-1m-qd8": "1 MiB sequential write, 8 in flight",
}


class Checks:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.notes = []

    def ok(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            self.notes.append("FAIL: " + what)

    def skip(self, what):
        self.skipped += 1
        self.notes.append("SKIP: " + what)


def load_run(res, tool, via, backend, workload):
    """The run's figures as ovio bench's JSON keys, or raises."""
    base = os.path.join(res, "%s.%s.%s.%s" % (tool, via, backend, workload))
    if tool == "fio":
        text = open(base + ".fio").read()
        doc = json.loads(text[text.index("{"):])
        job = doc["jobs"][0]
        side = job["write"] if job["write"]["total_ios"] > 0 else job["read"]
        pct = side["lat_ns"]["percentile"]
        return {
            "tool": "fio", "ops": side["total_ios"], "errors": job["error"],
            "ops_per_s": side["iops"], "mb_per_s": side["bw_bytes"] / 1e6,
            "p50_us": pct["50.000000"] / 1000.0,
            "p99_us": pct["99.000000"] / 1000.0,
        }
    with open(base + ".json") as f:
        lines = [l for l in f.read().splitlines() if l.strip()]
    if len(lines) != 1:
        raise ValueError("%d lines of output, not 1" % len(lines))
    r = json.loads(lines[0])
    if os.path.exists(base + ".svc"):
        with open(base + ".svc") as f:
            svc = json.load(f)
        if r["ops"] > 0:
            r["svc_cpu_us_per_op"] = (svc["cpu_ticks"] / svc["hz"] * 1e6
                                      / r["ops"])
        r["svc_peak_mib"] = svc["hwm_kb"] / 1024.0
    return r


def fmt(v, digits=0):
    if v is None:
        return "—"
    if digits == 0:
        return "{:,.0f}".format(v).replace(",", " ")
    return "{:.{d}f}".format(v, d=digits)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(v):
    return "—" if v is None else "%.2f×" % v


def main(argv):
    check = False
    secs = size = None
    args = []
    i = 0
    while i < len(argv):
        if argv[i] == "--check":
            check = True
        elif argv[i] == "--time":
            i += 1
            secs = float(argv[i])
        elif argv[i] == "--size":
            i += 1
            size = int(argv[i])
        else:
            args.append(argv[i])
        i += 1
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    res = args[0]
    ck = Checks()

    runs = {}
    manifest = []
    with open(os.path.join(res, "manifest")) as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) < 5:
                continue
            tool, via, backend, workload, status = parts[:5]
            why = parts[5].strip() if len(parts) > 5 else ""
            manifest.append((tool, via, backend, workload, status, why))
            what = "%s %s %s %s" % (tool, via, backend, workload)
            if status == "skip":
                ck.skip("%s: %s" % (what, why))
                continue
            if status != "ok":
                ck.ok(False, "%s: %s" % (what, why))
                continue
            try:
                r = load_run(res, tool, via, backend, workload)
            except (OSError, ValueError, KeyError, IndexError) as e:
                ck.ok(False, "%s: unreadable result: %s" % (what, e))
                continue
            ck.ok(r["ops"] > 0 and r["errors"] == 0,
                  "%s: %s operations, %s errors" % (what, r["ops"],
                                                    r["errors"]))
            runs[(tool, via, backend, workload)] = r

    vias = []
    rows = []
    for (tool, via, backend, workload, status, why) in manifest:
        if tool == "ovio" and (via, backend) not in vias:
            vias.append((via, backend))

    load = open("/proc/loadavg").read().split()[:3]
    print("ovio bench, %s, %d CPUs, load average %s (machine shared: "
          "compare ratios, not absolute figures)" %
          (time.strftime("%Y-%m-%d %H:%M"), os.cpu_count(), " ".join(load)))
    if secs is not None and size is not None:
        print("%g s a run, %d MiB file, page cache warm" %
              (secs, size // 1048576))
    print()
    print("| workload | via | backend | ops/s | MB/s | p50 µs | p99 µs "
          "| oviod CPU µs/op | nng ops/s | nng p50 µs | ovio/nng "
          "| p50 ovio/nng | nng+I/O ops/s | (nng+I/O)/nng | ovio/(nng+I/O) "
          "| fio ops/s | ovio/fio |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:"
          "|---:|---:|---:|---:|")
    for w in WORKLOADS:
        fio = runs.get(("fio", "local", "io_uring", w))
        for (via, backend) in vias:
            o = runs.get(("ovio", via, backend, w))
            n = runs.get(("nng", via, backend, w))
            nio = runs.get(("nngio", via, backend, w))
            if not any(m[0] == "ovio" and m[1] == via and m[2] == backend
                       and m[3] == w for m in manifest):
                continue
            g = lambda r, k: r.get(k) if r else None
            row = {
                "workload": w, "via": via, "backend": backend,
                "ovio": o, "nng": n, "nngio": nio, "fio": fio,
                "ovio_per_nng": ratio(g(o, "ops_per_s"), g(n, "ops_per_s")),
                "p50_ovio_per_nng": ratio(g(o, "p50_us"), g(n, "p50_us")),
                "nngio_per_nng": ratio(g(nio, "ops_per_s"),
                                       g(n, "ops_per_s")),
                "ovio_per_nngio": ratio(g(o, "ops_per_s"),
                                        g(nio, "ops_per_s")),
                "ovio_per_fio": ratio(g(o, "ops_per_s"),
                                      g(fio, "ops_per_s")),
            }
            rows.append(row)
            print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                  "| %s | %s | %s | %s | %s | %s |" % (
                      LABEL[w], via, backend,
                      fmt(g(o, "ops_per_s")) if o else "failed",
                      fmt(g(o, "mb_per_s")), fmt(g(o, "p50_us")),
                      fmt(g(o, "p99_us")),
                      fmt(g(o, "svc_cpu_us_per_op"), 1),
                      fmt(g(n, "ops_per_s")), fmt(g(n, "p50_us")),
                      fmt_ratio(row["ovio_per_nng"]),
                      fmt_ratio(row["p50_ovio_per_nng"]),
                      fmt(g(nio, "ops_per_s")),
                      fmt_ratio(row["nngio_per_nng"]),
                      fmt_ratio(row["ovio_per_nngio"]),
                      fmt(g(fio, "ops_per_s")),
                      fmt_ratio(row["ovio_per_fio"])))
            what = "ovio %s %s %s" % (via, backend, w)
            if o is not None:
                if n is not None:
                    ck.ok(row["ovio_per_nng"] is not None,
                          what + ": no ovio/nng ratio")
                else:
                    ck.ok(False, what + ": no nng figures to compare with")
                if any(m[0] == "nngio" and m[1] == via and m[2] == backend
                       and m[3] == w for m in manifest):
                    ck.ok(row["ovio_per_nngio"] is not None,
                          what + ": no ovio/(nng+I/O) ratio")
                if fio is not None:
                    ck.ok(row["ovio_per_fio"] is not None,
                          what + ": no ovio/fio ratio")
                else:
                    ck.skip(what + ": no fio figures to compare with")

    scan = sorted({int(m[3].rsplit("-c", 1)[1]) for m in manifest
                   if m[0] == "ovio" and "-qd8-c" in m[3]})
    if scan:
        via, backend = vias[0]
        print()
        print("4 KiB random read, 8 in flight per client, %s, %s:" %
              (via, backend))
        print()
        print("| clients | ops/s | p50 µs | p99 µs | oviod CPU µs/op "
              "| oviod peak RSS MiB | nng ops/s | ovio/nng |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for c in scan:
            w = "randread-4k-qd8-c%d" % c
            o = runs.get(("ovio", via, backend, w))
            n = runs.get(("nng", via, backend, w))
            g = lambda r, k: r.get(k) if r else None
            r = ratio(g(o, "ops_per_s"), g(n, "ops_per_s"))
            rows.append({"workload": w, "via": via, "backend": backend,
                         "clients": c, "ovio": o, "nng": n,
                         "ovio_per_nng": r})
            print("| %d | %s | %s | %s | %s | %s | %s | %s |" % (
                c, fmt(g(o, "ops_per_s")) if o else "failed",
                fmt(g(o, "p50_us")), fmt(g(o, "p99_us")),
                fmt(g(o, "svc_cpu_us_per_op"), 1),
                fmt(g(o, "svc_peak_mib"), 1), fmt(g(n, "ops_per_s")),
                fmt_ratio(r)))

    out = os.path.join(res, "bench.json")
    doc = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
           "cpus": os.cpu_count(), "loadavg": load, "seconds": secs,
           "size": size, "rows": rows}
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
    try:
        with open(out) as f:
            json.load(f)
        ck.ok(True, "")
    except ValueError as e:
        ck.ok(False, "bench.json does not parse: %s" % e)

    print()
    for n in ck.notes:
        print(n)
    if check:
        print("%d passed, %d failed, %d skipped" %
              (ck.passed, ck.failed, ck.skipped))
    elif ck.failed:
        print("%d runs failed" % ck.failed)
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

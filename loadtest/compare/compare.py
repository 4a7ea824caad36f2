#!/usr/bin/env python3
"""One command, every peer, one run: h2ring vs h2o, nginx, nghttpd and a hyper server.

Every server runs ONE worker pinned to core 0 and serves the same files; h2load and
h2ring-loadtest run pinned to core 1. Peers are interleaved over several rounds; the
median of each (profile, peer, tool) is reported with its ratio to h2ring, and
docs/BENCHMARKS.md (the section between the compare markers) plus docs/benchmarks.svg
are rewritten. Run through run.sh, which installs and builds everything first.
"""

import argparse
import datetime
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import paired  # noqa: E402  (beside this file)

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SERVER_CPU = "0"
CLIENT_CPU = "1"
IDLE_CONNECTIONS = 10_000
IDLE_HOLD_S = 8
UPLOAD_SIZE = 1 << 20
BEGIN = "<!-- compare:begin (written by loadtest/compare/compare.py) -->"
END = "<!-- compare:end -->"

# name, path, -c, -m, upload?, tls?
PROFILES = [
    ("small", "/index.html", 64, 32, False, False),
    ("latency", "/index.html", 1, 1, False, False),
    ("64k", "/64k.bin", 16, 8, False, False),
    ("1m", "/1m.bin", 8, 4, False, False),
    ("upload", "/upload", 8, 4, True, False),
    ("tls", "/index.html", 64, 32, False, True),
]
PROFILE_TITLES = {
    "small": "(a) small GET (~100 B), `-c 64 -m 32`",
    "latency": "(b) latency, one stream at a time, `-c 1 -m 1`",
    "64k": "(c) 64 KiB responses, `-c 16 -m 8`",
    "1m": "(c2) 1 MiB responses, `-c 8 -m 4`",
    "upload": "(d) 1 MiB uploads (POST /upload), `-c 8 -m 4`",
    "tls": "(e) small GET over TLS, `-c 64 -m 32`",
}
PEERS = ["h2ring", "h2o", "nginx", "nghttpd", "hyper"]
# "h2ring-base" is an earlier h2ring binary (--baseline): a before/after comparison in the
# same interleaved rounds as the peers.
PORTS = {"h2ring": 18080, "h2o": 18081, "nginx": 18082, "nghttpd": 18083, "hyper": 18084,
         "h2ring-base": 18085}
TLS_PORTS = {"h2ring": 18440, "h2o": 18441, "nginx": 18442, "nghttpd": 18443,
             "h2ring-base": 18445}


def log(msg):
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


def sh(cmd):
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    return out.stdout + out.stderr


def first_line(cmd):
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    text = (out.stdout + out.stderr).strip().splitlines()
    return text[0] if text else "?"


# ---------------------------------------------------------------- process accounting

def tree(pid):
    """pid and all its descendants."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


# ---------------------------------------------------------------- servers

def write_files(work):
    www = os.path.join(work, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("<!doctype html><title>h2ring</title><p>" + "x" * 56 + "</p>\n")
    with open(os.path.join(www, "64k.bin"), "wb") as f:
        f.write(bytes((i * 7) & 0xFF for i in range(65536)))
    with open(os.path.join(www, "1m.bin"), "wb") as f:
        f.write(bytes((i * 13) & 0xFF for i in range(1 << 20)))
    # nghttpd answers any method with the file at the path.
    with open(os.path.join(www, "upload"), "w") as f:
        f.write("ok\n")
    with open(os.path.join(work, "upload.bin"), "wb") as f:
        f.write(b"u" * UPLOAD_SIZE)
    key, cert = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
    if not os.path.exists(cert):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=localhost"],
            check=True, capture_output=True)
    return www, key, cert


def nginx_conf(work, www, key, cert):
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1;
worker_cpu_affinity 01;
worker_rlimit_nofile 65536;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 30000; }}
http {{
    access_log off;
    # sendfile off: with it, -c 1 -m 1 waits ~40 ms per response (Nagle vs delayed ACK).
    sendfile off;
    keepalive_timeout 300s;
    keepalive_requests 1000000000;
    http2_max_requests 1000000000;
    http2_idle_timeout 300s;
    client_max_body_size 2m;
    client_body_temp_path {work}/nginx-body;
    default_type application/octet-stream;
    server {{
        listen 127.0.0.1:{PORTS['nginx']} http2 backlog=16384;
        listen 127.0.0.1:{TLS_PORTS['nginx']} ssl http2;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {www};
        location = /upload {{ return 200 "ok\\n"; }}
    }}
}}
""")
    return conf


def h2o_conf(work, www, key, cert, mruby):
    conf = os.path.join(work, "h2o.conf")
    upload = ""
    if mruby:
        upload = """      /upload:
        mruby.handler: |
          Proc.new do |env|
            env["rack.input"] && env["rack.input"].read
            [200, {"content-type" => "text/plain"}, ["ok\\n"]]
          end
"""
    with open(conf, "w") as f:
        f.write(f"""num-threads: 1
max-connections: 30000
http2-idle-timeout: 300
error-log: {work}/h2o-error.log
listen:
  host: 127.0.0.1
  port: {PORTS['h2o']}
listen:
  host: 127.0.0.1
  port: {TLS_PORTS['h2o']}
  ssl:
    certificate-file: {cert}
    key-file: {key}
hosts:
  "default":
    paths:
{upload}      /:
        file.dir: {www}
""")
    return conf


def h2ring_has_tls(binary):
    help_text = sh(f"{binary} --help")
    return "--tls-cert" in help_text and "--tls-key" in help_text


def server_commands(work, www, key, cert, bins):
    """peer -> list of (role, argv) to start, pinned to core 0."""
    pin = ["taskset", "-c", SERVER_CPU]
    mruby = shutil.which("h2o") is not None and subprocess.run(
        ["h2o", "-t", "-c", h2o_conf(work, www, key, cert, True)],
        capture_output=True).returncode == 0
    def h2ring(peer):
        cmd = [("plain", pin + [bins[peer], "--listen", f"127.0.0.1:{PORTS[peer]}",
                                "--cores", f"{SERVER_CPU}-{SERVER_CPU}", "--root", www,
                                "--max-connections-per-core", "30000", "--backlog", "16384",
                                "--idle-timeout", "300", "--upload-sink", "/upload"])]
        if h2ring_has_tls(bins[peer]):
            cmd.append(("tls", pin + [
                bins[peer], "--listen", f"127.0.0.1:{TLS_PORTS[peer]}", "--cores",
                f"{SERVER_CPU}-{SERVER_CPU}", "--root", www, "--tls-cert", cert, "--tls-key", key]))
        return cmd

    cmds = {
        "h2ring": h2ring("h2ring"),
        "h2o": [("plain", pin + ["h2o", "-c", h2o_conf(work, www, key, cert, mruby)])],
        "nginx": [("plain", pin + ["nginx", "-c", nginx_conf(work, www, key, cert), "-p", work,
                                   "-g", "daemon off; master_process on;"])],
        "nghttpd": [("plain", pin + ["nghttpd", "--no-tls", "-d", www, str(PORTS["nghttpd"])]),
                    ("tls", pin + ["nghttpd", "-d", www, str(TLS_PORTS["nghttpd"]), key, cert])],
        "hyper": [("plain", pin + [bins["hyper"], f"127.0.0.1:{PORTS['hyper']}", www])],
    }
    if "h2ring-base" in bins:
        cmds["h2ring-base"] = h2ring("h2ring-base")
    return cmds, mruby


def wait_port(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Server:
    def __init__(self, peer, role, argv, work):
        self.peer, self.role = peer, role
        logf = open(os.path.join(work, f"{peer}-{role}.log"), "w")
        self.proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        port = (TLS_PORTS if role == "tls" else PORTS)[peer]
        if not wait_port(port):
            raise RuntimeError(f"{peer} ({role}) did not start; see {work}/{peer}-{role}.log")

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# ---------------------------------------------------------------- load tools

def run_client(argv, server_pid, timeout):
    """Runs a pinned client; returns (stdout, server CPU s, client CPU s, wall s)."""
    before = cpu_seconds(server_pid)
    start = time.time()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    wall = time.time() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return out, cpu_seconds(server_pid) - before, usage, wall


def parse_h2load(out):
    r = {}
    m = re.search(r"finished in ([\d.]+)s, ([\d.]+) req/s", out)
    if m:
        r["rps"] = float(m.group(2))
    m = re.search(r"requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, "
                  r"(\d+) errored, (\d+) timeout", out)
    if m:
        r["succeeded"] = int(m.group(2))
        r["errors"] = int(m.group(3)) + int(m.group(4)) + int(m.group(5))
    m = re.search(r"time for request:\s+(\S+)\s+(\S+)\s+(\S+)", out)
    if m:
        r["mean_us"] = to_us(m.group(3))
        r["max_us"] = to_us(m.group(2))
    return r


def to_us(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    if not m:
        return None
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]


def parse_ours(out):
    m = re.search(r"^RESULT (.*)$", out, re.M)
    if not m:
        return {}
    r = {}
    for kv in m.group(1).split():
        k, v = kv.split("=", 1)
        r[k] = float(v)
    return r


def client_argv(tool, bins, url, c, m, duration, upload_file, hist=None):
    pin = ["taskset", "-c", CLIENT_CPU]
    if tool == "h2load":
        argv = pin + ["h2load", "-c", str(c), "-m", str(m), "-D", f"{int(duration * 1000)}ms", url]
        if upload_file:
            argv[4:4] = ["-d", upload_file]
        return argv
    argv = pin + [bins["loadtest"], url, "-c", str(c), "-m", str(m), "-D", str(duration),
                  "--cores", CLIENT_CPU]
    if upload_file:
        argv += ["--data", upload_file]
    if hist:
        argv += ["--hist-file", hist]
    return argv


def probe_upload(bins, url, upload_file):
    out = subprocess.run([bins["loadtest"], url, "-n", "1", "--data", upload_file],
                         capture_output=True, text=True, timeout=30).stdout
    return parse_ours(out).get("succeeded", 0) >= 1


# ---------------------------------------------------------------- the run

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    ap.add_argument("--work", default="/tmp/h2ring-compare")
    ap.add_argument("--h2ring", default=os.path.join(REPO, "target/release/h2ring"))
    ap.add_argument("--loadtest", default=os.path.join(REPO, "target/release/h2ring-loadtest"))
    ap.add_argument("--hyper", default=os.path.join(HERE, "hyper-peer/target/release/hyper-peer"))
    ap.add_argument("--profiles", default=",".join(p[0] for p in PROFILES) + ",idle")
    ap.add_argument("--peers", default=",".join(PEERS))
    ap.add_argument("--no-docs", action="store_true", help="print results, do not touch docs/")
    ap.add_argument("--baseline", help="an earlier h2ring binary, run as the peer h2ring-base "
                    "(a before/after comparison in the same rounds)")
    ap.add_argument("--port-offset", type=int, default=0,
                    help="added to every listening port (another run on this machine has them)")
    args = ap.parse_args()
    for ports in (PORTS, TLS_PORTS):
        for peer in ports:
            ports[peer] += args.port_offset

    bins = {"h2ring": args.h2ring, "loadtest": args.loadtest, "hyper": args.hyper}
    wanted = set(args.profiles.split(","))
    peers = [p for p in PEERS if p in args.peers.split(",")]
    if args.baseline:
        bins["h2ring-base"] = args.baseline
        peers.append("h2ring-base")
    os.makedirs(args.work, exist_ok=True)
    www, key, cert = write_files(args.work)
    upload_file = os.path.join(args.work, "upload.bin")
    cmds, mruby = server_commands(args.work, www, key, cert, bins)
    servers = {}
    results = {}   # (profile, peer, tool) -> list of dicts
    notes = {}     # (profile, peer) -> reason it is n/a
    idle = {}
    try:
        for peer in peers:
            for role, argv in cmds[peer]:
                servers[(peer, role)] = Server(peer, role, argv, args.work)
                log(f"started {peer} ({role}): {' '.join(argv)}")
        time.sleep(0.5)
        for peer in peers:
            url = f"http://127.0.0.1:{PORTS[peer]}/upload"
            if not probe_upload(bins, url, upload_file):
                notes[("upload", peer)] = "no upload endpoint (POST answered non-2xx)"
            if (peer, "tls") not in servers and peer not in ("h2o", "nginx"):
                notes[("tls", peer)] = "no TLS listener"
        if "nginx" in peers:
            # `return 200` answers at once and discards the body: not an upload.
            notes[("upload", "nginx")] = "answers before reading the body (discards it)"
        for rnd in range(args.rounds):
            for name, path, c, m, upload, tls in PROFILES:
                if name not in wanted:
                    continue
                order = peers[rnd % len(peers):] + peers[:rnd % len(peers)]
                for peer in order:
                    if (name, peer) in notes:
                        continue
                    role = "tls" if tls else "plain"
                    port = (TLS_PORTS if tls else PORTS)[peer]
                    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}{path}"
                    # h2o and nginx serve TLS from the same process as h2c.
                    server = servers.get((peer, role)) or servers[(peer, "plain")]
                    for tool in ("h2load", "h2ring-loadtest"):
                        hist = None
                        if tool == "h2ring-loadtest" and name == "latency":
                            hist = os.path.join(args.work, f"latency-{peer}-r{rnd}.hgrm")
                        argv = client_argv(tool, bins, url, c, m, args.duration,
                                           upload_file if upload else None, hist)
                        before = resource.getrusage(resource.RUSAGE_CHILDREN)
                        out, server_cpu, after, wall = run_client(
                            argv, server.proc.pid, args.duration * 4 + 30)
                        client_cpu = (after.ru_utime - before.ru_utime) + \
                            (after.ru_stime - before.ru_stime)
                        r = parse_h2load(out) if tool == "h2load" else parse_ours(out)
                        if "rps" not in r:
                            log(f"{tool} against {peer} ({name}) gave no result:\n{out[-800:]}")
                            continue
                        served = r.get("succeeded", 0)
                        r["round"] = rnd
                        r["server_cpu"] = server_cpu
                        r["client_cpu"] = client_cpu
                        r["req_per_server_cpu_s"] = served / server_cpu if server_cpu > 0 else 0
                        r["req_per_client_cpu_s"] = served / client_cpu if client_cpu > 0 else 0
                        results.setdefault((name, peer, tool), []).append(r)
                        log(f"round {rnd + 1} {name:8} {peer:8} {tool:16} "
                            f"{r['rps']:>11.0f} req/s  server {server_cpu:.2f} CPU-s  "
                            f"client {client_cpu:.2f} CPU-s  errors {r.get('errors', 0):.0f}")
        if "idle" in wanted:
            for peer in peers:
                # A fresh server: memory kept from the load profiles would hide the cost.
                old = servers.pop((peer, "plain"))
                old.stop()
                argv = dict(cmds[peer])["plain"]
                servers[(peer, "plain")] = Server(peer, "plain", argv, args.work)
                time.sleep(0.5)
                idle[peer] = measure_idle(bins, servers[(peer, "plain")], PORTS[peer], args.work)
                log(f"idle {peer}: {idle[peer]}")
    finally:
        for s in servers.values():
            s.stop()
    # Every run, for paired per-round comparisons (loadtest/compare/paired.py).
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump([{"profile": k[0], "peer": k[1], "tool": k[2], "runs": v}
                   for k, v in results.items()], f, indent=1)
    med = summarize(results)
    versions = tool_versions(bins)
    section = render(med, notes, idle, versions, args, mruby, results)
    print(section)
    if not args.no_docs:
        write_docs(section, med, peers)


def measure_idle(bins, server, port, work):
    before = rss_kib(server.proc.pid)
    out_path = os.path.join(work, f"idle-{port}.out")
    with open(out_path, "w") as out:
        proc = subprocess.Popen(
            ["taskset", "-c", CLIENT_CPU, bins["loadtest"], f"http://127.0.0.1:{port}/",
             "-c", str(IDLE_CONNECTIONS), "--idle", "-D", str(IDLE_HOLD_S), "--cores", CLIENT_CPU],
            stdout=out, stderr=subprocess.STDOUT)
    established = 0
    end = time.time() + IDLE_HOLD_S + 30
    while time.time() < end:
        time.sleep(0.2)
        with open(out_path) as f:
            m = re.search(r"idle: (\d+) of", f.read())
        if m:
            established = int(m.group(1))
            break
    time.sleep(1.0)  # let the server settle after the last handshake
    during = rss_kib(server.proc.pid)
    proc.wait(timeout=IDLE_HOLD_S + 60)
    per_conn = (during - before) * 1024 / established if established else None
    return {"before_kib": before, "during_kib": during, "established": established,
            "bytes_per_conn": per_conn}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(results):
    med = {}
    for key, runs in results.items():
        keys = set().union(*runs)
        med[key] = {k: median([r.get(k) for r in runs]) for k in keys}
        med[key]["runs"] = len(runs)
    return med


def tool_versions(bins):
    rev = first_line(f"git -C {REPO} rev-parse --short HEAD")
    return {
        "h2ring": f"h2ring @ {rev} (release build)",
        "h2o": first_line("h2o --version"),
        "nginx": first_line("nginx -v"),
        "nghttpd": first_line("nghttpd --version"),
        "hyper": "hyper 1.x (http2::Builder, tokio current-thread; loadtest/compare/hyper-peer)",
        "h2load": first_line("h2load --version"),
        "h2ring-loadtest": first_line(f"{bins['loadtest']} --version"),
        "kernel": first_line("uname -sr"),
        "cpu": first_line("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"),
        "rustc": first_line("rustc --version"),
    }


def fmt(v, unit=""):
    if v is None:
        return "n/a"
    if unit == "ms":
        return f"{v / 1000:.2f}"
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.2f}"


def ratio(v, base):
    if v is None or not base:
        return "n/a"
    return f"{v / base:.2f}×"


def render(med, notes, idle, versions, args, mruby, results):
    peers = [p for p in PEERS + ["h2ring-base"] if any(k[1] == p for k in med) or p in idle]
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    L = [BEGIN, "", "## Peer comparison (`loadtest/compare`)", ""]
    L += [
        f"Run {date} with `loadtest/compare/run.sh --rounds {args.rounds} --duration "
        f"{args.duration:g}` on a {versions['cpu'].strip()} VM with 2 cores "
        f"({versions['kernel']}). Each server runs ONE worker pinned to core {SERVER_CPU}; "
        f"the load tools run pinned to core {CLIENT_CPU}; everything over loopback. "
        f"Peers are interleaved (the starting peer rotates each round) and every figure is "
        f"the median of {args.rounds} runs of {args.duration:g} s. The machine is shared "
        "with other work, so compare ratios, not absolute numbers.",
        "",
        "Versions: " + "; ".join(f"{k}: `{v}`" for k, v in versions.items()
                                 if k not in ("cpu", "kernel")) + ".",
        "",
        "Commands (URL, `-c`, `-m` per profile below; `-d FILE` / `--data FILE` for uploads):",
        "",
        "```",
        f"taskset -c {CLIENT_CPU} h2load -c C -m M -D {args.duration:g} URL",
        f"taskset -c {CLIENT_CPU} target/release/h2ring-loadtest URL -c C -m M "
        f"-D {args.duration:g} --cores {CLIENT_CPU}",
        f"taskset -c {SERVER_CPU} target/release/h2ring --listen 127.0.0.1:{PORTS['h2ring']} "
        f"--cores {SERVER_CPU}-{SERVER_CPU} --root WWW --upload-sink /upload "
        "--max-connections-per-core 30000 --backlog 16384 --idle-timeout 300",
        f"taskset -c {SERVER_CPU} h2o -c h2o.conf        # num-threads: 1"
        + ("" if mruby else " (no mruby: no upload endpoint)"),
        f"taskset -c {SERVER_CPU} nginx -c nginx.conf    # worker_processes 1; "
        "worker_cpu_affinity 01; listen ... http2",
        f"taskset -c {SERVER_CPU} nghttpd --no-tls -d WWW PORT",
        f"taskset -c {SERVER_CPU} hyper-peer 127.0.0.1:PORT WWW",
        "```",
        "",
        "The configs are written by `compare.py` (`server_commands`, `nginx_conf`, "
        "`h2o_conf`); files: `index.html` (100 B), `64k.bin` (64 KiB), `1m.bin` (1 MiB); uploads POST 1 MiB to "
        "`/upload`. \"server req/CPU-s\" is responses per second of server CPU time "
        "(utime+stime of the server's process tree from `/proc/PID/stat`, before/after "
        "each run); \"gen req/CPU-s\" is the same for the load tool's own CPU time.",
        "",
    ]
    for name, path, c, m, upload, tls in PROFILES:
        rows = [k for k in med if k[0] == name]
        if not rows and not any(k[0] == name for k in notes):
            continue
        L += [f"### {PROFILE_TITLES[name]}", ""]
        L += ["| peer | tool | req/s | ratio to h2ring | p50 ms | p90 ms | p99 ms | p99.9 ms | "
              "max ms | server req/CPU-s | gen req/CPU-s | errors |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for peer in peers:
            if (name, peer) in notes:
                L.append(f"| {peer} | — | n/a | | | | | | | | | {notes[(name, peer)]} |")
                continue
            for tool in ("h2load", "h2ring-loadtest"):
                r = med.get((name, peer, tool))
                if not r:
                    continue
                base = med.get((name, "h2ring", tool), {}).get("rps")
                if tool == "h2load":
                    lat = ["", "", "", "", fmt(r.get("max_us"), "ms")]
                    lat[0] = f"mean {fmt(r.get('mean_us'), 'ms')}"
                else:
                    lat = [fmt(r.get(k), "ms") for k in
                           ("p50_us", "p90_us", "p99_us", "p999_us", "max_us")]
                L.append(f"| {peer} | {tool} | {fmt(r.get('rps'))} | {ratio(r.get('rps'), base)} | "
                         + " | ".join(lat) +
                         f" | {fmt(r.get('req_per_server_cpu_s'))} | "
                         f"{fmt(r.get('req_per_client_cpu_s'))} | {fmt(r.get('errors'))} |")
        L.append("")
    if idle:
        L += [f"### (f) {IDLE_CONNECTIONS:,} idle h2c connections — server RSS per connection", "",
              "`h2ring-loadtest URL -c 10000 --idle -D 8 --cores 1` opens the connections, "
              "completes the HTTP/2 handshake (SETTINGS both ways) and holds them idle; the "
              "server's VmRSS (whole process tree) is read before and 1 s after the last "
              "handshake.", "",
              "| peer | established | RSS before (KiB) | RSS idle (KiB) | bytes per connection | "
              "ratio to h2ring |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
        base = idle.get("h2ring", {}).get("bytes_per_conn")
        for peer in peers:
            if peer not in idle:
                continue
            i = idle[peer]
            L.append(f"| {peer} | {i['established']:,} | {i['before_kib']:,} | "
                     f"{i['during_kib']:,} | {fmt(i['bytes_per_conn'])} | "
                     f"{ratio(i['bytes_per_conn'], base)} |")
        L.append("")
    L += ["### (g) server CPU per request", "",
          "From profile (a): responses per server CPU-second (higher is better), under each "
          "tool. Under h2load the generator is the bottleneck and the servers are partly "
          "idle, so the figure includes what going to sleep and waking up costs each server; "
          "under h2ring-loadtest both the leading servers run at 100% of their core.", "",
          "| peer | under h2load | ratio to h2ring | under h2ring-loadtest | ratio to h2ring |",
          "| --- | ---: | ---: | ---: | ---: |"]
    bases = {tool: med.get(("small", "h2ring", tool), {}).get("req_per_server_cpu_s")
             for tool in ("h2load", "h2ring-loadtest")}
    for peer in peers:
        cells = []
        for tool in ("h2load", "h2ring-loadtest"):
            r = med.get(("small", peer, tool)) or {}
            v = r.get("req_per_server_cpu_s")
            cells += [fmt(v) if v else "n/a", ratio(v, bases[tool]) if v else ""]
        if any(cells):
            L.append(f"| {peer} | " + " | ".join(cells) + " |")
    L += ["", "### Load generator: h2ring-loadtest vs h2load", "",
          "Both tools on core 1 against the same server. When the server (one core) is the "
          "bottleneck both reach the same request rate, so the generator's own cost is "
          "compared as requests per generator CPU-second (profile (a)).", "",
          "| server | h2load req/s | h2ring-loadtest req/s | h2load gen req/CPU-s | "
          "h2ring-loadtest gen req/CPU-s | ratio |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for peer in peers:
        a = med.get(("small", peer, "h2load"))
        b = med.get(("small", peer, "h2ring-loadtest"))
        if a and b:
            L.append(f"| {peer} | {fmt(a.get('rps'))} | {fmt(b.get('rps'))} | "
                     f"{fmt(a.get('req_per_client_cpu_s'))} | {fmt(b.get('req_per_client_cpu_s'))} | "
                     f"{ratio(b.get('req_per_client_cpu_s'), a.get('req_per_client_cpu_s'))} |")
    if args.rounds > 1:
        L += ["", "### Paired per round", "",
              "The medians above compare whole columns. Within a round every peer ran "
              "seconds after h2ring, so the per-round ratio cancels most of the machine's "
              "drift: h2ring's advantage per round (the peer's latency over h2ring's, or "
              "h2ring's rate over the peer's; above 1× is h2ring ahead), the rounds it won, "
              "the median and a 95% bootstrap interval of the median (one containing 1× is "
              "a tie at this machine's resolution). "
              f"`python3 loadtest/compare/paired.py {args.work} --all` lists every metric.",
              ""]
        L += paired.table(paired.paired_rows(results))
    L += ["", "![requests/s and latency percentiles per peer](benchmarks.svg)", "", END]
    return "\n".join(L)


def write_docs(section, med, peers):
    docs = os.path.join(REPO, "docs")
    os.makedirs(docs, exist_ok=True)
    path = os.path.join(docs, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(path, "w") as f:
        f.write(text)
    with open(os.path.join(docs, "benchmarks.svg"), "w") as f:
        f.write(svg(med, peers))
    log(f"wrote {path} and docs/benchmarks.svg")


def svg(med, peers):
    """Two panels: req/s per peer for profile (a) by tool; latency percentiles (b)."""
    W, H, pad = 900, 420, 60
    colors = {"h2load": "#4e79a7", "h2ring-loadtest": "#f28e2b"}
    pct_colors = ["#59a14f", "#edc948", "#e15759", "#b07aa1"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    # Panel 1: requests/s, profile (a).
    pw = W / 2 - pad
    x0, y0, ph = pad, 50, H - 120
    vals = [med.get(("small", p, t), {}).get("rps") or 0 for p in peers for t in colors]
    top = max(vals + [1]) * 1.1
    out.append(f'<text x="{x0}" y="30" font-size="14">(a) small GET, req/s (median)</text>')
    out.append(f'<line x1="{x0}" y1="{y0 + ph}" x2="{x0 + pw}" y2="{y0 + ph}" stroke="black"/>')
    group = pw / max(len(peers), 1)
    for i, p in enumerate(peers):
        for j, t in enumerate(colors):
            v = med.get(("small", p, t), {}).get("rps") or 0
            h = ph * v / top
            x = x0 + i * group + 6 + j * (group - 12) / 2
            out.append(f'<rect x="{x:.1f}" y="{y0 + ph - h:.1f}" width="{(group - 12) / 2 - 2:.1f}" '
                       f'height="{h:.1f}" fill="{colors[t]}"><title>{p} {t}: {v:,.0f} req/s'
                       f'</title></rect>')
            out.append(f'<text x="{x + 2:.1f}" y="{y0 + ph - h - 3:.1f}" font-size="9">'
                       f'{v / 1000:.0f}k</text>')
        out.append(f'<text x="{x0 + i * group + group / 2:.1f}" y="{y0 + ph + 16}" '
                   f'text-anchor="middle">{p}</text>')
    for j, t in enumerate(colors):
        out.append(f'<rect x="{x0 + j * 140}" y="{H - 40}" width="12" height="12" '
                   f'fill="{colors[t]}"/><text x="{x0 + j * 140 + 16}" y="{H - 30}">{t}</text>')
    # Panel 2: latency percentiles, profile (b), h2ring-loadtest.
    x1 = W / 2 + pad / 2
    keys = [("p50_us", "p50"), ("p90_us", "p90"), ("p99_us", "p99"), ("p999_us", "p99.9")]
    lat = [med.get(("latency", p, "h2ring-loadtest"), {}).get(k) or 0 for p in peers for k, _ in keys]
    top = max(lat + [1]) * 1.15
    out.append(f'<text x="{x1}" y="30" font-size="14">(b) -c 1 -m 1 latency, µs '
               f'(h2ring-loadtest, median)</text>')
    out.append(f'<line x1="{x1}" y1="{y0 + ph}" x2="{x1 + pw}" y2="{y0 + ph}" stroke="black"/>')
    for i, p in enumerate(peers):
        for j, (k, label) in enumerate(keys):
            v = med.get(("latency", p, "h2ring-loadtest"), {}).get(k) or 0
            h = ph * v / top
            bw = (group - 12) / len(keys)
            x = x1 + i * group + 6 + j * bw
            out.append(f'<rect x="{x:.1f}" y="{y0 + ph - h:.1f}" width="{bw - 2:.1f}" '
                       f'height="{h:.1f}" fill="{pct_colors[j]}"><title>{p} {label}: {v:.0f} µs'
                       f'</title></rect>')
        out.append(f'<text x="{x1 + i * group + group / 2:.1f}" y="{y0 + ph + 16}" '
                   f'text-anchor="middle">{p}</text>')
    for j, (_, label) in enumerate(keys):
        out.append(f'<rect x="{x1 + j * 80}" y="{H - 40}" width="12" height="12" '
                   f'fill="{pct_colors[j]}"/><text x="{x1 + j * 80 + 16}" y="{H - 30}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A typing bench over the real local model: two augur builds, paired, on the same keystrokes.

Real source lines (Python from the standard library, Rust from the cargo registry) are retyped one
character at a time into an open document; every few keystrokes each build is asked for an inline
completion (automatic trigger, as an editor asks while the person types) and the bench waits for
the answer. A small HTTP proxy between augur and llama-server records, per request, the prompt
tokens the server had to evaluate and the tokens it generated (llama.cpp's `timings.prompt_n` and
`predicted_n`, asked for per token so that cancelled generations report them too).

    scripts/local-model.sh start 8391      # and a second server for build b, e.g. on 8392
    scripts/bench-typing.py --llama http://127.0.0.1:8391 --llama-b http://127.0.0.1:8392 \
        --a OLD_AUGUR --b NEW_AUGUR [--lines 8]

By default each request's keystrokes are typed at once. `--keystroke-ms 200` types in a person's
rhythm instead (gaps of 100 to 300 ms, a brisk 60 words a minute; the next keystroke does not wait
for an answer), so that what a build does between keystrokes (asking ahead) is measured; the model
requests made between two answers count for the second.

`--set-b prefix_tokens=512` (and `--set-a`) changes a [completion] setting of one build, to compare
settings on one binary.

Each build types the whole run alone (build a, then build b), so the two never compete for the
cores and what one does between keystrokes is never timed as the other's; each build's server
keeps only that build's prompts in its cache.

It prints, per build: time to answer (p50, p90, max), prompt tokens evaluated per model request
(median, p90), tokens generated (median, max), the share of suggestions whose first line equals
the rest of the line typed next, and the longest suggestion where the cursor was at the end of a
line with code on it (one line is what such a position allows). This is a bench, not a test: the
figures depend on the machine.
"""

import argparse
import glob
import http.client
import http.server
import json
import os
import random
import shutil
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

# ---------------------------------------------------------------------------------------------
# The proxy: forwards to llama-server, asks for per-token timings, keeps the last ones seen.

RECORDS_LOCK = threading.Lock()


def make_proxy(upstream, records):
    target = urllib.parse.urlparse(upstream)

    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.forward(None)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            try:
                data = json.loads(body)
                data["timings_per_token"] = True
                body = json.dumps(data).encode()
            except ValueError:
                pass
            self.forward(body)

        def forward(self, body):
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=120)
            headers = {"Content-Type": "application/json"}
            conn.request(self.command, self.path, body=body, headers=headers)
            reply = conn.getresponse()
            record = {"path": self.path, "prompt_n": None, "predicted_n": 0, "cache_n": None}
            if body is not None:
                with RECORDS_LOCK:
                    records.append(record)
            self.send_response(reply.status)
            for name, value in reply.getheaders():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                pending = b""
                while True:
                    chunk = reply.read1(65536)
                    if not chunk:
                        break
                    pending += chunk
                    while b"\n" in pending:
                        line, pending = pending.split(b"\n", 1)
                        note(record, line)
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                note(record, pending)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # augur closed the connection: closing ours makes llama-server cancel.
            finally:
                conn.close()

    return Proxy


def note(record, line):
    line = line.strip()
    if line.startswith(b"data:"):
        line = line[5:].strip()
    if not line.startswith(b"{"):
        return
    try:
        data = json.loads(line)
    except ValueError:
        return
    timings = data.get("timings")
    if isinstance(timings, dict):
        record["prompt_n"] = timings.get("prompt_n", record["prompt_n"])
        record["cache_n"] = timings.get("cache_n", record["cache_n"])
        record["predicted_n"] = timings.get("predicted_n", record["predicted_n"])


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


# ---------------------------------------------------------------------------------------------
# An LSP client over stdio.


class Lsp:
    def __init__(self, binary, root, config, log):
        self.proc = subprocess.Popen(
            [binary],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=root,
            env={**os.environ, "AUGUR_LOG": "augur=warn", "AUGUR_CONFIG": config},
        )
        self.next_id = 0
        self.root = root

    def send(self, message):
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.proc.stdin.flush()

    def read(self):
        length = None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("augur exited")
            line = line.strip()
            if not line:
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.proc.stdout.read(length))

    def request(self, method, params):
        self.next_id += 1
        my_id = self.next_id
        self.send({"jsonrpc": "2.0", "id": my_id, "method": method, "params": params})
        while True:
            message = self.read()
            if message.get("id") == my_id and "method" not in message:
                return message
            if "method" in message and "id" in message:
                # A request from the server (configuration, progress): answer with nothing.
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def close(self):
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()


def position_of(text, offset):
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return {"line": line, "character": len(text[start:offset].encode("utf-16-le")) // 2}


# ---------------------------------------------------------------------------------------------
# The typing.


def pick_lines(text, count):
    """Lines to retype, as a person writes them: `count` consecutive lines of code (not blank,
    not comments) from the middle of the file."""
    lines = text.split("\n")
    candidates = []
    for number, line in enumerate(lines):
        body = line.strip()
        if len(body) < 8 or len(body) > 80 or body.startswith(("#", "//", "/*", "*", '"""')):
            continue
        candidates.append(number)
    middle = len(candidates) // 2
    return candidates[middle : middle + count]


OPENERS = ("{", "(", "[", ":", "=>", "->")


def one_line_position(line_prefix, rest):
    body = line_prefix.strip()
    return bool(body) and not rest.strip() and not body.endswith(OPENERS)


def percentile(values, share):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--llama", required=True, help="llama-server URL (of build a)")
    parser.add_argument(
        "--llama-b",
        help="a second llama-server for build b (recommended: with one server the two builds' "
        "prompts share and evict one KV cache, which neither would see alone)",
    )
    parser.add_argument("--a", required=True, help="augur binary (before)")
    parser.add_argument("--b", required=True, help="augur binary (after)")
    parser.add_argument("--lines", type=int, default=10, help="lines retyped per file")
    parser.add_argument("--every", type=int, default=3, help="keystrokes between requests")
    parser.add_argument(
        "--keystroke-ms",
        type=float,
        default=0.0,
        help="the person's usual gap between two keystrokes (each gap is half to one and a half "
        "of it; 200 is a brisk 60 words a minute); 0 types each request's keystrokes at once",
    )
    parser.add_argument("--files", nargs="*", help="source files (default: one Python, one Rust)")
    parser.add_argument(
        "--temperature",
        type=float,
        default=0.0,
        help="completion.temperature of both builds (0: the same prompt gets the same answer)",
    )
    parser.add_argument(
        "--debounce-max-ms",
        type=int,
        default=None,
        help="completion.debounce_max_ms of both builds (default: augur's)",
    )
    for name in ("a", "b"):
        parser.add_argument(
            "--set-" + name,
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="a [completion] setting of build %s only, as TOML (e.g. prefix_tokens=512): "
            "compares settings on one binary" % name,
        )
    args = parser.parse_args()

    args.a, args.b = os.path.abspath(args.a), os.path.abspath(args.b)
    files = [os.path.abspath(f) for f in args.files] if args.files else default_files()
    records = {"a": [], "b": []}
    proxies = {}
    for name, upstream in (("a", args.llama), ("b", args.llama_b or args.llama)):
        proxy = ThreadingServer(("127.0.0.1", 0), make_proxy(upstream, records[name]))
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        proxies[name] = proxy

    work = tempfile.mkdtemp(prefix="augur-typing-")
    results = {"a": [], "b": []}
    try:
        clients = {}
        for name, binary in (("a", args.a), ("b", args.b)):
            root = os.path.join(work, name)
            os.makedirs(root)
            for path in files:
                shutil.copy(path, root)
            # The model's address is the user's to choose (a workspace file may not set it), so
            # each build gets its own user configuration file outside the workspace.
            config = os.path.join(work, name + "-config.toml")
            with open(config, "w") as f:
                f.write(
                    '[models.default]\nbackend = "openai"\nurl = "%s"\nmodel = "SmolLM2-135M"\n'
                    "[llm.cache]\nenabled = true\n[completion]\ntemperature = %s\n%s%s"
                    % (
                        "http://127.0.0.1:%d/v1" % proxies[name].server_address[1],
                        args.temperature,
                        ""
                        if args.debounce_max_ms is None
                        else "debounce_max_ms = %d\n" % args.debounce_max_ms,
                        "".join(line + "\n" for line in getattr(args, "set_" + name)),
                    )
                )
            log = open(os.path.join(work, name + ".log"), "w")
            lsp = Lsp(binary, root, config, log)
            lsp.request(
                "initialize",
                {
                    "processId": None,
                    "rootUri": "file://" + root,
                    "workspaceFolders": [{"uri": "file://" + root, "name": name}],
                    "capabilities": {"textDocument": {"inlineCompletion": {}}},
                },
            )
            lsp.notify("initialized", {})
            clients[name] = lsp
        time.sleep(3)  # let the index build

        # Each build types the whole run alone, so that what it does between keystrokes (asking
        # ahead) never runs while the other build is being timed, nor competes with it for the
        # cores. Each has its own model server, so neither finds the other's prompts cached.
        for name in ("a", "b"):
            type_files(args, files, {name: clients[name]}, records, results)
        for lsp in clients.values():
            lsp.close()
    finally:
        for proxy in proxies.values():
            proxy.shutdown()

    print("requests per build: %d (files: %s)" % (len(results["a"]), ", ".join(files)))
    header = "| figure | before (a) | after (b) |"
    print(header)
    print("|---|---|---|")
    rows = []

    def row(label, fn):
        print("| %s | %s | %s |" % (label, fn(results["a"]), fn(results["b"])))

    row("time to answer p50 (ms)", lambda r: "%.0f" % percentile([x["ms"] for x in r], 0.5))
    row("time to answer p90 (ms)", lambda r: "%.0f" % percentile([x["ms"] for x in r], 0.9))
    row("time to answer max (ms)", lambda r: "%.0f" % max(x["ms"] for x in r))
    row("model requests", lambda r: "%d" % sum(x["calls"] for x in r))
    called = lambda r: [x for x in r if x["calls"]]
    row(
        "prompt tokens evaluated, median per model request",
        lambda r: "%.0f" % percentile([x["prompt_n"] for x in called(r)], 0.5),
    )
    row(
        "prompt tokens evaluated, p90 per model request",
        lambda r: "%.0f" % percentile([x["prompt_n"] for x in called(r)], 0.9),
    )
    row(
        "tokens generated, median / max per model request",
        lambda r: "%.0f / %d"
        % (
            percentile([x["predicted_n"] for x in called(r)], 0.5),
            max([x["predicted_n"] for x in called(r)] or [0]),
        ),
    )
    row(
        "first line = text typed next",
        lambda r: "%d/%d (%.0f%%)"
        % (sum(x["match"] for x in r), len(r), 100.0 * sum(x["match"] for x in r) / len(r)),
    )
    row(
        "longest suggestion at a one-line position (lines)",
        lambda r: "%d" % max([x["lines"] for x in r if x["one_line"]] or [0]),
    )
    json.dump(results, open(os.path.join(work, "results.json"), "w"))
    print("raw results: %s" % os.path.join(work, "results.json"))




def type_files(args, files, clients, records, results):
    """Retypes lines of each file in every build of `clients`, asking for completions."""
    jitter = random.Random(7)

    def keystroke_pause(busy_ms):
        # A person's next keystroke does not wait for the suggestion: the pause is the rest of
        # their gap (half to one and a half of --keystroke-ms) after the time spent waiting.
        if args.keystroke_ms > 0:
            gap = args.keystroke_ms * jitter.uniform(0.5, 1.5)
            time.sleep(max(0.0, gap - busy_ms) / 1000.0)

    with RECORDS_LOCK:
        seen = {name: len(records[name]) for name in clients}
    for path in files:
        text = open(path).read()
        language = "python" if path.endswith(".py") else "rust"
        base = os.path.basename(path)
        version = {"a": 1, "b": 1}
        for name, lsp in clients.items():
            uri = "file://" + os.path.join(lsp.root, base)
            lsp.notify(
                "textDocument/didOpen",
                {
                    "textDocument": {
                        "uri": uri,
                        "languageId": language,
                        "version": 1,
                        "text": text,
                    }
                },
            )
        # The person moves to each line in turn (the document stays open, as in an editor),
        # clears it and types it again.
        for number in pick_lines(text, args.lines):
            lines = text.split("\n")
            target = lines[number]
            indent = target[: len(target) - len(target.lstrip())]
            body = target[len(indent) :]
            lines[number] = indent
            start = sum(len(l) + 1 for l in lines[:number]) + len(indent)
            document = "\n".join(lines)
            for typed in range(0, len(body) + 1):
                current = document[:start] + body[:typed] + document[start:]
                cursor = start + typed
                if typed == 0:
                    # The line is cleared: one change of the whole text.
                    change = {"text": current}
                else:
                    # A keystroke, as editors send it: the character inserted at the cursor.
                    at = position_of(current, cursor - 1)
                    change = {"range": {"start": at, "end": at}, "text": body[typed - 1]}
                for name, lsp in clients.items():
                    version[name] += 1
                    uri = "file://" + os.path.join(lsp.root, base)
                    lsp.notify(
                        "textDocument/didChange",
                        {
                            "textDocument": {"uri": uri, "version": version[name]},
                            "contentChanges": [change],
                        },
                    )
                if typed % args.every != 0 or typed == len(body):
                    keystroke_pause(0.0)
                    continue
                rest = body[typed:]
                line_prefix = indent + body[:typed]
                busy = time.perf_counter()
                for name in clients:
                    lsp = clients[name]
                    uri = "file://" + os.path.join(lsp.root, base)
                    began = time.perf_counter()
                    reply = lsp.request(
                        "textDocument/inlineCompletion",
                        {
                            "textDocument": {"uri": uri},
                            "position": position_of(current, cursor),
                            "context": {"triggerKind": 2},
                        },
                    )
                    elapsed = (time.perf_counter() - began) * 1000
                    time.sleep(0.05)  # the proxy finishes recording a cancelled stream
                    with RECORDS_LOCK:
                        # The model requests since the last answer: asked for this one, and
                        # asked ahead while the person typed.
                        calls = [
                            r for r in records[name][seen[name] :] if "completions" in r["path"]
                        ]
                        seen[name] = len(records[name])
                    items = (reply.get("result") or {}).get("items", []) if isinstance(
                        reply.get("result"), dict
                    ) else (reply.get("result") or [])
                    suggestion = items[0]["insertText"] if items else ""
                    if isinstance(suggestion, dict):
                        suggestion = suggestion.get("value", "")
                    first = suggestion.split("\n")[0]
                    results[name].append(
                        {
                            "ms": elapsed,
                            "calls": len(calls),
                            "prompt_n": sum(c["prompt_n"] or 0 for c in calls),
                            "predicted_n": sum(c["predicted_n"] or 0 for c in calls),
                            "match": bool(first) and first.rstrip() == rest.rstrip(),
                            "lines": len(suggestion.split("\n")) if suggestion else 0,
                            "one_line": one_line_position(line_prefix, ""),
                            "typed": line_prefix,
                            "rest": rest,
                            "suggestion": suggestion,
                        }
                    )
                keystroke_pause((time.perf_counter() - busy) * 1000)
        for name, lsp in clients.items():
            uri = "file://" + os.path.join(lsp.root, base)
            lsp.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def default_files():
    stdlib = subprocess.check_output(
        [sys.executable, "-c", "import sysconfig;print(sysconfig.get_paths()['stdlib'])"],
        text=True,
    ).strip()
    python = os.path.join(stdlib, "json", "decoder.py")
    rust = sorted(
        glob.glob(os.path.expanduser("~/.cargo/registry/src/*/semver-1.*/src/parse.rs"))
    ) or sorted(glob.glob(os.path.expanduser("~/.cargo/registry/src/*/*/src/lib.rs")))
    if not rust:
        sys.exit("no Rust sources in ~/.cargo/registry/src: build the project once first")
    return [python, rust[-1]]


if __name__ == "__main__":
    main()

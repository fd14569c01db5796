#!/usr/bin/python3
"""ai-inference workload for the Assay corpus: a small PyTorch model served over HTTP, and a
client that sends it requests with realistic, bursty gaps.

What it does
  `inference.py serve --port P`: loads a small CNN classifier (3x32x32 input, 10 classes; the
  same shape as bench/workloads/train.py, random weights — the weights do not change the cost),
  switches it to eval mode with torch.inference_mode(), and answers POST /v1/predict on
  127.0.0.1:P with a ThreadingHTTPServer. Each request carries a batch size; the server builds
  that many inputs, runs the forward pass and returns the top-1 classes as JSON. A dynamic
  micro-batch is not modelled; each request is one forward pass, as in TorchServe's default
  handler with batch_size 1..N.
  `inference.py client --port P`: a request loop with keep-alive connections, arrivals as a
  Poisson process whose rate itself switches between quiet and busy phases (an on/off
  modulated Poisson process), batch sizes 1..32. Both modes stop on their own after --seconds.

How it mirrors the real thing
  Online inference is request-driven: CPU (or GPU) use follows traffic — short compute bursts
  per request, idle gaps between them, and many short-lived or keep-alive client connections to
  one listening port — not the flat, saturated duty cycle of training or mining. Request
  arrivals in production are bursty (diurnal and sub-minute bursts), commonly modelled as a
  modulated Poisson process.

Sources
  - PyTorch, torch.inference_mode: https://pytorch.org/docs/stable/generated/torch.inference_mode.html
  - TorchServe default handlers and batching: https://pytorch.org/serve/batch_inference_with_ts.html
  - Python http.server.ThreadingHTTPServer: https://docs.python.org/3/library/http.server.html
  - Bursty (MMPP) request arrivals in serving: e.g. "Clockwork: Predictable DNN serving"
    (OSDI 2020) and Azure Functions traces (Shahrad et al., USENIX ATC 2020).
Debian package: python3-torch. Run with /usr/bin/python3.
"""
import argparse
import http.client
import json
import random
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(args: argparse.Namespace) -> int:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
            self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
            self.fc1 = nn.Linear(64 * 8 * 8, 96)
            self.fc2 = nn.Linear(96, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))

    model = Net().eval()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, *_a) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get('content-length', '0') or 0))
            try:
                batch = max(1, min(64, int(json.loads(body or b'{}').get('batch', 1))))
            except ValueError:
                batch = 1
            with torch.inference_mode():
                x = torch.randn(batch, 3, 32, 32)
                out = model(x).argmax(1).tolist()
            data = json.dumps({'classes': out}).encode()
            self.send_response(200)
            self.send_header('content-type', 'application/json')
            self.send_header('content-length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            data = b'{"status":"ok"}'
            self.send_response(200)
            self.send_header('content-length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    srv = ThreadingHTTPServer(('127.0.0.1', args.port), Handler)
    srv.daemon_threads = True
    srv.timeout = 0.5
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    t_end = time.monotonic() + args.seconds
    print(f'inference: serving on 127.0.0.1:{args.port}', flush=True)
    while time.monotonic() < t_end:
        srv.handle_request()
    return 0


def client(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    t_end = time.monotonic() + args.seconds
    conns = []
    busy = False
    phase_end = time.monotonic()
    sent = 0
    while time.monotonic() < t_end:
        now = time.monotonic()
        if now >= phase_end:
            busy = not busy
            # busy phases 3-15 s at ~25 req/s, quiet phases 2-10 s at ~2 req/s
            phase_end = now + (rng.uniform(3, 15) if busy else rng.uniform(2, 10))
        rate = 25.0 if busy else 2.0
        time.sleep(rng.expovariate(rate))
        if not conns or rng.random() < 0.05:  # clients come and go
            if len(conns) >= 4:
                conns.pop(0).close()
            conns.append(http.client.HTTPConnection('127.0.0.1', args.port, timeout=10))
        c = rng.choice(conns)
        body = json.dumps({'batch': rng.choice([1, 1, 1, 2, 4, 8, 16, 32])})
        try:
            c.request('POST', '/v1/predict', body=body, headers={'content-type': 'application/json'})
            c.getresponse().read()
            sent += 1
        except (OSError, http.client.HTTPException):
            conns.remove(c)
            time.sleep(0.2)
    print(f'inference client: {sent} requests', flush=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('mode', choices=['serve', 'client'])
    ap.add_argument('--port', type=int, default=28080)
    ap.add_argument('--seconds', type=float, default=300)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=1)
    args = ap.parse_args()
    return serve(args) if args.mode == 'serve' else client(args)


if __name__ == '__main__':
    sys.exit(main())

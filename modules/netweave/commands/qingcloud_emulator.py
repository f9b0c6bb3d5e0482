"""netweave qingcloud-emulator: serve a local QingCloud IaaS API on 127.0.0.1 so that the
Pulumi program (or any qingcloud-sdk client) can run with no QingCloud account."""

from __future__ import annotations

import argparse
import errno
import sys

from netweave.qingcloud_emulator import Emulator, Faults, check_loopback
from netweave.qingcloud_emulator.profiles import PROFILES

NAME = "qingcloud-emulator"
HELP = "serve a local QingCloud API (emulator) for tests and credential-free `pulumi up`"
ORDER = 70
DEFAULT_PORT = 4100


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a rate is between 0 and 1, got {text}")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"TCP port (default {DEFAULT_PORT}; 0 = any free port)")
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (only 127.0.0.0/8, ::1)")
    p.add_argument("--zone", action="append", default=None, metavar="ZONE",
                   help="accept only this zone (repeatable; default: any zone)")
    p.add_argument("--access-key-id", help="access key id clients sign with (default: generated)")
    p.add_argument("--secret-access-key", help="its secret (default: generated; prefer the env var "
                                               "QY_EMULATOR_SECRET to keep it out of `ps`)")
    p.add_argument("--profile", choices=PROFILES, default="fast",
                   help="job durations: fast (every job --job-seconds) or realistic (CreateRouters "
                        "~10 s, RunInstances ~15 s, JoinRouter ~3 s ...)")
    p.add_argument("--job-seconds", type=float, default=0.2, help="duration of a job in the fast profile")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every job duration")
    p.add_argument("--lease-seconds", type=float, default=0.0,
                   help="after a create, modify/delete is refused (1400) for this long")
    p.add_argument("--fault-rate", type=_rate, default=0.0, help="share of calls answered 5100/5000")
    p.add_argument("--http500-rate", type=_rate, default=0.0, help="share of calls answered HTTP 500")
    p.add_argument("--lost-response-rate", type=_rate, default=0.0,
                   help="share of calls executed but answered HTTP 500")
    p.add_argument("--job-failure-rate", type=_rate, default=0.0, help="share of jobs ending failed")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every call")
    p.add_argument("--seed", type=int, default=None, help="seed ids and faults (reproducible runs)")
    p.add_argument("--state", metavar="FILE", help="keep state in this JSON file across restarts")
    p.add_argument("--log", action="store_true", help="print one line per API call")


def run(args: argparse.Namespace) -> int:
    import os

    try:
        check_loopback(args.host)
        faults = Faults(rate=args.fault_rate, http500_rate=args.http500_rate,
                        lost_response_rate=args.lost_response_rate,
                        job_failure_rate=args.job_failure_rate, latency=args.latency, seed=args.seed)
        secret = args.secret_access_key or os.environ.get("QY_EMULATOR_SECRET")
        emulator = Emulator(args.access_key_id, secret,
                            host=args.host, port=args.port, zones=set(args.zone) if args.zone else None,
                            job_seconds=args.job_seconds, profile=args.profile, scale=args.scale,
                            lease_seconds=args.lease_seconds, faults=faults, seed=args.seed,
                            state_file=args.state, log=args.log)
        emulator.start()
    except (ValueError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
            print(f"netweave qingcloud-emulator: port {args.port} on {args.host} is already in use "
                  "(another emulator?); choose another --port, or --port 0 for any free one",
                  file=sys.stderr)
        else:
            print(f"netweave qingcloud-emulator: {exc}", file=sys.stderr)
        return 2
    generated = not args.secret_access_key and not os.environ.get("QY_EMULATOR_SECRET")
    print(f"QingCloud API emulator listening on {emulator.endpoint}/iaas/ "
          f"(profile {args.profile}, zones {', '.join(args.zone) if args.zone else 'any'})")
    print("Point the Pulumi program (or any qingcloud-sdk client) at it:")
    for key, value in emulator.env().items():
        print(f"  export {key}={value}")
    if generated:
        print("WARNING: these credentials were generated for this emulator only; they are not "
              "QingCloud keys and they change on every start.", file=sys.stderr)
    print(f"Control: curl -X POST {emulator.endpoint}/_emulator/faults -d '{{\"rate\": 0.2}}'; "
          f"curl {emulator.endpoint}/_emulator/snapshot", flush=True)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0

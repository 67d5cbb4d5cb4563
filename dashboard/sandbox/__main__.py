"""``python -m dashboard.sandbox --host 127.0.0.1 --port 8070``: run the sandbox gateway."""

from __future__ import annotations

import argparse
import ipaddress
import sys

from werkzeug.serving import make_server

from dashboard.sandbox import DEFAULT_CONFIG, create_app, get_state
from dashboard.sandbox.server import KeepAliveRequestHandler


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.sandbox",
        description="Simulated iHela merchant gateway (v1 API) for local use and tests.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8070, help="port to listen on (0 = any)")
    parser.add_argument("--client-id", default=DEFAULT_CONFIG["SANDBOX_CLIENT_ID"])
    parser.add_argument("--client-secret", default=DEFAULT_CONFIG["SANDBOX_CLIENT_SECRET"])
    parser.add_argument(
        "--public-url",
        default=None,
        help="base URL used in the links it hands out (default: the address it is reached at)",
    )
    parser.add_argument(
        "--state-file", default=None, help="keep bills and cash-ins in this JSON file"
    )
    parser.add_argument(
        "--token-ttl", type=int, default=DEFAULT_CONFIG["SANDBOX_TOKEN_TTL"], help="seconds"
    )
    return parser


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    public_url = args.public_url
    if public_url and not public_url.endswith("/"):
        public_url += "/"
    app = create_app(
        {
            "SANDBOX_CLIENT_ID": args.client_id,
            "SANDBOX_CLIENT_SECRET": args.client_secret,
            "SANDBOX_PUBLIC_URL": public_url,
            "SANDBOX_STATE_FILE": args.state_file,
            "SANDBOX_TOKEN_TTL": args.token_ttl,
        }
    )
    # Threaded, HTTP/1.1 keep-alive: the dashboard's client reuses its connections.
    server = make_server(
        args.host, args.port, app, threaded=True, request_handler=KeepAliveRequestHandler
    )
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{server.port}/"
    print(f"iHela sandbox gateway on {url}", flush=True)
    print(f"  client id:     {args.client_id}", flush=True)
    print(f"  client secret: {args.client_secret}", flush=True)
    print(f"  links use:     {public_url or url}", flush=True)
    if not _is_loopback(args.host):
        print(
            "  warning: listening beyond loopback; anyone who can reach it can use it", flush=True
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        get_state(app).stop()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

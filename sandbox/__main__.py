"""Run the sandbox: a Twilio-compatible carrier and a voice agent (Realtime and AssemblyAI protocols).

    python -m sandbox --carrier-port 8766 --agent-port 8765

(``--carrier-fd`` and ``--agent-fd`` serve on listening sockets inherited from a parent instead,
which bound them and so knows their ports.)

Point the dialer at it with ``DIALER_TWILIO_API_BASE_URL=http://127.0.0.1:8766`` and
``DIALER_OPENAI__WEBSOCKET_BASE_URL=ws://127.0.0.1:8765/v1`` or, with ``DIALER_VOICE_AGENT=assemblyai``,
``DIALER_ASSEMBLYAI__URL=ws://127.0.0.1:8765/v1/ws`` (the defaults). The sandbox speaks only
the wire protocols; it shares no code with the product. ``--hubspot-port 8767`` also serves a
HubSpot stand-in (``sandbox.hubspot``) for rehearsing CRM sync: point
``DIALER_CRM__HUBSPOT__BASE_URL`` at it with ``DIALER_CRM__HUBSPOT__ACCESS_TOKEN=sandbox-hubspot-token``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

import uvicorn

from sandbox.agent import AgentConfig, create_agent_app
from sandbox.carrier import CarrierConfig, CarrierFaults, create_carrier_app
from sandbox.hubspot import DEFAULT_TOKEN as DEFAULT_HUBSPOT_TOKEN
from sandbox.hubspot import create_hubspot_app

DEFAULT_ACCOUNT_SID = "AC" + "5a" * 16
DEFAULT_AUTH_TOKEN = "sandbox-auth-token"
DEFAULT_OPENAI_KEY = "sandbox-openai-key"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--carrier-port", type=int, default=8766)
    parser.add_argument("--agent-port", type=int, default=8765)
    parser.add_argument(
        "--carrier-fd", type=int, help="serve the carrier on this inherited listening socket (not a port)"
    )
    parser.add_argument(
        "--agent-fd", type=int, help="serve the agent on this inherited listening socket (not a port)"
    )
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument("--openai-key", default=DEFAULT_OPENAI_KEY)
    parser.add_argument("--ring-seconds", type=float, default=1.0, help="ring time before answer/no-answer")
    parser.add_argument("--ms-per-char", type=float, default=12.0, help="speaking time per character, ms")
    parser.add_argument("--generation-speed", type=float, default=2.0, help="agent audio speed vs real time")
    parser.add_argument(
        "--hubspot-port",
        type=int,
        help="also serve a HubSpot stand-in (CRM v3: contacts, calls, meetings) here",
    )
    parser.add_argument("--hubspot-token", default=DEFAULT_HUBSPOT_TOKEN, help="the Bearer token it accepts")
    parser.add_argument(
        "--agent-delay-ms",
        type=int,
        default=0,
        help="a slow agent: wait this long before each response's audio",
    )
    parser.add_argument(
        "--agent-connect-delay-ms",
        type=int,
        default=0,
        help="the agent accepts each connection this much later",
    )
    parser.add_argument("--log-level", default="warning")
    faults = parser.add_argument_group("faults (also settable at run time: POST /sandbox/faults)")
    faults.add_argument("--duplicate-callbacks", action="store_true", help="deliver every webhook twice")
    faults.add_argument(
        "--shuffle-callbacks", action="store_true", help="deliver status callbacks out of order"
    )
    faults.add_argument("--drop-final-status", action="store_true", help="never send the final status")
    faults.add_argument("--amd-delay-ms", type=int, default=0, help="deliver the AMD verdict this much later")
    return parser


def _address(args: argparse.Namespace, port: int, fd: int | None) -> dict[str, Any]:
    """Where a server listens: an inherited socket (a parent bound it, knowing its port) or a port."""
    return {"fd": fd} if fd is not None else {"host": args.host, "port": port}


async def _serve(args: argparse.Namespace) -> None:
    carrier = create_carrier_app(
        CarrierConfig(
            account_sid=args.account_sid,
            auth_token=args.auth_token,
            ring_seconds=args.ring_seconds,
            ms_per_char=args.ms_per_char,
        ),
        CarrierFaults(
            duplicate_callbacks=args.duplicate_callbacks,
            shuffle_callbacks=args.shuffle_callbacks,
            drop_final_status=args.drop_final_status,
            amd_delay_ms=args.amd_delay_ms,
        ),
    )
    agent = create_agent_app(
        AgentConfig(
            api_key=args.openai_key,
            ms_per_char=args.ms_per_char,
            generation_speed=args.generation_speed,
            first_audio_delay_ms=args.agent_delay_ms,
            connect_delay_ms=args.agent_connect_delay_ms,
        )
    )
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                carrier, **_address(args, args.carrier_port, args.carrier_fd), log_level=args.log_level
            )
        ),
        uvicorn.Server(
            uvicorn.Config(
                agent,
                **_address(args, args.agent_port, args.agent_fd),
                log_level=args.log_level,
                ws_max_size=16 * 1024 * 1024,
            )
        ),
    ]
    if args.hubspot_port is not None:
        hubspot = create_hubspot_app(args.hubspot_token)
        config = uvicorn.Config(hubspot, host=args.host, port=args.hubspot_port, log_level=args.log_level)
        servers.append(uvicorn.Server(config))
    await asyncio.gather(*(server.serve() for server in servers))


def main() -> None:
    """Parse arguments and serve until interrupted."""
    args = _parser().parse_args()
    logging.basicConfig(level=args.log_level.upper())
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()

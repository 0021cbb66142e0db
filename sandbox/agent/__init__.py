"""A scripted voice agent that speaks the OpenAI Realtime GA protocol, for offline rehearsals.

It stands in for ``wss://api.openai.com/v1/realtime``: the product's bridge connects to it with the
official ``openai`` SDK (``websocket_base_url="ws://host:port/v1"``) and exchanges GA events. The
caller's speech arrives as the sandbox speech code in μ-law audio; the agent answers with a
deterministic sales script (:mod:`sandbox.agent.script`) in the same code::

    from sandbox.agent import AgentConfig, create_agent_app

    app = create_agent_app(AgentConfig(api_key="sandbox-openai-key", ms_per_char=12.0, generation_speed=2.0))
"""

from sandbox.agent.app import create_agent_app
from sandbox.agent.config import AgentConfig

__all__ = ["AgentConfig", "create_agent_app"]

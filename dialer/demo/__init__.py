"""``dialer demo``: a whole sandbox campaign end to end, on the embedded defaults or the production stack.

- :mod:`dialer.demo.runner`: the run (fresh database, the seed, the processes, the report).
- :mod:`dialer.demo.seed`: registries, the campaign, earlier opt-outs and the leads, before the run.
- :mod:`dialer.demo.stack`: PostgreSQL + Redis + N Celery workers and beat (``--database-url`` ...).
- :mod:`dialer.demo.processes`: starting, watching and stopping the child processes.
- :mod:`dialer.demo.report`: the report read back from the database and the sandbox carrier.
"""

from dialer.demo.runner import DemoOptions, run_demo
from dialer.demo.seed import earlier_opt_outs_file
from dialer.demo.stack import Stack, check_stack_urls

__all__ = ["DemoOptions", "Stack", "check_stack_urls", "earlier_opt_outs_file", "run_demo"]

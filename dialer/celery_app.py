"""The Celery application: broker from settings, late acks, one message at a time per process.

The module-level :data:`app` is built lazily: importing this module (or :mod:`dialer.tasks`) reads
no environment and creates no folder. The app takes its configuration from
:func:`dialer.settings.get_settings` the first time Celery needs it (a worker or beat starting, a
task being sent), through :func:`celery_config`, the same factory :func:`create_celery_app` uses
for an app built from explicit settings.

Run a worker with ``dialer worker`` (or ``celery -A dialer.celery_app worker``) and the scheduler
tick with ``dialer beat`` (or ``worker --beat`` for a single-machine setup). The default broker is
embedded filesystem broker (``localfs://``, :mod:`dialer.broker`) under
``DIALER_BROKER_DIR``; production uses Redis.
"""

from __future__ import annotations

from pathlib import Path

from celery import Celery
from celery.signals import worker_process_init
from kombu import Queue

from dialer import broker
from dialer.settings import Settings, get_settings


def _broker_options(settings: Settings) -> dict[str, object]:
    if not settings.broker_url.startswith(f"{broker.SCHEME}://"):
        return {"visibility_timeout": 3600}
    queue_dir = Path(settings.broker_dir).resolve()
    for sub in ("queue", "processed", "control"):
        (queue_dir / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(queue_dir / "queue"),
        "data_folder_out": str(queue_dir / "queue"),
        "processed_folder": str(queue_dir / "processed"),
        "control_folder": str(queue_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }


AUDIT_SEAL_INTERVAL_SECONDS = 5.0
"""How often beat seals the audit events committed since the last seal."""
OUTBOX_PRUNE_INTERVAL_SECONDS = 3600.0
"""How often beat prunes the outbox's old delivered messages (``crm.outbox_prune``)."""
DIAL_QUEUE = "celery"
"""The queue of the dialing tasks (tick, dial, audit seal): Celery's default."""
CRM_QUEUE = "crm"
"""The queue of the CRM's tasks (``crm.*``): a CRM outage backs up this queue, never dialing's.
A worker without ``--queues`` consumes both; production runs one worker per queue."""


def celery_config(settings: Settings) -> dict[str, object]:
    """The Celery configuration ``settings`` call for (the embedded broker's folders are made here)."""
    return dict(
        broker_url=settings.broker_url,
        broker_transport_options=_broker_options(settings),
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        task_queues=(Queue(DIAL_QUEUE), Queue(CRM_QUEUE)),
        task_default_queue=DIAL_QUEUE,
        task_routes={"crm.*": {"queue": CRM_QUEUE}},
        beat_schedule={
            "dialer-tick": {"task": "dialer.tick", "schedule": settings.tick_interval_seconds},
            "dialer-audit-seal": {"task": "dialer.audit_seal", "schedule": AUDIT_SEAL_INTERVAL_SECONDS},
            "crm-outbox-drain": {
                "task": "crm.outbox_drain",
                "schedule": settings.crm.outbox.drain_interval_seconds,
            },
            "crm-outbox-prune": {"task": "crm.outbox_prune", "schedule": OUTBOX_PRUNE_INTERVAL_SECONDS},
        },
        beat_schedule_filename=str(settings.beat_schedule_path),
    )


TASK_MODULES = ["dialer.tasks", "crm.tasks"]
"""The modules whose tasks the app registers, by name: ``crm.tasks`` (the outbox drain) is loaded
by the worker, never imported by the engine (the house's rule: ``dialer`` never imports ``crm``)."""


def create_celery_app(settings: Settings) -> Celery:
    """A Celery app configured from ``settings`` (tasks are registered by :mod:`dialer.tasks`)."""
    app = Celery("dialer", include=TASK_MODULES, set_as_current=False)
    app.conf.update(celery_config(settings))
    return app


app = Celery("dialer", include=TASK_MODULES)
"""The process's app; configured from the process settings on first use (see the module docstring)."""
app.add_defaults(lambda: celery_config(get_settings()))  # a promise: called when the config is first read


@worker_process_init.connect
def _fresh_connections_after_fork(**_: object) -> None:
    """Forked pool processes must not share the parent's database connections."""
    from dialer.db import engine_for

    engine_for(get_settings().database_url).dispose(close=False)

"""A HubSpot stand-in (CRM v3 contacts, calls, meetings) that can fail on demand; see :mod:`.app`."""

from sandbox.hubspot.app import DEFAULT_TOKEN, HubSpotSandbox, create_hubspot_app

__all__ = ["DEFAULT_TOKEN", "HubSpotSandbox", "create_hubspot_app"]

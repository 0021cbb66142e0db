"""A protocol-faithful Twilio stand-in for rehearsing campaigns without real calls.

It serves the Calls REST API the official twilio SDK uses, calls the app's TwiML, status and AMD
webhooks with valid ``X-Twilio-Signature`` headers, and opens Media Streams whose far end is a
scripted prospect persona (see :mod:`sandbox.carrier.personas` and :mod:`sandbox.carrier.cast`).
"""

from sandbox.carrier.app import create_carrier_app
from sandbox.carrier.config import CarrierConfig
from sandbox.carrier.faults import CarrierFaults

__all__ = ["CarrierConfig", "CarrierFaults", "create_carrier_app"]

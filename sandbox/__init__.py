"""Protocol-faithful stand-ins for the outside world: a Twilio-compatible carrier and a Realtime agent.

Users rehearse campaigns on them without spending money; the tests use them to exercise the real
code paths. They speak only the wire protocols and import nothing from the product.
"""

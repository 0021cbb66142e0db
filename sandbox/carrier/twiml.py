"""Parse the TwiML an app returns for an answered call into the verbs the sandbox can run."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field


class TwimlError(ValueError):
    """The document is not TwiML the carrier can run (Twilio would report an application error)."""


@dataclass(frozen=True)
class Say:
    """``<Say>``: text-to-speech; the sandbox only records it.

    Attributes:
        text: what would be spoken.
    """

    text: str


@dataclass(frozen=True)
class Pause:
    """``<Pause length>``: silence.

    Attributes:
        seconds: how long, in seconds (TwiML default 1).
    """

    seconds: float


@dataclass(frozen=True)
class Hangup:
    """``<Hangup/>``: end the call."""


@dataclass(frozen=True)
class ConnectStream:
    """``<Connect><Stream>``: a bidirectional Media Stream; blocks until the app closes the socket.

    Attributes:
        url: the WebSocket URL exactly as written (may be relative to the TwiML URL).
        name: the stream's name, or None.
        status_callback: where ``stream-started``/``stream-stopped``/``stream-error`` go, or None.
        status_callback_method: ``"POST"`` or ``"GET"``.
        parameters: ``<Parameter name value>`` pairs, in document order.
    """

    url: str
    name: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    parameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Unsupported:
    """A verb the sandbox does not run (it is logged and skipped).

    Attributes:
        verb: the verb's name, e.g. ``"Gather"`` or ``"Connect/Room"``.
    """

    verb: str


Verb = Say | Pause | Hangup | ConnectStream | Unsupported


def _connect(element: ElementTree.Element) -> Verb:
    children = list(element)
    if len(children) != 1:
        raise TwimlError(f"<Connect> needs exactly one noun, found {len(children)}")
    noun = children[0]
    if noun.tag != "Stream":
        return Unsupported(f"Connect/{noun.tag}")
    url = noun.get("url")
    if not url:
        raise TwimlError("<Stream> needs a url attribute")
    parameters: dict[str, str] = {}
    for parameter in noun.iter("Parameter"):
        name = parameter.get("name")
        if not name:
            raise TwimlError("<Parameter> needs a name attribute")
        parameters[name] = parameter.get("value", "")
    return ConnectStream(
        url=url,
        name=noun.get("name"),
        status_callback=noun.get("statusCallback"),
        status_callback_method=(noun.get("statusCallbackMethod") or "POST").upper(),
        parameters=parameters,
    )


def _pause(element: ElementTree.Element) -> Pause:
    raw = element.get("length", "1")
    try:
        seconds = float(raw)
    except ValueError:
        raise TwimlError(f"<Pause length={raw!r}> is not a number") from None
    if seconds < 0:
        raise TwimlError(f"<Pause length={raw!r}> is negative")
    return Pause(seconds)


def parse_twiml(document: str) -> list[Verb]:
    """Parse a TwiML document.

    Args:
        document: the XML text the TwiML URL returned.

    Returns:
        The ``<Response>``'s verbs, in order.

    Raises:
        TwimlError: for text that is not XML, a root other than ``<Response>``, or a malformed
            ``<Connect>``, ``<Stream>``, ``<Parameter>`` or ``<Pause>``.
    """
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError as exc:
        raise TwimlError(f"not XML: {exc}") from None
    if root.tag != "Response":
        raise TwimlError(f"root element is <{root.tag}>, expected <Response>")
    verbs: list[Verb] = []
    for element in root:
        if element.tag == "Connect":
            verbs.append(_connect(element))
        elif element.tag == "Say":
            verbs.append(Say((element.text or "").strip()))
        elif element.tag == "Pause":
            verbs.append(_pause(element))
        elif element.tag == "Hangup":
            verbs.append(Hangup())
        else:
            verbs.append(Unsupported(element.tag))
    return verbs

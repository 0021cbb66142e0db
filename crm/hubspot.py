"""HubSpot as the CRM, through HubSpot's official client (``hubspot-api-client``, CRM v3 objects).

Endpoints used (HubSpot API reference, CRM v3):

- contacts: ``POST /crm/v3/objects/contacts/batch/upsert`` with ``idProperty: "email"`` when the
  email is known (HubSpot's idempotent upsert: the same email never makes a second contact);
  otherwise ``POST /crm/v3/objects/contacts/search`` on ``phone`` and, when none is found,
  ``POST /crm/v3/objects/contacts``;
- calls: ``POST /crm/v3/objects/calls/search`` on ``hs_call_external_id`` (our
  ``ai-dialer-attempt-<id>``), then ``POST /crm/v3/objects/calls`` associated to the contact
  (association type 194, call to contact), with ``hs_call_status``, the disposition and the
  transcript link in ``hs_call_body``, ``hs_call_duration`` (ms), the numbers and the owner;
- meetings: ``POST /crm/v3/objects/meetings/search`` on ``hs_meeting_external_url`` (our
  ``<public URL>/crm/meetings/<id>``, the meeting's identity in the dialer), then
  ``POST /crm/v3/objects/meetings`` associated to the contact (type 200, meeting to contact)
  with ``hubspot_owner_id``, start and end times.

The owner of a meeting (and of the call that booked it) is its rep's HubSpot owner id
(``dialer users set-hubspot-owner``), else ``DIALER_CRM__HUBSPOT__OWNER_ID``.

Looking up before creating makes a retry after an unknown outcome (a timeout after HubSpot got
the request) find the first try's object instead of duplicating it; a message's first try (never
claimed or logged before) has nothing to find and creates at once. HubSpot's search index can
lag a newly created object by a few seconds; the outbox's first retry comes 30 s later.
The client's own retries are off (``Retry(total=0)``): the outbox retries, with its log.
"""

from __future__ import annotations

from typing import Any

import urllib3
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    SimplePublicObjectBatchInputUpsert,
)
from hubspot.crm.contacts import Filter as ContactFilter
from hubspot.crm.contacts import FilterGroup as ContactFilterGroup
from hubspot.crm.contacts import PublicObjectSearchRequest as ContactSearch
from hubspot.crm.contacts import SimplePublicObjectInputForCreate as ContactCreate
from hubspot.crm.objects import calls as hs_calls
from hubspot.crm.objects import meetings as hs_meetings
from urllib3.util.retry import Retry

from crm.adapters import CallLog, Contact, CrmAdapter, MeetingInvite
from crm.destinations import delivery_error_for_status
from dialer.crm_settings import HubSpotSettings
from dialer.errors import DeliveryError

CALL_TO_CONTACT = 194
"""HubSpot-defined association type id: call -> contact."""
MEETING_TO_CONTACT = 200
"""HubSpot-defined association type id: meeting -> contact."""
CALL_STATUS = {
    "completed": "COMPLETED",
    "busy": "BUSY",
    "no-answer": "NO_ANSWER",
    "failed": "FAILED",
    "canceled": "CANCELED",
}
"""Final carrier status -> ``hs_call_status``."""
_API_ERRORS = (ContactsApiException, hs_calls.ApiException, hs_meetings.ApiException)
REQUESTS_PER_DELIVERY = 4
"""The most requests one message makes: contact search + create, then object search + create."""


def _iso(instant: Any) -> str:
    return str(instant.isoformat().replace("+00:00", "Z"))


class HubSpotCrm(CrmAdapter):
    """:class:`~crm.adapters.CrmAdapter` on HubSpot.

    Args:
        settings: token, API host (a sandbox in rehearsals), owner, timeout.
    """

    def __init__(self, settings: HubSpotSettings) -> None:
        if settings.access_token is None:
            raise DeliveryError("DIALER_CRM__HUBSPOT__ACCESS_TOKEN is not set", retryable=False)
        self._client = HubSpot(
            access_token=settings.access_token.get_secret_value(),
            host=settings.base_url,
            retry=Retry(total=0, redirect=0, raise_on_status=False),
        )
        self._owner = settings.owner_id
        self._timeout = settings.timeout_seconds
        # urllib3 applies the timeout to the connect and to the read of each request.
        self.worst_case_seconds = REQUESTS_PER_DELIVERY * 2 * settings.timeout_seconds

    def _call(self, what: str, method: Any, **kwargs: Any) -> Any:
        """One API request; every failure becomes a :class:`DeliveryError` naming ``what``."""
        try:
            return method(**kwargs, _request_timeout=self._timeout)
        except _API_ERRORS as exc:
            body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else str(exc.body or "")
            error = delivery_error_for_status(int(exc.status or 0), body)
            message = f"HubSpot {what}: {error.message}"
            raise DeliveryError(message, retryable=error.retryable, http_status=error.http_status) from None
        except urllib3.exceptions.HTTPError as exc:  # timeouts, refused connections: outcome unknown
            raise DeliveryError(f"HubSpot {what}: {type(exc).__name__}: {exc}", retryable=True) from None

    def upsert_contact(self, contact: Contact) -> str:
        """Upsert by email, else find by phone or create; return the contact id."""
        properties = {
            "phone": contact.phone_e164,
            "firstname": contact.first_name,
            "lastname": contact.last_name,
            "company": contact.company,
            "jobtitle": contact.title,
            "state": contact.state,
        }
        properties = {k: v for k, v in properties.items() if v}
        contacts = self._client.crm.contacts
        if contact.email:
            item = SimplePublicObjectBatchInputUpsert(
                id_property="email", id=contact.email, properties={**properties, "email": contact.email}
            )
            batch = BatchInputSimplePublicObjectBatchInputUpsert(inputs=[item])
            answer = self._call(
                "contact upsert",
                contacts.batch_api.upsert,
                batch_input_simple_public_object_batch_input_upsert=batch,
            )
            return str(answer.results[0].id)
        search = ContactSearch(
            filter_groups=[ContactFilterGroup(filters=[
                ContactFilter(property_name="phone", operator="EQ", value=contact.phone_e164)
            ])],
            properties=["phone"],
            limit=1,
        )  # fmt: skip
        found = self._call(
            "contact search", contacts.search_api.do_search, public_object_search_request=search
        )
        if found.results:
            return str(found.results[0].id)
        created = self._call(
            "contact create",
            contacts.basic_api.create,
            simple_public_object_input_for_create=ContactCreate(properties=properties),
        )
        return str(created.id)

    def _find(self, kind: str, api: Any, models: Any, property_name: str, value: str) -> str | None:
        match = models.Filter(property_name=property_name, operator="EQ", value=value)
        search = models.PublicObjectSearchRequest(
            filter_groups=[models.FilterGroup(filters=[match])], properties=[property_name], limit=1
        )
        found = self._call(f"{kind} search", api.search_api.do_search, public_object_search_request=search)
        return str(found.results[0].id) if found.results else None

    def _create(
        self, kind: str, api: Any, models: Any, properties: dict[str, Any], contact_id: str, association: int
    ) -> str:
        spec = models.AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=association)
        to = models.PublicAssociationsForObject(to=models.PublicObjectId(id=contact_id), types=[spec])
        body = models.SimplePublicObjectInputForCreate(
            properties={k: v for k, v in properties.items() if v is not None}, associations=[to]
        )
        created = self._call(
            f"{kind} create", api.basic_api.create, simple_public_object_input_for_create=body
        )
        return str(created.id)

    def log_call(self, call: CallLog, *, contact_id: str, look_up: bool = True) -> str:
        """Find the call by ``hs_call_external_id`` (``look_up``) or create it; return its id."""
        api = self._client.crm.objects.calls
        existing = self._find("call", api, hs_calls, "hs_call_external_id", call.key) if look_up else None
        if existing is not None:
            return existing
        body = [
            f"Disposition: {call.disposition}",
            *(f"- {n}" for n in call.notes),
            f"Transcript: {call.transcript_url}",
        ]
        properties = {
            "hs_timestamp": _iso(call.ended_at),
            "hs_call_title": call.title,
            "hs_call_body": "\n".join(body),
            "hs_call_status": CALL_STATUS.get(call.status, "COMPLETED"),
            "hs_call_direction": "OUTBOUND",
            "hs_call_duration": str(call.duration_seconds * 1000),
            "hs_call_from_number": call.from_e164,
            "hs_call_to_number": call.to_e164,
            "hs_call_external_id": call.key,
            "hubspot_owner_id": call.owner_id or self._owner,
        }
        return self._create("call", api, hs_calls, properties, contact_id, CALL_TO_CONTACT)

    def create_meeting(self, meeting: MeetingInvite, *, contact_id: str, look_up: bool = True) -> str:
        """Find the meeting by ``hs_meeting_external_url`` (``look_up``) or create it; return its id."""
        api = self._client.crm.objects.meetings
        existing = None
        if look_up:
            existing = self._find("meeting", api, hs_meetings, "hs_meeting_external_url", meeting.key)
        if existing is not None:
            return existing
        properties = {
            "hs_timestamp": _iso(meeting.starts_at),
            "hs_meeting_title": meeting.title,
            "hs_meeting_body": meeting.body,
            "hs_meeting_start_time": _iso(meeting.starts_at),
            "hs_meeting_end_time": _iso(meeting.ends_at),
            "hs_meeting_outcome": "SCHEDULED",
            "hs_meeting_external_url": meeting.key,
            "hubspot_owner_id": meeting.owner_id or self._owner,
        }
        return self._create("meeting", api, hs_meetings, properties, contact_id, MEETING_TO_CONTACT)

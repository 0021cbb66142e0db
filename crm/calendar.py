"""The reps' calendar feed: booked meetings as iCalendar (RFC 5545), built with ``icalendar``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from crm.meetings import MeetingForRep

PRODUCT_ID = "-//ai-campaign-dialer//meetings//EN"


def _description(meeting: MeetingForRep) -> str:
    local = meeting.starts_at.astimezone(ZoneInfo(meeting.lead_timezone))
    lines = [
        f"{meeting.lead_name}"
        + (f", {meeting.title}" if meeting.title else "")
        + (f" at {meeting.company}" if meeting.company else ""),
        f"Phone: {meeting.phone_e164}  Email: {meeting.email}",
        f"Their time: {local.strftime('%A %B %-d, %-I:%M %p %Z')} ({meeting.lead_timezone})",
        f'They said: "{meeting.requested_text}"  Campaign: {meeting.campaign}',
    ]
    if meeting.notes:
        lines.append(f"Notes: {meeting.notes}")
    if meeting.excerpt:
        lines += ["", "From the call:", *meeting.excerpt]
    return "\n".join(lines)


def calendar_feed(meetings: Iterable[MeetingForRep], *, generated_at: datetime) -> bytes:
    """An iCalendar document with one event per meeting (times in UTC; the prospect invited).

    Args:
        meetings: from :func:`crm.meetings.meetings_for_reps`.
        generated_at: the feed's DTSTAMP (aware).
    """
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Meetings booked by the AI dialer")
    for meeting in meetings:
        event = Event()
        event.add("uid", f"meeting-{meeting.meeting_id}@ai-campaign-dialer")
        event.add("dtstamp", generated_at)
        event.add("dtstart", meeting.starts_at)
        event.add("dtend", meeting.starts_at + timedelta(minutes=meeting.duration_minutes))
        company = f" ({meeting.company})" if meeting.company else ""
        event.add("summary", f"Intro call: {meeting.lead_name}{company}")
        event.add("description", _description(meeting))
        attendee = vCalAddress(f"mailto:{meeting.email}")
        attendee.params["cn"] = vText(meeting.lead_name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=False)
        calendar.add_component(event)
    return calendar.to_ical()

"""SQLAlchemy models of every table (the database belongs to ``dialer``)."""

from dialer.models.account import (
    ApiToken,
    CalendarFeed,
    LoginFailure,
    MeetingAssignment,
    Role,
    User,
    WebSession,
)
from dialer.models.assignment import AssignmentRule, AssignmentRuleKind, AssignmentRuleRep
from dialer.models.audit import AuditEvent, AuditSeal
from dialer.models.call import CallAttempt, GateDecisionRecord, TranscriptTurn
from dialer.models.campaign import Campaign
from dialer.models.compliance import (
    REVOCATION_CHANNELS,
    ComplianceFlag,
    ConsentRevocation,
    ContactAttempt,
    EbrRecord,
)
from dialer.models.dnc import DncEntry
from dialer.models.enums import (
    ACTIVE_ATTEMPT_STATUSES,
    AGENT_SETTABLE_DISPOSITIONS,
    FINAL_ATTEMPT_STATUSES,
    FINAL_LEAD_STATUSES,
    AttemptStatus,
    CallbackStatus,
    CampaignStatus,
    ConsentMethod,
    ConsentType,
    DispositionName,
    DispositionSource,
    LeadStatus,
    MeetingStatus,
    Speaker,
)
from dialer.models.lead import ConsentRecord, Lead
from dialer.models.outbox import OutboxDelivery, OutboxEvent, OutboxEventType, OutboxMessage, OutboxStatus
from dialer.models.outcome import Callback, Disposition, Meeting
from dialer.models.registry import DncSource, RndResult

__all__ = [
    "ACTIVE_ATTEMPT_STATUSES",
    "AGENT_SETTABLE_DISPOSITIONS",
    "FINAL_ATTEMPT_STATUSES",
    "FINAL_LEAD_STATUSES",
    "REVOCATION_CHANNELS",
    "ApiToken",
    "AssignmentRule",
    "AssignmentRuleKind",
    "AssignmentRuleRep",
    "AttemptStatus",
    "AuditEvent",
    "AuditSeal",
    "CalendarFeed",
    "CallAttempt",
    "Callback",
    "CallbackStatus",
    "Campaign",
    "CampaignStatus",
    "ComplianceFlag",
    "ConsentMethod",
    "ConsentRecord",
    "ConsentRevocation",
    "ContactAttempt",
    "ConsentType",
    "Disposition",
    "DispositionName",
    "DispositionSource",
    "DncEntry",
    "DncSource",
    "EbrRecord",
    "GateDecisionRecord",
    "Lead",
    "LeadStatus",
    "LoginFailure",
    "Meeting",
    "MeetingAssignment",
    "MeetingStatus",
    "OutboxDelivery",
    "OutboxEvent",
    "OutboxEventType",
    "OutboxMessage",
    "OutboxStatus",
    "RndResult",
    "Role",
    "Speaker",
    "TranscriptTurn",
    "User",
    "WebSession",
]

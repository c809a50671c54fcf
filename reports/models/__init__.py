"""The reports app's models, one module per part (Django finds them here through this
package's imports)."""

from reports.models.assets import Asset, AssetType
from reports.models.bodies import BodyRule, ResponsibleBody
from reports.models.casework import Handover, ReporterQuestion
from reports.models.clients import ApiClient, ApiKey, IdempotencyRecord
from reports.models.followup import FollowUp, ReopenRequest
from reports.models.identity import ExternalIdentity, GroupRole, IdentityProvider
from reports.models.integration import (
    DEFAULT_STATUS_MAP,
    Destination,
    ExternalCase,
    ExternalUpdate,
    InboundUpdate,
)
from reports.models.notifications import AreaAlert, Notification, Subscription, Webhook
from reports.models.organisation import Department, Municipality, StaffMembership
from reports.models.report import DESCRIPTION_MAX_LENGTH, Photo, Priority, Report, ReportEvent
from reports.models.retention import REMOVED, DeletionLog, Redaction, RetentionRule
from reports.models.subjects import (
    KLE_PREFIX_PATTERN,
    KLE_PREFIX_VALIDATOR,
    Category,
    CategoryNotice,
    CategoryQuestion,
    KleSubject,
    ResponseTemplate,
    RoutingRule,
)

__all__ = [
    "KLE_PREFIX_PATTERN",
    "ApiClient",
    "ApiKey",
    "AreaAlert",
    "Asset",
    "AssetType",
    "BodyRule",
    "Category",
    "CategoryNotice",
    "CategoryQuestion",
    "DESCRIPTION_MAX_LENGTH",
    "DEFAULT_STATUS_MAP",
    "DeletionLog",
    "Department",
    "Destination",
    "ExternalCase",
    "ExternalIdentity",
    "ExternalUpdate",
    "FollowUp",
    "GroupRole",
    "Handover",
    "IdempotencyRecord",
    "IdentityProvider",
    "InboundUpdate",
    "KLE_PREFIX_VALIDATOR",
    "KleSubject",
    "Municipality",
    "Notification",
    "Photo",
    "Priority",
    "REMOVED",
    "Redaction",
    "ReopenRequest",
    "Report",
    "ReportEvent",
    "ReporterQuestion",
    "ResponseTemplate",
    "ResponsibleBody",
    "RetentionRule",
    "RoutingRule",
    "StaffMembership",
    "Subscription",
    "Webhook",
]

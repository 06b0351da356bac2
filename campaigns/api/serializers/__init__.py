"""The API's wire format: Vapi's Campaign API exactly, and Dialdeck's extensions beside it.

Input serializers return the services' input dataclasses; output serializers
render model rows with unset optional keys left out (Vapi never sends null).
"""

from __future__ import annotations

from campaigns.api.serializers.call import CallRecordSerializer, CampaignCallSerializer
from campaigns.api.serializers.campaign import CampaignCreateSerializer, CampaignUpdateSerializer
from campaigns.api.serializers.common import ConflictSerializer, ErrorSerializer, iso, paginated
from campaigns.api.serializers.customer import (
    MAX_CUSTOMERS,
    CustomerRecordSerializer,
    CustomerSerializer,
    CustomersUploadSerializer,
    ImportResultSerializer,
    read_customers,
)
from campaigns.api.serializers.directory import (
    DoNotCallAddedSerializer,
    DoNotCallCreateSerializer,
    DoNotCallSerializer,
    DoNotCallUploadSerializer,
    PhoneNumberCreateSerializer,
    PhoneNumberSerializer,
)
from campaigns.api.serializers.document import CampaignPageSerializer, CampaignSerializer
from campaigns.api.serializers.strategy import DialingStrategySerializer

__all__ = [
    "MAX_CUSTOMERS",
    "CallRecordSerializer",
    "CampaignCallSerializer",
    "CampaignCreateSerializer",
    "CampaignPageSerializer",
    "CampaignSerializer",
    "CampaignUpdateSerializer",
    "ConflictSerializer",
    "CustomerRecordSerializer",
    "CustomerSerializer",
    "CustomersUploadSerializer",
    "DialingStrategySerializer",
    "DoNotCallAddedSerializer",
    "DoNotCallCreateSerializer",
    "DoNotCallSerializer",
    "DoNotCallUploadSerializer",
    "ErrorSerializer",
    "ImportResultSerializer",
    "PhoneNumberCreateSerializer",
    "PhoneNumberSerializer",
    "iso",
    "paginated",
    "read_customers",
]

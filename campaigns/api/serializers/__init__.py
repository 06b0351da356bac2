"""The API's wire format: Vapi's Campaign API exactly, and Dialdeck's extensions beside it.

Request serializers check and document each body and query string with the same fields
(serializers.fields) and return the services' input dataclasses; output serializers render
model rows with unset optional keys left out (Vapi never sends null).
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
    customer_rows,
)
from campaigns.api.serializers.directory import (
    DoNotCallAddedSerializer,
    DoNotCallCreateSerializer,
    DoNotCallSerializer,
    DoNotCallUploadSerializer,
    PhoneNumberCreateSerializer,
    PhoneNumberSerializer,
    PhoneNumberUpdateSerializer,
)
from campaigns.api.serializers.document import CampaignPageSerializer, CampaignSerializer
from campaigns.api.serializers.query import (
    CallListQuery,
    CampaignListQuery,
    CustomerListQuery,
    DoNotCallListQuery,
    PageQuery,
    read_query,
)
from campaigns.api.serializers.strategy import DialingStrategySerializer

__all__ = [
    "MAX_CUSTOMERS",
    "CallListQuery",
    "CallRecordSerializer",
    "CampaignCallSerializer",
    "CampaignCreateSerializer",
    "CampaignListQuery",
    "CampaignPageSerializer",
    "CampaignSerializer",
    "CampaignUpdateSerializer",
    "ConflictSerializer",
    "CustomerListQuery",
    "CustomerRecordSerializer",
    "CustomerSerializer",
    "CustomersUploadSerializer",
    "DialingStrategySerializer",
    "DoNotCallAddedSerializer",
    "DoNotCallCreateSerializer",
    "DoNotCallListQuery",
    "DoNotCallSerializer",
    "DoNotCallUploadSerializer",
    "ErrorSerializer",
    "ImportResultSerializer",
    "PageQuery",
    "PhoneNumberCreateSerializer",
    "PhoneNumberSerializer",
    "PhoneNumberUpdateSerializer",
    "customer_rows",
    "iso",
    "paginated",
    "read_query",
]

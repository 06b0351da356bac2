"""The REST API: Vapi's Campaign API wire format and Dialdeck's extensions (routes: urls.py)."""

# Registers our drf-spectacular extensions whenever the API is loaded.
from campaigns.api import schema as schema

"""The HTMX dashboard, by page area. Routes: campaigns/urls.py."""

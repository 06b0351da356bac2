"""Dashboard forms, by page area: the campaign builder, its customers, the settings pages."""

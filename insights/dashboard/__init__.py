"""The dashboard: server-rendered pages over the same report functions as the Insights API."""

from insights.dashboard.routes import PAGE_PATHS, add_dashboard, error_page

__all__ = ["PAGE_PATHS", "add_dashboard", "error_page"]

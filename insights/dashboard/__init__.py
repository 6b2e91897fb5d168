"""The dashboard: server-rendered pages over the same report functions as the Insights API
(routes, sign-in, views, templates), and the SVG charts and number formats they draw with."""

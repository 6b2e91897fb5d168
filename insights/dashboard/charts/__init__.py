"""Server-side SVG charts: axes and lines, proportional Venn diagrams, UpSet plots.
Pure drawing: no web framework, numbers formatted by insights.dashboard.formats."""

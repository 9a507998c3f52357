"""The presentation layer: figures in the house style, briefings and the dashboard."""

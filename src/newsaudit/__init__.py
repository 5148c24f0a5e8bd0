"""newsaudit: turn a messy scraped news corpus into trustworthy numbers."""

__version__ = "0.1.0"

"""txsummary: summarize transactions CSV files exactly, in integer cents."""

__version__ = "0.1.0"

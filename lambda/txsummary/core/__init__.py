"""The pure core: parsing, validation, aggregation and rendering. No boto3, no environment."""

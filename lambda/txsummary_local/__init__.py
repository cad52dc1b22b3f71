"""The local AWS emulation behind ``txsummary demo``: a development tool, not in the image."""

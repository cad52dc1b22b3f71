"""Placeholder: the streaming summarizer lands here (summarize_stream)."""

"""Turning a DfmResult into JSON, text and HTML."""

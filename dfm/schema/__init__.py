"""JSON Schemas of dfm's published contracts."""

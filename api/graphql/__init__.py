"""The GraphQL API: one module per type, the schema assembled in schema.py."""

"""A Django app for the client tests: a model with pgvector-python's
HalfVectorField and BitField, and an HNSW index its migration creates."""

"""The test model, as a pgvector user writes it."""
from django.db import models
from pgvector.django import BitField, HalfVectorField, HnswIndex


class Item(models.Model):
    """A row with a half-precision embedding and a binary code."""

    embedding = HalfVectorField(dimensions=3, null=True)
    bits = BitField(length=8, null=True)

    class Meta:
        app_label = "pgv_django_app"
        indexes = [
            HnswIndex(name="pgv_item_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                      opclasses=["halfvec_l2_ops"]),
            HnswIndex(name="pgv_item_bits_hnsw", fields=["bits"], m=16, ef_construction=64,
                      opclasses=["bit_hamming_ops"]),
        ]

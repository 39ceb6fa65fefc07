"""The test model, as a pgvector user writes it."""
from django.db import models
from pgvector.django import BitField, HalfVectorField, HnswIndex, IvfflatIndex, SparseVectorField


class Item(models.Model):
    """A row with a half-precision embedding, a binary code and sparse weights."""

    embedding = HalfVectorField(dimensions=3, null=True)
    bits = BitField(length=8, null=True)
    weights = SparseVectorField(dimensions=6, null=True)

    class Meta:
        app_label = "pgv_django_app"
        indexes = [
            HnswIndex(name="pgv_item_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                      opclasses=["halfvec_l2_ops"]),
            HnswIndex(name="pgv_item_bits_hnsw", fields=["bits"], m=16, ef_construction=64,
                      opclasses=["bit_hamming_ops"]),
            HnswIndex(name="pgv_item_weights_hnsw", fields=["weights"], m=16, ef_construction=64,
                      opclasses=["sparsevec_l2_ops"]),
            IvfflatIndex(name="pgv_item_embedding_ivfflat", fields=["embedding"], lists=4,
                         opclasses=["halfvec_cosine_ops"]),
        ]

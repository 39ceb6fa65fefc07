"""The migration `makemigrations` writes for models.py (pgvector's docs add
a VectorExtension operation first; the test database has pgvision)."""
import pgvector.django
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("embedding", pgvector.django.HalfVectorField(dimensions=3, null=True)),
                ("bits", pgvector.django.BitField(length=8, null=True)),
                ("weights", pgvector.django.SparseVectorField(dimensions=6, null=True)),
            ],
            options={
                "indexes": [
                    pgvector.django.HnswIndex(ef_construction=64, fields=["embedding"], m=16,
                                              name="pgv_item_embedding_hnsw", opclasses=["halfvec_l2_ops"]),
                    pgvector.django.HnswIndex(ef_construction=64, fields=["bits"], m=16,
                                              name="pgv_item_bits_hnsw", opclasses=["bit_hamming_ops"]),
                    pgvector.django.HnswIndex(ef_construction=64, fields=["weights"], m=16,
                                              name="pgv_item_weights_hnsw", opclasses=["sparsevec_l2_ops"]),
                    pgvector.django.IvfflatIndex(fields=["embedding"], lists=4, name="pgv_item_embedding_ivfflat",
                                                 opclasses=["halfvec_cosine_ops"]),
                ],
            },
        ),
    ]

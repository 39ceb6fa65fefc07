"""Django with pgvector-python's HalfVectorField, BitField,
SparseVectorField, HnswIndex and IvfflatIndex: the app's migration creates
the table, hnsw indexes with halfvec_l2_ops, bit_hamming_ops and
sparsevec_l2_ops and an ivfflat index with halfvec_cosine_ops, and the
ORM's distance functions order by them."""
import numpy as np
import pytest

django = pytest.importorskip("django")
from django.conf import settings  # noqa: E402

RNG = np.random.default_rng(7)
VALUES = RNG.standard_normal((200, 3)).astype(np.float16)
CODES = RNG.integers(0, 256, 200)
QUERY = np.array([0.5, -1, 0.25], dtype=np.float16)
# sparse weights: two of six dimensions set, small integers (exact); keys
# 0-based, as pgvector-python's SparseVector takes them
WEIGHTS = [{int(a): float(RNG.integers(1, 9)), int(b): float(RNG.integers(-9, 0))}
           for a, b in (RNG.choice(6, 2, replace=False) for _ in range(200))]


@pytest.fixture(scope="module")
def django_db(dsn):
    """Django configured on the test database, the app migrated (and unmigrated after)."""
    params = dict(p.split("=", 1) for p in dsn.split())
    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": params["dbname"],
                               "HOST": params["host"], "PORT": params["port"], "USER": params["user"]}},
        INSTALLED_APPS=["pgv_django_app"],
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
    )
    django.setup()
    from django.core.management import call_command
    call_command("migrate", "pgv_django_app", verbosity=0)
    yield
    call_command("migrate", "pgv_django_app", "zero", verbosity=0)


def test_migration_creates_the_hnsw_index(django_db):
    from django.db import connection
    with connection.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'pgv_item_embedding_hnsw'")
        (indexdef,) = cur.fetchone()
        cur.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                    "WHERE attrelid = 'pgv_django_app_item'::regclass AND attname IN ('embedding', 'bits', 'weights') "
                    "ORDER BY attname")
        types = [r[0] for r in cur.fetchall()]
    assert "USING hnsw (embedding halfvec_l2_ops)" in indexdef
    with connection.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'pgv_item_bits_hnsw'")
        assert "USING hnsw (bits bit_hamming_ops)" in cur.fetchone()[0]
        cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'pgv_item_weights_hnsw'")
        assert "USING hnsw (weights sparsevec_l2_ops)" in cur.fetchone()[0]
        cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'pgv_item_embedding_ivfflat'")
        ivf = cur.fetchone()[0]
        assert "USING ivfflat (embedding halfvec_cosine_ops)" in ivf and "lists='4'" in ivf, ivf
    assert "m='16'" in indexdef and "ef_construction='64'" in indexdef
    assert types == ["bit(8)", "halfvec(3)", "sparsevec(6)"]


def test_orm_round_trip_and_distances(django_db):
    from django.db import connection
    from pgvector.django import CosineDistance, HammingDistance, L2Distance
    from pgv_django_app.models import Item

    from pgvector import SparseVector
    Item.objects.bulk_create([Item(embedding=VALUES[i], bits=format(int(CODES[i]), "08b"),
                                   weights=SparseVector(WEIGHTS[i], 6)) for i in range(200)])
    ids = list(Item.objects.order_by("id").values_list("id", flat=True))
    item = Item.objects.get(id=ids[5])
    assert np.asarray(item.embedding, dtype=np.float16).tobytes() == VALUES[5].tobytes()
    assert item.bits == format(int(CODES[5]), "08b")
    assert dict(zip(item.weights.indices(), item.weights.values())) == WEIGHTS[5] and item.weights.dimensions() == 6

    exact = np.argsort(np.linalg.norm(VALUES.astype(np.float64) - QUERY.astype(np.float64), axis=1), kind="stable")
    with connection.cursor() as cur:
        cur.execute("SET enable_seqscan = off")
        cur.execute("SET hnsw.ef_search = 200")
    try:
        qs = Item.objects.order_by(L2Distance("embedding", QUERY))[:5]
        assert "pgv_item_embedding_hnsw" in qs.explain()
        assert [ids.index(i.id) for i in qs] == list(exact[:5])
        # the bit index: 8-bit codes tie, so the distances are compared
        q = format(0b01101100, "08b")
        ham = sorted(bin(int(c) ^ 0b01101100).count("1") for c in CODES)
        qs = Item.objects.annotate(d=HammingDistance("bits", q)).order_by(HammingDistance("bits", q))[:20]
        assert "pgv_item_bits_hnsw" in qs.explain()
        assert [i.d for i in qs] == [float(h) for h in ham[:20]]
        # the sparsevec index: integer weights, so the distances are exact; compared as distances (ties)
        dense = np.zeros((200, 6))
        for i, w in enumerate(WEIGHTS):
            for k, v in w.items():
                dense[i, k] = v
        sq = SparseVector({0: 2.0, 3: -3.0}, 6)
        want = sorted(np.linalg.norm(dense - sq.to_numpy(), axis=1))[:10]
        qs = Item.objects.annotate(d=L2Distance("weights", sq)).order_by(L2Distance("weights", sq))[:10]
        assert "pgv_item_weights_hnsw" in qs.explain()
        assert [i.d for i in qs] == pytest.approx(want)
        # the ivfflat index, every list probed: the exact cosine order
        with connection.cursor() as cur:
            cur.execute("SET ivfflat.probes = 4")
        cos = 1 - (VALUES.astype(np.float64) @ QUERY.astype(np.float64)) / (
            np.linalg.norm(VALUES.astype(np.float64), axis=1) * np.linalg.norm(QUERY.astype(np.float64)))
        qs = Item.objects.annotate(d=CosineDistance("embedding", QUERY)).order_by(CosineDistance("embedding", QUERY))[:5]
        assert "pgv_item_embedding_ivfflat" in qs.explain()
        assert [i.d for i in qs] == pytest.approx(sorted(cos)[:5], abs=1e-6)
    finally:
        with connection.cursor() as cur:
            cur.execute("RESET enable_seqscan")
            cur.execute("RESET hnsw.ef_search")
            cur.execute("RESET ivfflat.probes")

    q = format(0b10110010, "08b")
    ham = [bin(int(c) ^ 0b10110010).count("1") for c in CODES]
    got = Item.objects.annotate(d=HammingDistance("bits", q)).order_by("d", "id")[:10]
    assert [(ids.index(i.id), i.d) for i in got] == sorted(((i, float(ham[i])) for i in range(200)),
                                                           key=lambda t: (t[1], t[0]))[:10]

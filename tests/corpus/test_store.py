"""The store: idempotent re-ingest, replacement, transactions, the writer lock, model checks."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from migralex.corpus.errors import StoreError
from migralex.corpus.models import Clause, Document, Tag
from migralex.corpus.store import SCHEMA_VERSION, Filters, Store
from migralex.ui import service

DRAFT = """# Agreement on social security between A and B

### Article 1

#### Definitions

For the purposes of this Agreement, "territory" means the territory of each Party.

### Article 2

#### Equality of Treatment

Persons to whom this Agreement applies shall receive equal treatment with nationals of the other Party.

### Article 3

#### Export of Benefits

Benefits shall not be reduced by reason only that the beneficiary resides in the territory of the other Party.
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _ingest(store: Store, *paths: Path) -> list[str]:
    return [r.status for r in service.ingest(list(paths), store)]


def test_reingest_unchanged_is_noop_and_changed_file_replaces(tmp_path: Path) -> None:
    draft = _write(tmp_path / "draft.md", DRAFT)
    with Store(tmp_path / "store") as store:
        assert _ingest(store, draft) == ["added"]
        first = store.stats()
        gen = store.generation
        assert _ingest(store, draft) == ["unchanged"]
        assert store.generation == gen
        assert store.stats() == first
        _write(draft, DRAFT.replace("### Article 3", "### Article 3\n\n#### Old\n\n### Article 4"))
        assert _ingest(store, draft) == ["updated"]
        docs = store.documents()
        assert len(docs) == 1, "the old version must be replaced, not kept beside the new"
        assert any(c.label == "Article 4" for c in store.clauses(docs[0].doc_id))
        assert store.count_vectors() == store.count_clauses()


def test_clause_ids_are_stable_across_reingest_into_a_new_store(tmp_path: Path) -> None:
    draft = _write(tmp_path / "draft.md", DRAFT)
    ids = []
    for name in ("a", "b"):
        with Store(tmp_path / name) as store:
            _ingest(store, draft)
            ids.append([c.clause_id for c in store.clauses()])
    assert ids[0] == ids[1]
    assert ids[0][1].endswith(":article-1")


def test_failure_mid_write_leaves_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = _write(tmp_path / "draft.md", DRAFT)
    with Store(tmp_path / "store") as store:
        _ingest(store, draft)
        before = store.stats()
        clauses_before = store.clauses()
        _write(draft, DRAFT + "\n### Article 9\n\nNew text.\n")

        def broken_tagger(clauses: list[Clause], language: str) -> list[Tag]:
            # a tag pointing to a clause that does not exist violates the foreign key mid-write
            return [Tag("nowhere:article-1", "totalisation", 0, 1, "x", "test.rule")]

        monkeypatch.setattr(service, "tagger", lambda: broken_tagger)
        results = service.ingest([draft], store)
        assert results[0].status == "failed"
        assert results[0].error
        assert store.stats() == before
        assert store.clauses() == clauses_before


def test_bad_file_fails_alone_and_names_its_reason(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.md", DRAFT)
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 this is not really a pdf")
    with Store(tmp_path / "store") as store:
        results = service.ingest([bad, good], store)
    assert [r.status for r in results] == ["failed", "added"]
    assert "PDF" in results[0].error


def test_writer_lock_refuses_a_second_writer(tmp_path: Path) -> None:
    with Store(tmp_path / "s") as a, Store(tmp_path / "s") as b:
        with a.writer():
            with pytest.raises(StoreError, match="another migralex process"):
                with b.writer():
                    pass


def test_store_refuses_vectors_of_another_model(tmp_path: Path) -> None:
    doc = Document("d", "t", "ssa", "en", (), "f", "0" * 64, 1, text="Article 1 x")
    clause = Clause(
        "d:article-1", "d", 0, "Article 1", "", ("Article 1",), "Article 1 x", 0, 11, 1, 1, "en"
    )
    with Store(tmp_path / "s") as store:
        store.write_document(doc, [clause], [], np.ones((1, 4), np.float32) / 2, ("hash", 4))
        with pytest.raises(StoreError, match="model 'hash'"):
            store.write_document(doc, [clause], [], np.ones((1, 8), np.float32), ("minilm", 8))


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    Store(tmp_path / "s").close()
    conn = sqlite3.connect(tmp_path / "s" / "migralex.sqlite")
    conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store(tmp_path / "s")


@pytest.mark.parametrize(
    ("filters", "expect_docs"),
    [
        (Filters(languages=("fr",)), {"nl-bwbv0003682"}),
        (Filters(parties=("Mexico",)), {"ca-si-96-32"}),
        (Filters(parties=("mexic",)), set()),
        (Filters(doc_ids=("ca-si-2006-122",)), {"ca-si-2006-122"}),
        (Filters(kinds=("bla",)), set()),
    ],
)
def test_filters_select_rows_in_sql(
    small_store: Path, filters: Filters, expect_docs: set[str]
) -> None:
    with Store(small_store) as store:
        rowids = store.filter_rowids(filters)
        assert rowids is not None
        docs = {c.doc_id for c in store.clauses_by_rowid(list(rowids)).values()}
    assert docs == expect_docs


def test_copied_store_keeps_working(small_store: Path, tmp_path: Path) -> None:
    shutil.copytree(small_store, tmp_path / "copy")
    with Store(tmp_path / "copy") as store:
        assert store.stats()["documents"] == 4


def test_schema_1_store_is_migrated(tmp_path: Path) -> None:
    root = tmp_path / "s"
    root.mkdir()
    conn = sqlite3.connect(root / "migralex.sqlite")
    conn.executescript(
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE documents (doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, kind TEXT NOT NULL,
            language TEXT NOT NULL, parties TEXT NOT NULL, source_path TEXT NOT NULL,
            sha256 TEXT NOT NULL, pages INTEGER NOT NULL, text TEXT NOT NULL,
            page_starts TEXT NOT NULL, ocr_pages TEXT NOT NULL, meta TEXT NOT NULL);
        CREATE TABLE clauses (rowid INTEGER PRIMARY KEY, clause_id TEXT NOT NULL UNIQUE,
            doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL, label TEXT NOT NULL,
            heading TEXT NOT NULL, path TEXT NOT NULL, text TEXT NOT NULL, start INTEGER NOT NULL,
            "end" INTEGER NOT NULL, page_start INTEGER NOT NULL, page_end INTEGER NOT NULL,
            language TEXT NOT NULL);
        CREATE TABLE vectors (rowid INTEGER PRIMARY KEY, vec BLOB NOT NULL);
        """
    )
    conn.commit()
    conn.close()
    draft = _write(tmp_path / "draft.md", DRAFT)
    with Store(root) as store:
        assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
        assert store.multilingual_model is None and store.count_vectors("e5-small") == 0
        assert _ingest(store, draft) == ["added"]
        assert store.clauses()[1].context == ()


def _party_store(root: Path) -> Store:
    """A store of two one-clause agreements: Ireland-Canada and UK-Canada (written here)."""
    store = Store(root)
    for doc_id, parties in (
        ("ie-ca", ("Ireland", "Canada")),
        ("uk-ca", ("United Kingdom of Great Britain and Northern Ireland", "Canada")),
    ):
        text = "Article 1 Equality of treatment"
        doc = Document(doc_id, doc_id, "ssa", "en", parties, "f", "0" * 64, 1, text=text)
        clause = Clause(
            f"{doc_id}:article-1",
            doc_id,
            0,
            "Article 1",
            "",
            ("Article 1",),
            text,
            0,
            len(text),
            1,
            1,
            "en",
        )
        store.write_document(doc, [clause], [], np.ones((1, 4), np.float32) / 2, ("hash", 4))
    return store


@pytest.mark.parametrize(
    ("parties", "expect_docs"),
    [
        (("Ireland",), {"ie-ca"}),
        (("ireland ",), {"ie-ca"}),
        (("IE",), {"ie-ca"}),
        (("Northern Ireland",), set()),
        (("Ire",), set()),
        (("United Kingdom",), {"uk-ca"}),
        (("Government of Canada",), {"ie-ca", "uk-ca"}),
        (("United Kingdom of Great Britain and Northern Ireland",), {"uk-ca"}),
        (("Canada",), {"ie-ca", "uk-ca"}),
        (("Ireland", "United Kingdom of Great Britain and Northern Ireland"), {"ie-ca", "uk-ca"}),
    ],
)
def test_party_filter_matches_whole_parties(
    tmp_path: Path, parties: tuple[str, ...], expect_docs: set[str]
) -> None:
    with _party_store(tmp_path / "s") as store:
        rowids = store.filter_rowids(Filters(parties=parties))
        assert rowids is not None
        docs = {c.doc_id for c in store.clauses_by_rowid(list(rowids)).values()}
    assert docs == expect_docs


@pytest.mark.parametrize("k", [1, 10**9, 2**63, 2**70])
def test_fts_accepts_any_k(tmp_path: Path, k: int) -> None:
    # k = 2**63 raised OverflowError binding the LIMIT (found by the fuzzer, issue #19)
    with _party_store(tmp_path / "s") as store:
        assert len(store.fts('"equality"', k, Filters())) == min(k, 2)


def test_stats_from_document_summaries_match_the_tags_table(
    small_store: Path, tmp_path: Path
) -> None:
    root = tmp_path / "s"
    shutil.copytree(small_store, root)
    with Store(root) as store:
        fast = store.stats()
        assert fast["tags"] and sum(fast["tagged_clauses_by_language"].values()) > 0
        store._conn.execute("UPDATE documents SET tag_summary = ''")  # as written before schema 4
        assert store.stats() == fast


def _to_schema_4(root: Path) -> None:
    """Rewrite a store's vector table as schema 4 kept it: the main set in ``vectors(rowid,
    vec, passage_sha)``, the other sets in ``extra_vectors(model, rowid, vec, passage_sha)``."""
    conn = sqlite3.connect(root / "migralex.sqlite")
    main = conn.execute("SELECT value FROM meta WHERE key='model'").fetchone()[0]
    conn.executescript(
        """
        ALTER TABLE vectors RENAME TO v5;
        DROP INDEX IF EXISTS vectors_clause;
        CREATE TABLE vectors (
            rowid INTEGER PRIMARY KEY REFERENCES clauses(rowid) ON DELETE CASCADE,
            vec BLOB NOT NULL, passage_sha TEXT NOT NULL DEFAULT '');
        CREATE INDEX vectors_count ON vectors(rowid);
        CREATE TABLE extra_vectors (model TEXT NOT NULL,
            rowid INTEGER NOT NULL REFERENCES clauses(rowid) ON DELETE CASCADE,
            vec BLOB NOT NULL, passage_sha TEXT NOT NULL DEFAULT '', PRIMARY KEY (model, rowid));
        UPDATE meta SET value = '4' WHERE key = 'schema_version';
        """
    )
    conn.execute(
        "INSERT INTO vectors SELECT rowid, vec, passage_sha FROM v5 WHERE model = ?", (main,)
    )
    conn.execute(
        "INSERT INTO extra_vectors SELECT model, rowid, vec, passage_sha FROM v5 WHERE model != ?",
        (main,),
    )
    conn.execute("DROP TABLE v5")
    conn.commit()
    conn.close()


def test_schema_4_vector_sets_move_into_one_table(tmp_path: Path) -> None:
    root = tmp_path / "s"
    rng = np.random.default_rng(0)
    with _party_store(root) as store:
        multi = rng.standard_normal((2, 3)).astype(np.float32)
        adapted = rng.standard_normal((2, 4)).astype(np.float32)
        store.add_multilingual_vectors(("multi", 3), [1, 2], multi, ["s1", "s2"])
        store.set_adapted_vectors(("hash-adapted", 4), [1, 2], adapted)
        before = {m: store.vectors(m) for m in (None, "multi", "hash-adapted")}
        gen = store.generation
    _to_schema_4(root)
    with sqlite3.connect(root / "migralex.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM extra_vectors").fetchone()[0] == 4
    with Store(root) as store:
        assert store.get_meta("schema_version") == str(SCHEMA_VERSION) == "5"
        assert store.generation == gen  # the vectors did not change: FAISS caches stay valid
        for model, (ids, mat) in before.items():
            got_ids, got_mat = store.vectors(model)
            assert got_ids.tolist() == ids.tolist() and got_mat.tobytes() == mat.tobytes()
        assert store.count_vectors() == store.count_vectors("multi") == 2
        assert set(store.reusable_vectors(["ie-ca", "uk-ca"], "multi")) == {"s1", "s2"}
        store.delete_document("ie-ca")  # the cascade reaches every set
        assert [store.count_vectors(m) for m in before] == [1, 1, 1]
    with sqlite3.connect(root / "migralex.sqlite") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "extra_vectors" not in tables and "vectors_v5" not in tables

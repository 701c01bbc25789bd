"""The domain-adapted bi-encoder: batches without in-batch duplicates, training on a tiny
model (deterministic), the adapted vector set in the store, and search with and without it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from migralex.corpus.errors import StoreError, ValidationError
from migralex.corpus.store import Store
from migralex.index.encoder import (
    ADAPTED_SET,
    CARD_FILE,
    MODEL_DIR,
    embed_store,
    encoder_dir,
    load_encoder_card,
    train_encoder,
    training_batches,
)
from migralex.index.ranker_data import TrainingGroup
from migralex.ui import service


def _group(query: str, positive: str) -> TrainingGroup:
    return TrainingGroup(query, positive, (f"other {positive}",), "heading", "d")


def test_batches_never_hold_a_query_or_positive_twice() -> None:
    groups = [_group("Equality of treatment", f"p{i}") for i in range(3)]
    groups += [_group(f"q{i}", "shared passage") for i in range(3)]
    groups += [_group(f"unique {i}", f"u{i}") for i in range(6)]
    batches = training_batches(groups, 4, 5)
    assert len(batches) == 5
    for batch in batches:
        queries = [g.query for g in batch]
        positives = [g.positive for g in batch]
        assert len(set(queries)) == len(queries)
        assert len(set(positives)) == len(positives)
    used = {g for b in batches for g in b}
    assert used == set(groups)  # every group is reached, duplicates in later batches


def test_training_refuses_bad_settings(small_store: Path) -> None:
    with Store(small_store) as st, pytest.raises(ValidationError):
        train_encoder(st, steps=0)
    with Store(small_store) as st, pytest.raises(ValidationError):
        train_encoder(st, steps=1, batch_groups=1)


@pytest.fixture()
def adapted_store(small_store: Path, tmp_path: Path, tiny_base: Path) -> Path:
    root = tmp_path / "store"
    shutil.copytree(small_store, root)
    with Store(root) as st:
        train_encoder(st, steps=2, batch_groups=4, base=tiny_base, max_length=48)
        embed_store(st, threads=1)
    return root


def test_training_writes_model_and_card_and_is_deterministic(
    small_store: Path, tmp_path: Path, tiny_base: Path
) -> None:
    with Store(small_store) as st:
        one = train_encoder(st, steps=2, batch_groups=4, base=tiny_base, max_length=48,
                            out=tmp_path / "a")  # fmt: skip
        two = train_encoder(st, steps=2, batch_groups=4, base=tiny_base, max_length=48,
                            out=tmp_path / "b")  # fmt: skip
    assert one.kind == "bi-encoder" and one.steps == 2 and one.batch_groups == 4
    assert one.weights_sha256 == two.weights_sha256
    assert one.data_sha256 == two.data_sha256
    assert (tmp_path / "a" / MODEL_DIR).is_dir()
    card = json.loads((tmp_path / "a" / CARD_FILE).read_text(encoding="utf-8"))
    assert sum(card["groups"].values()) == 8 and card["groups"].get("crosslingual", 0) == 0


def test_embed_store_adds_a_complete_adapted_set(adapted_store: Path) -> None:
    with Store(adapted_store) as st:
        assert st.adapted_model is not None and st.adapted_model[0] == ADAPTED_SET
        assert st.count_vectors(ADAPTED_SET) == st.count_vectors() > 0
        ids, mat = st.vectors(ADAPTED_SET)
        assert np.allclose(np.linalg.norm(mat, axis=1), 1.0, atol=1e-4)
        main_ids, main = st.vectors()
        assert list(ids) == list(main_ids)
        assert st.vector_model(ADAPTED_SET) == st.adapted_model
        assert load_encoder_card(st.root) is not None
        # a second run replaces the set rather than adding to it
        embed_store(st, threads=1)
        assert st.count_vectors(ADAPTED_SET) == st.count_vectors()
        st.drop_adapted_vectors()
        assert st.adapted_model is None and st.count_vectors(ADAPTED_SET) == 0


def test_search_answers_from_the_adapted_set_and_falls_back(
    adapted_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGRALEX_MULTILINGUAL_MODEL", "none")
    with Store(adapted_store) as st:
        searcher = service.searcher(st)
        assert searcher.adapted_set() == ADAPTED_SET
        assert searcher.routed_model("can a pensioner who moves abroad keep the pension?") in (
            ADAPTED_SET,
            st.multilingual_model[0] if st.multilingual_model else None,
        )
        hits = searcher.search("export of benefits abroad", k=3)
        assert hits
        plain = service.searcher(st, use_adapted=False)
        assert plain.adapted_set() is None
        monkeypatch.setenv("MIGRALEX_ADAPTED", "0")
        assert service.searcher(st).adapted_set() is None
        monkeypatch.delenv("MIGRALEX_ADAPTED")
        shutil.rmtree(encoder_dir(st.root))
        assert service.searcher(st).adapted_set() is None  # no encoder: the main set answers


def test_adapted_set_names_are_checked(small_store: Path, tmp_path: Path) -> None:
    root = tmp_path / "store"
    shutil.copytree(small_store, root)
    with Store(root) as st:
        n = st.count_vectors()
        dim = st.model[1]
        with pytest.raises(StoreError):
            st.set_adapted_vectors((st.model[0], dim), [1], np.zeros((1, dim), np.float32))
        with pytest.raises(StoreError):
            st.set_adapted_vectors((ADAPTED_SET, dim), [1, 2], np.zeros((1, dim), np.float32))
        assert st.count_vectors() == n and st.adapted_model is None


def test_ingest_refreshes_an_adapted_set_that_no_longer_covers_the_store(
    adapted_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = tmp_path / "extra.md"
    draft.write_text(
        "# Agreement\n\n## Article 1\n\nThe periods of insurance shall be totalised.\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("MIGRALEX_MULTILINGUAL_MODEL", "none")
    with Store(adapted_store) as st:
        before = st.count_vectors()
        service.ingest([draft], st, kind="ssa", language="en")
        assert st.count_vectors() > before
        assert st.count_vectors(ADAPTED_SET) == st.count_vectors()
        assert service.refresh_adapted(st) is False  # complete: nothing to do

"""The classifier's pieces: NB log-count ratios, per-class offsets, the fitted pipeline's
scores and probabilities, and format-1 pipelines (a multi-class LinearSVC) still predicting."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import f1_score
from sklearn.svm import LinearSVC

from shiyu.classify.pipeline import (
    LinearScores,
    PipelineConfig,
    TextPipeline,
    fit_nbsvm,
    fit_offsets,
    log_count_ratios,
    macro_f1,
    prepare,
)
from shiyu.events import service as events
from tests.classify.data import sample


def _rows_labels(n: int, seed: int = 7) -> tuple[list[list[str]], list[str]]:
    rows = sample(n, seed)
    return [[r["subject"], r["detail"]] for r in rows], [r["label_l1"] for r in rows]


def test_macro_f1_equals_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 300)
    predicted = np.where(rng.random(300) < 0.7, y, rng.integers(0, 6, 300))
    expected = f1_score(y, predicted, average="macro")
    assert abs(macro_f1(y, predicted, 6) - expected) < 1e-12


def test_log_count_ratios_favour_the_class_a_feature_marks() -> None:
    # feature 0 only in class 0, feature 1 only in class 1, feature 2 everywhere
    x = sp.csr_matrix(np.array([[1, 0, 1], [2, 0, 1], [0, 1, 1], [0, 3, 1]], dtype=np.float32))
    r = log_count_ratios(x, np.array([0, 0, 1, 1]), 2, alpha=1.0)
    assert r.shape == (2, 3)
    assert r[0, 0] > 0 > r[0, 1] and r[1, 1] > 0 > r[1, 0]
    assert abs(r[0, 2]) < 1e-6 and abs(r[1, 2]) < 1e-6  # counts are binarised


def test_nbsvm_coefficients_fold_in_the_ratios() -> None:
    """score = x · (w ∘ r) + b must equal the SVM's own decision on the scaled features."""
    rng = np.random.default_rng(1)
    x = sp.csr_matrix(rng.random((60, 8)) * (rng.random((60, 8)) < 0.5), dtype=np.float32)
    y = np.arange(60) % 3
    config = PipelineConfig()
    scorer = fit_nbsvm(x, y, 3, config)
    r = log_count_ratios(x, y, 3, config.nb_alpha)
    svc = LinearSVC(C=config.svc_c, class_weight="balanced").fit(x @ sp.diags(r[1]), y == 1)
    direct = svc.decision_function(x @ sp.diags(r[1]))
    assert np.allclose(scorer.scores(x)[:, 1], direct, atol=1e-4)


def test_offsets_raise_the_macro_f1_of_a_shifted_class() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 600)
    scores = rng.normal(0, 0.3, (600, 3))
    scores[np.arange(600), y] += 1.0
    scores[:, 0] -= 0.9  # class 0 is systematically under-scored
    before = macro_f1(y, scores.argmax(axis=1), 3)
    offsets = fit_offsets(scores, y)
    after = macro_f1(y, (scores + offsets).argmax(axis=1), 3)
    assert after > before + 0.05
    assert offsets[0] - offsets[1:].max() >= 0.3  # class 0 is the one raised


def test_offsets_stay_zero_when_nothing_improves() -> None:
    y = np.array([0, 1, 2, 0, 1, 2])
    scores = np.eye(3)[y] * 5.0
    assert np.all(fit_offsets(scores, y) == 0)


def test_fitted_pipeline_probabilities_and_predictions_agree() -> None:
    rows, labels = _rows_labels(400)
    model = TextPipeline().fit(rows, labels)
    assert model.classes_ == sorted(set(labels))
    assert model.offsets_.shape == (len(model.classes_),)
    assert 0 < model.temperature_ <= 5
    test_rows, test_labels = _rows_labels(200, seed=11)
    proba = model.predict_proba(test_rows)
    assert np.allclose(proba.sum(axis=1), 1.0)
    predicted = model.predict(test_rows)
    assert predicted == [model.classes_[i] for i in proba.argmax(axis=1)]
    # real messages, many unseen (another shuffle of dev.csv): well above chance (1/7)
    accuracy = np.mean([p == t for p, t in zip(predicted, test_labels, strict=True)])
    assert accuracy > 0.6


def test_stored_text_is_scored_without_normalising_it_again() -> None:
    """Events' text is normalised at intake; `normalised=True` skips doing it twice and must
    score every real message exactly as normalising it again would."""
    rows, labels = _rows_labels(400)
    model = TextPipeline().fit(rows, labels)
    messages = [r[:2] for r in [*_rows_labels(600, seed=11)[0], *AWKWARD]]
    stored = [list(events.stored_text(subject, detail, "")[:2]) for subject, detail in messages]
    assert np.array_equal(model.predict_proba(stored, normalised=True), model.predict_proba(stored))


#: Traditional characters, full-width letters, control characters and blank lines
AWKWARD = [["路燈壞了　ＡＢＣ", "５號樓\t前\x07面\n\n 井蓋缺失"], ["\x01", "  "]]


def test_format_1_pipeline_still_predicts() -> None:
    """A pickled format-1 pipeline has `_svc` (multi-class LinearSVC) and no `_linear` or
    `offsets_`: it is served with its own scores and temperature."""
    rows, labels = _rows_labels(200)
    model = TextPipeline().fit(rows, labels)
    subjects, whole = prepare(rows)
    x = model._features(subjects, whole, fit=False)
    legacy = TextPipeline(model.config)
    legacy.__dict__.update(model.__dict__)
    del legacy.__dict__["_linear"], legacy.__dict__["offsets_"]
    legacy._svc = LinearSVC(class_weight="balanced").fit(
        x, [model.classes_.index(label) for label in labels]
    )
    expected = legacy._svc.decision_function(x)
    assert np.allclose(legacy.decision_scores(rows), expected)
    assert np.allclose(legacy.predict_proba(rows).sum(axis=1), 1.0)


def test_plain_svm_when_nb_scaling_is_off() -> None:
    rng = np.random.default_rng(3)
    x = sp.csr_matrix(rng.random((40, 6)), dtype=np.float32)
    y = np.arange(40) % 2
    scorer = fit_nbsvm(x, y, 2, PipelineConfig(nb_alpha=0))
    svc = LinearSVC(class_weight="balanced").fit(x, y == 1)
    assert isinstance(scorer, LinearScores)
    assert scorer.weights.flags.c_contiguous and scorer.weights.shape == (6, 2)
    assert np.allclose(scorer.weights[:, 1], svc.coef_[0], atol=1e-5)


def test_tiny_one_column_training_set_still_has_features() -> None:
    """Four messages cannot meet min_df 5: a small set keeps rarer n-grams instead of
    failing for want of features."""
    rows = [["路灯坏了晚上很黑"], ["路灯不亮"], ["学校收费太高"], ["学校乱收费"]]
    model = TextPipeline().fit(rows, ["城建", "城建", "教育", "教育"])
    assert model.predict([["路灯一直不亮"], ["学校收费"]]) == ["城建", "教育"]

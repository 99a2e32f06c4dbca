"""LLM and RAG maths (engine/llm_math.py) against hand derivations, closed forms and other libraries."""
from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.kinds import walk
from reference import EX

EXAMPLES = EX / "llm"
finite = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


# softmax with temperature ------------------------------------------------------------------

def test_softmax_temperature_matches_hand_exponentials():
    # z = [2, 1, 0.1]. T = 1: e² = 7.389056, e¹ = 2.718282, e^0.1 = 1.105171, sum 11.212509
    #   -> p = [0.659001, 0.242433, 0.098566] (the course's R7 values 0.659, 0.242, 0.099).
    # T = 2: z/T = [1, 0.5, 0.05]; e = 2.718282, 1.648721, 1.051271, sum 5.418274
    #   -> p = [0.501688, 0.304289, 0.194023].
    tr = walk({"kind": "softmax_temperature", "logits": [2.0, 1.0, 0.1], "temperatures": [1, 2]})
    p = tr.display("p")
    np.testing.assert_allclose(p[0], [0.659001, 0.242433, 0.098566], atol=1e-6)
    np.testing.assert_allclose(p[1], [0.501688, 0.304289, 0.194023], atol=1e-6)
    # entropy at T = 1 by hand: −Σ p ln p
    h = -sum(x * math.log(x) for x in (0.659001, 0.242433, 0.098566))
    assert tr.display("entropy")[0] == pytest.approx(h, abs=1e-5)


def test_temperature_sharpens_below_one_and_flattens_above():
    tr = walk({"kind": "softmax_temperature", "logits": [3.0, 1.0, 0.0],
               "temperatures": [0.05, 1.0, 1000.0]})
    p = tr.display("p")
    assert p[0, 0] > 0.999                                  # nearly one-hot on the largest logit
    np.testing.assert_allclose(p[2], [1 / 3] * 3, atol=1e-3)  # nearly uniform
    assert tr.display("entropy")[2] == pytest.approx(math.log(3), abs=1e-5)
    assert list(np.argsort(-p[1])) == [0, 1, 2]             # order kept at every T
    assert list(np.argsort(-p[2])) == [0, 1, 2]


@settings(max_examples=60, deadline=None)
@given(st.lists(finite, min_size=2, max_size=6), st.floats(0.2, 5), st.floats(-10, 10))
def test_softmax_sums_to_one_and_ignores_a_shift(z, t, shift):
    a = walk({"kind": "softmax_temperature", "logits": z, "temperature": t}).display("p")
    b = walk({"kind": "softmax_temperature", "logits": [v + shift for v in z],
              "temperature": t}).display("p")
    assert a.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(a, b, atol=1e-12)
    # closed form for one element, straight from the definition
    ref = math.exp(z[0] / t) / sum(math.exp(v / t) for v in z)
    assert a[0, 0] == pytest.approx(ref, rel=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.lists(finite, min_size=2, max_size=5, unique=True), st.floats(0.2, 1), st.floats(1.01, 5))
def test_higher_temperature_never_lowers_entropy(z, t_low, t_high):
    h = walk({"kind": "softmax_temperature", "logits": z,
              "temperatures": [t_low, t_high]}).display("entropy")
    assert h[1] >= h[0] - 1e-12


def test_softmax_bad_temperature_is_a_one_line_error():
    with pytest.raises(NNTError, match="positive"):
        walk({"kind": "softmax_temperature", "logits": [1, 2], "temperatures": [0]})
    with pytest.raises(NNTError, match="logits"):
        walk({"kind": "softmax_temperature", "temperatures": [1]})


# attention ---------------------------------------------------------------------------------

def test_attention_tiny_example_by_hand():
    # Q = [[1, 0]], K = [[1, 0], [0, 1]], V = [[1, 2], [3, 4]], d_k = 2.
    # S = Q·Kᵀ = [1, 0]; S/√2 = [0.707107, 0];
    # softmax: a0 = 1/(1 + e^−0.707107) = 0.669762, a1 = 0.330238;
    # O = 0.669762·[1, 2] + 0.330238·[3, 4] = [1.660477, 2.660477].
    tr = walk({"kind": "attention", "Q": [[1, 0]], "K": [[1, 0], [0, 1]], "V": [[1, 2], [3, 4]]})
    np.testing.assert_allclose(tr.display("S"), [[1, 0]])
    np.testing.assert_allclose(tr.display("S_scaled"), [[0.707107, 0]], atol=1e-6)
    np.testing.assert_allclose(tr.display("A"), [[0.669762, 0.330238]], atol=1e-6)
    np.testing.assert_allclose(tr.display("O"), [[1.660477, 2.660477]], atol=1e-6)
    assert tr.expand("S", (0, 0)) == "S[0][0] = 1×1 + 0×0 = 1"


def _attention_by_loops(Q, K, V, causal=False):
    """Reference written element by element, straight from the definition."""
    d = len(Q[0])
    out = []
    for i, q in enumerate(Q):
        visible = [j for j in range(len(K)) if not causal or j <= i + len(K) - len(Q)]
        s = {j: sum(a * b for a, b in zip(q, K[j])) / math.sqrt(d) for j in visible}
        m = max(s.values())
        e = {j: math.exp(v - m) for j, v in s.items()}
        total = sum(e.values())
        out.append([sum(e[j] / total * V[j][c] for j in visible) for c in range(len(V[0]))])
    return out


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.booleans(),
       st.data())
def test_attention_matches_an_element_by_element_reference(n_q, n_k, d_k, d_v, causal, data):
    n_q = min(n_q, n_k) if causal else n_q
    mat = lambda r, c: data.draw(st.lists(st.lists(finite, min_size=c, max_size=c),  # noqa: E731
                                          min_size=r, max_size=r))
    Q, K, V = mat(n_q, d_k), mat(n_k, d_k), mat(n_k, d_v)
    tr = walk({"kind": "attention", "Q": Q, "K": K, "V": V, "causal": causal})
    np.testing.assert_allclose(tr.display("O"), _attention_by_loops(Q, K, V, causal), atol=1e-9)
    np.testing.assert_allclose(tr.display("A").sum(axis=1), 1.0, atol=1e-12)


def test_causal_first_position_sees_only_itself():
    tr = walk({"kind": "attention", "Q": [[1, 2], [3, 4]], "K": [[5, 6], [7, 8]],
               "V": [[1, 0], [0, 1]], "causal": True})
    np.testing.assert_allclose(tr.display("A")[0], [1, 0])


def test_attention_recomputes_the_output_from_other_weights():
    tr = walk(yaml.safe_load((EXAMPLES / "attention.yaml").read_text()))
    # with weights [[1, 0], [0, 1]] the output is V itself
    np.testing.assert_allclose(tr.recompute("O", {"A": [[1, 0], [0, 1]]}), [[1, 2], [3, 4]])


def test_attention_shape_errors_name_the_fix():
    with pytest.raises(NNTError, match="d_k"):
        walk({"kind": "attention", "Q": [[1, 0]], "K": [[1, 0, 0]], "V": [[1]]})
    with pytest.raises(NNTError, match="one value row per key row"):
        walk({"kind": "attention", "Q": [[1, 0]], "K": [[1, 0]], "V": [[1], [2]]})


# cosine similarity and top-k ---------------------------------------------------------------

def test_cosine_by_hand_and_top_k_with_ties_by_id():
    # q = [1, 0]: same direction -> 1; 45° -> 1/√2 = 0.707107; orthogonal -> 0; opposite -> −1.
    tr = walk({"kind": "similarity", "query": [1, 0], "k": 3,
               "documents": {"b": [2, 0], "a": [5, 0], "diag": [1, 1], "up": [0, 3], "back": [-1, 0]}})
    np.testing.assert_allclose(tr.display("cos"), [1, 1, 0.707107, 0, -1], atol=1e-6)
    assert tr.info["top_k"] == ["a", "b", "diag"]       # a and b tie at 1: broken by id


def test_zero_vector_similarity_is_refused():
    with pytest.raises(NNTError, match="zero vector"):
        walk({"kind": "similarity", "query": [0, 0], "documents": {"a": [1, 0]}})


# BM25 --------------------------------------------------------------------------------------

def test_bm25_idf_and_term_score_by_hand():
    # docs: "a b" (dl 2), "a c c" (dl 3), "d" (dl 1); N = 3, avgdl = 2; k1 = 1.5, b = 0.75.
    # term c: df = 1, idf = ln(1 + (3 − 1 + 0.5)/(1 + 0.5)) = ln(2.666667) = 0.980829;
    # in doc 2: tf = 2, norm = 1 − 0.75 + 0.75·3/2 = 1.375;
    # score = 0.980829 · 2 / (2 + 1.5·1.375) = 0.980829 · 2 / 4.0625 = 0.482870.
    tr = walk({"kind": "bm25", "query": "c", "documents": ["a b", "a c c", "d"]})
    assert tr.display("idf.c") == pytest.approx(0.980829, abs=1e-6)
    np.testing.assert_allclose(tr.display("score"), [0, 0.482870, 0], atol=1e-6)


def test_bm25_matches_the_bm25s_library():
    import bm25s

    texts = ["relu gradient is one for positive inputs", "sigmoid gradient vanishes",
             "gradient descent update rule uses the gradient", "attention weights sum to one",
             "relu relu relu"]
    query = "relu gradient one"
    tr = walk({"kind": "bm25", "query": query, "documents": texts})
    retriever = bm25s.BM25(k1=1.5, b=0.75, method="lucene", dtype="float64")
    retriever.index([t.split() for t in texts], show_progress=False)
    expected = retriever.get_scores(query.split())
    np.testing.assert_allclose(tr.display("score"), expected, rtol=1e-9)


def test_bm25_needs_text():
    with pytest.raises(NNTError, match="query"):
        walk({"kind": "bm25", "query": "   ", "documents": ["a"]})
    with pytest.raises(NNTError, match="'b'"):
        walk({"kind": "bm25", "query": "a", "documents": ["a"], "b": 2})


# tokens ------------------------------------------------------------------------------------

def test_token_estimate_is_chars_over_four_rounded_up():
    # "attention is all" has 16 characters -> 16/4 = 4 tokens; one more character -> ⌈17/4⌉ = 5.
    assert walk({"kind": "tokens", "text": "attention is all"}).display("tokens") == 4
    tr = walk({"kind": "tokens", "text": "attention is all!", "price_per_million_tokens": 2})
    assert tr.display("tokens") == 5
    assert tr.display("cost") == pytest.approx(5 * 2 / 1e6)


def test_every_llm_example_walks():
    names = sorted(p.name for p in EXAMPLES.glob("*.yaml"))
    assert names == ["attention.yaml", "bm25.yaml", "similarity.yaml", "softmax_temperature.yaml",
                     "tokens.yaml"]
    for name in names:
        tr = walk(yaml.safe_load((EXAMPLES / name).read_text()))
        assert tr.info["output_id"] in tr
        assert tr.to_dict()["steps"]


@pytest.mark.parametrize("body, words", [
    ("kind: attention\nQ: [[1, 0]]\nK: [[1, 0, 0]]\nV: [[1]]\n", "same width d_k"),
    ("kind: similarity\nquery: [1, 0]\ndocuments: {a: [1, 0, 0]}\n", "same space"),
    ("kind: softmax_temperature\nlogits: [1, .nan]\n", "NaN"),
    ("kind: tokens\ntext: ''\n", "needs 'text'"),
])
def test_bad_llm_specs_exit_2_with_one_line(tmp_path, capsys, body, words):
    from nn_tutor.agent.cli import main

    path = tmp_path / "bad.yaml"
    path.write_text(body)
    assert main(["walk", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err and "Traceback" not in err

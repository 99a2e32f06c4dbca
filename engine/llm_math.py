"""The few calculations behind LLMs and RAG, traced like the network maths so they can be walked.

Softmax with temperature, scaled dot-product attention, cosine similarity with top-k retrieval,
the BM25 score of each query term, and a rough token count. Each `walk_*` takes a parsed spec
(`kind: softmax_temperature | attention | similarity | bm25 | tokens`) and WalkOptions and
returns a Trace whose steps can be recomputed from other values.
"""
from __future__ import annotations

import math
import re

import numpy as np

from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.numfmt import fmt_num
from nn_tutor.engine.ops import softmax
from nn_tutor.engine.trace import Op, Table, Trace

# ---------------------------------------------------------------------------------------------
# spec reading


def _array(spec: dict, key: str, ndim: int, kind: str) -> np.ndarray:
    """A finite float64 array of the given rank from spec[key], or a one-line NNTError."""
    if key not in spec:
        raise NNTError(f"{kind} spec is missing '{key}'; add it, e.g. {_EXAMPLES[kind]}")
    try:
        value = np.asarray(spec[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise NNTError(f"{kind} field '{key}' must be numbers in nested lists "
                       f"(rows of equal length)") from None
    if value.ndim != ndim or value.size == 0:
        shape = "a list of numbers" if ndim == 1 else "a matrix (a list of rows)"
        raise NNTError(f"{kind} field '{key}' must be {shape}; got shape {value.shape}")
    if not np.all(np.isfinite(value)):
        raise NNTError(f"{kind} field '{key}' contains NaN or infinity; give finite numbers")
    return value


def _positive(spec: dict, key: str, default: float, kind: str) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 \
            or not math.isfinite(value):
        raise NNTError(f"{kind} field '{key}' must be a positive number; got {value!r}")
    return float(value)


_EXAMPLES = {
    "softmax_temperature": "logits: [2.0, 1.0, 0.1]",
    "attention": "Q: [[1, 0]], K: [[1, 0], [0, 1]], V: [[1, 2], [3, 4]]",
    "similarity": "query: [1, 0], documents: {a: [1, 1], b: [0, 1]}",
    "bm25": "query: 'relu gradient', documents: ['text one', 'text two']",
    "tokens": "text: 'How many tokens is this sentence?'",
}


# ---------------------------------------------------------------------------------------------
# softmax with temperature


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stabilised by subtracting each row's maximum (the result is unchanged)."""
    return softmax(np.asarray(z, dtype=np.float64), axis=-1)


def _entropy_rows(p: np.ndarray) -> np.ndarray:
    """Shannon entropy of each row in nats, with 0·ln 0 taken as 0."""
    safe = np.where(p > 0, p, 1.0)
    return -(p * np.log(safe)).sum(axis=-1)


def walk_softmax_temperature(spec: dict, options=None) -> Trace:
    """Softmax of the same logits at several temperatures: p = softmax(z / T)."""
    kind = "softmax_temperature"
    z = _array(spec, "logits", 1, kind)                                   # (n,)
    temps = spec.get("temperatures", [spec.get("temperature", 1.0)])
    temps = temps if isinstance(temps, list) else [temps]
    for t in temps:
        _positive({"temperature": t}, "temperature", 1.0, kind)
    T = np.asarray(temps, dtype=np.float64)                               # (t,)

    tr = Trace("Softmax with temperature", conventions={"entropy": "natural log (nats)"})
    tr.given("z", "logits (scores before softmax)", "z", z)
    tr.given("T", "temperatures", "T", T)
    scaled = tr.add("z_over_T", "logits divided by each temperature (one row per T)", "z / T",
                    z[None, :] / T[:, None], ("z", "T"),                  # (t, n)
                    Op(lambda z, T: z[None, :] / T[:, None], "{0} / {1}", _expand_div))
    p = tr.add("p", "probabilities at each temperature", "p = exp(z/T) / Σ exp(z/T)",
               softmax_rows(scaled), ("z_over_T",),                       # (t, n)
               Op(softmax_rows, "softmax({0}) row by row", _expand_softmax))
    tr.add("p_max", "probability of the most likely token", "max p", p.max(axis=1), ("p",),
           Op(lambda p: p.max(axis=1), "max of each row of {0}"))
    tr.add("entropy", "spread of the distribution (0 = certain, ln n = uniform)",
           "H = −Σ p ln p", _entropy_rows(p), ("p",),
           Op(_entropy_rows, "−Σ p ln p for each row of {0}"),
           note=f"uniform over {len(z)} options would give ln {len(z)} = {fmt_num(math.log(len(z)))}")
    table = Table("What temperature does", ["T"] + [f"p[{i}]" for i in range(len(z))]
                  + ["max p", "entropy"])
    for j, t in enumerate(T):
        table.rows.append([float(t)] + [float(v) for v in p[j]]
                          + [float(p[j].max()), float(_entropy_rows(p[j]))])
    tr.tables.append(table)
    tr.notes.append("T < 1 divides the logits by a small number, widening their gaps: the top token "
                    "takes more of the probability (sharper, more deterministic sampling). T > 1 "
                    "shrinks the gaps and flattens the distribution towards uniform (more varied "
                    "output). The order of the tokens never changes; T only changes how peaked it is.")
    tr.info["output_id"] = "p"
    return tr


def _expand_div(inputs, index, precision):
    z, T = inputs
    j, i = index
    return f"{fmt_num(z[i], precision)} / {fmt_num(T[j], precision)}"


def _expand_softmax(inputs, index, precision):
    (s,) = inputs
    row, i = index
    terms = " + ".join(f"e^{fmt_num(v, precision)}" for v in s[row])
    return f"e^{fmt_num(s[row, i], precision)} / ({terms})"


# ---------------------------------------------------------------------------------------------
# scaled dot-product attention


def _causal_mask(scores: np.ndarray) -> np.ndarray:
    """Set the scores above the diagonal to −inf so a position attends only to itself and earlier ones."""
    n_q, n_k = scores.shape
    future = np.triu(np.ones((n_q, n_k), dtype=bool), k=1 + n_k - n_q)
    return np.where(future, -np.inf, scores)


def walk_attention(spec: dict, options=None) -> Trace:
    """Scaled dot-product attention: softmax(Q·Kᵀ / √d_k)·V on a tiny example."""
    kind = "attention"
    Q = _array(spec, "Q", 2, kind)                                        # (n_q, d_k)
    K = _array(spec, "K", 2, kind)                                        # (n_k, d_k)
    V = _array(spec, "V", 2, kind)                                        # (n_k, d_v)
    if Q.shape[1] != K.shape[1]:
        raise NNTError(f"attention: Q has {Q.shape[1]} columns but K has {K.shape[1]}; queries and "
                       f"keys must have the same width d_k")
    if K.shape[0] != V.shape[0]:
        raise NNTError(f"attention: K has {K.shape[0]} rows but V has {V.shape[0]}; give one value "
                       f"row per key row")
    causal = bool(spec.get("causal", False))
    if causal and Q.shape[0] > K.shape[0]:
        raise NNTError("attention: a causal mask needs no more query rows than key rows")

    tr = Trace("Scaled dot-product attention", conventions={"mask": "causal" if causal else "none"})
    tr.given("Q", "queries, one row per position", "Q", Q)
    tr.given("K", "keys, one row per position", "K", K)
    tr.given("V", "values, one row per position", "V", V)
    tr.given("d_k", "width of a query/key vector", "d_k", np.float64(Q.shape[1]))
    S = tr.add("S", "raw scores: how well each query matches each key", "S = Q·Kᵀ",
               Q @ K.T, ("Q", "K"),                                       # (n_q, n_k)
               Op(lambda Q, K: Q @ K.T, "{0}·{1}ᵀ", _expand_qk))
    scale = lambda S, d: S / np.sqrt(d)  # noqa: E731
    S_scaled = tr.add("S_scaled", "scores divided by √d_k (keeps softmax from saturating)",
                      "S / √d_k", scale(S, Q.shape[1]), ("S", "d_k"),    # (n_q, n_k)
                      Op(scale, "{0} / √{1}"))
    src = "S_scaled"
    if causal:
        tr.add("S_masked", "scores with future positions set to −∞", "S_scaled + causal mask",
               _causal_mask(S_scaled), ("S_scaled",), Op(_causal_mask, "mask({0})"))
        src = "S_masked"
    A = tr.add("A", "attention weights: each row is a distribution over the keys",
               "A = softmax(S / √d_k) row by row", softmax_rows(tr[src].value), (src,),
               Op(softmax_rows, "softmax({0}) row by row", _expand_softmax))  # (n_q, n_k)
    tr.add("O", "output: each row is a weighted average of the value rows", "O = A·V",
           A @ V, ("A", "V"), Op(lambda A, V: A @ V, "{0}·{1}", _expand_av))  # (n_q, d_v)
    tr.notes.append("Each output row mixes the value rows in the proportions of its attention "
                    "weights; a query that matches one key strongly copies mostly that key's value.")
    tr.info["output_id"] = "O"
    return tr


def _dot_text(u, v, precision) -> str:
    """u·v written out: 'u0×v0 + u1×v1 + …'."""
    return " + ".join(f"{fmt_num(a, precision)}×{fmt_num(b, precision)}" for a, b in zip(u, v))


def _expand_qk(inputs, index, precision):
    Q, K = inputs
    i, j = index
    return _dot_text(Q[i], K[j], precision)


def _expand_av(inputs, index, precision):
    A, V = inputs
    i, c = index
    return _dot_text(A[i], V[:, c], precision)


# ---------------------------------------------------------------------------------------------
# cosine similarity and top-k retrieval


def _documents(spec: dict, kind: str) -> tuple[list[str], object]:
    """Document ids and payloads from a mapping {id: x} or a list of x / {id, ...} entries."""
    docs = spec.get("documents")
    if isinstance(docs, dict) and docs:
        return [str(k) for k in docs], list(docs.values())
    if isinstance(docs, list) and docs:
        ids, items = [], []
        for n, d in enumerate(docs):
            if isinstance(d, dict):
                ids.append(str(d.get("id", f"d{n + 1}")))
                items.append(d.get("vector", d.get("text")))
            else:
                ids.append(f"d{n + 1}")
                items.append(d)
        return ids, items
    raise NNTError(f"{kind} spec needs 'documents' as a non-empty list or mapping; e.g. "
                   f"{_EXAMPLES[kind]}")


def _norms(X: np.ndarray) -> np.ndarray:
    return np.sqrt((X * X).sum(axis=-1))


def walk_similarity(spec: dict, options=None) -> Trace:
    """Cosine similarity of a query vector with each document vector, then the top k."""
    kind = "similarity"
    q = _array(spec, "query", 1, kind)                                    # (d,)
    ids, vectors = _documents(spec, kind)
    D = _array({"documents": vectors}, "documents", 2, kind)              # (n_docs, d)
    if D.shape[1] != q.shape[0]:
        raise NNTError(f"similarity: the query has {q.shape[0]} numbers but the documents have "
                       f"{D.shape[1]}; embed them in the same space")
    if not _norms(q) > 0 or np.any(_norms(D) == 0):
        raise NNTError("similarity: a zero vector has no direction, so its cosine is undefined; "
                       "remove it or give it non-zero entries")
    k = spec.get("k", min(3, len(ids)))
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(ids):
        raise NNTError(f"similarity field 'k' must be a whole number from 1 to {len(ids)}; got {k!r}")

    tr = Trace("Cosine similarity and top-k retrieval")
    tr.given("q", "query embedding", "q", q)
    tr.given("D", f"document embeddings, one row per document ({', '.join(ids)})", "D", D)
    dots = tr.add("dot", "dot product of each document with the query", "D·q", D @ q, ("D", "q"),
                  Op(lambda D, q: D @ q, "{0}·{1}", _expand_dot))         # (n_docs,)
    nq = tr.add("norm_q", "length of the query", "‖q‖ = √Σ q²", _norms(q), ("q",),
                Op(_norms, "√Σ {0}²"))
    nD = tr.add("norm_D", "length of each document vector", "‖d‖ = √Σ d²", _norms(D), ("D",),
                Op(_norms, "√Σ d² for each row of {0}"))                  # (n_docs,)
    cos = tr.add("cos", "cosine similarity (1 same direction, 0 unrelated, −1 opposite)",
                 "cos = D·q / (‖d‖ ‖q‖)", dots / (nD * nq), ("dot", "norm_D", "norm_q"),
                 Op(lambda d, nD, nq: d / (nD * nq), "{0} / ({1} × {2})"))
    order = sorted(range(len(ids)), key=lambda i: (-cos[i], ids[i]))     # ties broken by id
    table = Table(f"Top {k} by cosine similarity", ["rank", "id", "cos"])
    table.rows = [[r + 1, ids[i], float(cos[i])] for r, i in enumerate(order[:k])]
    tr.tables.append(table)
    tr.info.update(output_id="cos", ids=ids, top_k=[ids[i] for i in order[:k]])
    tr.notes.append("Retrieval keeps the k documents whose embeddings point most nearly the same way "
                    "as the query's; cosine ignores length, so a long and a short text on the same "
                    "topic can score alike.")
    return tr


def _expand_dot(inputs, index, precision):
    D, q = inputs
    (i,) = index
    return _dot_text(D[i], q, precision)


# ---------------------------------------------------------------------------------------------
# BM25


WORD = re.compile(r"\w+")


def bm25_idf(N, df):
    """Lucene's BM25 idf: ln(1 + (N − df + 0.5) / (df + 0.5)), never negative."""
    return np.log(1.0 + (N - df + 0.5) / (df + 0.5))


def bm25_term_score(idf, tf, dl, avgdl, k1, b):
    """One term's BM25 contribution (Lucene form, as bm25s scores): idf · tf / (tf + k1·(1 − b + b·dl/avgdl))."""
    return idf * tf / (tf + k1 * (1.0 - b + b * dl / avgdl))


def walk_bm25(spec: dict, options=None) -> Trace:
    """BM25 score of each query term in each document, and their sum (the document's score)."""
    kind = "bm25"
    query = spec.get("query")
    if not isinstance(query, str) or not WORD.findall(query):
        raise NNTError(f"bm25 spec needs 'query' as text with at least one word; e.g. {_EXAMPLES[kind]}")
    ids, texts = _documents(spec, kind)
    if not all(isinstance(t, str) for t in texts):
        raise NNTError("bm25: every document must be text (a string, or {id, text})")
    k1 = spec.get("k1", 1.5)
    if isinstance(k1, bool) or not isinstance(k1, (int, float)) or not 0 <= k1 < math.inf:
        raise NNTError(f"bm25 field 'k1' must be a number ≥ 0 (1.2 to 2 is usual); got {k1!r}")
    b = spec.get("b", 0.75)
    if isinstance(b, bool) or not isinstance(b, (int, float)) or not 0 <= b <= 1:
        raise NNTError(f"bm25 field 'b' must be a number from 0 to 1 (0.75 is usual); got {b!r}")

    docs = [WORD.findall(t.lower()) for t in texts]
    if any(not d for d in docs):
        raise NNTError("bm25: a document has no words; remove it or give it text")
    terms = list(dict.fromkeys(WORD.findall(query.lower())))
    tr = Trace("BM25 score of each query term",
               conventions={"tokens": "lower-cased words (\\w+)", "idf": "Lucene: ln(1 + (N−df+0.5)/(df+0.5))"})
    tr.given("N", "number of documents", "N", np.float64(len(docs)))
    dl = tr.given("dl", f"length of each document in words ({', '.join(ids)})", "dl",
                  np.array([len(d) for d in docs], dtype=np.float64))
    tr.given("k1", "term-frequency saturation", "k1", np.float64(k1))
    tr.given("b", "length normalisation strength", "b", np.float64(b))
    keys = {term: re.sub(r"\W", "_", term) for term in terms}
    for term, key in keys.items():                       # the counts are givens: read off the text
        tr.given(f"tf.{key}", f"times '{term}' occurs in each document", f"tf({term})",
                 np.array([d.count(term) for d in docs], dtype=np.float64))
    tr.add("avgdl", "average document length", "avgdl = Σ dl / N", dl.mean(), ("dl", "N"),
           Op(lambda dl, N: dl.sum() / N, "Σ {0} / {1}"))
    score_ids = []
    for term, key in keys.items():
        tf = tr[f"tf.{key}"].value
        tr.add(f"df.{key}", f"documents that contain '{term}'", f"df({term}) = #docs with tf > 0",
               np.float64((tf > 0).sum()), (f"tf.{key}",), Op(lambda tf: (tf > 0).sum(), "count of {0} > 0"))
        tr.add(f"idf.{key}", f"rarity of '{term}'", "idf = ln(1 + (N − df + 0.5)/(df + 0.5))",
               bm25_idf(len(docs), tr[f"df.{key}"].value), ("N", f"df.{key}"),
               Op(bm25_idf, "ln(1 + ({0} − {1} + 0.5)/({1} + 0.5))"))
        tr.add(f"score.{key}", f"contribution of '{term}' to each document's score",
               "idf · tf / (tf + k1·(1 − b + b·dl/avgdl))",
               bm25_term_score(tr[f"idf.{key}"].value, tf, dl, tr["avgdl"].value, k1, b),
               (f"idf.{key}", f"tf.{key}", "dl", "avgdl", "k1", "b"),
               Op(bm25_term_score, "{0} · {1} / ({1} + {4}·(1 − {5} + {5}·{2}/{3}))"))
        score_ids.append(f"score.{key}")
    total = sum(tr[s].value for s in score_ids)
    tr.add("score", "BM25 score of each document: the sum over query terms",
           "score(d) = Σ_terms score(term, d)", total, tuple(score_ids),
           Op(lambda *parts: sum(parts), " + ".join(f"{{{i}}}" for i in range(len(score_ids)))))
    order = sorted(range(len(ids)), key=lambda i: (-total[i], ids[i]))
    table = Table("Documents by BM25 score", ["rank", "id", "score"] + terms)
    table.rows = [[r + 1, ids[i], float(total[i])] + [float(tr[s].value[i]) for s in score_ids]
                  for r, i in enumerate(order)]
    tr.tables.append(table)
    tr.info.update(output_id="score", ids=ids, terms=terms)
    tr.notes.append("A rare term (high idf) counts for more than a common one; repeating a term helps "
                    "less and less (k1 saturates it); long documents are scaled down (b). Some textbooks multiply "
                    "each term by (k1 + 1); that constant changes every score alike and never the ranking.")
    return tr


# ---------------------------------------------------------------------------------------------
# rough token count


def walk_tokens(spec: dict, options=None) -> Trace:
    """A rough token count: about four characters of English per token, and the cost if priced."""
    kind = "tokens"
    text = spec.get("text")
    if not isinstance(text, str) or not text:
        raise NNTError(f"tokens spec needs 'text' (non-empty); e.g. {_EXAMPLES[kind]}")
    cpt = _positive(spec, "chars_per_token", 4.0, kind)
    tr = Trace("Rough token count", conventions={"rule": f"1 token ≈ {fmt_num(cpt)} characters"})
    tr.given("chars", "characters in the text (spaces included)", "chars", np.float64(len(text)))
    tr.given("words", "words in the text (for comparison)", "words",
             np.float64(len(text.split())))
    tr.given("chars_per_token", "characters per token (English average)", "c", np.float64(cpt))
    estimate = lambda n, c: np.ceil(n / c)  # noqa: E731
    tr.add("tokens", "estimated tokens (rounded up)", "tokens ≈ ⌈chars / c⌉",
           estimate(len(text), cpt), ("chars", "chars_per_token"), Op(estimate, "⌈{0} / {1}⌉"))
    tr.info["output_id"] = "tokens"
    if "price_per_million_tokens" in spec:
        price = _positive(spec, "price_per_million_tokens", 1.0, kind)
        tr.given("price", "price per million tokens", "price", np.float64(price))
        cost = lambda n, p: n * p / 1e6  # noqa: E731
        tr.add("cost", "cost of sending this text once", "cost = tokens × price / 10⁶",
               cost(tr["tokens"].value, price), ("tokens", "price"), Op(cost, "{0} × {1} / 10⁶"))
    tr.notes.append("Real tokenisers split text into sub-word pieces; common words are one token, rare "
                    "words and numbers several. The four-characters rule is only an estimate for "
                    "English prose; code and other languages usually need more tokens.")
    return tr

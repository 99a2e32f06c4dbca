"""Text to search terms for the knowledge base: a tokenizer that keeps maths tokens, and an alias table.

The same function turns cards and questions into terms, so both sides agree:
- maths tokens stay whole: `dL/dw`, `∂L/∂w` (also indexed as `dl/dw`), `x²`, `½`, `σ`, `η`; a
  transpose and a square root are read as typed (`Kᵀ` as `k^t`, `√d` as `sqrt d`);
- an alias table adds one canonical term for every way of naming a concept
  ("mean squared error" and "MSE" both add `mse`; "retrieval-augmented generation" adds `rag`);
- English filler words are dropped, and plurals, -ing and -ed folded ("activations" -> "activation",
  "overfitting" and "overfitted" -> "overfit").
"""
from __future__ import annotations

import re

# a word, or a maths compound such as dl/dw, ∂l/∂w, x^2; a few maths symbols alone
TOKEN = re.compile(r"[\w∂∇]+(?:[/^][\w∂∇]+)*|[√∑Σ∂∇⊙⊗·≈]")

# canonical term -> the other ways students and cards name it (matched as whole words, '-' = ' ')
ALIASES: dict[str, tuple[str, ...]] = {
    "mse": ("mean squared error", "mean square error", "mean of squared errors"),
    "rmse": ("root mean squared error", "root mean square error"),
    "sse": ("sum of squared errors", "sum of squares"),
    "mae": ("mean absolute error",),
    "relu": ("rectified linear unit", "rectifier"),
    "sigmoid": ("logistic function", "σ"),
    "tanh": ("hyperbolic tangent",),
    "softmax": ("soft max", "soft-max"),
    "rag": ("retrieval augmented generation", "retrieval augmented", "retrieval augmentation"),
    "cnn": ("convolutional neural network", "convolutional neural networks", "convolutional network",
            "convolutional networks", "convnet", "convnets", "convolution"),
    "rnn": ("recurrent neural network", "recurrent neural networks", "recurrent network"),
    "lstm": ("long short term memory",),
    "llm": ("large language model", "large language models", "language model", "language models"),
    "nlp": ("natural language processing",),
    "ai": ("artificial intelligence",),
    "ml": ("machine learning",),
    "agi": ("artificial general intelligence", "general ai", "strong ai", "human level ai"),
    "asi": ("artificial superintelligence", "superintelligence", "super ai", "superintelligent"),
    "genai": ("generative ai", "gen ai"),
    "ner": ("named entity recognition", "named entities", "named entity"),
    "pos": ("part of speech", "parts of speech"),
    "bce": ("binary cross entropy", "log loss"),
    "sgd": ("stochastic gradient descent",),
    "gpu": ("graphics processing unit", "graphics processor", "graphics card", "graphics cards"),
    "tpu": ("tensor processing unit",),
    "pca": ("principal component analysis",),
    "knn": ("k nearest neighbours", "k nearest neighbors", "nearest neighbour", "nearest neighbor"),
    "svm": ("support vector machine", "support vector machines"),
    "backprop": ("backpropagation", "back propagation", "backward pass", "backward propagation",
                 "backpropagate"),
    "autodiff": ("automatic differentiation", "autograd"),
    "rlhf": ("reinforcement learning from human feedback",),
    "rl": ("reinforcement learning",),
    "bm25": ("best matching 25", "okapi"),
    "η": ("learning rate", "step size", "eta"),
    "xor": ("exclusive or",),
    "hallucination": ("hallucinate", "hallucinates", "hallucinating", "make things up",
                      "makes things up", "making things up", "made up", "fabricate", "fabricates",
                      "confabulation", "invent facts", "invents facts"),
    "overfitting": ("overfit", "overfits", "over fitting", "memorise", "memorize", "memorises",
                    "memorizes", "memorising", "memorizing"),
    "mcculloch": ("mcculloch pitts", "threshold logic unit"),
    "gpt": ("chatgpt", "gpt 2", "gpt 3", "gpt2", "gpt3"),
    "embedding": ("vector representation", "word vectors", "word vector"),
    "react": ("reason and act", "reasoning and acting", "thought action observation"),
    "winter": ("ai winter", "ai winters"),
}

STOPWORDS = frozenset("""
a an and are as at be but by for if in into is it its no not of on or such that the their then there
these they this to was will with what whats which who whom why how when where does do did doing done
can could would should shall may might must i me my we our you your he she him her them us
am been being have has had having so than too very just also about above after again against all
any because before below between both during each few from further here more most other own same
some only off out over under until up down once while nor s t don now ever
explain tell please mean means meant exactly actually really basically simply kind sort thing things
stuff something anything someone anyone give show describe idea term word called call like
""".split())

_KEEP_S = ("ss", "us", "is", "as", "os")
_VOWEL = re.compile(r"[aeiouy]")
_UNDOUBLE = re.compile(r"([bdgmnprt])\1$")  # "stopp" -> "stop", "embedd" -> "embed" (not "fall", "pass")


def fold(word: str) -> str:
    """Fold a word's inflections onto one term, the same for cards and questions: plurals onto the
    singular ("activations" -> "activation"), then -ing and -ed onto the stem ("overfitting",
    "overfitted" -> "overfit"; "stopping" -> "stop"), then a final silent e ("compute", "computed",
    "computing" -> "comput"). A light stemmer: it only has to give both sides the same term."""
    if len(word) <= 3 or not word.isalpha():
        return word
    word = _singular(word)
    for suffix in ("ing", "ed"):
        stem = word[:-len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3 + (suffix == "ed") and _VOWEL.search(stem):
            word = _UNDOUBLE.sub(r"\1", stem)
            break
    return word[:-1] if len(word) >= 4 and word.endswith("e") and not word.endswith("ee") else word


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")) or (word.endswith("ses") and len(word) > 5):
        return word[:-2]
    if word.endswith("s") and not word.endswith(_KEEP_S):
        return word[:-1]
    return word


def _alias_pattern() -> tuple[re.Pattern, dict[str, str]]:
    """One regex for every alias phrase (longest first) and the phrase -> canonical term map."""
    canonical_of = {}
    for canonical, variants in ALIASES.items():
        for phrase in variants + (canonical,):
            canonical_of.setdefault(phrase, canonical)
    phrases = sorted(canonical_of, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, phrases)) + r")(?!\w)")
    return pattern, canonical_of


_ALIAS_PATTERN, _CANONICAL_OF = _alias_pattern()


def maths_as_typed(text: str) -> str:
    """Maths symbols as students type them, so both spellings meet: Kᵀ as k^t, √d as sqrt d."""
    return text.replace("ᵀ", "^t").replace("√", " sqrt ")


def alias_terms(text: str) -> list[str]:
    """The canonical term of every alias named in `text` (lower-cased, '-' read as a space)."""
    flat = " ".join(text.lower().replace("-", " ").split())
    return [_CANONICAL_OF[m.group(0)] for m in _ALIAS_PATTERN.finditer(flat)]


def tokenize(text: str) -> list[str]:
    """Search terms of `text`: words and maths tokens, folded, without filler, plus alias terms."""
    terms = []
    for token in TOKEN.findall(maths_as_typed(text.lower())):
        if token in STOPWORDS:
            continue
        terms.append(fold(token))
        if "/" in token or "^" in token:                 # dl/dw: also its parts, and ∂ written as d
            if "∂" in token:
                terms.append(token.replace("∂", "d"))
            terms.extend(p for p in re.split(r"[/^]", token.replace("∂", "d")) if p)
    return terms + alias_terms(text)

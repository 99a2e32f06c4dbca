"""Calculus warm-ups (R12): derivatives at points and a computational graph's backward pass, by sympy.

Derivatives come from sympy (a maintained CAS), never from a home-made differentiator; values are
float64. Expressions in a spec are untrusted text: each is checked token by token (numbers, declared
variables, a few known functions, + - * / ^ ** and parentheses; nothing else) and rewritten into a
canonical string before sympy's parse_expr reads it with a closed namespace, so no user text is
ever evaluated as Python. Implicit multiplication is accepted: `2w`, `2(x + 1)`, `(a + b)(b - c)`.

Spec `kind: calculus` (give `derivatives`, `graph`, or both)::

    kind: calculus
    derivatives:
      - name: y                   # optional, default f; step ids use it
        label: power rule         # optional, shown in the step labels
        expr: "x^2"
        wrt: x                    # a variable, or a list of them for partial derivatives
        at: [{x: 3}, {x: 0}]      # one point or a list; the point's keys declare the variables
      - {name: f, expr: "2w + b", wrt: [w, b], at: {w: 1, b: 2}}
    graph:
      inputs: {a: 2, b: 3, c: 1}  # the leaves and their values
      nodes:                      # computed in this order; each may use inputs and earlier nodes
        d: "a + b"
        e: "b - c"
        y: "d * e"
      output: y                   # optional, default the last node

Functions: exp, log (natural; ln is the same), sqrt, sin, cos, tan, tanh, sigmoid.
Step ids, where p is the point written `x=3` or `w=1,b=2`:
- derivatives: given `x@p` (each variable's value), forward `y@p` (the function's value),
  backward `dy/dx@p` (the derivative with respect to x at p).
- graph: given `a`, `b`, `c`; forward `d`, `e`, `y`; backward `dy/dy` (the seed, 1), the local
  partial derivatives `∂y/∂d`, `∂d/∂a`, ... (node with respect to one of its direct arguments) and
  the total derivatives of the output `dy/de`, `dy/dd`, `dy/da`, ... computed in reverse order as
  dy/dq = Σ over the nodes c that use q of dy/dc · ∂c/∂q.
"""
from __future__ import annotations

import math
import re

import numpy as np

from nn_tutor.engine.errors import NNTError
from nn_tutor.engine.fields import check_fields, finite_number
from nn_tutor.engine.numfmt import fmt_num
from nn_tutor.engine.trace import Op, Table, Trace

FUNCTIONS = ("exp", "log", "ln", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid")
MAX_EXPR_CHARS = 300
MAX_NUMBER_CHARS = 20
MAX_CONST_EXPONENT = 64
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,19}$")
_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
                    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>\*\*|[-+*/^()]))")
_SYMBOLS_HELP = "numbers, the declared variables, + - * / ^ ( ) and " + ", ".join(FUNCTIONS)


# ---------------------------------------------------------------------------------------------
# reading expressions safely


def _tokens(text: str, where: str) -> list[tuple[str, str]]:
    """Split an expression into (kind, text) tokens; anything outside the grammar is an NNTError."""
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            bad = text[pos:].lstrip()[:1]
            raise NNTError(f"{where}: '{bad}' is not allowed in an expression; use {_SYMBOLS_HELP}")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _canonical(text, variables: tuple[str, ...], where: str) -> str:
    """Validate `text` token by token and return it with explicit '*' and '**' (no '^')."""
    if not isinstance(text, str) or not text.strip():
        raise NNTError(f"{where} must be an expression in quotes, e.g. \"x^2\"; got {text!r}")
    if len(text) > MAX_EXPR_CHARS:
        raise NNTError(f"{where} is {len(text)} characters long; the limit is {MAX_EXPR_CHARS}")
    if "__" in text:
        raise NNTError(f"{where}: '__' is not allowed in an expression; use {_SYMBOLS_HELP}")
    tokens = _tokens(text, where)
    parts: list[str] = []
    depth, prev = 0, None          # prev: 'value' (number, variable, ')'), 'func', 'op', '('
    for k, (kind, tok) in enumerate(tokens):
        nxt = tokens[k + 1][1] if k + 1 < len(tokens) else None
        if kind == "num":
            if len(tok) > MAX_NUMBER_CHARS:
                raise NNTError(f"{where}: the number {tok[:12]}... is too long; use at most "
                               f"{MAX_NUMBER_CHARS} characters")
            cur = "value"
        elif kind == "name":
            if tok in FUNCTIONS:
                if nxt != "(":
                    raise NNTError(f"{where}: write the function with parentheses, e.g. {tok}(x)")
                cur = "func"
            elif tok in variables:
                cur = "value"
            else:
                declared = ", ".join(variables) or "none"
                raise NNTError(f"{where}: unknown name '{tok}'; the declared variables are {declared} "
                               f"and the functions {', '.join(FUNCTIONS)}")
        elif tok == "(":
            depth += 1
            cur = "("
        elif tok == ")":
            depth -= 1
            if depth < 0 or prev in ("op", "(", None):
                raise NNTError(f"{where}: unbalanced or empty parentheses in \"{text}\"")
            cur = "value"
        else:
            cur = "op"
        if prev == "value" and kind == "num":
            raise NNTError(f"{where}: '{tok}' follows another value without an operator in \"{text}\"; "
                           f"write the operator, e.g. x*2 or 2*3")
        if prev == "value" and cur in ("value", "func", "(") and tok != ")":
            parts.append("*")      # implicit multiplication: 2w, 2(x + 1), (a + b)(b - c)
        parts.append("**" if tok == "^" else tok)
        prev = cur
    if depth != 0:
        raise NNTError(f"{where}: unbalanced parentheses in \"{text}\"; close every '('")
    return " ".join(parts)


def _namespace(symbols: dict):
    import sympy

    t = sympy.Dummy("t")
    sigmoid = sympy.Lambda(t, 1 / (1 + sympy.exp(-t)))
    funcs = {"exp": sympy.exp, "log": sympy.log, "ln": sympy.log, "sqrt": sympy.sqrt,
             "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "tanh": sympy.tanh,
             "sigmoid": sigmoid}
    global_dict = {"__builtins__": {}, "Integer": sympy.Integer, "Float": sympy.Float,
                   "Rational": sympy.Rational, "Add": sympy.Add, "Mul": sympy.Mul, "Pow": sympy.Pow}
    return {**funcs, **symbols}, global_dict


def parse_expression(text, variables: tuple[str, ...], where: str):
    """Parse a validated expression into sympy over the declared `variables` (no eval of user text)."""
    import sympy
    from sympy.parsing.sympy_parser import auto_number, parse_expr

    canonical = _canonical(text, variables, where)
    symbols = {v: sympy.Symbol(v, real=True) for v in variables}
    local_dict, global_dict = _namespace(symbols)
    try:
        raw = parse_expr(canonical, local_dict=local_dict, global_dict=global_dict,
                         transformations=(auto_number,), evaluate=False)
        _check_exponents(raw, where)
        expr = parse_expr(canonical, local_dict=local_dict, global_dict=global_dict,
                          transformations=(auto_number,))
    except NNTError:
        raise
    except Exception as exc:  # sympy's parser raises several types; the user needs one line
        raise NNTError(f"{where}: cannot read \"{text}\" ({exc.__class__.__name__}); "
                       f"write it like \"(x + 2)^2\" or \"2*w + b\"") from None
    if not isinstance(expr, sympy.Expr):
        raise NNTError(f"{where}: \"{text}\" is not a numeric expression")
    return expr


def _check_exponents(expr, where: str) -> None:
    """Refuse constant exponents above MAX_CONST_EXPONENT, so '9^9^9' cannot stall the CAS."""
    import sympy

    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow) and not node.exp.free_symbols:
            value = abs(complex(node.exp.evalf(15)))
            if not value <= MAX_CONST_EXPONENT:
                raise NNTError(f"{where}: the exponent {node.exp} is too large; constant exponents "
                               f"may be at most {MAX_CONST_EXPONENT}")


def _evaluator(expr, names: tuple[str, ...], where: str):
    """fn(*arrays) -> float64 array: `expr` at the given values of `names`, elementwise."""
    import sympy

    symbols = [sympy.Symbol(v, real=True) for v in names]

    def scalar(*values) -> float:
        point = {s: sympy.Float(float(v), 30) for s, v in zip(symbols, values)}
        result = expr.xreplace(point).evalf(20)
        at = ", ".join(f"{n} = {fmt_num(v, 6)}" for n, v in zip(names, values))
        try:
            number = complex(result)
        except (TypeError, ValueError):
            raise NNTError(f"{where} is undefined at {at or 'this point'}; choose another point") from None
        if not math.isfinite(number.real) or abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
            raise NNTError(f"{where} is not a finite real number at {at or 'this point'} "
                           f"(got {result}); choose a point inside its domain")
        return number.real

    def fn(*arrays):
        arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
        if not arrays:
            return np.float64(scalar())
        return np.vectorize(scalar, otypes=[np.float64])(*arrays)

    return fn


def _text(expr, marks: dict[str, str] | None = None) -> str:
    """An expression as the course writes it (x^2, 2*w + b); `marks` prints some symbols differently."""
    from sympy.printing.str import StrPrinter

    class _Marked(StrPrinter):
        def _print_Symbol(self, symbol):
            return (marks or {}).get(symbol.name, symbol.name)

    return _Marked().doprint(expr).replace("**", "^")


def _template(expr, names: tuple[str, ...], values: dict) -> str:
    """The expression with {k} placeholders for the k-th name (in parentheses when negative)."""
    return _text(expr, {n: ("({%d})" if values.get(n, 0) < 0 else "{%d}") % k for k, n in enumerate(names)})


def _chain_note(expr, var: str) -> str:
    """For f = outer(inner) with a non-trivial inner: 'chain rule: outer'(inner) · inner' = ...'."""
    import sympy

    x = sympy.Symbol(var, real=True)
    if isinstance(expr, sympy.Pow) and not expr.exp.free_symbols and expr.base != x \
            and x in expr.base.free_symbols:
        inner, u = expr.base, sympy.Dummy("u")
        outer = u ** expr.exp
    elif isinstance(expr, sympy.Function) and len(expr.args) == 1 and expr.args[0] != x \
            and x in expr.args[0].free_symbols:
        inner, u = expr.args[0], sympy.Dummy("u")
        outer = expr.func(u)
    else:
        return ""
    d_outer = sympy.diff(outer, u).xreplace({u: sympy.UnevaluatedExpr(inner)})  # keeps 2*(x + 2)
    d_inner = sympy.diff(inner, x)
    return (f"chain rule: outer'(inner)·inner' = ({_text(d_outer)})·({_text(d_inner)}) "
            f"= {_text(sympy.diff(expr, x))}, with inner = {_text(inner)}")


# ---------------------------------------------------------------------------------------------
# spec reading


def _name(value, where: str, taken: tuple[str, ...] = ()) -> str:
    if not isinstance(value, str) or not _NAME.match(value) or value in FUNCTIONS:
        raise NNTError(f"{where} must be a name of letters, digits and _ starting with a letter "
                       f"(not a function name such as exp), e.g. x; got {value!r}")
    if value in taken:
        raise NNTError(f"{where}: the name '{value}' is used twice; give each its own name")
    return value


def _point_text(point: dict) -> str:
    return ",".join(f"{k}={fmt_num(v, 6)}" for k, v in point.items())


def _points(item: dict, where: str) -> list[dict]:
    if "at" not in item:
        raise NNTError(f"{where} is missing 'at' (the point to evaluate at); add e.g. at: {{x: 3}}")
    raw = item["at"] if isinstance(item["at"], list) else [item["at"]]
    if not raw:
        raise NNTError(f"{where}.at is empty; give a point such as {{x: 3}} or a list of points")
    points = []
    for k, p in enumerate(raw):
        if not isinstance(p, dict) or not p:
            raise NNTError(f"{where}.at must be a point such as {{x: 3}} or a list of points; got {p!r}")
        point = {}
        for name, v in p.items():
            point[_name(name, f"{where}.at variable")] = finite_number(v, f"{where}.at.{name}", "3")
        if points and set(point) != set(points[0]):
            raise NNTError(f"{where}.at: every point must give the same variables "
                           f"({', '.join(points[0])}); point {k + 1} gives {', '.join(point)}")
        points.append(point)
    return points


# ---------------------------------------------------------------------------------------------
# derivatives at points


def _walk_derivative(trace: Trace, item, k: int, table: Table) -> None:
    import sympy

    where = f"derivatives[{k}]"
    check_fields(item, ("name", "label", "expr", "wrt", "at"), where)
    points = _points(item, where)
    names = tuple(points[0])
    fname = _name(item.get("name", "f"), f"{where}.name")
    if fname in names:
        raise NNTError(f"{where}: the function name '{fname}' is also a variable; rename the function")
    if "expr" not in item:
        raise NNTError(f"{where} is missing 'expr'; add e.g. expr: \"x^2\"")
    expr = parse_expression(item["expr"], names, f"{where}.expr")
    wrt = item.get("wrt")
    wrt = wrt if isinstance(wrt, list) else [wrt]
    if wrt == [None]:
        raise NNTError(f"{where} is missing 'wrt' (the variable to differentiate by); add e.g. wrt: {names[0]}")
    for v in wrt:
        if v not in names:
            raise NNTError(f"{where}.wrt: '{v}' is not one of the variables given in 'at' "
                           f"({', '.join(names)}); differentiate by one of them")
    label = f"{item['label']}: " if isinstance(item.get("label"), str) else ""
    f_text = f"{fname}({', '.join(names)}) = {_text(expr)}"
    value_fn = _evaluator(expr, names, f"{fname} = {item['expr']}")
    derivs = {v: sympy.diff(expr, sympy.Symbol(v, real=True)) for v in wrt}
    deriv_fns = {v: _evaluator(d, names, f"d{fname}/d{v} = {_text(d)}") for v, d in derivs.items()}
    for point in points:                                  # givens, then values, then derivatives
        p = _point_text(point)
        for n in names:
            trace.given(f"{n}@{p}", f"{n} at the point {p}", n, np.float64(point[n]))
    for point in points:
        p = _point_text(point)
        value_id = f"{fname}@{p}"
        _unique(trace, value_id, where)
        trace.add(value_id, f"{label}{fname} at {p}", f_text, value_fn(*(point[n] for n in names)),
                  tuple(f"{n}@{p}" for n in names), op=Op(value_fn, _template(expr, names, point)),
                  phase="forward")
    for point in points:
        p = _point_text(point)
        for v, d in derivs.items():
            sid = f"d{fname}/d{v}@{p}"
            _unique(trace, sid, where)
            symbol = "d" if len(names) == 1 else "∂"
            formula = f"{symbol}{fname}/{symbol}{v} = {_text(d)}"
            value = trace.add(sid, f"{label}derivative of {fname} with respect to {v} at {p}", formula,
                              deriv_fns[v](*(point[n] for n in names)), tuple(f"{n}@{p}" for n in names),
                              op=Op(deriv_fns[v], _template(d, names, point)),
                              note=_chain_note(expr, v), phase="backward")
            table.rows.append([f"{fname} = {_text(expr)}", v, p, _text(d), float(value)])
            trace.info.setdefault("derivatives", {})[sid] = float(value)


def _unique(trace: Trace, step_id: str, where: str) -> None:
    if step_id in trace:
        raise NNTError(f"{where}: step '{step_id}' is already defined by an earlier derivative; "
                       f"give this function another name")


# ---------------------------------------------------------------------------------------------
# computational graph


def _walk_graph(trace: Trace, graph) -> None:
    check_fields(graph, ("inputs", "nodes", "output"), "graph")
    inputs, nodes = graph.get("inputs"), graph.get("nodes")
    if not isinstance(inputs, dict) or not inputs:
        raise NNTError("graph is missing 'inputs': the leaves and their values, e.g. inputs: {a: 2, b: 3, c: 1}")
    if not isinstance(nodes, dict) or not nodes:
        raise NNTError("graph is missing 'nodes': each node's name and expression in order, e.g. "
                       "nodes: {d: \"a + b\", e: \"b - c\", y: \"d * e\"}")
    values: dict[str, float] = {}
    for name, v in inputs.items():
        values[_name(name, "graph.inputs name")] = finite_number(v, f"graph.inputs.{name}", "3")
        trace.given(name, f"input {name}", name, np.float64(values[name]))
    exprs, parents = {}, {}
    for name, text in nodes.items():
        _name(name, "graph.nodes name", tuple(values))
        known = tuple(values)
        expr = parse_expression(text, known, f"graph.nodes.{name}")
        used = {s.name for s in expr.free_symbols}
        parents[name] = tuple(n for n in known if n in used)    # in definition order
        exprs[name] = expr
        fn = _evaluator(expr, parents[name], f"graph node {name} = {text}")
        values[name] = float(trace.add(
            name, f"node {name}", f"{name} = {_text(expr)}",
            fn(*(values[p] for p in parents[name])), parents[name],
            op=Op(fn, _template(expr, parents[name], values)), phase="forward"))
    out = graph.get("output", list(nodes)[-1])
    if not isinstance(out, str) or out not in nodes:
        raise NNTError(f"graph.output '{out}' is not a node; use one of: {', '.join(nodes)}")
    _graph_backward(trace, exprs, parents, values, out, list(values))


def _graph_backward(trace, exprs, parents, values, out, order) -> None:
    import sympy

    upto = order[:order.index(out) + 1]
    children = {q: [c for c in upto if c in parents and q in parents[c]] for q in upto}
    trace.add(f"d{out}/d{out}", "seed: the output's derivative with respect to itself",
              f"d{out}/d{out} = 1", np.float64(1.0), phase="backward")
    table = Table(f"Computational graph: forward values and d{out}/d·",
                  ["name", "formula", "value", f"d{out}/d·"], [])
    grads = {out: 1.0}
    for q in reversed(upto):
        if q != out:
            users = children[q]                       # later nodes that use q; all have dy/dc by now
            terms = [(f"d{out}/d{c}", f"∂{c}/∂{q}") for c in users]
            ids = tuple(i for pair in terms for i in pair)
            grads[q] = sum(grads[c] * float(trace[f"∂{c}/∂{q}"].value) for c in users)
            formula = " + ".join(f"{a}·{b}" for a, b in terms) or "0"
            note = "" if terms else f"{out} does not depend on {q}"
            trace.add(f"d{out}/d{q}", f"total derivative of {out} with respect to {q}",
                      f"d{out}/d{q} = {formula}", np.float64(grads[q]), ids,
                      op=Op(_sum_of_products, " + ".join(
                          _product_mark(2 * k, grads[c]) + "×" + _product_mark(
                              2 * k + 1, float(trace[f"∂{c}/∂{q}"].value)) for k, c in enumerate(users)) or "0"),
                      note=note, phase="backward")
        if q in exprs:
            for p in parents[q]:
                local = sympy.diff(exprs[q], sympy.Symbol(p, real=True))
                fn = _evaluator(local, parents[q], f"∂{q}/∂{p} = {_text(local)}")
                trace.add(f"∂{q}/∂{p}", f"local derivative of {q} with respect to {p}",
                          f"∂{q}/∂{p} = {_text(local)}", fn(*(values[n] for n in parents[q])),
                          parents[q], op=Op(fn, _template(local, parents[q], values)), phase="backward")
    for q in upto:
        formula = trace[q].formula if q in exprs else "given"
        table.rows.append([q, formula, values[q], grads.get(q, 0.0)])
    trace.tables.append(table)
    trace.info.update(output_id=out, gradient={q: grads[q] for q in upto if q != out},
                      output_value=values[out])
    leaves = [q for q in upto if q not in exprs]
    trace.notes.append(f"{out} = {fmt_num(values[out])}; " + ", ".join(
        f"d{out}/d{q} = {fmt_num(grads[q])}" for q in leaves) + " (reverse mode: each total derivative "
        "sums, over the nodes that use it, the downstream derivative times the local one).")


def _product_mark(k: int, value: float) -> str:
    return ("({%d})" if value < 0 else "{%d}") % k


def _sum_of_products(*values):
    """Σ a_k·b_k over consecutive pairs (downstream derivative, local derivative)."""
    return np.float64(sum(np.asarray(values[k]) * np.asarray(values[k + 1])
                          for k in range(0, len(values), 2)))


# ---------------------------------------------------------------------------------------------
# entry point


def walk_calculus(spec: dict, options=None) -> Trace:
    """Derivatives at points and a computational graph's forward and backward pass, through sympy."""
    check_fields(spec, ("kind", "title", "derivatives", "graph"), "calculus spec")
    if not spec.get("derivatives") and not spec.get("graph"):
        raise NNTError("calculus spec needs 'derivatives' (e.g. [{expr: \"x^2\", wrt: x, at: {x: 3}}]) "
                       "or 'graph' (inputs and nodes); add one of them")
    trace = Trace(spec.get("title", "Derivatives and a computational graph"), conventions={
        "derivatives": "symbolic by sympy, then evaluated in float64",
        "graph": "reverse mode: dy/dq = Σ over the nodes c that use q of dy/dc · ∂c/∂q",
    })
    derivatives = spec.get("derivatives") or []
    if not isinstance(derivatives, list):
        raise NNTError("calculus field 'derivatives' must be a list, e.g. [{expr: \"x^2\", wrt: x, at: {x: 3}}]")
    table = Table("Derivatives", ["function", "with respect to", "at", "derivative", "value"], [])
    for k, item in enumerate(derivatives):
        _walk_derivative(trace, item, k, table)
    if table.rows:
        trace.tables.append(table)
    if spec.get("graph"):
        _walk_graph(trace, spec["graph"])
    return trace

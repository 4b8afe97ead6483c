"""A tiny graph-mode framework with the lecture's API: nodes, a Session, an optimizer.

Building `cost = w**2 - 10*w + 25` computes nothing: it records a graph of
`Node`s. A `Session` computes values (the forward pass) and keeps the values
of the variables. The backward pass is *not* here: the notebook's student
writes it, and plugs it in with `register_backward(backward)` or
`GradientDescentOptimizer(lr, backward=backward)`.

The contract between this module and the student's backward pass:

- `node.op` is one of `variable`, `placeholder`, `constant` (leaves, no inputs)
  or `add`, `sub`, `mul`, `pow`, `getitem`, or one of the operations of a real
  model (`MODEL_OPS`: `exp`, `log`, `sigmoid`, `relu`, `matmul`, `reduce_sum`,
  `reduce_mean`, built by the functions of the same names; `node.axis` is a
  reduction's axis);
- `node.inputs` is the tuple of the nodes it is computed from (the same node may
  appear twice, as in `x * x`);
- `node.shape` is the shape of its value; `node.exponent` (pow, a number) and
  `node.index` (getitem) are the operation's parameters;
- `node.grad` starts at 0.0 and is where the backward pass leaves dJ/d(node);
- `values[node]` (from `Session.forward`) is the node's value, a float64 array.

Operators need operands of the same shape (no broadcasting): a Python number
becomes a constant of the other operand's shape, and `x[0][0]` picks one entry.

Example
-------
>>> w = Variable(3.0, name="w")
>>> cost = w**2 - 10*w + 25
>>> session = Session()
>>> _ = session.run(global_variables_initializer())
>>> session.run([w, cost])
[3.0, 4.0]
"""

from __future__ import annotations

import itertools
import weakref
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

    import numpy.typing as npt

LEAF_OPS = ("variable", "placeholder", "constant")


class FrameworkError(RuntimeError):
    """A graph was used in a way the framework cannot run; the message says how to fix it."""


class UnfedPlaceholderError(FrameworkError):
    """A placeholder the fetched nodes need was not given a value in feed_dict."""


class UninitializedVariableError(FrameworkError):
    """A variable was read in a session before the initializer ran there."""


_name_counts = defaultdict(itertools.count)
_all_variables = weakref.WeakSet()
_registered_backward = None


def _unique_name(base):
    """TensorFlow-style names: `mul`, `mul_1`, `mul_2`, ..."""
    k = next(_name_counts[base])
    return base if k == 0 else f"{base}_{k}"


def _as_float_array(value, what):
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} must be a number or an array of numbers, "
                        f"not {type(value).__name__}") from error
    return array


def _check_index(index):
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if not isinstance(part, (int, np.integer, slice)) or isinstance(part, bool):
            raise TypeError(f"index with integers or slices (like x[0][0]), not {part!r}")


def _reduced_shape(shape, axis):
    if axis is None:
        return ()
    if axis not in (0, 1) or len(shape) != 2:
        raise ValueError(f"reduce over axis 0 or 1 of a 2-D node, or axis=None for all "
                         f"entries; got axis={axis!r} for shape {shape}")
    return (1, shape[1]) if axis == 0 else (shape[0], 1)


def _reduce(node, a, values, mean):
    reduced = a.mean(axis=node.axis, keepdims=node.axis is not None) if mean else \
        a.sum(axis=node.axis, keepdims=node.axis is not None)
    return reduced


_MODEL_FORWARD = {
    "exp": lambda node, a, values: np.exp(a),
    "log": lambda node, a, values: np.log(a),
    "sigmoid": lambda node, a, values: 1 / (1 + np.exp(-a)),
    "relu": lambda node, a, values: np.maximum(a, 0.0),
    "matmul": lambda node, a, values: a @ values[node.inputs[1]],
    "reduce_sum": lambda node, a, values: _reduce(node, a, values, mean=False),
    "reduce_mean": lambda node, a, values: _reduce(node, a, values, mean=True),
}
MODEL_OPS = tuple(_MODEL_FORWARD)
"""The operations a real model needs beyond the lecture's (their backward rules are the
notebook's exercise too)."""


def _node_operand(value):
    return value if isinstance(value, Node) else constant(value)


def exp(a: Node, name: str | None = None) -> Node:
    """Elementwise e**a (shape of a)."""
    a = _node_operand(a)
    return Node("exp", (a,), shape=a.shape, name=name)


def log(a: Node, name: str | None = None) -> Node:
    """Elementwise natural logarithm (shape of a; entries must be > 0)."""
    a = _node_operand(a)
    return Node("log", (a,), shape=a.shape, name=name)


def sigmoid(a: Node, name: str | None = None) -> Node:
    """Elementwise 1 / (1 + e**-a) (shape of a)."""
    a = _node_operand(a)
    return Node("sigmoid", (a,), shape=a.shape, name=name)


def relu(a: Node, name: str | None = None) -> Node:
    """Elementwise max(a, 0) (shape of a)."""
    a = _node_operand(a)
    return Node("relu", (a,), shape=a.shape, name=name)


def matmul(a: Node | npt.ArrayLike, b: Node | npt.ArrayLike, name: str | None = None) -> Node:
    """Matrix product a @ b: a (n, k) and b (k, m) give shape (n, m); arrays become constants."""
    a, b = _node_operand(a), _node_operand(b)
    if len(a.shape) != 2 or len(b.shape) != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"matmul needs shapes (n, k) and (k, m), not {a.shape} and {b.shape}")
    return Node("matmul", (a, b), shape=(a.shape[0], b.shape[1]), name=name)


def reduce_sum(a: Node, axis: int | None = None, name: str | None = None) -> Node:
    """Sum of a 2-D node over `axis` (kept, TF's keepdims=True: axis 0 of (n, m) gives
    (1, m), axis 1 gives (n, 1)), or over every entry (axis=None, shape ())."""
    a = _node_operand(a)
    return Node("reduce_sum", (a,), shape=_reduced_shape(a.shape, axis), name=name, axis=axis)


def reduce_mean(a: Node, axis: int | None = None, name: str | None = None) -> Node:
    """Mean of a 2-D node over `axis` (kept, as reduce_sum), or over every entry."""
    a = _node_operand(a)
    return Node("reduce_mean", (a,), shape=_reduced_shape(a.shape, axis), name=name, axis=axis)


class Node:
    """One value of the graph: a leaf (variable, placeholder, constant) or an operation."""

    __array_ufunc__ = None  # `np.float64(2) * w` calls w.__rmul__ instead of numpy's loop

    def __init__(self, op: str, inputs: Iterable[Node] = (), *, shape: Iterable[int],
                 name: str | None = None, **params: Any) -> None:
        self.op = op
        self.inputs = tuple(inputs)
        self.shape = tuple(shape)
        self.name = name if name is not None else _unique_name(op)
        self.grad = 0.0
        for key, value in params.items():
            setattr(self, key, value)

    def __repr__(self):
        if self.op in LEAF_OPS:
            return f"<{self.op} {self.name!r} shape={self.shape}>"
        args = ", ".join(repr(n.name) for n in self.inputs)
        extra = {"pow": f", exponent={getattr(self, 'exponent', None)}",
                 "getitem": f", index={getattr(self, 'index', None)!r}"}.get(self.op, "")
        return f"<{self.op} {self.name!r}({args}{extra}) shape={self.shape}>"

    # -- building operations ------------------------------------------------
    def _operand(self, other):
        if isinstance(other, Node):
            if other.shape != self.shape:
                raise ValueError(
                    f"shapes {self.shape} and {other.shape} differ: this framework does not "
                    "broadcast; pick entries first (e.g. x[0][0]) so both sides match")
            return other
        value = _as_float_array(other, "an operand")
        if value.ndim == 0:
            value = np.full(self.shape, float(value))
        if value.shape != self.shape:
            raise ValueError(f"cannot combine shape {self.shape} with an array of shape "
                             f"{value.shape}: this framework does not broadcast")
        return constant(value)

    def _binary(self, op, other, reverse=False):
        other = self._operand(other)
        inputs = (other, self) if reverse else (self, other)
        return Node(op, inputs, shape=self.shape)

    def __add__(self, other):
        return self._binary("add", other)

    def __radd__(self, other):
        return self._binary("add", other, reverse=True)

    def __sub__(self, other):
        return self._binary("sub", other)

    def __rsub__(self, other):
        return self._binary("sub", other, reverse=True)

    def __mul__(self, other):
        return self._binary("mul", other)

    def __rmul__(self, other):
        return self._binary("mul", other, reverse=True)

    def __neg__(self):
        return self._binary("mul", -1.0, reverse=True)

    def __pow__(self, exponent):
        if isinstance(exponent, Node) or not isinstance(exponent, (int, float, np.number)):
            raise TypeError("the exponent must be a plain number, as in w**2")
        return Node("pow", (self,), shape=self.shape, exponent=float(exponent))

    def __getitem__(self, index):
        _check_index(index)
        try:
            shape = np.empty(self.shape)[index].shape
        except IndexError as error:
            raise IndexError(f"{self.name} has shape {self.shape}: {error}") from None
        return Node("getitem", (self,), shape=shape, index=index)

    def __iter__(self):
        raise TypeError("a Node is not iterable; index it, e.g. x[0][0]")


class Variable(Node):
    """A trainable value; each Session holds its own copy, set by the initializer."""

    def __init__(self, initial_value: npt.ArrayLike, name: str | None = None) -> None:
        value = _as_float_array(initial_value, "a Variable's initial value")
        super().__init__("variable", shape=value.shape,
                         name=name if name is not None else _unique_name("Variable"))
        self.initial_value = value
        _all_variables.add(self)

    def load(self, value: npt.ArrayLike, session: Session) -> None:
        """Set this variable's value in `session` (as TensorFlow 1's Variable.load)."""
        session._set_variable(self, value)


def placeholder(shape: Iterable[int], name: str | None = None) -> Node:
    """A value given at run time through feed_dict={node: value}; `shape` is fixed."""
    return Node("placeholder", shape=tuple(int(n) for n in shape),
                name=name if name is not None else _unique_name("Placeholder"))


def constant(value: npt.ArrayLike, name: str | None = None) -> Node:
    """A fixed value."""
    value = _as_float_array(value, "a constant")
    node = Node("constant", shape=value.shape,
                name=name if name is not None else _unique_name("Const"))
    node.value = value
    return node


class Initializer:
    """The operation that gives `variables` their initial values in a session."""

    def __init__(self, variables: Iterable[Variable]) -> None:
        self.variables = list(variables)

    def __repr__(self):
        return f"<initializer of {len(self.variables)} variable(s)>"


def variables_initializer(var_list: Iterable[Variable]) -> Initializer:
    """An operation that initialises the variables of `var_list` when a session runs it."""
    return Initializer(var_list)


def global_variables_initializer() -> Initializer:
    """An operation that initialises every Variable created so far (not those created later)."""
    return Initializer(sorted(_all_variables, key=lambda v: v.name))


def register_backward(backward: Callable[[Node, dict[Node, np.ndarray]], object]) -> None:
    """Make `backward(cost, values)` the backward pass of optimizers created without one."""
    global _registered_backward
    if not callable(backward):
        raise TypeError("register_backward takes a function backward(cost, values)")
    _registered_backward = backward


class GradientDescentOptimizer:
    """Plain gradient descent: each run of the train op does w <- w - learning_rate * w.grad.

    `backward(cost, values)` must set `.grad` on the nodes of cost's graph; it is
    the function given here, or else the one passed to `register_backward`
    (looked up when the train op runs, so re-registering a fixed version works).
    """

    def __init__(self, learning_rate: float,
                 backward: Callable[[Node, dict[Node, np.ndarray]], object] | None = None
                 ) -> None:
        self.learning_rate = float(learning_rate)
        self.backward = backward

    def minimize(self, cost: Node) -> TrainOp:
        """The train op: fetch it in `Session.run` to take one step."""
        if not isinstance(cost, Node):
            raise TypeError(f"minimize takes the cost node, not {type(cost).__name__}")
        if cost.shape != ():
            raise ValueError(f"the cost must be one number, but {cost.name} has shape "
                             f"{cost.shape}: pick an entry, e.g. cost[0][0]")
        return TrainOp(cost, self)


class TrainOp:
    """One gradient-descent step on every variable the cost depends on; fetching it gives None."""

    def __init__(self, cost: Node, optimizer: GradientDescentOptimizer) -> None:
        self.cost = cost
        self.optimizer = optimizer

    def __repr__(self):
        return f"<train op minimizing {self.cost.name!r}>"

    def _backward(self):
        backward = self.optimizer.backward or _registered_backward
        if backward is None:
            raise FrameworkError(
                "no backward pass: write backward(cost, values) and call "
                "register_backward(backward), or pass "
                "GradientDescentOptimizer(learning_rate, backward=backward)")
        return backward


class Session:
    """Runs graphs. Holds the variables' values; `run` computes fetches, `forward` all values."""

    def __init__(self) -> None:
        self._variables = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self) -> None:
        """Forget the variables' values."""
        self._variables = {}

    def _set_variable(self, variable, value):
        value = _as_float_array(value, f"the value of {variable.name}")
        if value.shape != variable.shape:
            raise ValueError(f"{variable.name} has shape {variable.shape}, "
                             f"not {value.shape}")
        self._variables[variable] = value

    # -- the forward pass ---------------------------------------------------
    def _feed(self, feed_dict):
        feed = {}
        for node, value in (feed_dict or {}).items():
            if not isinstance(node, Node) or node.op != "placeholder":
                raise TypeError(f"feed_dict keys must be placeholders, not {node!r}")
            value = _as_float_array(value, f"the value fed to placeholder {node.name!r}")
            if value.shape != node.shape:
                raise ValueError(f"placeholder {node.name!r} has shape {node.shape}, but the "
                                 f"value fed to it has shape {value.shape}")
            feed[node] = value
        return feed

    def _compute(self, node, values, feed):
        op = node.op
        if op == "variable":
            if node not in self._variables:
                raise UninitializedVariableError(
                    f"Variable {node.name!r} is used before it was initialised in this session: "
                    "run session.run(global_variables_initializer()) first (and create the "
                    "initializer after the variables)")
            return self._variables[node]
        if op == "placeholder":
            if node not in feed:
                raise UnfedPlaceholderError(
                    f"placeholder {node.name!r} (shape {node.shape}) was not fed: give it a "
                    f"value with session.run(..., feed_dict={{{node.name}: value}})")
            return feed[node]
        if op == "constant":
            return node.value
        a = values[node.inputs[0]]
        if op == "add":
            return a + values[node.inputs[1]]
        if op == "sub":
            return a - values[node.inputs[1]]
        if op == "mul":
            return a * values[node.inputs[1]]
        if op == "pow":
            return np.asarray(a ** node.exponent)
        if op == "getitem":
            return np.array(a[node.index])
        if op in _MODEL_FORWARD:
            return np.asarray(_MODEL_FORWARD[op](node, a, values), dtype=np.float64)
        raise FrameworkError(f"unknown operation {op!r} in node {node.name!r}")

    def _values(self, outputs, feed):
        values = {}
        stack = list(outputs)
        while stack:
            node = stack[-1]
            if node in values:
                stack.pop()
                continue
            waiting = [n for n in node.inputs if n not in values]
            if waiting:
                stack.extend(waiting)
                continue
            stack.pop()
            values[node] = np.asarray(self._compute(node, values, feed), dtype=np.float64)
        return values

    def forward(self, output: Node, feed_dict: Mapping[Node, npt.ArrayLike] | None = None
                ) -> dict[Node, np.ndarray]:
        """{node: value} for `output` and every node it depends on: what backward receives."""
        if not isinstance(output, Node):
            raise TypeError(f"forward takes a node, not {type(output).__name__}")
        return self._values([output], self._feed(feed_dict))

    # -- running ------------------------------------------------------------
    def run(self, fetches: Any, feed_dict: Mapping[Node, npt.ArrayLike] | None = None) -> Any:
        """Compute `fetches`: a node, an op, or a (nested) list, tuple or dict of them.

        The result has the structure of `fetches`: a float for a node of shape (),
        an array otherwise, None for an op (initializer or train op). Within one
        call, initializers run first, then the values are computed, then the
        train ops take their step (so fetched values are those before the step).
        """
        nodes, initializers, train_ops = [], [], []
        _collect(fetches, nodes, initializers, train_ops)
        feed = self._feed(feed_dict)
        for init in initializers:
            for variable in init.variables:
                self._variables[variable] = variable.initial_value.copy()
        values = self._values(nodes, feed)
        for train in train_ops:
            self._step(train, feed)
        return _rebuild(fetches, values)

    def _step(self, train, feed):
        backward = train._backward()
        values = self._values([train.cost], feed)
        backward(train.cost, values)
        rate = train.optimizer.learning_rate
        for node in values:
            if node.op == "variable":
                grad = _gradient_of(node)
                self._variables[node] = self._variables[node] - rate * grad


def _gradient_of(variable):
    """variable.grad as a float64 array of the variable's shape, or a clear error."""
    grad = variable.grad
    if grad is None:
        raise FrameworkError(f"backward left {variable.name}.grad = None: set the gradient "
                             "of every node of the cost's graph")
    grad = _as_float_array(grad, f"{variable.name}.grad")
    if grad.shape != variable.shape:
        if grad.size == 1 and variable.shape == ():
            return grad.reshape(())
        raise FrameworkError(f"{variable.name}.grad has shape {grad.shape}, but the variable "
                             f"has shape {variable.shape}")
    return grad


def _collect(fetches, nodes, initializers, train_ops):
    if isinstance(fetches, Node):
        nodes.append(fetches)
    elif isinstance(fetches, Initializer):
        initializers.append(fetches)
    elif isinstance(fetches, TrainOp):
        train_ops.append(fetches)
    elif isinstance(fetches, (list, tuple)):
        for item in fetches:
            _collect(item, nodes, initializers, train_ops)
    elif isinstance(fetches, dict):
        for item in fetches.values():
            _collect(item, nodes, initializers, train_ops)
    else:
        raise TypeError(f"cannot fetch {fetches!r}: fetch nodes, ops, or lists, tuples "
                        "and dicts of them")


def _rebuild(fetches, values):
    if isinstance(fetches, Node):
        value = values[fetches]
        return float(value) if value.ndim == 0 else value.copy()
    if isinstance(fetches, (Initializer, TrainOp)):
        return None
    if isinstance(fetches, dict):
        return {key: _rebuild(item, values) for key, item in fetches.items()}
    rebuilt = [_rebuild(item, values) for item in fetches]
    return rebuilt if isinstance(fetches, list) else tuple(rebuilt)

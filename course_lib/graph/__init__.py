"""A minimal deep-learning framework in graph mode, with the lecture's (TensorFlow 1) API.

    import course_lib.graph as fw
    w = fw.Variable(0.0, name="w")
    cost = w**2 - 10*w + 25
    train = fw.GradientDescentOptimizer(0.01, backward=backward).minimize(cost)
    session = fw.Session()
    session.run(fw.global_variables_initializer())
    session.run(train)          # one step; returns None
    session.run(w)              # 0.1

The backward pass is the notebook's exercise: `backward(cost, values)` is
plugged in through `GradientDescentOptimizer(..., backward=backward)` or once
for all optimizers with `register_backward(backward)`. See `core` for the
attributes of a node it can use.
"""

from course_lib.graph.core import (
    LEAF_OPS,
    MODEL_OPS,
    FrameworkError,
    GradientDescentOptimizer,
    Initializer,
    Node,
    Session,
    TrainOp,
    UnfedPlaceholderError,
    UninitializedVariableError,
    Variable,
    constant,
    exp,
    global_variables_initializer,
    log,
    matmul,
    placeholder,
    reduce_mean,
    reduce_sum,
    register_backward,
    relu,
    sigmoid,
    variables_initializer,
)
from course_lib.graph.plot import graph_layout, plot_graph

__all__ = [
    "LEAF_OPS", "MODEL_OPS", "FrameworkError", "GradientDescentOptimizer", "Initializer",
    "Node", "Session", "TrainOp", "UnfedPlaceholderError", "UninitializedVariableError",
    "Variable", "constant", "global_variables_initializer", "graph_layout", "placeholder",
    "plot_graph", "register_backward", "variables_initializer",
    "exp", "log", "sigmoid", "relu", "matmul", "reduce_sum", "reduce_mean",

]

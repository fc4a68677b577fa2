"""Cut expressions: evaluated with numexpr after an AST whitelist; never Python eval."""

import numpy as np
import pytest

from darkscan.expressions import ExpressionError, check_expression, evaluate_cut, thresholds

COLUMNS = {"x": np.array([0.0, 1.0, 2.0, 3.0]), "n": np.array([2, 2, 3, 2])}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("(x > 0.5) & (n == 2)", [False, True, False, True]),
        ("x > 0.5 and not n > 2", [False, True, False, True]),
        ("(x < 0.5) | (x > 2.5)", [True, False, False, True]),
        ("sqrt(x) * 2 >= 2", [False, True, True, True]),
        ("abs(x - 2) < 1.5", [False, True, True, True]),
    ],
)
def test_cuts_evaluate_like_numpy(expr, expected):
    np.testing.assert_array_equal(evaluate_cut(expr, COLUMNS), expected)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("__import__('os').system('true')", "only the functions"),
        ("x.__class__ == 1", "Attribute is not allowed"),
        ("[x for x in n]", "not allowed"),
        ("y > 1", "unknown variable 'y'"),
        ("x > 'a'", "only numeric constants"),
        ("x >", "not valid syntax"),
        ("lambda: 1", "Lambda is not allowed"),
    ],
)
def test_unsafe_or_unknown_expressions_are_rejected(expr, message):
    with pytest.raises(ExpressionError, match=message):
        evaluate_cut(expr, COLUMNS)


def test_check_returns_used_variables():
    assert check_expression("(x > 1) & (n < 3)", {"x", "n", "z"}) == ["n", "x"]


def test_non_boolean_result_is_an_error():
    with pytest.raises(ExpressionError, match="does not give a boolean"):
        evaluate_cut("x + 1", COLUMNS)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("x > 0.5", [(0.5, ">")]),
        ("25 < x", [(25.0, ">")]),  # read as "x > 25"
        ("(x <= -1.5) | (n == 2)", [(-1.5, "<=")]),  # the equality on n is not a threshold on x
        ("(0.1 < x) & (x < 2)", [(0.1, ">"), (2.0, "<")]),  # a window: both edges
        ("abs(x) < 1 and n > 2", []),  # an expression of x, and a threshold on another variable
        ("x >= 3 and x > n", [(3.0, ">=")]),  # a comparison with a variable is not a threshold
    ],
)
def test_thresholds_are_the_numbers_a_variable_is_compared_with(expr, expected):
    assert thresholds(expr, "x") == expected
    kept = evaluate_cut(expr, COLUMNS)  # the pairs describe the cut where it is a plain threshold
    if expected and expr.startswith("x"):
        value, side = expected[0]
        assert (COLUMNS["x"][kept] > value).all() if side == ">" else (COLUMNS["x"][kept] <= value).all()

"""Rule and indicator expressions: operands, arithmetic and modifiers, without eval."""

from __future__ import annotations

import pytest

from ioc.modules.indicator.expressions import ExpressionError, Operand, evaluate, operands, parse


def test_operands_carry_disaggregation_and_period_modifiers() -> None:
    node = parse("(#{A.X} + #{B}) / #{C}.yearToDate() * 100 - #{D}.periodOffset(-12)")
    assert operands(node) == [
        Operand("A", "X"),
        Operand("B"),
        Operand("C", None, year_to_date=True),
        Operand("D", None, period_offset=-12),
    ]


def test_evaluation_follows_precedence_and_counts_missing_as_zero() -> None:
    values = {"A": 6.0, "B": 4.0}
    assert evaluate(parse("#{A} + #{B} * 2"), lambda o: values.get(o.element)) == 14.0
    assert evaluate(parse("-(#{A} - #{B}) / 2"), lambda o: values.get(o.element)) == -1.0
    assert evaluate(parse("#{A} + #{MISSING}"), lambda o: values.get(o.element)) == 6.0
    assert evaluate(parse("#{A} / #{MISSING}"), lambda o: values.get(o.element)) is None


@pytest.mark.parametrize("text", ["", "#{A} +", "(#{A}", "#{A} #{B}", "__import__('os')", "#{A}.periodOffset()"])
def test_malformed_expressions_are_refused(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse(text)

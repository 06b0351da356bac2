"""campaigns.rules.segments: what filters read to, what they refuse, and (by property) that the
database's answer (selectors.segment_q) is the pure evaluator's on random filters and contacts."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns import selectors
from campaigns.models import ContactList, ListContact
from campaigns.rules.segments import (
    AllOf,
    AnyOf,
    Condition,
    SegmentSyntaxError,
    attributes_of,
    matches,
    parse,
    render,
)

READS = [
    ("plan = premium", Condition("plan", "=", ("premium",))),
    ("plan != 'basic plan'", Condition("plan", "!=", ("basic plan",))),
    ("state in (CA, NV)", Condition("state", "in", ("CA", "NV"))),
    ("state NOT IN ('CA')", Condition("state", "not in", ("CA",))),
    (
        "plan = premium AND state IN (CA, NV)",
        AllOf((Condition("plan", "=", ("premium",)), Condition("state", "in", ("CA", "NV")))),
    ),
    (
        "a = 1 or b = 2 and c = 3",
        AnyOf(
            (Condition("a", "=", ("1",)), AllOf((Condition("b", "=", ("2",)), Condition("c", "=", ("3",)))))
        ),
    ),
    (
        "(a = 1 or b = 2) and c = 3",
        AllOf(
            (AnyOf((Condition("a", "=", ("1",)), Condition("b", "=", ("2",)))), Condition("c", "=", ("3",)))
        ),
    ),
    (
        """note = 'it''s' AND q = "say ""hi\"\"\"""",
        AllOf((Condition("note", "=", ("it's",)), Condition("q", "=", ('say "hi"',)))),
    ),
    ("email = ana@example.com", Condition("email", "=", ("ana@example.com",))),
]


@pytest.mark.parametrize(("text", "tree"), READS, ids=[t for t, _ in READS])
def test_it_reads_filters(text, tree) -> None:
    assert parse(text) == tree
    assert parse(render(tree)) == tree


REFUSALS = [
    ("", "is empty: write a condition such as plan = premium"),
    ("plan", "expected = or != or IN at the end"),
    ("plan = ", "expected a value at the end"),
    ("plan = premium state = CA", "expected AND, OR or the end at character 16"),
    ("plan = premium; DROP TABLE x", "cannot read '; DROP TAB' at character 15"),
    (
        "1plan = x",
        "'1plan' at character 1 is not an attribute name (letters, digits and _, not starting with a digit)",
    ),
    (
        "and = x",
        "'and' at character 1 is not an attribute name (letters, digits and _, not starting with a digit)",
    ),
    ("state IN CA", "expected '(' after IN at character 10"),
    ("state IN (CA", "expected ')' after the values at the end"),
    ("state NOT = CA", "expected IN after NOT (character 1)"),
    ("(plan = x", "expected ')' at the end"),
    ("plan = 'open", 'cannot read "\'open" at character 8'),
    ("(" * 10 + "a = 1" + ")" * 10, "nests parentheses deeper than 8"),
    (" AND ".join(f"a{i} = 1" for i in range(51)), "has more than 50 conditions"),
    ("a = " + "x" * 2000, "is longer than 2000 characters"),
]


@pytest.mark.parametrize(("text", "message"), REFUSALS, ids=[t[:30] for t, _ in REFUSALS])
def test_it_refuses_what_it_cannot_read_saying_where(text, message) -> None:
    with pytest.raises(SegmentSyntaxError) as refused:
        parse(text)
    assert str(refused.value) == message


def test_absent_attributes_match_no_condition_not_even_negated_ones() -> None:
    assert not matches(parse("plan != premium"), {})
    assert not matches(parse("plan NOT IN (a, b)"), {"plan": None})
    assert matches(parse("plan != premium"), {"plan": "basic"})
    assert matches(parse("age = 30"), {"age": 30})
    assert attributes_of(parse("a = 1 AND (b = 2 OR c IN (3))")) == {"a", "b", "c"}


# -- by property -------------------------------------------------------------------------------

NAMES = ["plan", "state", "age", "tier"]
VALUES = ["premium", "basic", "CA", "NV", "it's", "a b", "30", "7", "", "AND"]
values = st.sampled_from(VALUES)
conditions = st.one_of(
    st.builds(
        lambda a, op, v: Condition(a, op, (v,)), st.sampled_from(NAMES), st.sampled_from(["=", "!="]), values
    ),
    st.builds(
        lambda a, op, vs: Condition(a, op, tuple(vs)),
        st.sampled_from(NAMES),
        st.sampled_from(["in", "not in"]),
        st.lists(values, min_size=1, max_size=3),
    ),
)
trees = st.recursive(
    conditions,
    lambda inner: st.one_of(
        st.builds(lambda items: AllOf(tuple(items)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda items: AnyOf(tuple(items)), st.lists(inner, min_size=2, max_size=3)),
    ),
    max_leaves=8,
)
attribute_values = st.one_of(st.sampled_from(VALUES), st.sampled_from([30, 7, 2.5]))
people = st.lists(
    st.dictionaries(st.sampled_from(NAMES), attribute_values, max_size=4), min_size=1, max_size=12
)


@given(trees)
def test_rendering_reads_back_to_the_same_tree(tree) -> None:
    # render parenthesizes every nested group, so nothing flattens on the way back
    assert parse(render(tree)) == tree


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=trees, contacts=people)
def test_the_database_agrees_with_the_pure_evaluator(org, tree, contacts) -> None:
    contact_list, _ = ContactList.objects.get_or_create(organization=org, name="Property")
    ListContact.objects.filter(contact_list=contact_list).delete()
    ListContact.objects.bulk_create(
        ListContact(
            contact_list=contact_list,
            position=i,
            number=f"+1415555{i:04d}",
            attributes=attributes,
            created_at="2026-01-01T00:00:00Z",
        )
        for i, attributes in enumerate(contacts)
    )

    found = set(
        ListContact.objects.filter(contact_list=contact_list)
        .filter(selectors.segment_q(tree))
        .values_list("position", flat=True)
    )

    assert found == {i for i, attributes in enumerate(contacts) if matches(tree, attributes)}

"""Choosing among eligible agents, and the skill spelling: pure rules, plain tests."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk_api.core.skills import check_skill, language_skill
from helpdesk_api.models import RoutingMode
from helpdesk_api.routing.candidates import Candidate
from helpdesk_api.routing.choice import by_mode, choose
from helpdesk_api.routing.outcome import Basis


def candidate(user_id, *, open_tickets=0, turn=None, skills=()):
    return Candidate(user_id, frozenset(skills), "online", open_tickets, turn)


def test_round_robin_takes_who_waited_longest_never_routed_first():
    pool = [candidate(1, turn=7), candidate(2, turn=3), candidate(3)]
    assert by_mode(pool, RoutingMode.round_robin).user_id == 3
    assert by_mode(pool[:2], RoutingMode.round_robin).user_id == 2


def test_least_busy_breaks_ties_by_turn_then_id():
    pool = [candidate(1, open_tickets=2), candidate(2, open_tickets=1, turn=9),
            candidate(3, open_tickets=1, turn=4), candidate(4, open_tickets=1, turn=4)]  # fmt: skip
    assert by_mode(pool, RoutingMode.least_busy).user_id == 3


def test_the_account_manager_comes_first_then_language_then_the_mode():
    pool = [candidate(1), candidate(2, skills={"lang:it"}, turn=5), candidate(3, turn=1)]
    assert choose(
        pool, RoutingMode.round_robin, account_manager_id=3, language_skill="lang:it"
    ) == (
        pool[2],
        Basis.account_manager,
    )
    assert choose(pool, RoutingMode.round_robin, language_skill="lang:it") == (
        pool[1],
        Basis.language,
    )
    assert choose(pool, RoutingMode.round_robin, language_skill="lang:de") == (pool[0], Basis.mode)
    # A manager who is not eligible (not in the pool) is no preference.
    assert choose(pool, RoutingMode.round_robin, account_manager_id=99)[1] is Basis.mode


@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.one_of(st.none(), st.integers(1, 50))),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([RoutingMode.round_robin, RoutingMode.least_busy]),
)
def test_the_choice_is_always_one_of_the_eligible(rows, mode):
    pool = [candidate(n, open_tickets=o, turn=t) for n, (o, t) in enumerate(rows, 1)]
    chosen, basis = choose(pool, mode)
    assert chosen in pool
    assert basis is Basis.mode
    if mode is RoutingMode.least_busy:
        assert chosen.open_tickets == min(c.open_tickets for c in pool)


@pytest.mark.parametrize(
    ("locale", "skill"),
    [
        ("it", "lang:it"),
        ("it-CH", "lang:it"),
        ("pt_BR", "lang:pt"),
        ("FIL", "lang:fil"),
        (None, None),
        ("", None),
        ("x", None),
        ("1234", None),
    ],
)
def test_language_skill_of_a_locale(locale, skill):
    assert language_skill(locale) == skill


@pytest.mark.parametrize("skill", ["billing", "lang:it", "product:acme-router", "tier:2", "a.b_c"])
def test_good_skills(skill):
    assert check_skill(skill) == skill


@pytest.mark.parametrize("skill", ["lang:pt-br", "lang:x", "-x", "a:", ":a", "a b", "a:b:c"])
def test_bad_skills(skill):
    with pytest.raises(ValueError, match="skill"):
        check_skill(skill)

"""The role → permission table: who may do what, and the refusal a user reads."""
import pytest
from hypothesis import given, strategies as st

from tower.auth import policy
from tower.auth.policy import Identity, Refused

EXPECTED = {   # the README's role matrix, stated independently of GRANTS
    "viewer": {"view"},
    "operator": {"view", "operate"},
    "approver": {"view", "operate", "approve"},
    "analyst": {"view", "analyse"},
    "admin": {"view", "operate", "approve", "analyse", "administer"},
}


@pytest.mark.parametrize("role", policy.ROLES)
def test_each_role_holds_exactly_its_permissions(role):
    who = Identity("u1", "Ann", frozenset({role}))
    assert {p for p in policy.PERMISSIONS if who.can(p)} == EXPECTED[role]


@given(st.sets(st.sampled_from(policy.ROLES)))
def test_several_roles_add_up(roles):
    who = Identity("u1", "Ann", frozenset(roles))
    assert who.permissions == set().union(*(EXPECTED[r] for r in roles))


def test_refusal_names_the_user_the_act_and_the_roles_that_may():
    with pytest.raises(Refused) as e:
        policy.require(Identity("u1", "Ann", frozenset({"viewer"})), "approve")
    assert "Ann" in str(e.value) and "approver or admin" in str(e.value)


def test_nobody_and_roleless_users_may_not_even_view():
    with pytest.raises(Refused):
        policy.require(None, "view")
    with pytest.raises(Refused):
        policy.require(Identity("u2", "Bo"), "view")


def test_unknown_role_or_permission_is_an_error_not_a_silent_grant():
    with pytest.raises(ValueError):
        Identity("u1", "Ann", frozenset({"superuser"}))
    with pytest.raises(ValueError):
        Identity("u1", "Ann", frozenset({"admin"})).can("delete_everything")


def test_local_mode_is_one_admin():
    who = policy.local_admin()
    assert who.can("administer") and who.via == "local" and not who.scoped


@pytest.mark.parametrize("role", policy.ROLES)
def test_a_merchant_user_may_only_view_and_analyse_its_own_data(role):
    """Alerts, actions and settings concern every merchant's stock and parcels: a merchant account
    never gets them, whatever role its provider claims (its pages read a read-only cut anyway)."""
    who = Identity("m1", "Nora", frozenset({role}), merchant="nordic-nest")
    assert who.permissions == EXPECTED[role] & {"view", "analyse"}
    for permission in {"operate", "approve", "administer"}:
        with pytest.raises(Refused, match="nordic-nest"):
            policy.require(who, permission)

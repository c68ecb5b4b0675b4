"""From a signed-in user's ID-token claims (and config/roles.toml) to Tower roles and merchant scope:
roles come only from the provider's claims or the roles file, never by default."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tower.auth import roles
from tower.auth.policy import ROLES


def write(tmp_path, text: str):
    path = tmp_path / "roles.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_roles_claim_as_list_gives_those_roles():
    who = roles.identity_from_claims({"sub": "u1", "name": "Ada", "roles": ["operator", "analyst"]})
    assert who.roles == {"operator", "analyst"}
    assert who.can("operate") and who.can("analyse") and not who.can("administer")
    assert who.name == "Ada" and who.via == "oidc" and who.merchant is None


def test_roles_claim_as_space_or_comma_string():
    assert roles.identity_from_claims({"sub": "u", "roles": "viewer approver"}).roles == {"viewer", "approver"}
    assert roles.identity_from_claims({"sub": "u", "roles": "viewer, admin"}).roles == {"viewer", "admin"}


def test_groups_claim_with_tower_prefixes_is_read():
    who = roles.identity_from_claims({"sub": "u", "groups": ["/tower-admin", "staff", "Tower:Analyst"]})
    assert who.roles == {"admin", "analyst"}


def test_configured_claim_name(caplog):
    claims = {"sub": "u", "https://tower/roles": ["approver"], "roles": ["viewer"]}
    who = roles.identity_from_claims(claims, roles_claim="https://tower/roles")
    assert who.roles == {"approver"}   # "roles" is not read when another claim is configured


def test_unknown_roles_are_ignored_with_a_log_line(caplog):
    caplog.set_level("INFO", logger="tower.auth.roles")
    who = roles.identity_from_claims({"sub": "u", "roles": ["superuser", "operator"]})
    assert who.roles == {"operator"}
    assert "superuser" in caplog.text


def test_a_user_without_a_known_role_gets_no_role_not_admin(caplog):
    caplog.set_level("WARNING", logger="tower.auth.roles")
    for claims in ({"sub": "u"}, {"sub": "u", "roles": []}, {"sub": "u", "roles": ["root", "owner"]},
                   {"sub": "u", "roles": 7}, {"sub": "u", "roles": None}):
        who = roles.identity_from_claims(claims)
        assert who.roles == frozenset()
        assert not any(who.can(p) for p in ("view", "operate", "approve", "analyse", "administer"))
    assert "no Tower role" in caplog.text


def test_merchant_claim_scopes_the_user():
    who = roles.identity_from_claims({"sub": "m", "roles": ["operator"], "merchant": "nordic-nest"})
    assert who.merchant == "nordic-nest" and who.scoped


def test_roles_file_by_email_and_by_subject(tmp_path):
    path = write(tmp_path, """
        [users."Ada@Example.com"]
        roles = ["analyst"]
        [users."sub-42"]
        roles = ["operator"]
        merchant = "casa-verde"
    """)
    file = roles.load_roles_file(path)
    ada = roles.identity_from_claims({"sub": "x", "email": "ada@example.com", "roles": ["viewer"]}, file)
    assert ada.roles == {"viewer", "analyst"}, "claims and file add up"
    scoped = roles.identity_from_claims({"sub": "sub-42", "merchant": "nordic-nest"}, file)
    assert scoped.roles == {"operator"} and scoped.merchant == "casa-verde", "the file's merchant wins"


def test_unverified_email_does_not_unlock_a_roles_file_entry(tmp_path):
    file = roles.load_roles_file(write(tmp_path, '[users."boss@example.com"]\nroles = ["admin"]\n'))
    who = roles.identity_from_claims({"sub": "x", "email": "boss@example.com", "email_verified": False}, file)
    assert who.roles == frozenset()


@pytest.mark.parametrize("text,words", [
    ('[users."a"]\nroles = ["god"]\n', "unknown role"),
    ('[users."a"]\nrole = ["admin"]\n', "role"),
    ('[users."a"]\nroles = "admin"\n', "list"),
    ('[users."a"]\nmerchant = " "\n', "merchant"),
    ('[people]\n', "people"),
    ('[users."a"\nroles = []\n', "not valid TOML"),
])
def test_a_bad_roles_file_is_refused_in_words(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(roles.RolesFileError) as e:
        roles.load_roles_file(path)
    assert str(path) in str(e.value) and words in str(e.value)


def test_an_absent_roles_file_is_empty(tmp_path):
    assert roles.load_roles_file(tmp_path / "missing.toml").users == {}


def test_no_subject_is_refused():
    with pytest.raises(ValueError, match="no subject"):
        roles.identity_from_claims({"roles": ["admin"]})


role_words = st.sampled_from(ROLES)
# provider values that are not roles; no separators inside, so a string claim splits back into them
junk = st.text(min_size=1, max_size=12).filter(
    lambda s: roles.role_name(s) is None and not re.search(r"[\s,]", s))


@settings(max_examples=200, deadline=None)
@given(known=st.lists(role_words, max_size=5), other=st.lists(junk, max_size=5),
       shape=st.sampled_from(["list", "spaces", "commas"]), claim=st.sampled_from(["roles", "groups"]))
def test_any_claim_shape_yields_exactly_the_known_roles(known, other, shape, claim):
    values = known + other
    value = {"list": values, "spaces": " ".join(values), "commas": ",".join(values)}[shape]
    who = roles.identity_from_claims({"sub": "s", claim: value})
    assert who.roles == set(known)


@given(value=st.one_of(st.none(), st.integers(), st.floats(), st.booleans(),
                       st.dictionaries(st.text(), st.text()), st.lists(st.integers())))
def test_odd_claim_types_never_grant_a_role(value):
    assert roles.identity_from_claims({"sub": "s", "roles": value, "groups": value}).roles == frozenset()

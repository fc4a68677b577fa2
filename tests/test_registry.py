"""The generic registry behind every extension point."""

import pytest

from darkscan.generate.registry import get_process
from darkscan.physics.models import get_model
from darkscan.registry import Registry, UnknownNameError
from darkscan.select.variables import get_variables


def test_registry_refuses_a_second_entry_and_suggests_the_closest_name():
    reg = Registry("widget")
    reg.add("dimuon", 1)
    with pytest.raises(ValueError, match="widget 'dimuon' is already registered"):
        reg.add("dimuon", 2)
    with pytest.raises(
        UnknownNameError, match=r"unknown widget 'dimuom'; did you mean 'dimuon'\? \(registered widgets"
    ):
        reg.get("dimuom")
    assert reg.get("dimuon") == 1


def test_equal_redeclaration_is_accepted_only_when_asked():
    reg = Registry("stage")
    reg.add("a", (1, 2), replace_equal=True)
    reg.add("a", (1, 2), replace_equal=True)
    with pytest.raises(ValueError, match="already registered"):
        reg.add("a", (1, 3), replace_equal=True)


def test_names_keep_registration_order_when_iterated():
    reg = Registry("line")
    for name in ("zeta", "alpha", "mid"):
        reg.add(name, name)
    assert list(reg) == ["zeta", "alpha", "mid"]
    assert reg.names() == ["alpha", "mid", "zeta"]


@pytest.mark.parametrize(
    ("lookup", "name", "closest"),
    [
        (get_process, "mumu_gama", "mumu_gamma"),
        (get_model, "lmu_ltau_zprim", "lmu_ltau_zprime"),
        (get_variables, "three_photon", "three_photons"),
    ],
)
def test_every_registry_answers_with_the_closest_name(lookup, name, closest):
    with pytest.raises(UnknownNameError) as err:
        lookup(name)
    assert err.value.closest == closest

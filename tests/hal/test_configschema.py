"""common.schema: YAML data validated against small dataclasses, errors naming file + path."""

import math
from dataclasses import dataclass

import pytest
import yaml

from common.errors import ConfigError
from common.schema import load, param, read_yaml

WHERE = "f.yaml:"


@dataclass(frozen=True)
class Leaf:
    c: float = param(1.0, 0.0, 10.0, "the c value")
    n: int = param(3, 1, 5, "a small count")


@dataclass(frozen=True)
class Mid:
    b: Leaf = param(Leaf())
    items: list[Leaf] = param([], doc="a list of leaves")
    named: dict[str, Leaf] = param({}, doc="leaves by name")
    numbers: list[float] = param([], doc="plain numbers")


@dataclass(frozen=True)
class Top:
    name: str = param(doc="the required name")
    a: Mid = param(Mid())
    mode: str = param("fast", choices=("fast", "slow"), doc="speed")
    ratio: float | None = param(None, 0.0, 1.0, "an optional ratio")
    big: float = param(1.0, doc="an unbounded float")
    count: int = param(1, doc="an unbounded int")
    label: str = param("", doc="free text")
    flag: bool = param(False, doc="a switch")
    leaf: Leaf | None = param(None, doc="an optional nested section")


def err(cls, data, where: str = WHERE) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(cls, data, where)
    e = info.value
    assert str(e).startswith(e.where + ": ")
    return e


# ---- happy paths ----------------------------------------------------------------------


def test_defaults_and_nested_values():
    cfg = load(Top, {"name": "x", "a": {"b": {"c": 2, "n": 4}}}, WHERE)
    assert cfg == Top(name="x", a=Mid(b=Leaf(c=2.0, n=4)))
    assert isinstance(cfg.a.b.c, float)
    assert isinstance(cfg.a.b.n, int)


def test_lists_dicts_and_their_defaults_are_independent():
    data = {"name": "x", "a": {"items": [{"c": 1}, {"n": 2}], "named": {"k": {"c": 0}}}}
    cfg = load(Top, data, WHERE)
    assert cfg.a.items == [Leaf(c=1.0), Leaf(n=2)]
    assert cfg.a.named == {"k": Leaf(c=0.0)}
    d1, d2 = Mid(), Mid()
    assert d1.items == [] and d1.items is not d2.items  # a fresh default each time


def test_int_given_for_float_and_whole_float_for_int():
    cfg = load(Leaf, {"c": 7, "n": 2.0}, WHERE)
    assert cfg.c == 7.0 and type(cfg.c) is float
    assert cfg.n == 2 and type(cfg.n) is int


@pytest.mark.parametrize("c", [0.0, 10.0, 0, 10])
def test_range_bounds_are_inclusive(c):
    assert load(Leaf, {"c": c}, WHERE).c == c


@pytest.mark.parametrize("n", [1, 5])
def test_int_range_bounds_are_inclusive(n):
    assert load(Leaf, {"n": n}, WHERE).n == n


def test_optional_fields_accept_null():
    cfg = load(Top, {"name": "x", "ratio": None, "leaf": None}, WHERE)
    assert cfg.ratio is None and cfg.leaf is None
    cfg = load(Top, {"name": "x", "ratio": 0.5, "leaf": {"c": 3}}, WHERE)
    assert cfg.ratio == 0.5 and cfg.leaf == Leaf(c=3.0)


def test_none_and_empty_data_give_defaults():
    assert load(Leaf, None, WHERE) == Leaf()
    assert load(Leaf, {}, WHERE) == Leaf()


@pytest.mark.parametrize("text, value", [("3.0e6", 3.0e6), ("1e-3", 1e-3), ("-2.5E+2", -250.0),
                                         (".5e1", 5.0)])
def test_yaml11_exponent_strings_are_floats(text, value):
    """PyYAML implements YAML 1.1, whose float pattern needs a dot and a signed exponent:
    '3.0e6' loads as a string. Float fields take it as the number it means."""
    data = yaml.safe_load(f"big: {text}\nname: x\n")
    cfg = load(Top, data, WHERE)
    assert cfg.big == value and type(cfg.big) is float


def test_yaml11_exponent_strings_are_range_checked():
    e = err(Top, {"name": "x", "ratio": "3.0e6"})
    assert e.where == "f.yaml: ratio"
    assert "out of range" in str(e)


def test_yaml11_exponent_strings_only_for_floats():
    e = err(Top, {"name": "x", "count": "3e6"})
    assert e.where == "f.yaml: count"
    assert "expected a number" in str(e)
    assert load(Top, {"name": "x", "label": "3.0e6"}, WHERE).label == "3.0e6"
    e = err(Top, {"name": "x", "big": "three"})
    assert e.where == "f.yaml: big"


# ---- errors ---------------------------------------------------------------------------


def test_unknown_key_with_suggestion():
    e = err(Top, {"name": "x", "mdoe": "fast"})
    assert e.where == "f.yaml: mdoe"
    assert "unknown key" in str(e)
    assert "did you mean 'mode'?" in str(e)
    assert "allowed keys: a, big, count, flag, label, leaf, mode, name, ratio" in str(e)


def test_unknown_key_without_close_match_has_no_suggestion():
    e = err(Top, {"name": "x", "zzzzzz": 1})
    assert e.where == "f.yaml: zzzzzz"
    assert "did you mean" not in str(e)


def test_unknown_nested_key_names_the_path():
    e = err(Top, {"name": "x", "a": {"b": {"cc": 1}}})
    assert e.where == "f.yaml: a.b.cc"
    assert "did you mean 'c'?" in str(e)


def test_missing_required_key():
    e = err(Top, {"mode": "fast"})
    assert e.where == "f.yaml: name"
    assert "required key is missing" in str(e)
    assert "the required name" in str(e)


@pytest.mark.parametrize("field, value", [("big", True), ("big", False), ("count", True)])
def test_bool_is_not_a_number(field, value):
    e = err(Top, {"name": "x", field: value})
    assert e.where == f"f.yaml: {field}"
    assert "expected a number, got bool" in str(e)


def test_number_is_not_a_bool():
    e = err(Top, {"name": "x", "flag": 1})
    assert e.where == "f.yaml: flag"
    assert "expected true or false" in str(e)


def test_int_field_rejects_fraction():
    e = err(Leaf, {"n": 1.5})
    assert e.where == "f.yaml: n"
    assert "expected a whole number" in str(e)
    assert "1.5" in str(e)


@pytest.mark.parametrize("c", [-1e-12, 10.000001, 11, -5])
def test_float_out_of_range(c):
    e = err(Leaf, {"c": c})
    assert e.where == "f.yaml: c"
    assert "out of range [0.0, 10.0]" in str(e)
    assert "the c value" in str(e)


@pytest.mark.parametrize("n", [0, 6])
def test_int_out_of_range(n):
    e = err(Leaf, {"n": n})
    assert e.where == "f.yaml: n"
    assert "out of range [1, 5]" in str(e)


def test_nan_is_rejected_even_without_bounds():
    e = err(Top, {"name": "x", "big": math.nan})
    assert e.where == "f.yaml: big"


def test_string_not_among_choices():
    e = err(Top, {"name": "x", "mode": "medium"})
    assert e.where == "f.yaml: mode"
    assert "'medium' is not one of fast, slow" in str(e)


def test_string_field_rejects_number():
    e = err(Top, {"name": 3})
    assert e.where == "f.yaml: name"
    assert "expected a string" in str(e)


def test_nested_dataclass_path_in_message():
    e = err(Top, {"name": "x", "a": {"b": {"c": 11}}})
    assert e.where == "f.yaml: a.b.c"
    assert str(e).startswith("f.yaml: a.b.c: 11.0 is out of range")


def test_nested_path_under_a_sub_where():
    """A caller passing 'file: section' gets 'file: section.key' paths."""
    e = err(Leaf, {"c": 20}, where="f.yaml: plant")
    assert e.where == "f.yaml: plant.c"


def test_list_index_in_path():
    e = err(Top, {"name": "x", "a": {"items": [{"c": 1}, {"c": "x"}]}})
    assert e.where == "f.yaml: a.items[1].c"
    assert "expected a number" in str(e)
    e = err(Top, {"name": "x", "a": {"numbers": [1.0, 2.0, "z"]}})
    assert e.where == "f.yaml: a.numbers[2]"


def test_dict_key_in_path():
    e = err(Top, {"name": "x", "a": {"named": {"k1": {"n": 2.5}}}})
    assert e.where == "f.yaml: a.named.k1.n"
    assert "expected a whole number" in str(e)


def test_list_and_dict_fields_reject_wrong_container():
    e = err(Top, {"name": "x", "a": {"items": {"c": 1}}})
    assert e.where == "f.yaml: a.items"
    assert "expected a list" in str(e)
    e = err(Top, {"name": "x", "a": {"named": [1]}})
    assert e.where == "f.yaml: a.named"
    assert "expected a mapping" in str(e)


def test_section_that_is_not_a_mapping():
    e = err(Top, {"name": "x", "a": [1, 2]})
    assert e.where == "f.yaml: a"
    assert "expected a mapping" in str(e)
    e = err(Top, "just text")
    assert e.where == WHERE


# ---- read_yaml --------------------------------------------------------------------------


def test_read_yaml_reads_a_mapping(tmp_path):
    p = tmp_path / "ok.yaml"
    p.write_text("a: 1\nb: {c: [1, 2]}\n", encoding="utf-8")
    assert read_yaml(p) == {"a": 1, "b": {"c": [1, 2]}}
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n", encoding="utf-8")
    assert read_yaml(empty) == {}


def test_read_yaml_missing_file(tmp_path):
    p = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        read_yaml(p)
    assert info.value.where == str(p)
    assert "cannot read" in str(info.value)


def test_read_yaml_invalid_yaml_names_the_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("a: 1\nb: 2\nc: [1, 2\nd: 4\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_yaml(p)
    assert info.value.where == str(p)
    assert "not valid YAML at line 4" in str(info.value)


def test_read_yaml_bad_indentation_names_the_line(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("a: 1\nb: 2\n  c: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_yaml(p)
    assert "line 3" in str(info.value)


@pytest.mark.parametrize("text, kind", [("- 1\n- 2\n", "list"), ("42\n", "int"),
                                        ("just a string\n", "str")])
def test_read_yaml_top_level_must_be_a_mapping(tmp_path, text, kind):
    p = tmp_path / "list.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_yaml(p)
    assert info.value.where == str(p)
    assert f"expected a mapping at the top level, got {kind}" in str(info.value)

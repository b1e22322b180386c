"""The matching form of text (lowcode.search_text): Persian/Arabic spellings meet,
invisible marks vanish, digits and case fold; LIKE patterns match user text literally."""
import pytest

from lowcode.search_text import like_contains, normalise, words


@pytest.mark.parametrize("typed, stored", [
    ("كيبورد", "کیبورد"),                 # Arabic kaf and yeh / Persian keheh and yeh
    ("مصطفى", "مصطفی"),                   # alef maksura
    ("می\u200cخواهم", "میخواهم"),          # zero-width non-joiner
    ("\u200fسلام\u200e", "سلام"),          # direction marks
    ("کتـــاب", "کتاب"),                  # tatweel
    ("مُحَمَّد", "محمد"),                      # Arabic diacritics
    ("שָׁלוֹם", "שלום"),                      # Hebrew niqqud
    ("۱۲۳ و ١٢٣", "123 و 123"),           # Persian and Arabic-Indic digits
    ("  Router\tRESET  ", "router reset"),  # case and white space
    ("ﻛﺘﺎﺏ", "کتاب"),                      # Arabic presentation forms
])
def test_normalise_makes_both_spellings_meet(typed, stored):
    assert normalise(typed) == normalise(stored) == stored.casefold()


def test_normalise_of_nothing_is_empty():
    assert normalise(None) == normalise("") == normalise("\u200c") == ""


def test_words_are_distinct_normalised_and_bounded():
    assert words("Router  ROUTER reset") == ["router", "reset"]
    assert len(words(" ".join(f"w{i}" for i in range(20)))) == 8


def test_like_contains_escapes_wildcards_and_the_escape_character():
    assert like_contains("100%") == "%100!%%"
    assert like_contains("a_b") == "%a!_b%"
    assert like_contains("wow!") == "%wow!!%"

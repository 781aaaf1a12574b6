"""The offline English/French lexicon scorer and the SentimentScorer protocol."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from socialkit.workflows import LexiconScorer, SentimentScorer, UnsupportedLanguageError
from socialkit.workflows.sentiment import (
    BatchSentimentScorer,
    normalize_language,
    score_many,
    score_or_none,
)

scorer = LexiconScorer()


def test_reports_its_languages_and_satisfies_the_protocol() -> None:
    assert scorer.languages == frozenset({"en", "fr"})
    assert isinstance(scorer, SentimentScorer)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I love this, great service!", "en"),
        ("Thanks, the support team was really helpful", "en"),
        ("J'adore ce produit, merci !", "fr"),
        ("Service vraiment génial et rapide", "fr-FR"),
    ],
)
def test_positive_sentences(text: str, language: str) -> None:
    assert scorer.score(text, language) > 0.3


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Worst support ever, the app keeps crashing 😡", "en"),
        ("This is a scam, I want a refund", "en"),
        ("Service client nul, je suis très déçue", "fr"),
        ("Quelle arnaque, remboursez-moi", "fr"),
    ],
)
def test_negative_sentences(text: str, language: str) -> None:
    assert scorer.score(text, language) < -0.3


@pytest.mark.parametrize(
    ("positive", "negated", "language"),
    [
        ("This is good", "This is not good", "en"),
        ("I like it", "I don't like it", "en"),
        ("C'est bon", "Ce n'est pas bon", "fr"),
        ("Ça marche", "Ça ne marche pas", "fr"),
        ("J'aime ce service", "Je n'aime pas ce service", "fr"),
    ],
)
def test_negation_flips_the_sign(positive: str, negated: str, language: str) -> None:
    assert scorer.score(positive, language) > 0
    assert scorer.score(negated, language) < 0


def test_negated_negative_is_not_negative() -> None:
    assert scorer.score("not bad at all", "en") > 0
    assert scorer.score("ce n'est pas mauvais", "fr") > 0


def test_negation_stops_at_a_clause_break() -> None:
    # "never" negates "answers", not the "disappointed" of the next clause.
    assert scorer.score("support never answers, so disappointed", "en") < 0
    assert scorer.score("le support ne répond jamais, tellement déçu", "fr") < 0
    assert scorer.score("never disappointed", "en") > 0


def test_intensifiers_and_dampeners_scale() -> None:
    plain = scorer.score("the app is bad", "en")
    assert scorer.score("the app is very bad", "en") < plain
    assert scorer.score("the app is slightly bad", "en") > plain
    assert scorer.score("c'est très nul", "fr") < scorer.score("c'est nul", "fr")


def test_contrast_weighs_what_follows() -> None:
    assert scorer.score("the design is nice but the app crashes all the time", "en") < 0
    assert scorer.score("il y a un souci mais le support est génial", "fr") > 0


def test_accents_are_optional() -> None:
    assert scorer.score("tres decu", "fr") == pytest.approx(scorer.score("très déçu", "fr"))


def test_neutral_text_scores_zero_and_range_is_bounded() -> None:
    assert scorer.score("The meeting is at noon", "en") == 0.0
    extreme = scorer.score("LOVE LOVE LOVE amazing perfect best wonderful!!!", "en")
    assert 0.9 < extreme <= 1.0


def test_unsupported_language_raises_a_typed_error() -> None:
    with pytest.raises(UnsupportedLanguageError) as info:
        scorer.score("esto es genial", "es")
    assert info.value.language == "es"
    assert "en, fr" in str(info.value)
    assert score_or_none(scorer, "esto es genial", "es") is None
    assert score_or_none(None, "great", "en") is None


def test_language_detection_when_none_is_given() -> None:
    assert scorer.detect("Le service est vraiment nul") == "fr"
    assert scorer.detect("The service is really bad") == "en"
    assert scorer.score("Le service est vraiment nul") < 0
    with pytest.raises(UnsupportedLanguageError):
        scorer.score("12345 ###")


def test_normalize_language() -> None:
    assert normalize_language("fr_CA") == "fr"
    assert normalize_language("EN-us") == "en"
    assert normalize_language("") is None


# -- what people write to brands (issue 13) ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("c'est du vol", "fr"),
        ("C'est du vol, remboursez-moi", "en"),  # a French complaint tagged en
        ("vous vous foutez de nous", None),
        ("service client nul", "en"),
        ("arnaque", None),
        ("encore en panne, merci pour rien", "fr"),
        ("looks like the app is down again", "en"),
        ("thanks for nothing", "en"),
        ("great, down again 🙄", "en"),
        ("Super, encore en panne. Bravo 👏", "fr"),
        ("yeah right, they fixed it", "en"),
        ("ce n'est pas terrible", "fr"),
        ("not a fan of the new pricing", "en"),
    ],
)
def test_idioms_and_sarcasm_are_negative(text: str, tag: str | None) -> None:
    assert scorer.score(text, tag) < -0.05, text


@pytest.mark.parametrize(
    "text",
    [
        "I love it",
        "really impressed by the new version",
        "vraiment bluffé par la nouvelle version",
        "the support fixed it in minutes, excellent",
        "it looks like a great update",
    ],
)
def test_praise_stays_positive(text: str) -> None:
    assert scorer.score(text) > 0.05, text


def test_looks_like_is_not_a_like() -> None:
    assert scorer.score("looks like the app is running", "en") == 0.0


def test_the_text_decides_the_language_not_the_tag() -> None:
    assert scorer.detect("Le service client est vraiment nul, c'est inadmissible", "en") == "fr"
    assert scorer.detect("The customer service is really bad, unacceptable", "fr") == "en"
    # With no evidence in the text, the tag decides.
    assert scorer.detect("acme", "fr") == "fr"


def test_a_language_neither_lexicon_covers_is_refused_from_the_text() -> None:
    with pytest.raises(UnsupportedLanguageError):
        scorer.score("Der Kundenservice ist wirklich schlecht und unverschämt", "en")


@pytest.mark.anyio
async def test_score_many_with_a_batch_scorer() -> None:
    class Service:
        languages = frozenset({"en"})

        def __init__(self) -> None:
            self.calls = 0

        async def score_batch(self, items: Sequence[tuple[str, str | None]]) -> list[float | None]:
            self.calls += 1
            return [-1.0 if "bad" in text else None for text, _ in items]

    service = Service()
    assert isinstance(service, BatchSentimentScorer)
    assert await score_many(service, [("bad", "en"), ("good", "en")]) == [-1.0, None]
    assert service.calls == 1
    assert await score_many(scorer, [("terrible service", "en")]) == [
        scorer.score("terrible service", "en")
    ]
    assert await score_many(None, [("x", None)]) == [None]


@pytest.mark.parametrize("text", ["Je suis très déçu", "Service nul, vraiment déçue"])
def test_french_with_combining_accents_scores_as_precomposed(text: str) -> None:
    # Some clients (macOS, iOS copy-paste) send accents as combining marks (NFD): "déçu" is
    # then "de" + U+0301 + "c" + U+0327 + "u", which must not break the word apart.
    import unicodedata

    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    assert scorer.score(decomposed, "fr") == scorer.score(text, "fr") < 0
    assert scorer.score(unicodedata.normalize("NFD", "Très déçu"), None) < 0

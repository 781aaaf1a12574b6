"""Sentiment scoring: the :class:`SentimentScorer` protocol and an offline English/French scorer.

A scorer maps a text to a number in ``[-1, 1]`` (negative to positive) and says which languages
it covers. The workflows call it only for those languages; :func:`score_or_none` is the helper
they use. Plug in a better scorer (a model, a service) by implementing the protocol.

Why a small hand-written lexicon and not VADER: ``vaderSentiment`` (MIT) covers English only,
is unmaintained since 2020 and pulls ``requests`` in; its French port ``vaderSentiment-fr``
ships as an sdist only and depends on ``fuzzywuzzy`` and ``unidecode``, both GPL, which this MIT
library cannot take on; ``vader-multi`` translates through an online service, so it is not
offline. No package offers English and French lexicons offline under a permissive licence, so
:class:`LexiconScorer` carries two small lexicons (valence -3..+3, in VADER's spirit, written for
what people say to brands: praise, complaints, outages, refunds) with the rules that matter
most in short social texts: negation (``not``, ``never``, ``ne … pas``, ``jamais`` …) flips and
dampens a word within three tokens after the negator; intensifiers and dampeners (``very``,
``très``, ``slightly``, ``un peu``) scale the next word; a contrast (``but``, ``mais``) weighs
what follows more; exclamation marks and capitals add emphasis; emoji and emoticons count.
The sum is normalised with VADER's ``x / sqrt(x² + 15)``.

Unsupported languages raise :class:`UnsupportedLanguageError` (a typed error, not a silent 0,
so a caller never mistakes "cannot tell" for "neutral"); :func:`score_or_none` turns that into
``None`` for callers that prefer it.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Protocol, runtime_checkable

import regex

from socialkit._errors import SocialkitError

__all__ = [
    "LexiconScorer",
    "SentimentScorer",
    "UnsupportedLanguageError",
    "normalize_language",
    "score_or_none",
]


class UnsupportedLanguageError(SocialkitError, ValueError):
    """The scorer does not cover this language (``language`` names it, ``supported`` lists)."""

    def __init__(self, language: str | None, supported: frozenset[str]) -> None:
        self.language = language
        self.supported = supported
        told = repr(language) if language else "an unknown language"
        super().__init__(
            f"cannot score sentiment in {told}; this scorer covers {', '.join(sorted(supported))}"
        )


@runtime_checkable
class SentimentScorer(Protocol):
    """Anything that scores a text's sentiment in ``[-1, 1]`` for the languages it lists."""

    @property
    def languages(self) -> frozenset[str]:
        """ISO 639-1 codes of the languages this scorer covers (``{"en", "fr"}``)."""
        ...

    def score(self, text: str, language: str | None = None) -> float:
        """-1 (very negative) … 0 (neutral) … 1 (very positive).

        Raises :class:`UnsupportedLanguageError` for a language outside :attr:`languages`.
        """
        ...


def normalize_language(language: str | None) -> str | None:
    """``"fr-CA"`` -> ``"fr"``; ``None`` and ``""`` -> ``None``."""
    if not language:
        return None
    return language.replace("_", "-").split("-", 1)[0].casefold()


def score_or_none(scorer: SentimentScorer | None, text: str, language: str | None) -> float | None:
    """The score, or ``None`` when there is no scorer or it does not cover the language."""
    if scorer is None:
        return None
    try:
        return scorer.score(text, language)
    except UnsupportedLanguageError:
        return None


def _fold(word: str) -> str:
    """Lower case without accents, so ``déçu``, ``DECU`` and ``decu`` meet."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("’", "'")


def _split(text: str) -> list[str]:
    return text.split()


def _table(text: str) -> dict[str, float]:
    table: dict[str, float] = {}
    for line in text.strip().splitlines():
        value, _, names = line.partition(":")
        for name in names.split():
            table[_fold(name)] = float(value)
    return table


# Valence lexicons: "value: words". Inflected forms are listed; a plural -s/-x and a French
# feminine -e are also stripped when a word is not found as written.
_EN = _table(
    """
3: love loved loves lovely amazing awesome excellent outstanding fantastic wonderful perfect
3: brilliant superb incredible best thrilled delighted
2: great good nice happy glad thanks thank thx helpful fast quick easy enjoy enjoyed fun like
2: liked cool recommend recommended impressive beautiful solved fixed works working smooth
2: reliable pleased satisfied kind friendly congrats congratulations win wins bravo
1: ok okay fine decent better improved interesting useful welcome hope
-1: slow late wait waiting issue issues problem problems confusing confused meh expensive
-1: missing lost error errors glitch delay delayed bored boring
-2: bad poor broken bug bugs buggy crash crashed crashes crashing fail failed failing fails
-2: failure down outage disappointed disappointing disappointment annoying annoyed angry
-2: upset sad unhappy rude wrong worse refund unacceptable ignored useless hate hated hates
-2: complaint complain complaining frustrated frustrating ridiculous overpriced unreliable
-3: worst terrible awful horrible disgusting scam fraud pathetic furious disaster shameful
-3: garbage trash nightmare lawsuit dangerous
"""
)
_FR = _table(
    """
3: adore adorer adoré génial géniale excellent parfait magnifique merveilleux incroyable
3: formidable exceptionnel fantastique meilleur ravi sublime extraordinaire
2: aime aimer aimé bien bon bonne super top merci content heureux rapide facile efficace
2: agréable sympa gentil bravo félicitations recommande réglé résolu fonctionne marche
2: satisfait plaisir cool chouette fiable pratique beau belle
1: correct ok okay mieux intéressant utile espère bienvenue
-1: lent lente attente attendre problème problèmes souci soucis erreur cher chère retard
-1: bizarre compliqué manque perdu ennui
-2: mauvais mauvaise nul nulle bug bugs panne cassé plantage plante déçu déçue décevant
-2: décevante triste énervé énervée fâché colère marre inadmissible inacceptable inutile
-2: remboursement remboursez pire déteste détester ridicule honteux lamentable bof
-3: horrible catastrophe catastrophique scandale scandaleux arnaque escroquerie honte
-3: dégoûtant pourri minable désastre lamentable inadmissible dangereux
"""
)
_EMOJI = _table(
    """
3: 😍 🥰 ❤️ ❤ 💯 🤩
2: 😀 😃 😄 😁 😊 🙂 👍 👏 🎉 🙏 😂 :) :-) :d ;) <3
-2: 😞 😟 😢 😭 😕 🙁 ☹️ 👎 😒 :( :-( :'(
-3: 😡 😠 🤬 🤮 💩
"""
)
_NEGATORS = {
    "en": frozenset(
        _fold(w)
        for w in _split(
            "not no never none nobody nothing neither nor cannot cant dont doesnt didnt "
            "isnt wasnt arent werent wont wouldnt shouldnt couldnt havent hasnt without hardly"
        )
    ),
    "fr": frozenset(
        _fold(w) for w in _split("ne n pas jamais aucun aucune rien personne sans ni guère")
    ),
}
_BOOSTERS = {
    "en": {
        **dict.fromkeys(
            _split("very really so extremely super totally absolutely incredibly"), 0.3
        ),
        **dict.fromkeys(_split("completely utterly truly highly especially"), 0.3),
        **dict.fromkeys(_split("slightly somewhat barely kinda kindof little bit"), -0.3),
    },
    "fr": {
        **dict.fromkeys(
            (_fold(w) for w in _split("très vraiment trop tellement extrêmement hyper totalement")),
            0.3,
        ),
        **dict.fromkeys((_fold(w) for w in _split("complètement absolument franchement si")), 0.3),
        **dict.fromkeys(
            (_fold(w) for w in _split("peu plutôt légèrement assez moyennement")), -0.3
        ),
    },
}
_CONTRAST = {"en": frozenset({"but", "however", "yet"}), "fr": frozenset({"mais", "pourtant"})}
_STOPWORDS = {
    "en": frozenset(
        _split(
            "the a an and is are was were it this that to of for in on with my your you i we they "
            "not be have has but what"
        )
    ),
    "fr": frozenset(
        _fold(w)
        for w in _split(
            "le la les un une des et est sont était c ce cette de du pour dans sur avec mon "
            "ma mes votre vos vous je nous ils elle pas mais qui que"
        )
    ),
}

_TOKEN = regex.compile(
    r"(?:[:;]'?-?[()dDpP])|<3|\p{Extended_Pictographic}\ufe0f?|[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*|!+",
    regex.VERSION1,
)
_NEGATION_SCALAR = -0.74  # VADER's factor: a negated word flips and loses some strength.
_EXCLAMATION = 0.292  # VADER's per-mark emphasis, up to three marks.
_CAPS = 0.733  # VADER's emphasis for a word in capitals among mixed-case text.


class LexiconScorer:
    """The offline English and French scorer (see the module docs for the method).

    With ``language=None`` it picks the covered language whose function words occur most in the
    text, and raises :class:`UnsupportedLanguageError` when neither occurs.
    """

    def __init__(self) -> None:
        self._lexicons = {"en": _EN, "fr": _FR}

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._lexicons)

    def __repr__(self) -> str:
        return f"LexiconScorer(languages={sorted(self.languages)})"

    def detect(self, text: str) -> str | None:
        """The covered language whose function words the text uses most (None: no evidence)."""
        folded = [_fold(p) for t in _TOKEN.findall(text) for p in regex.split(r"['’]", t) if p]
        counts = {
            lang: sum(t in _STOPWORDS[lang] or t in self._lexicons[lang] for t in folded)
            for lang in self._lexicons
        }
        best = max(counts, key=lambda lang: counts[lang])
        if counts[best] == 0:
            return None
        return best

    def score(self, text: str, language: str | None = None) -> float:
        lang = normalize_language(language)
        if lang is None:
            lang = self.detect(text)
        if lang is None or lang not in self._lexicons:
            raise UnsupportedLanguageError(language, self.languages)
        return self._score(text, lang)

    def _lookup(self, word: str, lang: str) -> float | None:
        lexicon = self._lexicons[lang]
        folded = _fold(word)
        if folded in _EMOJI:
            return _EMOJI[folded]
        candidates = [folded]
        if folded.endswith(("s", "x")):
            candidates.append(folded[:-1])
        if lang == "fr" and candidates[-1].endswith("e"):
            candidates.append(candidates[-1][:-1])
        for candidate in candidates:
            if candidate in lexicon:
                return lexicon[candidate]
        return None

    def _tokens(self, text: str, lang: str) -> list[str]:
        """Tokens; English contractions joined (``don't`` -> ``dont``), French elisions split
        (``n'est`` -> ``n``, ``est``)."""
        out: list[str] = []
        for token in _TOKEN.findall(text):
            if "'" in token or "’" in token:
                parts = regex.split(r"['’]", token)
                if lang == "fr":
                    out.extend(p for p in parts if p)
                else:
                    out.append("".join(parts))
            else:
                out.append(token)
        return out

    def _score(self, text: str, lang: str) -> float:
        raw_tokens = self._tokens(text, lang)
        tokens = [t for t in raw_tokens if not t.startswith("!")]
        exclamations = min(3, sum(len(t) for t in raw_tokens if t.startswith("!")))
        letters = [t for t in tokens if t.isalpha()]
        mixed_case = any(t.upper() != t for t in letters) and any(
            len(t) > 1 and t.isupper() for t in letters
        )
        negators = _NEGATORS[lang]
        boosters = _BOOSTERS[lang]
        folded = [_fold(t) for t in tokens]
        contrast_at = next((i for i, t in enumerate(folded) if t in _CONTRAST[lang]), None)
        total = 0.0
        for i, token in enumerate(tokens):
            valence = self._lookup(token, lang)
            if valence is None or folded[i] in boosters:
                continue
            sign = 1.0 if valence > 0 else -1.0
            # Intensifier or dampener right before (one or two tokens back).
            for back in (1, 2):
                if i - back >= 0 and folded[i - back] in boosters:
                    valence += sign * boosters[folded[i - back]] * (1.0 if back == 1 else 0.95)
            if mixed_case and len(token) > 1 and token.isupper():
                valence += sign * _CAPS
            # Negation: a negator in the three tokens before, or French "ne … pas" around it.
            window = folded[max(0, i - 3) : i]
            negated = any(t in negators for t in window)
            if lang == "fr" and not negated and i + 1 < len(folded):
                negated = folded[i + 1] in {"pas", "jamais", "plus", "rien"} and any(
                    t in {"ne", "n"} for t in window
                )
            if negated:
                valence *= _NEGATION_SCALAR
            if contrast_at is not None:
                valence *= 0.5 if i < contrast_at else 1.5
            total += valence
        if total:
            total += math.copysign(exclamations * _EXCLAMATION, total)
        return max(-1.0, min(1.0, total / math.sqrt(total * total + 15.0)))

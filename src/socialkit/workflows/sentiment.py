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

What people write to brands is idiomatic, so the scorer also knows **idioms** of both languages
(``c'est du vol``, ``vous vous foutez de nous``, ``thanks for nothing``, ``is down again``, ``en
panne``; ``looks like`` is not a "like"), which are scored as one unit, and **sarcasm** markers
(🙄, ``/s``, ``yeah right``, ``merci pour rien``, a cheer such as ``great,`` or ``bravo`` next to a
complaint such as ``down again`` or ``encore en panne``), which turn the praise words of the text
against it.

The **language** comes from the text, not from the post's tag (tags are often wrong: a French
complaint tagged ``en`` scored 0): with the ``sentiment`` extra, the well-kept ``py3langid``
identifier decides among common languages; the tag is used only when the text itself gives no
evidence, and the function words of each lexicon settle short texts the identifier is unsure
about.

Unsupported languages raise :class:`UnsupportedLanguageError` (a typed error, not a silent 0,
so a caller never mistakes "cannot tell" for "neutral"); :func:`score_or_none` turns that into
``None`` for callers that prefer it.

**A stronger scorer** (a transformer model, an external service) plugs in without touching the
workflows: implement :class:`SentimentScorer` (``languages`` and ``score``), or, for a service
that scores many texts per request, :class:`BatchSentimentScorer` (``async score_batch``), which
the listening calls once per poll with every new item; :func:`score_many` is the helper that
calls either.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import regex

from socialkit._errors import SocialkitError

__all__ = [
    "BatchSentimentScorer",
    "LexiconScorer",
    "SentimentScorer",
    "UnsupportedLanguageError",
    "detect_language",
    "normalize_language",
    "score_many",
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


@runtime_checkable
class BatchSentimentScorer(Protocol):
    """A scorer that scores many texts at once, asynchronously (a model server, an API)."""

    @property
    def languages(self) -> frozenset[str]:
        """ISO 639-1 codes of the languages this scorer covers."""
        ...

    async def score_batch(self, items: Sequence[tuple[str, str | None]]) -> list[float | None]:
        """A score in ``[-1, 1]`` for each ``(text, language tag)``, in order; ``None`` for a
        text it cannot score (an uncovered language)."""
        ...


async def score_many(
    scorer: SentimentScorer | BatchSentimentScorer | None,
    items: Sequence[tuple[str, str | None]],
) -> list[float | None]:
    """Scores of many ``(text, language)`` pairs with either kind of scorer (``None`` each
    where it cannot score)."""
    if scorer is None or not items:
        return [None] * len(items)
    if isinstance(scorer, BatchSentimentScorer):
        scores = await scorer.score_batch(list(items))
        if len(scores) != len(items):
            raise ValueError(
                f"{type(scorer).__name__}.score_batch returned {len(scores)} scores "
                f"for {len(items)} texts"
            )
        return scores
    return [score_or_none(scorer, text, language) for text, language in items]


def normalize_language(language: str | None) -> str | None:
    """``"fr-CA"`` -> ``"fr"``; ``None`` and ``""`` -> ``None``."""
    if not language:
        return None
    return language.replace("_", "-").split("-", 1)[0].casefold()


#: The languages the identifier chooses among: those the lexicons cover and the others most often
#: met beside them, so that a German or Spanish text is not forced into English or French.
_IDENTIFIER_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl")


@functools.lru_cache(maxsize=1)
def _identifier() -> Any:
    """py3langid's identifier, loaded once (about 1.5 s), or None without the extra."""
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier
    except ImportError:
        return None
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(_IDENTIFIER_LANGUAGES))
    return identifier


def detect_language(text: str) -> tuple[str, float] | None:
    """The language of ``text`` and the identifier's confidence, or ``None`` when the
    ``sentiment`` extra (py3langid) is not installed."""
    identifier = _identifier()
    if identifier is None:
        return None
    language, confidence = identifier.classify(text)
    return str(language), float(confidence)


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
2: reliable pleased satisfied kind friendly congrats congratulations win wins bravo impressed
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
2: satisfait plaisir cool chouette fiable pratique beau belle bluffé bluffée épaté épatée
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
-1: 🙃
-2: 😞 😟 😢 😭 😕 🙁 ☹️ 👎 😒 🙄 😤 🤡 :( :-( :'(
-3: 😡 😠 🤬 🤮 💩
"""
)
# Idioms, scored as one unit (their words are not scored on their own). Written as folded
# tokens the way _tokens() splits them: English contractions joined, French elisions split.
_IDIOMS_TEXT = {
    "en": """
0: looks like | look like | seems like | seem like | feels like | feel like | like this
0: like that | like a | like the | sounds like | just like | would like | i'd like | id like
-2: is down | are down | went down | goes down | not working | doesnt work | dont work
-2: stopped working | no response | no answer | still waiting | still broken | on hold
-2: cancel my | cancelling my | canceling my | unsubscribe | give up | gave up | fed up
-2: not a fan | not fan
-2: not fixed | still not | no reply | not again
-3: down again | broken again | thanks for nothing | yeah right | rip off | ripoff
-3: waste of money | waste of time | never again | charged me twice | double charged
-3: what a joke | screwed up | ripped off | are you kidding | you kidding me | so done with
""",
    "fr": """
-2: pas fan | en panne | marche pas | marche plus | fonctionne pas | fonctionne plus | toujours pas
-2: pas de reponse | aucune reponse | en attente | ras le bol | j en ai marre | ca craint
-2: c est long | ca rame | plante encore | bug encore | a la ramasse | pas terrible | pas top
-3: du vol | c est du vol | foutez de | fout de | foutez de nous | foutage de gueule
-3: moquez de | moque de | pour des pigeons | pour des cons | plus jamais | merci pour rien
-3: debite deux fois | preleve deux fois | encore en panne | encore plante | se fiche de
-3: fichez de | honte a vous | on vous a rien demande | service client nul
""",
}
_IDIOMS: dict[str, dict[tuple[str, ...], float]] = {}
for _lang, _text in _IDIOMS_TEXT.items():
    _table_lang: dict[tuple[str, ...], float] = {}
    for _line in _text.strip().splitlines():
        _value, _, _phrases = _line.partition(":")
        for _phrase in _phrases.split("|"):
            _table_lang[tuple(_fold(w) for w in _phrase.split())] = float(_value)
    _IDIOMS[_lang] = _table_lang
_LONGEST_IDIOM = max(len(k) for t in _IDIOMS.values() for k in t)

# Sarcasm: markers that say the praise in the text is not meant, and the complaints that, next
# to a cheer ("great," "bravo", "super"), say the same.
_SARCASM_MARKERS = {
    "en": (("yeah", "right"), ("thanks", "for", "nothing"), ("as", "usual"), ("s",)),
    "fr": (("merci", "pour", "rien"), ("comme", "d", "hab"), ("comme", "d", "habitude")),
}
_SARCASM_EMOJI = frozenset({"🙄", "🙃", "🤡"})
_PROBLEMS = {
    "en": frozenset(
        _split("again down broken crashed crash lost outage bug bugs failed fails charged")
    ),
    "fr": frozenset(
        _fold(w) for w in _split("encore panne plante planté bug perdu cassé débité prélevé")
    ),
}
_CHEERS = {
    "en": frozenset(_split("great wonderful awesome perfect fantastic lovely brilliant nice love")),
    "fr": frozenset(_fold(w) for w in _split("super génial bravo parfait merci top formidable")),
}

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
#: A clause break (",", ";", "." …): negation does not reach across one ("support never
#: answers, so disappointed" is negative). Kept as a token of its own in the scorer only.
_BREAK = ","
_BREAKS = r"[,;.:?\n]+"
_TOKEN_OR_BREAK = regex.compile(_TOKEN.pattern + "|" + _BREAKS, regex.VERSION1)
_ONLY_BREAKS = regex.compile(_BREAKS)
_NEGATION_SCALAR = -0.74  # VADER's factor: a negated word flips and loses some strength.
_EXCLAMATION = 0.292  # VADER's per-mark emphasis, up to three marks.
_CAPS = 0.733  # VADER's emphasis for a word in capitals among mixed-case text.


class LexiconScorer:
    """The offline English and French scorer (see the module docs for the method).

    With ``language=None``, or a tag the text contradicts, the language comes from the text
    (:func:`detect_language`, then the lexicons' function words); a text in neither language
    raises :class:`UnsupportedLanguageError`.
    """

    #: The identifier must be at least this sure before it overrules the lexicons' evidence.
    confident = 0.9

    def __init__(self) -> None:
        self._lexicons = {"en": _EN, "fr": _FR}

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._lexicons)

    def __repr__(self) -> str:
        return f"LexiconScorer(languages={sorted(self.languages)})"

    def _evidence(self, text: str) -> dict[str, int]:
        folded = [_fold(p) for t in _TOKEN.findall(text) for p in regex.split(r"['’]", t) if p]
        return {
            lang: sum(t in _STOPWORDS[lang] or t in self._lexicons[lang] for t in folded)
            + sum(
                2
                for n in range(2, _LONGEST_IDIOM + 1)
                for i in range(len(folded) - n + 1)
                if tuple(folded[i : i + n]) in _IDIOMS[lang]
            )
            for lang in self._lexicons
        }

    def detect(self, text: str, hint: str | None = None) -> str | None:
        """The language of ``text`` (``None``: no evidence for any language).

        The identifier's answer when it is sure (even a language the lexicons do not cover);
        otherwise the covered language whose function words and idioms the text uses most;
        ``hint`` (the post's tag) breaks ties and decides when the text gives no evidence.
        """
        found = detect_language(text)
        if found is not None and (found[1] >= self.confident or found[0] == hint):
            return found[0]  # sure, or agreeing with the post's own tag
        counts = self._evidence(text)
        best = max(counts.values())
        if best == 0:
            if found is not None and found[0] in self._lexicons and found[1] >= 0.5:
                return found[0]
            return hint
        leaders = [lang for lang, n in counts.items() if n == best]
        if len(leaders) == 1:
            return leaders[0]
        if hint in leaders:
            return hint
        if found is not None and found[0] in leaders:
            return found[0]
        return leaders[0]

    def score(self, text: str, language: str | None = None) -> float:
        # Accents typed as combining marks (NFD) would split words ("de" + "c" + "u").
        text = unicodedata.normalize("NFC", text)
        lang = self.detect(text, normalize_language(language))
        if lang is None or lang not in self._lexicons:
            raise UnsupportedLanguageError(lang or language, self.languages)
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
        for token in _TOKEN_OR_BREAK.findall(text):
            if _ONLY_BREAKS.fullmatch(token):
                if out and out[-1] != _BREAK:
                    out.append(_BREAK)
                continue
            if "'" in token or "’" in token:
                parts = regex.split(r"['’]", token)
                if lang == "fr":
                    out.extend(p for p in parts if p)
                else:
                    out.append("".join(parts))
            else:
                out.append(token)
        return out

    def _idioms(self, folded: list[str], lang: str) -> dict[int, tuple[int, float]]:
        """Where idioms start: index -> (length, valence), longest match first, no overlaps."""
        table = _IDIOMS[lang]
        found: dict[int, tuple[int, float]] = {}
        i = 0
        while i < len(folded):
            for n in range(min(_LONGEST_IDIOM, len(folded) - i), 1, -1):
                valence = table.get(tuple(folded[i : i + n]))
                if valence is not None:
                    found[i] = (n, valence)
                    i += n
                    break
            else:
                i += 1
        return found

    def _sarcastic(self, text: str, folded: list[str], lang: str) -> bool:
        if any(e in text for e in _SARCASM_EMOJI) or "/s" in text.split():
            return True
        for marker in _SARCASM_MARKERS[lang]:
            n = len(marker)
            if any(tuple(folded[i : i + n]) == marker for i in range(len(folded) - n + 1)):
                return True
        cheer = any(t in _CHEERS[lang] for t in folded)
        problem = any(t in _PROBLEMS[lang] for t in folded)
        return cheer and problem

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
        idioms = self._idioms(folded, lang)
        sarcastic = self._sarcastic(text, folded, lang)
        contrast_at = next((i for i, t in enumerate(folded) if t in _CONTRAST[lang]), None)
        total = 0.0
        i = 0
        while i < len(tokens):
            if i in idioms:
                length, idiom = idioms[i]
                i += length
                total += idiom
                continue
            token = tokens[i]
            found = self._lookup(token, lang)
            if found is None or folded[i] in boosters:
                i += 1
                continue
            valence = found
            sign = 1.0 if valence > 0 else -1.0
            # Intensifier or dampener right before (one or two tokens back).
            for back in (1, 2):
                if i - back >= 0 and folded[i - back] in boosters:
                    valence += sign * boosters[folded[i - back]] * (1.0 if back == 1 else 0.95)
            if mixed_case and len(token) > 1 and token.isupper():
                valence += sign * _CAPS
            # Negation: a negator in the three tokens before, or French "ne … pas" around it.
            window = folded[max(0, i - 3) : i]
            if _BREAK in window:
                window = window[len(window) - window[::-1].index(_BREAK) :]
            negated = any(t in negators for t in window)
            if lang == "fr" and not negated and i + 1 < len(folded):
                negated = folded[i + 1] in {"pas", "jamais", "plus", "rien"} and any(
                    t in {"ne", "n"} for t in window
                )
            if negated:
                valence *= _NEGATION_SCALAR
            if sarcastic and valence > 0:
                valence *= _NEGATION_SCALAR  # the praise is not meant
            if contrast_at is not None:
                valence *= 0.5 if i < contrast_at else 1.5
            total += valence
            i += 1
        if sarcastic and total >= 0:
            total = -1.0  # a sarcastic text with nothing else to go on is a complaint
        if total:
            total += math.copysign(exclamations * _EXCLAMATION, total)
        return max(-1.0, min(1.0, total / math.sqrt(total * total + 15.0)))

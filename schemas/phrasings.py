"""How customers really answer: Finnish, Swedish and English, misspelt, mixed, quoting our own message back.

The wide reading of a reply (`CustomerReply.reading`, set by the workflow under a patch): what it adds to the
strict one in `schemas/replies.py`. Where the money goes is still never guessed: a card or desk word under a
negation, two destinations at once, or an account number in a clause that says no is not understood, and the
customer is asked again. An account number is never corrected: a misspelt card or desk word is read (both are
the customer's own, and the card is the policy's default anyway), a mistyped IBAN is not.
"""

from __future__ import annotations

import re

# Where the customer's own words end in an email reply: the quoted message below them is ours, and names every
# answer we offered ("reply 1 for the card, or 2 for the service desk"). A header ends in a colon: Gmail's "On ...
# wrote:", Swedish "Den ... skrev Kundtjänst <...>:", Apple Mail's Finnish "X kirjoitti 1.1.2024 kello 10.00:".
_QUOTE_HEADER = re.compile(
    r"^\s*(-{2,}\s*(original|alkuperäinen|ursprungligt)|(from|lähettäjä|från|sent|lähetetty|skickat):"
    r"|.*\b(wrote|kirjoitti|skrev)\b.*:\s*$)", re.IGNORECASE | re.MULTILINE)
_QUOTED_LINE = re.compile(r"^\s*>.*$\n?", re.MULTILINE)
# Clauses: a negation says no to what its own clause names ("ei kortille vaan tilille FI..." is the account).
_CLAUSE_END = re.compile(r"[.,;:!?\n]|\b(vaan|mutta|but|instead|rather|utan|men)\b", re.IGNORECASE)
NEGATION = re.compile(r"\b(not|no|never|don'?t|do not|won'?t|can'?t|isn'?t|except|anything but|ei|en|emme|eikä|"
                      r"ettei|enkä|älä|älkää|ilman|muu kuin|paitsi|inte|ej|icke|aldrig|nej|inget|annat än)\b",
                      re.IGNORECASE)
_HEDGE = re.compile(r"\b(ehkä|kai|luultavasti|maybe|perhaps|probably|sorry|wrong|kanske|förlåt|fel|väärä)\b",
                    re.IGNORECASE)
_ANOTHER_ACCOUNT = re.compile(r"\b[A-Z]{2}\d{2}(\s?[A-Z0-9]{4}){2,}", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+|\d+")
# Destination words as customers write them, whole: Finnish and Swedish inflect ("kortillesi", "kortet"), but a
# word's stem is no choice ("kortilta veloitettiin" is where the money was taken, "kassakuitti" a receipt,
# "Kortbetalningen" a payment), so only the forms that say "to the card" or "at the desk" are listed. A word one
# typo away from a listed word of five letters or more counts too ("krotille"), but never in its last three letters,
# where Finnish puts its case endings ("kortilla", "kassalla": paid by card, charged at the till).
# Not "visa": in Swedish it is also "show" ("kan ni visa...").
_WORDS = {"card": ("card", "kort", "kortille", "kortilleni", "kortillesi", "kortti", "korttiin", "kortet",
                   "maksukortille", "pankkikortille", "luottokortille", "maksukortti", "pankkikortti", "bankkort",
                   "bankkortet", "kreditkort", "kreditkortet", "betalkort", "betalkortet", "mastercard"),
          "desk": ("desk", "servicedesk", "servicedisk", "disken", "servicedisken", "palvelupiste",
                   "palvelupisteeseen", "palvelupisteestä", "palvelupisteelle", "kassa", "kassalle", "infopiste")}
# Words that say little beside a destination word ("to my card please"): a reply with more than three other words
# is a story, not a choice, and is asked again (as is a question, or a request to call).
_SMALL = {"to", "my", "the", "a", "at", "on", "in", "it", "i", "ll", "up", "me", "for", "till", "mitt", "min", "på",
          "vid", "minun", "mun", "sen", "se", "haen", "hämtar", "pick", "get", "use", "refund", "palauttakaa"}
_CALL = re.compile(r"\b(soit\w*|call|phone|ring|ringa|puhu\w*|talk|speak|prata)\b", re.IGNORECASE)
_MOST_OTHER_WORDS = 3
# Number words, read only when they are the whole answer ("yksi kiitos", "two please"): inside a sentence "one"
# or "ett" is as often an article as a choice.
NUMBER_WORDS = {1: {"one", "yksi", "yks", "ykkönen", "etta", "ettan"},
                2: {"two", "kaksi", "kaks", "kakkonen", "två", "tvåa", "tvåan"},
                3: {"three", "kolme", "kolmonen", "tre", "trea", "trean"},
                4: {"four", "neljä", "nelonen", "fyra", "fyran"},
                5: {"five", "viisi", "vitonen", "fem", "femma", "femman"}}
_FILLER = {"kiitos", "kiitti", "kiittäen", "thanks", "thank", "you", "please", "pls", "tack", "ok", "okay", "joo",
           "juu", "kyllä", "yes", "ja", "nro", "numero", "number", "option", "vaihtoehto", "alternativ", "hei", "hi",
           "hello", "hej", "stars", "star", "tähteä", "tähti", "pistettä", "stjärnor", "poäng", "p", "out", "of"}


def own_words(text: str) -> str:
    """The reply without the message it quotes: every "> ..." line wherever it sits (an account number quoted
    back is not the customer's answer), and everything from a quote header ("On ... wrote:") down."""
    text = _QUOTED_LINE.sub("", text.replace("\u2019", "'"))  # "don’t" as phones type it
    header = _QUOTE_HEADER.search(text)
    return text[:header.start()] if header else text


def destinations_named(text: str) -> set[str]:
    """The destinations ("card", "desk") the reply's words name, misspelt or not."""
    return {kind for word in _WORD.findall(text.lower()) for kind in _WORDS if _names(word, kind)}


def a_short_choice(text: str) -> bool:
    """Whether the reply is short enough to be a choice: no question, no request to call, and at most three words
    besides its destination words, numbers and courtesy ("haen palvelupisteestä kiitos", not "Olin myymälässä
    eilen, haluan puhua jonkun kanssa")."""
    if "?" in text or _CALL.search(text):
        return False
    others = [word for word in _WORD.findall(text.lower()) if not word.isdigit() and word not in _FILLER
              and word not in _SMALL and not any(_names(word, kind) for kind in _WORDS)]
    return len(others) <= _MOST_OTHER_WORDS


def account_alone(text: str, start: int, end: int) -> bool:
    """Whether the account number at text[start:end] is the reply's one clear answer: no other account number, no
    hedge ("ehkä", "sorry, wrong number"), no negation in its own clause, and any card or desk word said no to in
    its own clause ("ei kortille vaan tilille FI..."). A negation that refuses no destination ("not mine", "en
    tiedä") leaves the answer unclear."""
    rest = text[:start] + " , " + text[end:]
    if _ANOTHER_ACCOUNT.search(rest) or _HEDGE.search(rest):
        return False
    before, after = _CLAUSE_END.split(text[:start])[-1], _CLAUSE_END.split(text[end:])[0]
    if NEGATION.search(before) or NEGATION.search(after):
        return False
    return all(bool(NEGATION.search(clause)) == bool(destinations_named(clause))
               for clause in _CLAUSE_END.split(rest) if clause)


def alone(text: str) -> int | None:
    """The number a reply consists of, as a digit or a word, with nothing but courtesy around it ("yksi kiitos",
    "5/5", "4 stars"); None for anything else."""
    words = [word for word in _WORD.findall(re.sub(r"\s*/\s*5\b", "", text.lower())) if word not in _FILLER]
    if len(words) != 1:
        return None
    word = words[0]
    if word.isdigit():
        return int(word)
    return next((number for number, spelled in NUMBER_WORDS.items() if word in spelled), None)


def _names(word: str, kind: str) -> bool:
    folded = _fold(word)
    return any(folded == _fold(known) or (len(known) >= 5 and _one_typo_apart(folded, _fold(known)))
               for known in _WORDS[kind])


def _fold(word: str) -> str:
    """Without umlauts, as customers type on a foreign keyboard ("palvelupisteesta")."""
    return word.replace("ä", "a").replace("ö", "o").replace("å", "a")


def _one_typo_apart(word: str, known: str) -> bool:
    """At most one letter added, dropped, changed, or two neighbours swapped (optimal string alignment), and not
    in the last three letters of the longer word: those are the case ending, which changes the meaning."""
    if abs(len(word) - len(known)) > 1 or word == known:
        return word == known
    stem = max(len(word), len(known)) - 3
    if len(word) == len(known):
        differ = [i for i, (a, b) in enumerate(zip(word, known, strict=True)) if a != b]
        swapped = (len(differ) == 2 and differ[1] == differ[0] + 1 and word[differ[0]] == known[differ[1]]
                   and word[differ[1]] == known[differ[0]])
        return (len(differ) == 1 or swapped) and differ[-1] < stem
    shorter, longer = sorted((word, known), key=len)
    return any(longer[:i] + longer[i + 1:] == shorter for i in range(stem))

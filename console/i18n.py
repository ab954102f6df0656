"""The console in the viewer's language: Finnish for a browser that asks for it (Accept-Language), English
otherwise. The English text is the key (as with gettext), so an untranslated string shows in English.
Translated so far: the frame, sign-in, the queue, and the words for statuses, types, steps and SLA states; the
case, figures and inbox pages are English still (docs/console.md)."""

from __future__ import annotations

from collections.abc import Callable

FINNISH = {
    # the frame and sign-in
    "Skip to content": "Siirry sisältöön", "Service recovery": "Palautuksen hoito", "Queue": "Jono",
    "Unmatched replies": "Kohdistamattomat vastaukset", "Figures": "Luvut", "Signed in as": "Kirjautuneena",
    "Sign out": "Kirjaudu ulos", "Sign in": "Kirjaudu sisään", "Email": "Sähköposti", "Password": "Salasana",
    "Wrong email or password.": "Väärä sähköposti tai salasana.",
    "The form had expired. Please sign in again.": "Lomake ehti vanhentua. Kirjaudu uudelleen.",
    # the queue
    "Filters": "Suodattimet", "Status": "Tila", "Type": "Tyyppi", "Owner": "Omistaja", "SLA": "SLA",
    "Priority": "Kiireellisyys", "Source": "Lähde", "Opened from": "Avattu alkaen", "Opened to": "Avattu asti",
    "Apply": "Näytä", "Open (any status but closed)": "Avoimet (kaikki paitsi suljetut)", "Any type": "Kaikki tyypit",
    "Anyone": "Kuka tahansa", "Any SLA state": "Kaikki SLA-tilat", "Any priority": "Kaikki kiireellisyydet",
    "Any source": "Kaikki lähteet", "case": "tapaus", "cases": "tapausta", "more than": "yli",
    "in this view": "tässä näkymässä",
    "new ones appear at the top as they arrive": "uudet tulevat ylimmiksi saapuessaan",
    "Cases, newest first": "Tapaukset, uusin ensin", "Reference": "Viite", "Customer": "Asiakas", "Store": "Myymälä",
    "Amount": "Summa", "Step": "Vaihe", "Next SLA breach": "Seuraava SLA-raja", "Opened": "Avattu",
    "Order": "Järjestys", "Newest first": "Uusin ensin", "urgent first": "kiireellisin ensin",
    "Newest": "Uusimmat", "Older cases": "Vanhemmat tapaukset", "Pages": "Sivut",
    # SLA badges
    "On track": "Aikataulussa", "At risk": "Vaarassa", "Breached": "Myöhässä", "Paused": "Tauolla",
    "No SLA": "Ei SLA:ta", "left": "jäljellä", "over": "yli ajan",
    # words for the API's values (statuses, types, steps, owners, priorities, sources, SLA states)
    "open": "avoin", "waiting on customer": "odottaa asiakasta", "needs attention": "vaatii huomiota",
    "waiting on approval": "odottaa hyväksyntää", "closed": "suljettu", "overcharge": "ylilaskutus",
    "undercharge": "alilaskutus", "duplicate purchase": "kaksoisosto", "complaint": "valitus",
    "data misuse": "tietojen väärinkäyttö", "intake": "vastaanotto", "triage": "luokittelu",
    "acknowledge": "kuittaus", "verify": "tarkistus", "investigate": "selvitys", "look up": "haku",
    "contact": "yhteydenotto", "personal reply": "henkilökohtainen vastaus", "approval": "hyväksyntä",
    "refund": "hyvitys", "compensation": "korvaus", "thank you": "kiitos", "follow up": "seuranta",
    "write off": "alaskirjaus", "close": "sulkeminen", "note": "muistiinpano", "mine": "omat",
    "unowned": "ei omistajaa", "normal": "normaali", "high": "korkea", "urgent": "kiireellinen", "till": "kassa",
    "web shop": "verkkokauppa", "contact centre": "asiakaspalvelu", "feedback form": "palautelomake",
    "social media": "some", "transaction monitor": "tapahtumaseuranta", "on track": "aikataulussa",
    "at risk": "vaarassa", "breached": "myöhässä", "paused": "tauolla",
}


def translator(locale: str) -> Callable[[str], str]:
    if locale.startswith("fi"):
        return lambda text: FINNISH.get(text, text)
    return lambda text: text

"""The console in the viewer's language: Finnish or Swedish for a browser that asks for it (Accept-Language),
English otherwise. The English text is the key (as with gettext), so an untranslated string shows in English
(tests/test_console_languages.py holds both to every text the templates translate). Every page's own texts and
the words for the API's values are translated; the API's reasons (a refusal shown beside a form) and the
timeline's notes, written by the workflows, stay English (docs/console.md)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from kinds import added_kinds

FINNISH = {
    # the frame and sign-in
    "Skip to content": "Siirry sisältöön", "Service recovery": "Palautuksen hoito", "Queue": "Jono",
    "Unmatched replies": "Kohdistamattomat vastaukset", "Figures": "Luvut", "Signed in as": "Kirjautuneena",
    "Sign out": "Kirjaudu ulos", "Sign in": "Kirjaudu sisään", "Email": "Sähköposti", "Password": "Salasana",
    "Console": "Konsoli",
    "Wrong email or password.": "Väärä sähköposti tai salasana.",
    "Too many failed sign-ins from this address. Please try again in a minute.":
    "Liian monta epäonnistunutta kirjautumista tästä osoitteesta. Yritä uudelleen minuutin kuluttua.",
    "The form had expired. Please sign in again.": "Lomake ehti vanhentua. Kirjaudu uudelleen.",
    "Not done": "Ei tehty", "Back": "Takaisin",
    # the queue
    "Filters": "Suodattimet", "Status": "Tila", "Type": "Tyyppi", "Owner": "Omistaja", "SLA": "SLA",
    "Priority": "Kiireellisyys", "Source": "Lähde", "Opened from": "Avattu alkaen", "Opened to": "Avattu asti",
    "Apply": "Näytä", "Open (any status but closed)": "Avoimet (kaikki paitsi suljetut)", "Any type": "Kaikki tyypit",
    "Anyone": "Kuka tahansa", "Any SLA state": "Kaikki SLA-tilat", "Any priority": "Kaikki kiireellisyydet",
    "Any source": "Kaikki lähteet", "case": "tapaus", "cases": "tapausta", "more than": "yli",
    "in this view": "tässä näkymässä",
    "new ones appear at the top as they arrive": "uudet tulevat ylimmiksi saapuessaan",
    "Cases, newest first": "Tapaukset, uusin ensin", "Cases, most urgent first": "Tapaukset, kiireellisin ensin",
    "marked new: reload to sort them in": "merkitty uusiksi: lataa sivu uudelleen järjestääksesi ne",
    "new": "uusi", "outside this view": "tämän näkymän ulkopuolella",
    "Live updates stopped: this page holds more cases than it can follow. Reload it to see the newest.":
        "Reaaliaikainen päivitys pysähtyi: sivulla on enemmän tapauksia kuin se voi seurata. Lataa sivu uudelleen "
        "nähdäksesi uusimmat.",
    "Live updates are failing: new and changed cases may not show. Reload the page.":
        "Reaaliaikainen päivitys ei toimi: uudet ja muuttuneet tapaukset eivät ehkä näy. Lataa sivu uudelleen.",
    "The reply is no longer in the inbox, and was not attached:":
        "Vastaus ei ole enää saapuneissa, eikä sitä liitetty:",
    "new cases at the top": "uutta tapausta ylimpänä",
    "old": "vanha", "the customer of": "asiakas tapauksissa",
    "the customer of no open case": "ei minkään avoimen tapauksen asiakas",
    "cases now marked outside this view": "tapausta nyt merkitty tämän näkymän ulkopuolelle",
    "Reference": "Viite", "Customer": "Asiakas", "Store": "Myymälä",
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
    # the case page
    "Case": "Tapaus", "← Queue": "← Jono", "Where it stands": "Tilanne", "waiting for the customer's answer until":
    "odottaa asiakkaan vastausta asti", "waiting until": "odottaa asti", "assigned by": "antanut",
    "SLA clocks": "SLA-kellot", "Promise": "Lupaus", "Deadline": "Määräaika", "State": "Tila", "kept": "pidetty",
    "first reply": "ensimmäinen vastaus", "resolution": "ratkaisu", "Contact details": "Yhteystiedot",
    "Phone": "Puhelin", "Reveal": "Näytä", "Purpose (recorded, and may be shown to the customer)":
    "Käyttötarkoitus (kirjataan, ja se voidaan näyttää asiakkaalle)",
    "Shown once, for this case and your stated purpose. This read is recorded: who, when, what and why.":
    "Näytetään kerran, tätä tapausta ja ilmoittamaasi tarkoitusta varten. Luku kirjataan: kuka, milloin, mitä ja "
    "miksi.", "access record": "kirjaus", "Not done:": "Ei tehty:", "Personal reply": "Henkilökohtainen vastaus",
    "Name the customer, state a fact of this case, and sign with your name: a bare template is refused.":
    "Mainitse asiakkaan nimi ja jokin tämän tapauksen tosiasia, ja allekirjoita nimelläsi: pelkkä pohja hylätään.",
    "Reply": "Vastaus", "Signed by": "Allekirjoittaja", "Send reply": "Lähetä vastaus", "Approval": "Hyväksyntä",
    "You cannot decide on this case:": "Et voi päättää tästä tapauksesta:", "Reason": "Perustelu",
    "Approve": "Hyväksy", "Reject": "Hylkää", "Refund by hand": "Hyvitys käsin",
    "The payment provider refused this refund or did not answer in time (see the timeline). Check with the "
    "provider whether it was paid after all: if it was, confirm that with the provider's refund id; if not, pay it "
    "by hand and confirm it with the payment's reference. Never twice.":
    "Maksupalvelu hylkäsi tämän hyvityksen tai ei vastannut ajoissa (katso aikajana). Tarkista maksupalvelusta, "
    "maksettiinko se sittenkin: jos maksettiin, vahvista se maksupalvelun hyvitystunnuksella; jos ei, maksa se "
    "käsin ja vahvista se maksun viitteellä. Ei koskaan kahdesti.",
    "Confirm the refund was paid by hand": "Vahvista hyvitys maksetuksi käsin",
    "Payment reference (bank transfer id, receipt number; the provider's refund id if the provider paid it)":
    "Maksun viite (tilisiirron tunnus, kuittinumero; maksupalvelun hyvitystunnus, jos maksupalvelu maksoi sen)",
    "Who paid it": "Kuka sen maksoi", "We paid it by hand": "Maksoimme sen käsin",
    "The provider paid it after all": "Maksupalvelu maksoi sen sittenkin",
    "Steer the case": "Ohjaa tapausta",
    "Customer's answer (phone)": "Asiakkaan vastaus (puhelin)", "What the customer said": "Mitä asiakas sanoi",
    "Record answer": "Kirjaa vastaus", "Internal note": "Sisäinen muistiinpano",
    "Note (staff only, never sent)": "Muistiinpano (vain henkilökunnalle, ei lähetetä)", "Add note": "Lisää",
    "New owner": "Uusi omistaja", "Reason for the hand-over": "Siirron perustelu", "Reassign": "Siirrä",
    "Reason for the change": "Muutoksen perustelu", "This went public": "Tämä tuli julkiseksi",
    "Change priority": "Muuta kiireellisyyttä", "Close or withdraw": "Sulje tai peru", "Outcome": "Lopputulos",
    "Reason for closing or withdrawing": "Sulkemisen tai perumisen perustelu", "Close case": "Sulje tapaus",
    "Withdraw (cancel)": "Peru", "Refunds": "Hyvitykset", "To": "Kohde", "Ledger reference": "Kirjanpitoviite",
    "When": "Milloin", "No refund yet.": "Ei hyvitystä vielä.", "Timeline": "Aikajana", "Messages": "Viestit",
    "out": "lähtevä", "in": "saapuva", "to": "vastaanottaja", "resolved by hand": "ratkaistu käsin",
    "duplicate": "kaksoiskappale", "not a failure": "ei virhe", "delivered": "toimitettu", "paid": "maksettu",
    "recovered": "korjattu", "arranged": "järjestetty",
    "written off": "alaskirjattu", "customer informed": "asiakkaalle kerrottu",
    "not confirmed": "ei vahvistettu", "unresolved": "ratkaisematta", "cancelled": "peruttu",
    "not approved": "ei hyväksytty", "linked": "yhdistetty toiseen", "agent": "asiakaspalvelija",
    "Your reply is on its way to the customer.": "Vastauksesi on matkalla asiakkaalle.",
    "Your decision is recorded.": "Päätöksesi on kirjattu.",
    "The customer's answer is recorded on the case.": "Asiakkaan vastaus on kirjattu tapaukseen.",
    "Your note is on the timeline.": "Muistiinpanosi on aikajanalla.", "The case has a new owner.":
    "Tapauksella on uusi omistaja.", "The priority is changed; the SLA deadlines follow.":
    "Kiireellisyys on muutettu; SLA-määräajat seuraavat.", "The case closes at its next safe point.":
    "Tapaus suljetaan seuraavassa turvallisessa kohdassa.", "The case is withdrawn at its next safe point.":
    "Tapaus perutaan seuraavassa turvallisessa kohdassa.", "The hand payment is confirmed; the case goes on.":
    "Käsin maksu on vahvistettu; tapaus jatkuu.",
    # the figures and the inbox
    "Recovery figures": "Palautuksen luvut", "Period": "Jakso", "Cases opened from": "Avatut tapaukset alkaen",
    "to (inclusive)": "asti (mukaan lukien)", "Show": "Näytä", "Download CSV": "Lataa CSV",
    "Cases opened": "Avatut tapaukset", "durations from the case's opening": "ajat tapauksen avaamisesta",
    "Section": "Osio", "All cases": "Kaikki tapaukset", "Channel": "Kanava", "all": "kaikki",
    "Share recovered": "Palautettujen osuus", "Time to first contact": "Aika ensikontaktiin",
    "Time to refund": "Aika hyvitykseen", "Time to close": "Aika sulkemiseen", "median": "mediaani",
    "Per type": "Tyypeittäin", "Per channel": "Kanavittain", "Per source": "Lähteittäin", "per type": "tyypeittäin",
    "per channel": "kanavittain", "per source": "lähteittäin", "group": "ryhmä", "opened": "avattu",
    "first contact median": "ensikontakti, mediaani", "first contact p90": "ensikontakti, p90",
    "refund median": "hyvitys, mediaani", "refund p90": "hyvitys, p90", "close median": "sulkeminen, mediaani",
    "close p90": "sulkeminen, p90", "SLA compliance": "SLA:n toteutuminen", "CSAT average": "CSAT, keskiarvo",
    "CSAT answers": "CSAT, vastauksia", "share recovered": "palautettujen osuus", "sms": "tekstiviesti",
    "email": "sähköposti", "voice": "puhelu", "none": "ei yhteyttä", "Received": "Saapunut", "From": "Lähettäjä",
    "Message": "Viesti", "No unmatched replies.": "Ei kohdistamattomia vastauksia.",
    "Attach one to the case it answers by the case's reference: the case reads it as any reply, and a bank account "
    "it names is paid only once the customer confirms it.": "Liitä viesti tapaukseen, johon se vastaa, tapauksen "
    "viitteellä: tapaus lukee sen kuten minkä tahansa vastauksen, ja siinä mainitulle tilille maksetaan vasta, kun "
    "asiakas on vahvistanut sen.", "Attach to a case": "Liitä tapaukseen", "Case reference": "Tapauksen viite",
    "Attach": "Liitä", "The reply is on case": "Vastaus on liitetty tapaukseen",
    "Messages from customers that matched no open case, newest first; senders and bank accounts masked.":
    "Asiakkaiden viestit, jotka eivät kohdistuneet avoimeen tapaukseen, uusin ensin; lähettäjät ja tilinumerot "
    "peitetty.",
    # the message preview (console/preview.py)
    "Message preview": "Viestin esikatselu",
    "What the customer would receive next, in their language, checked before it goes.":
    "Mitä asiakas saisi seuraavaksi, hänen kielellään, tarkistettuna ennen lähtöä.",
    "the contact plan's first": "yhteydenottosuunnitelman ensimmäinen", "Preview": "Esikatsele",
    "Language": "Kieli", "Subject": "Aihe", "SMS segments": "Tekstiviestin osia", "← Case": "← Tapaus",
    "The quality check passes.": "Laatutarkistus menee läpi.", "The quality check finds:": "Laatutarkistus löytää:",
}


SWEDISH = {
    # the frame and sign-in
    "Skip to content": "Hoppa till innehållet", "Service recovery": "Ärendeåterställning", "Queue": "Kö",
    "Unmatched replies": "Omatchade svar", "Figures": "Siffror", "Signed in as": "Inloggad som",
    "Sign out": "Logga ut", "Sign in": "Logga in", "Email": "E-post", "Password": "Lösenord", "Console": "Konsol",
    "Wrong email or password.": "Fel e-post eller lösenord.",
    "Too many failed sign-ins from this address. Please try again in a minute.":
    "För många misslyckade inloggningar från den här adressen. Försök igen om en minut.",
    "The form had expired. Please sign in again.": "Formuläret hade gått ut. Logga in igen.",
    "Not done": "Inte gjort", "Back": "Tillbaka",
    # the queue
    "Filters": "Filter", "Status": "Status", "Type": "Typ", "Owner": "Ägare", "SLA": "SLA",
    "Priority": "Prioritet", "Source": "Källa", "Opened from": "Öppnat från", "Opened to": "Öppnat till",
    "Apply": "Visa", "Open (any status but closed)": "Öppna (alla utom stängda)", "Any type": "Alla typer",
    "Anyone": "Vem som helst", "Any SLA state": "Alla SLA-lägen", "Any priority": "Alla prioriteter",
    "Any source": "Alla källor", "case": "ärende", "cases": "ärenden", "more than": "mer än",
    "in this view": "i den här vyn",
    "new ones appear at the top as they arrive": "nya visas överst när de kommer",
    "Cases, newest first": "Ärenden, nyaste först", "Cases, most urgent first": "Ärenden, mest brådskande först",
    "marked new: reload to sort them in": "märkta nya: ladda om sidan för att sortera in dem",
    "new": "ny", "outside this view": "utanför den här vyn",
    "Live updates stopped: this page holds more cases than it can follow. Reload it to see the newest.":
        "Liveuppdateringen har stoppat: sidan har fler ärenden än den kan följa. Ladda om den för att se de nyaste.",
    "Live updates are failing: new and changed cases may not show. Reload the page.":
        "Liveuppdateringen fungerar inte: nya och ändrade ärenden kanske inte visas. Ladda om sidan.",
    "The reply is no longer in the inbox, and was not attached:":
        "Svaret finns inte längre i inkorgen och bifogades inte:",
    "new cases at the top": "nya ärenden överst",
    "old": "gammalt", "the customer of": "kund i ärende",
    "the customer of no open case": "kund i inget öppet ärende",
    "cases now marked outside this view": "ärenden nu markerade utanför den här vyn",
    "Reference": "Referens", "Customer": "Kund", "Store": "Butik",
    "Amount": "Belopp", "Step": "Steg", "Next SLA breach": "Nästa SLA-gräns", "Opened": "Öppnat",
    "Order": "Ordning", "Newest first": "Nyaste först", "urgent first": "mest brådskande först",
    "Newest": "Nyaste", "Older cases": "Äldre ärenden", "Pages": "Sidor",
    # SLA badges
    "On track": "Enligt plan", "At risk": "I fara", "Breached": "Överskriden", "Paused": "Pausad",
    "No SLA": "Ingen SLA", "left": "kvar", "over": "över tiden",
    # words for the API's values (statuses, types, steps, owners, priorities, sources, SLA states)
    "open": "öppen", "waiting on customer": "väntar på kunden", "needs attention": "kräver uppmärksamhet",
    "waiting on approval": "väntar på godkännande", "closed": "stängd", "overcharge": "överdebitering",
    "undercharge": "underdebitering", "duplicate purchase": "dubbelköp", "complaint": "klagomål",
    "data misuse": "missbruk av uppgifter", "intake": "mottagning", "triage": "sortering",
    "acknowledge": "kvittering", "verify": "kontroll", "investigate": "utredning", "look up": "sökning",
    "contact": "kontakt", "personal reply": "personligt svar", "approval": "godkännande",
    "refund": "återbetalning", "compensation": "ersättning", "thank you": "tack", "follow up": "uppföljning",
    "write off": "avskrivning", "close": "stängning", "note": "anteckning", "mine": "mina",
    "unowned": "utan ägare", "normal": "normal", "high": "hög", "urgent": "brådskande", "till": "kassa",
    "web shop": "webbutik", "contact centre": "kundtjänst", "feedback form": "responsformulär",
    "social media": "sociala medier", "transaction monitor": "transaktionsövervakning", "on track": "enligt plan",
    "at risk": "i fara", "breached": "överskriden", "paused": "pausad",
    # the case page
    "Case": "Ärende", "← Queue": "← Kö", "Where it stands": "Läge", "waiting for the customer's answer until":
    "väntar på kundens svar till", "waiting until": "väntar till", "assigned by": "tilldelat av",
    "SLA clocks": "SLA-klockor", "Promise": "Löfte", "Deadline": "Tidsgräns", "State": "Läge", "kept": "hållet",
    "first reply": "första svar", "resolution": "lösning", "Contact details": "Kontaktuppgifter",
    "Phone": "Telefon", "Reveal": "Visa", "Purpose (recorded, and may be shown to the customer)":
    "Syfte (registreras och kan visas för kunden)",
    "Shown once, for this case and your stated purpose. This read is recorded: who, when, what and why.":
    "Visas en gång, för det här ärendet och ditt angivna syfte. Läsningen registreras: vem, när, vad och varför.",
    "access record": "registrering", "Not done:": "Inte gjort:", "Personal reply": "Personligt svar",
    "Name the customer, state a fact of this case, and sign with your name: a bare template is refused.":
    "Nämn kunden vid namn och ett faktum i det här ärendet, och underteckna med ditt namn: en ren mall avvisas.",
    "Reply": "Svar", "Signed by": "Undertecknat av", "Send reply": "Skicka svar", "Approval": "Godkännande",
    "You cannot decide on this case:": "Du kan inte besluta om det här ärendet:", "Reason": "Motivering",
    "Approve": "Godkänn", "Reject": "Avslå", "Refund by hand": "Återbetalning för hand",
    "The payment provider refused this refund or did not answer in time (see the timeline). Check with the "
    "provider whether it was paid after all: if it was, confirm that with the provider's refund id; if not, pay it "
    "by hand and confirm it with the payment's reference. Never twice.":
    "Betaltjänsten avslog återbetalningen eller svarade inte i tid (se tidslinjen). Kontrollera hos betaltjänsten "
    "om den ändå betalades: i så fall bekräfta det med betaltjänstens återbetalnings-id; annars betala den för hand "
    "och bekräfta med betalningens referens. Aldrig två gånger.",
    "Confirm the refund was paid by hand": "Bekräfta att återbetalningen betalades för hand",
    "Payment reference (bank transfer id, receipt number; the provider's refund id if the provider paid it)":
    "Betalningens referens (girerings-id, kvittonummer; betaltjänstens återbetalnings-id om betaltjänsten betalade)",
    "Who paid it": "Vem betalade", "We paid it by hand": "Vi betalade den för hand",
    "The provider paid it after all": "Betaltjänsten betalade den ändå",
    "Steer the case": "Styr ärendet",
    "Customer's answer (phone)": "Kundens svar (telefon)", "What the customer said": "Vad kunden sade",
    "Record answer": "Registrera svaret", "Internal note": "Intern anteckning",
    "Note (staff only, never sent)": "Anteckning (endast för personalen, skickas aldrig)",
    "Add note": "Lägg till anteckning",
    "New owner": "Ny ägare", "Reason for the hand-over": "Motivering för överlämningen", "Reassign": "Överlämna",
    "Reason for the change": "Motivering för ändringen", "This went public": "Det här blev offentligt",
    "Change priority": "Ändra prioritet", "Close or withdraw": "Stäng eller dra tillbaka", "Outcome": "Utfall",
    "Reason for closing or withdrawing": "Motivering för att stänga eller dra tillbaka", "Close case": "Stäng ärendet",
    "Withdraw (cancel)": "Dra tillbaka", "Refunds": "Återbetalningar", "To": "Till", "Ledger reference":
    "Bokföringsreferens", "When": "När", "No refund yet.": "Ingen återbetalning ännu.", "Timeline": "Tidslinje",
    "Messages": "Meddelanden", "out": "utgående", "in": "inkommande", "to": "mottagare",
    "resolved by hand": "löst för hand", "duplicate": "dubblett", "not a failure": "inget fel",
    "delivered": "levererat", "paid": "betald",
    "recovered": "återställt", "arranged": "ordnat",
    "written off": "avskrivet", "customer informed": "kunden informerad",
    "not confirmed": "inte bekräftat", "unresolved": "olöst", "cancelled": "indraget",
    "not approved": "inte godkänt", "linked": "kopplat till ett annat", "agent": "handläggare",
    "Your reply is on its way to the customer.": "Ditt svar är på väg till kunden.",
    "Your decision is recorded.": "Ditt beslut är registrerat.",
    "The customer's answer is recorded on the case.": "Kundens svar är registrerat i ärendet.",
    "Your note is on the timeline.": "Din anteckning finns på tidslinjen.", "The case has a new owner.":
    "Ärendet har en ny ägare.", "The priority is changed; the SLA deadlines follow.":
    "Prioriteten är ändrad; SLA-tidsgränserna följer med.", "The case closes at its next safe point.":
    "Ärendet stängs vid nästa säkra punkt.", "The case is withdrawn at its next safe point.":
    "Ärendet dras tillbaka vid nästa säkra punkt.", "The hand payment is confirmed; the case goes on.":
    "Betalningen för hand är bekräftad; ärendet fortsätter.",
    # the figures and the inbox
    "Recovery figures": "Återställningssiffror", "Period": "Period", "Cases opened from": "Ärenden öppnade från",
    "to (inclusive)": "till (inklusive)", "Show": "Visa", "Download CSV": "Ladda ner CSV",
    "Cases opened": "Öppnade ärenden", "durations from the case's opening": "tider från ärendets öppnande",
    "Section": "Avsnitt", "All cases": "Alla ärenden", "Channel": "Kanal", "all": "alla",
    "Share recovered": "Andel återställda", "Time to first contact": "Tid till första kontakt",
    "Time to refund": "Tid till återbetalning", "Time to close": "Tid till stängning", "median": "median",
    "Per type": "Per typ", "Per channel": "Per kanal", "Per source": "Per källa", "per type": "per typ",
    "per channel": "per kanal", "per source": "per källa", "group": "grupp", "opened": "öppnade",
    "first contact median": "första kontakt, median", "first contact p90": "första kontakt, p90",
    "refund median": "återbetalning, median", "refund p90": "återbetalning, p90", "close median": "stängning, median",
    "close p90": "stängning, p90", "SLA compliance": "SLA-uppfyllelse", "CSAT average": "CSAT, medelvärde",
    "CSAT answers": "CSAT, svar", "share recovered": "andel återställda", "sms": "sms",
    "email": "e-post", "voice": "samtal", "none": "ingen kontakt", "Received": "Mottaget", "From": "Avsändare",
    "Message": "Meddelande", "No unmatched replies.": "Inga omatchade svar.",
    "Attach one to the case it answers by the case's reference: the case reads it as any reply, and a bank account "
    "it names is paid only once the customer confirms it.": "Koppla ett svar till ärendet det besvarar med ärendets "
    "referens: ärendet läser det som vilket svar som helst, och till ett bankkonto som nämns betalas först när "
    "kunden har bekräftat det.", "Attach to a case": "Koppla till ett ärende", "Case reference": "Ärendets referens",
    "Attach": "Koppla", "The reply is on case": "Svaret är kopplat till ärendet",
    "Messages from customers that matched no open case, newest first; senders and bank accounts masked.":
    "Meddelanden från kunder som inte matchade något öppet ärende, nyaste först; avsändare och bankkonton maskerade.",
    # the message preview (console/preview.py)
    "Message preview": "Förhandsvisning av meddelande",
    "What the customer would receive next, in their language, checked before it goes.":
    "Vad kunden skulle få härnäst, på sitt språk, kontrollerat innan det skickas.",
    "the contact plan's first": "kontaktplanens första", "Preview": "Förhandsvisa",
    "Language": "Språk", "Subject": "Ämne", "SMS segments": "SMS-delar", "← Case": "← Ärende",
    "The quality check passes.": "Kvalitetskontrollen godkänner.", "The quality check finds:":
    "Kvalitetskontrollen hittar:",
}

LANGUAGES = {"fi": FINNISH, "sv": SWEDISH}


@cache
def texts_of(language: str) -> dict[str, str]:
    """The console's own texts in `language`, plus the names the kinds added with the scaffold give themselves
    (`KindSpec.labels`), so a new kind needs no line here."""
    kinds = {kind.name.replace("_", " "): kind.labels[language] for kind in added_kinds() if language in kind.labels}
    return {**LANGUAGES.get(language, {}), **kinds}


def translator(locale: str) -> Callable[[str], str]:
    texts = texts_of(locale[:2])
    return lambda text: texts.get(text, text)

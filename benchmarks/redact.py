"""Text redaction benchmark: how much personal data the redactor removes, and how much it keeps.

    .venv/bin/python benchmarks/redact.py                    # tune split seed 1 + held-out split seed 2
    .venv/bin/python benchmarks/redact.py --split heldout --seed 7 --testimonies 80 --show 20

Generates (deterministically, from the seed) French testimonies of a few sentences each: every
testimony has its own intake terms (the speaker's name, a family member, the home village, a
phone number) and its sentences plant those terms and other personal data — third-party names
the intake does not list, villages and neighbourhoods, phone numbers of Mali, France, Spain,
Algeria, Libya and Morocco written in digits, in French words or mixed, e-mails written or
spoken, IBANs, passport / ID / NIE numbers — beside things that must stay (years, amounts,
durations, public places, institutions). Names, places and templates are split in two halves:
``tune`` (what the redactor may be developed on) and ``heldout`` (never looked at while
developing); the seed draws the sentences.

Planted terms go through the recognizer's failure shapes seen in practice: phonetic
misspellings ("Keïta" → "Kaita", "Queïta"), a name split in two words ("Dia rra"), two words
merged ("MoussaDiarra", "moussadiarra"), a hyphenated mishearing of a two-word name ("Seydou
Keïta" → "Saint-Ouquaita"), lowercased names, numbers regrouped or half in digits.

Prints, overall and per category, the share of sensitive word tokens removed (a token counts
only when every character of it is inside a redaction) and of other tokens kept (no character
of it redacted), entities removed whole, and entities left half redacted (the failure that
must never happen). Targets: ≥ 98 % removed, ≥ 95 % kept, no half-redacted entity. Weak matches
(flags for the reviewer) are counted separately: they are not removed from the text.
"""
from __future__ import annotations

import argparse
import random
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from num2words import num2words
from unidecode import unidecode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anonymization.redact import Redactor, Term  # noqa: E402

GIVEN = """Moussa Seydou Bakary Aminata Fatoumata Oumar Mamadou Ibrahim Kadiatou Mariam Adama Boubacar
Souleymane Awa Hawa Djénéba Salif Modibo Lassana Siaka Aïssata Issa Drissa Yacouba Sékou Oumou Bintou Daouda
Mahamadou Rokia Tiémoko Zoumana Assétou Kassoum Alassane Fousseyni Sanata Mamoutou Salimata Youssouf Brahima
Nouhoum Ousmane Abdoulaye Harouna Djibril Amadou Kadidia Safiatou Cheick""".split()
FAMILY = """Diarra Keïta Traoré Coulibaly Konaté Sissoko Diallo Touré Cissé Sangaré Dembélé Doumbia Kanté Camara
Maïga Sidibé Fofana Kouyaté Samaké Bagayoko Diakité Ouattara Haïdara Dicko Guindo Tounkara Diawara Koné Sylla
Togola Sanogo Niaré Mariko Tangara Dramé Doucouré Soumaré Kamissoko Berthé Tamboura Yattara Goïta Ballo Dabo
Diabaté Kébé Sacko Diop Tembély Sow""".split()
# not West-African: found only through cues and capitals (the gazetteer does not list them)
OTHER_GIVEN = """Karim Rachid Youssef Mehdi Samir Nadia Farid Khaled Hassan Pierre Julien Antonio Manuel Ali
Omar Sofiane Bilal Walid Nabil Jamal Malik Tarek Yasmina Sébastien Nicolas Carlos Javier""".split()
OTHER_FAMILY = """Benali Haddad Mansouri Belkacem Zitouni Martin Dupont Garcia Fernandez Lopez Bouzid Saidi
Messaoudi Cherif Hamdi Gharbi Lefebvre Moreau Navarro Romero Ruiz Benyahia Khelifi Rahmani""".split()
VILLAGES = """Kolondiéba Diéma Yélimané Bafoulabé Kéniéba Dioïla Ouélessébougou Sébénikoro Banconi Djélibougou
Magnambougou Lafiabougou Niamakoro Sirakoro Kalabancoro Dialakoroba Sanankoroba Kassaro Sagabari Kourémalé
Diamou Ambidédi Koniakary Marena Lakamané Sandaré Dianguirdé Gory Kirané Toya Kabaté Sélinkégny Nioro-Tougouné
Samé Ségala Tambacara Goundam Baguinéda Siby Kati-Koro""".split()
PUBLIC_PLACES = """Bamako Mali Libye Algérie Espagne France Maroc Niger Tripoli Alger Oran Tamanrasset Agadez Gao
Tombouctou Madrid Paris Ceuta Melilla Lampedusa Italie Europe Sahara Mauritanie Nouakchott Dakar Sénégal
Sabha Arlit Assamaka Maghnia Rabat Tanger Almería""".split()
INSTITUTIONS = ["la Croix-Rouge", "l'OIM", "Frontex", "le HCR", "l'ambassade du Mali", "Dieu", "la police espagnole",
                "le consulat", "l'association", "Médecins sans frontières"]
# everyday words, several of which sound like names to a phonetic matcher ("connaît" / Koné,
# "dialogue" / Diallo, "mousse" / Moussa, "quitter" / Keïta, "caisse" / Kayes)
CHATTER = """on a quitté la maison le matin, il connaît la route, le dialogue était difficile, ils disaient
qu'il fallait payer, la caisse était vide, la mousse sur les murs, une quête pour le voyage, la cité était
loin, on a tiré au sort, le camion est tombé en panne, on a traversé la frontière, le cousin disait de
rester, la santé de ma mère, on avait soif, la police a pris nos téléphones, les gardiens criaient, la
douane a fouillé les sacs, les femmes pleuraient, c'était la nuit, on dormait dehors, la mer était grosse,
le bateau a chaviré, j'ai eu peur, on a marché longtemps, la chaleur était terrible, les enfants avaient
faim, mon père est malade, ma mère attend, on a envoyé de l'argent, les papiers étaient faux, la prison
était pleine, on nous a frappés, il y avait du sable partout, le chef a dit non, les militaires sont
venus, la piste était longue, on a attendu le convoi, la voiture était cassée, le marché était fermé, on
a vendu les chèvres, le quartier était calme, le cahier des dettes, la carte de séjour, on a mangé du riz,
le thé était chaud, on a prié, la mosquée était pleine, le taxi brousse est parti, le train était en
retard, la gare routière, on a dormi à la belle étoile, la case de mon oncle, les champs de mil, la
récolte était mauvaise, le fleuve était haut, la pirogue a coulé, le puits était sec, la saison des pluies,
on a dit adieu, ils sont repartis, tout le monde connaît la suite, c'est la vie, Dieu merci""".replace("\n", " ").split(", ")
EMAIL_DOMAINS = ["gmail.com", "yahoo.fr", "hotmail.fr", "outlook.com", "orangemali.ml", "hotmail.com", "gmail.fr"]
HYPHEN_WORDS = ["Saint", "Sans", "Cent", "Sous", "Mont", "Bon", "Main", "Sait", "C'est", "Mais"]

# Templates: {slot} is planted, the rest stays. Slots: NAME (intake full name), FAMILY, GIVEN (intake
# parts), RELATIVE (intake family member), VILLAGE (intake place), THIRD (a name not in the intake),
# THIRD_OTHER (a non-West-African name), THIRD_PLACE (a village not in the intake), PHONE, EMAIL,
# IBAN, ID, PUBLIC, INSTITUTION, YEAR, AMOUNT, DURATION, COUNT, DATE.
TEMPLATES = """je m'appelle {NAME} et je viens de {VILLAGE} dans la région de {PUBLIC}
{NAME} c'est moi, j'ai passé {DURATION} à {PUBLIC} avant d'être expulsé
mon nom c'est {NAME}, j'ai quitté le pays en {YEAR}
c'est {NAME} qui parle, je suis rentré le {DATE}
mon frère {RELATIVE} est resté à {VILLAGE} avec les enfants
ma femme {RELATIVE} ne savait pas où j'étais pendant {DURATION}
au village de {THIRD_PLACE} tout le monde connaît {GIVEN}
le chef du quartier de {THIRD_PLACE} a prévenu mon père
on m'appelait {FAMILY} là-bas, même les policiers disaient {FAMILY}
{FAMILY}, c'est le nom de mon père, il est de {VILLAGE}
le passeur s'appelait {THIRD}, il nous a pris {AMOUNT}
mon cousin {THIRD} m'a envoyé {AMOUNT} par Western Union
vous pouvez appeler ma mère au {PHONE}, c'est son numéro
ma soeur {RELATIVE} a le numéro {PHONE} au pays
mon numéro c'est le {PHONE}
je répète mon numéro : {PHONE}
appelez-moi sur le {PHONE} ou écrivez à {EMAIL}
envoyez les papiers à {EMAIL} ou au {PHONE}
mon adresse mail c'est {EMAIL}
mon e-mail est {EMAIL} si vous voulez des nouvelles
mon passeport numéro {ID} a été confisqué à {PUBLIC}
ils ont pris ma carte, le numéro {ID}, et ne l'ont jamais rendue
{INSTITUTION} m'a donné un papier avec le numéro {ID}
mon numéro de NIE était {ID} mais ils l'ont annulé en {YEAR}
pour l'aide il faut verser sur le compte {IBAN} au nom de l'association
j'ai un compte {IBAN} que je ne peux plus utiliser
mon patron {THIRD_OTHER} ne m'a jamais payé pendant {DURATION}
le gardien {THIRD_OTHER} frappait les gens tous les jours pendant {DURATION}
un certain {THIRD_OTHER} nous a vendus aux gardiens à {PUBLIC}
la dame s'appelait {THIRD_OTHER}, elle travaillait pour {INSTITUTION}
nous étions {COUNT} personnes dans le camion, le {DATE}
j'ai travaillé {DURATION} sur un chantier à {PUBLIC} pour {AMOUNT}
{INSTITUTION} nous a aidés à {PUBLIC} en {YEAR}
à {VILLAGE} on n'a pas d'hôpital, il faut aller à {PUBLIC}
{GIVEN} est mon prénom, ma famille vit toujours à {VILLAGE}
quand {GIVEN} est arrivé à {PUBLIC} il avait {COUNT} ans
chez {THIRD} à {PUBLIC} on dormait à même le sol
mon ami {THIRD} est mort dans le désert près de {PUBLIC}
madame {THIRD_OTHER} au consulat avait mon dossier depuis {DURATION}
mon oncle {THIRD} habite le quartier {THIRD_PLACE} à {PUBLIC}
j'ai rencontré {THIRD} à {PUBLIC} en {YEAR}
{THIRD} et moi on a traversé le désert ensemble
le {DATE} on nous a mis dans un bus, {COUNT} personnes, direction {PUBLIC}
on a payé {AMOUNT} chacun pour aller jusqu'à {PUBLIC} en {DURATION}
{THIRD_OTHER} nous a dit de partir avant {YEAR}
on parlait souvent avec {THIRD_OTHER} de {PUBLIC}
et puis {CHATTER}
{CHATTER}, voilà ce que je peux dire
tu sais {CHATTER} à {PUBLIC}
{CHATTER}, c'était en {YEAR}""".splitlines()


def halves(items: list, split: str) -> list:
    """The tune half (even positions) or the held-out half (odd positions) of a pool (templates come
    in pairs of the same kind, so both halves plant every category)."""
    return items[0 if split == "tune" else 1::2]


# --------------------------------------------------------------------------- ASR corruptions
SPELLINGS = [("k", "c"), ("k", "qu"), ("c", "k"), ("qu", "k"), ("ou", "u"), ("ou", "w"), ("w", "ou"), ("é", "e"),
             ("é", "ei"), ("é", "ai"), ("ai", "é"), ("ei", "ai"), ("è", "ai"), ("ï", "i"), ("ï", "y"), ("i", "y"),
             ("y", "i"), ("ss", "s"), ("rr", "r"), ("r", "rr"), ("t", "tt"), ("tt", "t"), ("dj", "j"), ("j", "dj"),
             ("gu", "g"), ("an", "en"), ("en", "an"), ("o", "au"), ("au", "o"), ("ba", "bas"), ("a", "ah"),
             ("ou", "o"), ("é", "er"), ("ï", "ï"), ("ké", "qué"), ("ka", "qua"), ("di", "dy"), ("s", "z")]


def misspell(word: str, rng: random.Random, edits: int = 1) -> str:
    for _ in range(edits):
        options = [(old, new) for old, new in SPELLINGS if old in word.lower()]
        if not options:
            break
        old, new = rng.choice(options)
        positions = [m.start() for m in re.finditer(re.escape(old), word.lower())]
        at = rng.choice(positions)
        replaced = new.upper() if word[at:at + 1].isupper() and at == 0 else new
        replaced = replaced[:1].upper() + replaced[1:] if at == 0 and word[:1].isupper() else replaced
        word = word[:at] + replaced + word[at + len(old):]
    return word


def split_word(word: str, rng: random.Random) -> str:
    at = rng.randint(2, max(2, len(word) - 2))
    return word[:at] + " " + (word[at:] if rng.random() < 0.7 else word[at:].capitalize())


def hyphen_mishearing(given: str, family: str, rng: random.Random) -> str:
    """"Seydou Keïta" → "Saint-Ouquaita": a French word for the first name, its last sound glued to the family name."""
    tail = re.search(r"[aeiouyéèï]+$", given.lower())
    glued = (tail.group() if tail else "") + misspell(family.lower(), rng, 2)
    return f"{rng.choice(HYPHEN_WORDS)}-{glued.capitalize()}"


def recognised_name(given: str, family: str, rng: random.Random) -> str:
    """How the recognizer may write an intake name (or its parts)."""
    shape = rng.choice(["exact", "exact", "misspelled", "misspelled", "split", "merged", "merged_lower",
                        "hyphen", "lower", "lower_misspelled"])
    if shape == "exact":
        return f"{given} {family}"
    if shape == "misspelled":
        return f"{misspell(given, rng)} {misspell(family, rng, rng.randint(1, 2))}"
    if shape == "split":
        return f"{given} {split_word(family, rng)}" if rng.random() < 0.6 else f"{split_word(given, rng)} {family}"
    if shape == "merged":
        return given + family
    if shape == "merged_lower":
        return (given + family).lower()
    if shape == "hyphen":
        return hyphen_mishearing(given, family, rng)
    if shape == "lower":
        return f"{given} {family}".lower()
    return f"{misspell(given, rng)} {misspell(family, rng)}".lower()


def recognised_word(word: str, rng: random.Random) -> str:
    shape = rng.choice(["exact", "exact", "misspelled", "split", "lower", "lower_misspelled"])
    if shape == "misspelled":
        return misspell(word, rng, rng.randint(1, 2))
    if shape == "split" and len(word) >= 6:
        return split_word(word, rng)
    if shape == "lower":
        return word.lower()
    if shape == "lower_misspelled":
        return misspell(word, rng).lower()
    return word


# ------------------------------------------------------------------------------ numbers
PHONE_PLANS = {  # country code, national prefixes, how the digits are grouped when said
    "ML": ("223", ["76", "77", "78", "79", "66", "65", "90", "91", "20"], (2, 2, 2, 2)),
    "FR": ("33", ["06", "07"], (2, 2, 2, 2, 2)),
    "ES": ("34", ["6", "7"], (3, 3, 3)),
    "DZ": ("213", ["055", "066", "077"], (4, 2, 2, 2)),
    "LY": ("218", ["091", "092", "094"], (3, 3, 4)),
    "MA": ("212", ["06", "07"], (2, 2, 2, 2, 2)),
}


def groups_of(digits: str, grouping: tuple[int, ...]) -> list[str]:
    out, at = [], 0
    for size in grouping:
        out.append(digits[at:at + size])
        at += size
    return out


def spoken_group(group: str, rng: random.Random) -> str:
    """A digit group as a French speaker says it: "06" → "zéro six", "76" → "soixante-seize"."""
    words = []
    while group.startswith("0") and len(group) > 1:
        words.append("zéro")
        group = group[1:]
    if len(group) >= 3 and rng.random() < 0.3:  # "612" said digit by digit
        return " ".join(words + [num2words(int(d), lang="fr") for d in group])
    return " ".join(words + [num2words(int(group), lang="fr")])


def phone_number(rng: random.Random) -> tuple[str, str]:
    """(written as the recognizer may write it, the intake form)."""
    code, prefixes, grouping = rng.choice(list(PHONE_PLANS.values()))
    national = rng.choice(prefixes)
    digits = national + "".join(rng.choice("0123456789") for _ in range(sum(grouping) - len(national)))
    groups = groups_of(digits, grouping)
    intake = " ".join(groups)
    form = rng.choice(["digits", "digits", "compact", "dotted", "words", "words", "mixed", "international",
                       "international_words", "commas"])
    if form == "compact":
        return "".join(groups), intake
    if form == "dotted":
        return ".".join(groups), intake
    if form == "commas":
        return ", ".join(groups), intake
    if form == "words":
        glue = ", " if rng.random() < 0.5 else " "
        return glue.join(spoken_group(g, rng) for g in groups), intake
    if form == "mixed":  # "soixante-seize 12 34 56"
        cut = rng.randint(1, len(groups) - 1)
        return " ".join([spoken_group(g, rng) for g in groups[:cut]] + groups[cut:]), intake
    international = [groups[0].removeprefix("0") or groups[0]] + groups[1:]
    if form == "international":
        return rng.choice(["+", "00"]) + code + " " + " ".join(international), intake
    return f"plus {num2words(int(code), lang='fr')} " + " ".join(spoken_group(g, rng) for g in international), intake


def email(given: str, family: str, rng: random.Random) -> str:
    plain = lambda w: re.sub(r"[^a-z]", "", unidecode(w).lower())  # noqa: E731
    user_parts = rng.choice([[plain(given), ".", plain(family)], [plain(given), "_", plain(family)],
                             [plain(family), plain(given)[:1]], [plain(given), str(rng.randint(1, 99))],
                             [plain(family), ".", plain(given), str(rng.randint(70, 99))]])
    domain = rng.choice(EMAIL_DOMAINS)
    form = rng.choice(["written", "written", "spoken", "spoken", "half", "spaced"])
    if form == "written":
        return "".join(user_parts) + "@" + domain
    if form == "spaced":
        return "".join(user_parts) + " @ " + domain.replace(".", " . ")
    spoken_user = " ".join({".": "point", "_": "tiret du bas"}.get(p, p) for p in user_parts)
    at = rng.choice(["arobase", "arobase", "arrobase", "at", "arobas"])
    if form == "half":
        return f"{spoken_user} {at} {domain}"
    name, tld = domain.rsplit(".", 1)
    return f"{spoken_user} {at} {name} point {tld}"


def iban(rng: random.Random) -> str:
    country = rng.choice(["FR", "ES", "ML", "IT", "BE"])
    length = {"FR": 27, "ES": 24, "ML": 28, "IT": 27, "BE": 16}[country]
    body = f"{rng.randint(10, 99)}" + "".join(rng.choice("0123456789" * 3 + "ABCDEFGHJKLMNPQRSTUVWXYZ")
                                               for _ in range(length - 4))
    text = country + body
    form = rng.choice(["spaced", "spaced", "compact", "lower"])
    spaced = " ".join(text[i:i + 4] for i in range(0, len(text), 4))
    return {"spaced": spaced, "compact": text, "lower": spaced.lower()}[form]


def identity_number(rng: random.Random) -> str:
    digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    letter = lambda: rng.choice("ABCDEFGHJKLMNPRSTVWXYZ")  # noqa: E731
    kind = rng.choice(["nie", "nie_spaced", "passport_ml", "passport_fr", "nina", "agdref", "consular", "nie_lower"])
    if kind == "nie":
        return f"{rng.choice('XYZ')}{digits(7)}{letter()}"
    if kind == "nie_spaced":
        return f"{rng.choice('XYZ')}-{digits(7)}-{letter()}"
    if kind == "nie_lower":
        return f"{rng.choice('xyz')} {digits(7)} {letter().lower()}"
    if kind == "passport_ml":
        return f"{letter()}{letter()} {digits(7)}" if rng.random() < 0.5 else f"{letter()}{digits(7)}"
    if kind == "passport_fr":
        return f"{digits(2)}{letter()}{letter()}{digits(5)}"
    if kind == "nina":
        d = digits(14)
        return f"{d[0]} {d[1:3]} {d[3:5]} {d[5:8]} {d[8:11]} {d[11:14]} {letter()}"
    if kind == "agdref":
        return digits(10)
    return f"CC {digits(6)}"


# ------------------------------------------------------------------------------ decoys
def decoy(slot: str, rng: random.Random, split: str) -> str:
    if slot == "PUBLIC":
        return rng.choice(halves(PUBLIC_PLACES, split))
    if slot == "INSTITUTION":
        return rng.choice(INSTITUTIONS)
    if slot == "YEAR":
        year = rng.randint(2005, 2024)
        return str(year) if rng.random() < 0.5 else num2words(year, lang="fr")
    if slot == "AMOUNT":
        value = rng.choice([300, 500, 1500, 2000, 3000, 150000, 500000, 1000000])
        unit = rng.choice(["euros", "francs CFA", "dinars", "dollars"])
        return f"{value if rng.random() < 0.5 else num2words(value, lang='fr')} {unit}"
    if slot == "DURATION":
        value = rng.randint(2, 30)
        unit = rng.choice(["jours", "semaines", "mois", "ans"])
        return f"{value if rng.random() < 0.4 else num2words(value, lang='fr')} {unit}"
    if slot == "COUNT":
        value = rng.randint(12, 99)
        return str(value) if rng.random() < 0.4 else num2words(value, lang="fr")
    day, month = rng.randint(1, 28), rng.choice(["janvier", "mars", "mai", "juillet", "septembre", "décembre"])
    return f"{day} {month} {rng.randint(2010, 2024)}"


# ------------------------------------------------------------------------------ the set
@dataclass
class Piece:
    text: str
    category: str | None = None  # None: must stay


@dataclass
class Testimony:
    terms: list[Term]
    sentences: list[list[Piece]] = field(default_factory=list)


def testimony(rng: random.Random, split: str, sentences: int) -> Testimony:
    given, family = rng.choice(halves(GIVEN, split)), rng.choice(halves(FAMILY, split))
    relative = f"{rng.choice(halves(GIVEN, split))} {rng.choice(halves(FAMILY, split))}"
    village = rng.choice(halves(VILLAGES, split))
    phone, phone_intake = phone_number(rng)
    terms = [Term(f"{given} {family}", "name", 1), Term(relative, "name", 2), Term(village, "place", 3),
             Term(phone_intake, "phone", 4)]
    result = Testimony(terms)
    for template in rng.sample(halves(TEMPLATES, split), sentences):
        result.sentences.append(sentence(template, rng, split, given, family, relative, village, phone))
    return result


def sentence(template: str, rng: random.Random, split: str, given, family, relative, village, phone) -> list[Piece]:
    pieces: list[Piece] = []
    for literal, slot in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
        if literal:
            pieces.append(Piece(literal))
        if slot:
            pieces.append(planted(slot, rng, split, given, family, relative, village, phone))
    return capitalised(pieces)


def planted(slot: str, rng: random.Random, split: str, given, family, relative, village, phone) -> Piece:
    if slot == "NAME":
        return Piece(recognised_name(given, family, rng), "nom (saisie)")
    if slot == "RELATIVE":
        return Piece(recognised_name(*relative.split(" ", 1), rng), "nom (saisie)")
    if slot in ("FAMILY", "GIVEN"):
        return Piece(recognised_word(family if slot == "FAMILY" else given, rng), "nom (saisie)")
    if slot == "VILLAGE":
        return Piece(recognised_word(village, rng), "lieu (saisie)")
    if slot == "THIRD":
        third = f"{rng.choice(halves(GIVEN, split))} {rng.choice(halves(FAMILY, split))}"
        return Piece(third if rng.random() < 0.6 else third.split()[rng.randint(0, 1)], "nom (tiers)")
    if slot == "THIRD_OTHER":
        third = f"{rng.choice(halves(OTHER_GIVEN, split))} {rng.choice(halves(OTHER_FAMILY, split))}"
        return Piece(third if rng.random() < 0.6 else third.split()[rng.randint(0, 1)], "nom (tiers)")
    if slot == "THIRD_PLACE":
        return Piece(rng.choice(halves(VILLAGES, "heldout" if split == "tune" else "tune")), "lieu (tiers)")
    if slot == "PHONE":
        return Piece(phone if rng.random() < 0.5 else phone_number(rng)[0], "téléphone")
    if slot == "EMAIL":
        return Piece(email(given, family, rng), "e-mail")
    if slot == "IBAN":
        return Piece(iban(rng), "iban")
    if slot == "ID":
        return Piece(identity_number(rng), "pièce d'identité")
    if slot == "CHATTER":
        return Piece(", ".join(rng.sample(halves(CHATTER, split), 2)))
    return Piece(decoy(slot, rng, split))


def capitalised(pieces: list[Piece]) -> list[Piece]:
    """The recognizer starts every sentence with a capital letter."""
    first = pieces[0]
    return [Piece(first.text[:1].upper() + first.text[1:], first.category)] + pieces[1:]


def dataset(seed: int, split: str, testimonies: int, per_testimony: int = 5) -> list[Testimony]:
    rng = random.Random(f"{split}:{seed}")
    return [testimony(rng, split, per_testimony) for _ in range(testimonies)]


# ------------------------------------------------------------------------------ scoring
WORD = re.compile(r"\w+")


@dataclass
class Tally:
    sensitive: int = 0
    removed: int = 0
    other: int = 0
    kept: int = 0
    entities: int = 0
    whole: int = 0
    half: int = 0
    flagged: int = 0
    false_flags: int = 0  # flags on words that should stay (reviewer's extra work)


def score(testimonies: list[Testimony], show: int = 0) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    misses: list[str] = []
    for item in testimonies:
        redactor = Redactor(item.terms, identity="pseudonym", pseudonym="Le voyageur")
        for pieces in item.sentences:
            text, ranges = "", []
            for piece in pieces:
                ranges.append((len(text), len(text) + len(piece.text), piece))
                text += piece.text
            covered = [False] * len(text)
            for match in redactor.find(text):
                covered[match.start:match.end] = [True] * (match.end - match.start)
            flagged = _flagged(redactor, text)
            sensitive = [(a, b) for a, b, piece in ranges if piece.category]
            tallies["total"].false_flags += sum(not any(fa < b and a < fb for a, b in sensitive) for fa, fb in flagged)
            for start, end, piece in ranges:
                _count(tallies, text, start, end, piece, covered, flagged)
                if piece.category and not all(covered[start:end][i] for i in _word_positions(piece.text)):
                    misses.append(f"  [{piece.category}] « {piece.text} » dans : {_shown(text, covered)}")
                elif piece.category is None and any(covered[start:end]) and show:
                    misses.append(f"  [gardé ?] {_shown(text, covered)}")
    for line in misses[:show]:
        print(line)
    return tallies


def _flagged(redactor: Redactor, text: str) -> list[tuple[int, int]]:
    weak = getattr(redactor, "weak", None)
    return [(m.start, m.end) for m in weak(text)] if weak else []


def _word_positions(text: str) -> list[int]:
    return [i for m in WORD.finditer(text) for i in range(m.start(), m.end())]


def _count(tallies, text, start, end, piece: Piece, covered, flagged) -> None:
    category = piece.category or "à garder"
    tally, total = tallies[category], tallies["total"]
    words = [(start + m.start(), start + m.end()) for m in WORD.finditer(piece.text)]
    for a, b in words:
        gone = all(covered[a:b])
        touched = any(covered[a:b])
        for t in (tally, total):
            if piece.category:
                t.sensitive += 1
                t.removed += gone
            else:
                t.other += 1
                t.kept += not touched
    if piece.category and words:
        states = [all(covered[a:b]) for a, b in words]
        for t in (tally, total):
            t.entities += 1
            t.whole += all(states)
            t.half += any(states) and not all(states)
            t.flagged += not all(states) and any(fa < end and fb > start for fa, fb in flagged)


def _shown(text: str, covered: list[bool]) -> str:
    """The sentence with its redacted characters blacked out."""
    return "".join("█" if flag else ch for ch, flag in zip(text, covered))


def report(title: str, tallies: dict[str, Tally]) -> None:
    print(f"\n{title}")
    print(f"signalements sur du texte à garder (travail de relecture en plus) : {tallies['total'].false_flags}")
    print(f"{'catégorie':<20}{'retirés':>16}{'gardés':>16}{'entités entières':>18}{'à moitié':>10}{'signalées':>11}")
    for name in sorted(tallies, key=lambda n: (n == "total", n)):
        t = tallies[name]
        removed = f"{100 * t.removed / t.sensitive:6.1f} % ({t.sensitive})" if t.sensitive else ""
        kept = f"{100 * t.kept / t.other:6.1f} % ({t.other})" if t.other else ""
        whole = f"{100 * t.whole / t.entities:6.1f} %" if t.entities else ""
        half = str(t.half) if t.entities else ""
        flagged = str(t.flagged) if t.entities else ""
        print(f"{name:<20}{removed:>16}{kept:>16}{whole:>18}{half:>10}{flagged:>11}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=["tune", "heldout", "both"], default="both")
    parser.add_argument("--seed", type=int, default=None, help="default: 1 for tune, 2 for heldout")
    parser.add_argument("--testimonies", type=int, default=80, help="testimonies per split (5 sentences each)")
    parser.add_argument("--show", type=int, default=0, help="print this many misses and over-redactions")
    args = parser.parse_args()
    runs = [("tune", 1), ("heldout", 2)] if args.split == "both" else [(args.split, args.seed or 1)]
    for split, seed in runs:
        seed = args.seed if args.seed is not None else seed
        data = dataset(seed, split, args.testimonies)
        sentences = sum(len(t.sentences) for t in data)
        tallies = score(data, args.show)
        report(f"== {split}, graine {seed} : {len(data)} témoignages, {sentences} phrases "
               f"(cibles : retirés ≥ 98 %, gardés ≥ 95 %, aucune entité à moitié)", tallies)


if __name__ == "__main__":
    main()

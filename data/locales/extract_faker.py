#!/usr/bin/env python3
"""Builds Phony Sync's per-locale word lists (dictionary version 1) from Faker.

    pip download faker==40.63.0 --no-deps -d /tmp/faker
    python3 -m zipfile -e /tmp/faker/faker-40.63.0-py3-none-any.whl /tmp/faker/unpacked
    python3 data/locales/extract_faker.py /tmp/faker/unpacked/faker          # write
    python3 data/locales/extract_faker.py /tmp/faker/unpacked/faker --check  # verify

FAKER_DIR is the `faker` package directory of the unpacked wheel (the one
holding `providers/`). Faker's provider modules are read with `ast`, never
imported, so no Faker dependency needs to be installed and nothing in Faker
runs. The output is deterministic: the same Faker gives byte-identical files.

The files written here are dictionary version 1. Anonymized values already
produced depend on every byte of them (a keyed index picks an entry), so they
are never edited in place: a different Faker, a different rule or a fixed entry
makes a new dictionary version (a new directory or file), and `--check` is
how CI proves version 1 is still what this script builds from Faker 40.63.0.

Writes, under --out (default: this script's directory):
  <locale>/<list>.txt  UTF-8, one entry per line, NFC, trimmed, unique,
                       sorted by byte order (LC_ALL=C), LF line ends.
  SOURCES.md           where each list comes from, how it was built, counts.
  LICENSE.faker        Faker's MIT licence, copied from the distribution.
"""

import argparse
import ast
import hashlib
import itertools
import math
import pathlib
import os
import sys
import unicodedata

DICTIONARY_VERSION = 1
FAKER_VERSION = "40.63.0"
FAKER_WHEEL = "faker-40.63.0-py3-none-any.whl"
FAKER_WHEEL_SHA256 = "36627c20b575b4138f54b6c21f8703e9ab122fd487aca11319beec2aa6ca7232"

# Street lists composed from names × street types are cut to this many
# entries by a stable hash (see `compose`).
STREETS_CAP = 2000
# en_US has no list of real city names in Faker; composed cities are cut here.
COMPOSED_CITIES_CAP = 1000

# Faker entries that pass the character rules but are data errors, with why.
EXCLUDED = {
    ("de_DE", "last_names"): {
        "Dussen van": "the inverted form of 'van der Dussen', which is kept",
        "auch Schlauchin": "'auch' (German 'also') is not part of the name",
        "Koch II": "a generation numeral, not part of a surname",
    },
    ("es_ES", "cities"): {
        "Ciudad": "the province 'Ciudad Real' cut short",
    },
    # Faker's tr_TR surnames are largely famous people's; fake people named
    # after these political figures would be a problem in Turkish data.
    ("tr_TR", "last_names"): {
        "Öcalan": "a political figure's name, charged in Turkey",
        "Gülen": "a political figure's name, charged in Turkey",
        "Erdoğan": "the sitting president's name",
        "İnönü": "a head of state's adopted surname, not a common one",
        "Korutürk": "a head of state's surname, not a common one",
        "Kısakürek": "a political writer's surname, not a common one",
        "İhsanoğlu": "a politician's surname, not a common one",
    },
}

# Faker entries that are common names behind a typo: the entry, what it
# becomes, and why.
REPAIRED = {
    ("tr_TR", "first_names_female"): {
        "Emine.": ("Emine", "a stray period"),
    },
    ("tr_TR", "first_names_male"): {
        "N\u02dczamett\u02dcn": ("Nizamettin", "mojibake: '\u02dc' (small tilde) for 'i'"),
    },
}

# Turkish street types. Faker has no tr_TR address provider, so these three
# words are ours: the forms the national address register (UAVT) writes,
# e.g. "Atatürk Bulvarı", "Cumhuriyet Caddesi", "Gül Sokak".
TR_STREET_TYPES = ("Bulvarı", "Caddesi", "Sokak")

# The most common US street types, each checked to be in Faker's en_US
# `street_suffixes` (whose 195 types, rare ones like "Fords" or "Stravenue"
# included, ship as en_US/street_suffixes.txt).
US_STREET_TYPES = ("Avenue", "Circle", "Court", "Drive", "Lane",
                   "Place", "Road", "Street", "Trail", "Way")

LOCALES = ("de_DE", "en_US", "es_ES", "fr_FR", "tr_TR")


class Faker:
    """Reads class attributes of Faker's provider modules without importing them."""

    def __init__(self, root):
        self.root = pathlib.Path(root)
        if not (self.root / "providers").is_dir():
            sys.exit(f"{self.root}: not Faker's package directory (no providers/)")
        self.version = self._version()
        self._cache = {}

    def _version(self):
        tree = ast.parse((self.root / "__init__.py").read_text(encoding="utf-8"))
        for node in tree.body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and getattr(node.targets[0], "id", None) == "VERSION"):
                return ast.literal_eval(node.value)
        sys.exit(f"{self.root}/__init__.py: no VERSION")

    def _attributes(self, module):
        if module not in self._cache:
            path = self.root / "providers" / module.replace(".", "/") / "__init__.py"
            tree = ast.parse(path.read_text(encoding="utf-8"))
            values = {}
            for node in tree.body:
                if isinstance(node, ast.ClassDef) and node.name == "Provider":
                    for statement in node.body:
                        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                            target = statement.targets[0]
                        elif isinstance(statement, ast.AnnAssign):
                            target = statement.target
                        else:
                            continue
                        if isinstance(target, ast.Name):
                            values[target.id] = statement.value
            self._cache[module] = values
        return self._cache[module]

    def get(self, module, attribute):
        """A tuple/list literal as a list; an OrderedDict((key, weight), ...) as its keys."""
        node = self._attributes(module).get(attribute)
        if node is None:
            sys.exit(f"Faker {self.version}: providers.{module} has no {attribute}")
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "OrderedDict" and len(node.args) == 1):
            return [key for key, _ in ast.literal_eval(node.args[0])]
        value = ast.literal_eval(node)  # raises on anything that is not a literal
        if not isinstance(value, (tuple, list)):
            sys.exit(f"providers.{module}.{attribute}: not a sequence")
        return list(value)


def is_clean_entry(entry):
    """Letters, with single spaces, hyphens or apostrophes between them."""
    if not entry or not entry[0].isalpha() or not entry[-1].isalpha():
        return False
    if "  " in entry or "--" in entry:
        return False
    return all(unicodedata.category(c).startswith("L") or c in " -'" for c in entry)


class ListBuilder:
    """Cleans entries and records, for SOURCES.md, what was dropped and why."""

    def __init__(self, locale, name):
        self.locale = locale
        self.name = name
        self.dropped = []  # (entry, reason)

    def clean(self, entries, from_faker=True):
        excluded = EXCLUDED.get((self.locale, self.name), {}) if from_faker else {}
        repaired = REPAIRED.get((self.locale, self.name), {}) if from_faker else {}
        kept = set()
        for raw in entries:
            entry = unicodedata.normalize("NFC", raw.strip())
            if entry in repaired:
                fixed, why = repaired[entry]
                self.dropped.append((entry, f"repaired to \"{fixed}\": {why}"))
                entry = fixed
            if entry in excluded:
                self.dropped.append((entry, excluded[entry]))
            elif not is_clean_entry(entry):
                self.dropped.append((entry, "characters other than letters, "
                                     "single spaces, hyphens and apostrophes"))
            else:
                kept.add(entry)
        missing = (set(excluded) | set(repaired)) - {entry for entry, _ in self.dropped}
        if missing:
            sys.exit(f"{self.locale}/{self.name}: exclusions or repairs not in Faker: {sorted(missing)}")
        self.dropped = sorted(set(self.dropped))
        return sorted(kept)


def compose(label, form, parts, n):
    """Up to `n` distinct `form.format(*choice)` for choices from the product of `parts`.

    The hash rule: when the product holds more than `n` entries, choice k
    (k = 0, 1, 2, ...) takes from parts[i] the element at index
    (big-endian 32-bit word i of SHA-256("<label>#<k>")) mod len(parts[i]);
    repeats are skipped until `n` entries are distinct. Stable, seedless, and
    linear in `n`, where enumerating a product of millions would not be."""
    parts = [sorted(set(p)) for p in parts]
    total = math.prod(len(p) for p in parts)
    if total <= n:
        return sorted({form.format(*choice) for choice in itertools.product(*parts)})
    if len(parts) > 8:
        sys.exit(f"{label}: more lists than words in a SHA-256")
    out = set()
    for k in range(100 * n):
        digest = hashlib.sha256(f"{label}#{k}".encode("utf-8")).digest()
        choice = [p[int.from_bytes(digest[4 * i:4 * i + 4], "big") % len(p)]
                  for i, p in enumerate(parts)]
        out.add(form.format(*choice))
        if len(out) == n:
            return sorted(out)
    sys.exit(f"{label}: {100 * n} draws gave only {len(out)} distinct entries")


SUPPLEMENT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "supplement")


def supplement(locale, name):
    """Entries phony adds to a list (supplement/<locale>/<name>.txt), if any."""
    path = os.path.join(SUPPLEMENT_DIR, locale, name + ".txt")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def supplemented(locale, name):
    n = len(supplement(locale, name))
    return f", plus {n} entries of `supplement/{locale}/{name}.txt` (phony's own)" if n else ""


def words(faker, module, attribute, locale, name):
    builder = ListBuilder(locale, name)
    entries = builder.clean(faker.get(module, attribute))
    extra = supplement(locale, name)
    if extra:
        entries = sorted(set(entries) | set(ListBuilder(locale, name).clean(extra, from_faker=False)))
    return entries, builder


def not_abbreviated(entries):
    return sorted({e for e in entries if not e.endswith(".")})


def build(faker):
    """{(locale, list): (entries, how, dropped)} for every shipped list."""
    lists = {}

    def add(locale, name, entries, how, builder=None):
        final = ListBuilder(locale, name)
        cleaned = final.clean(entries, from_faker=False)
        if final.dropped:
            sys.exit(f"{locale}/{name}: composed entries failed the checks: {final.dropped[:5]}")
        if not cleaned:
            sys.exit(f"{locale}/{name}: empty")
        lists[(locale, name)] = (cleaned, how, builder.dropped if builder else [])

    for locale in LOCALES:
        person = f"person.{locale}"
        female, female_b = words(faker, person, "first_names_female", locale, "first_names_female")
        male, male_b = words(faker, person, "first_names_male", locale, "first_names_male")
        last, last_b = words(faker, person, "last_names", locale, "last_names")
        add(locale, "first_names_female", female,
            f"`providers.{person}` `first_names_female`" + supplemented(locale, "first_names_female"), female_b)
        add(locale, "first_names_male", male,
            f"`providers.{person}` `first_names_male`" + supplemented(locale, "first_names_male"), male_b)
        add(locale, "first_names", female + male,
            "union of this locale's `first_names_female.txt` and `first_names_male.txt`")
        add(locale, "last_names", last,
            f"`providers.{person}` `last_names`" + supplemented(locale, "last_names"), last_b)
        first = sorted(set(female + male))

        if locale == "tr_TR":
            builder = ListBuilder(locale, "cities")
            cities = builder.clean(place[2] for place in faker.get("geo.tr_TR", "land_coords"))
            add(locale, "cities", cities,
                "`providers.geo.tr_TR` `land_coords`, the place name (3rd field) of each "
                "entry: the 81 provinces (il), each named after its capital. Faker has no "
                "tr_TR address provider.", builder)
            types = TR_STREET_TYPES
            by_surname = compose("tr_TR/streets/1", "{} {}", [last, types], STREETS_CAP)
            by_full_name = compose("tr_TR/streets/2", "{} {} {}", [first, last, types],
                                   STREETS_CAP - len(by_surname))
            add(locale, "streets", by_surname + by_full_name,
                "composed; Faker has no tr_TR address provider, so the street types (%s) are "
                "ours, the forms the national address register (UAVT) writes. (1) every "
                "`{{last_name}} {{type}}`: %d; (2) `{{first_name}} {{last_name}} {{type}}` over "
                "first_names.txt × last_names.txt × types, %d by the hash rule (label "
                "`tr_TR/streets/2`)." % (", ".join(types), len(by_surname), len(by_full_name)))

        elif locale == "en_US":
            suffixes = faker.get("address.en_US", "city_suffixes")
            add(locale, "cities",
                compose("en_US/cities/1", "{}{}", [last, suffixes], COMPOSED_CITIES_CAP),
                "composed; Faker has no list of real en_US city names (its en_US `city()` "
                "composes them too). Faker's format `{{last_name}}{{city_suffix}}` (e.g. "
                "\"Smith\" + \"ton\") over last_names.txt × `providers.address.en_US` `city_suffixes` "
                "(%d distinct), %d by the hash rule (label `en_US/cities/1`). Faker's other "
                "formats, built on first names, give names like \"Port Jennifer\" and are not "
                "used." % (len(set(suffixes)), COMPOSED_CITIES_CAP))
            street_types, street_types_b = words(faker, "address.en_US", "street_suffixes",
                                                 locale, "street_suffixes")
            missing = set(US_STREET_TYPES) - set(street_types)
            if missing:
                sys.exit(f"en_US street types not in Faker's street_suffixes: {sorted(missing)}")
            add(locale, "streets",
                compose("en_US/streets/1", "{} {}", [last, US_STREET_TYPES], STREETS_CAP),
                "composed; Faker's format `{{last_name}} {{street_suffix}}` over last_names.txt "
                "× the %d most common US street types (%s; each checked to be in Faker's "
                "`street_suffixes`), %d by the hash rule (label `en_US/streets/1`). Faker's "
                "`{{first_name}} {{street_suffix}}` is not used."
                % (len(US_STREET_TYPES), ", ".join(US_STREET_TYPES), STREETS_CAP))
            add(locale, "street_suffixes", street_types,
                "`providers.address.en_US` `street_suffixes` (the USPS street types)",
                street_types_b)

        elif locale == "de_DE":
            cities, cities_b = words(faker, "address.de_DE", "cities", locale, "cities")
            add(locale, "cities", cities, "`providers.address.de_DE` `cities`", cities_b)
            short = not_abbreviated(faker.get("address.de_DE", "street_suffixes_short"))
            long_types, long_b = words(faker, "address.de_DE", "street_suffixes_long",
                                       locale, "street_suffixes")
            one_word = [l for l in last if " " not in l and "-" not in l]
            joined = compose("de_DE/streets/1", "{}{}", [one_word, short], STREETS_CAP * 3 // 4)
            hyphenated = [e.replace(" ", "-") for e in compose(
                "de_DE/streets/2", "{}-{}-{}", [first, last, long_types],
                STREETS_CAP - len(joined))]
            add(locale, "streets", joined + hyphenated,
                "composed from Faker's two de_DE formats: (1) `{{last_name}}"
                "{{street_suffix_short}}` (e.g. \"Müllerstraße\") over the one-word last names "
                "× `street_suffixes_short` without the abbreviation \"str.\" (%s), %d by the "
                "hash rule (label `de_DE/streets/1`); (2) `{{first_name}}-{{last_name}}-"
                "{{street_suffix_long}}` (e.g. \"Anna-Müller-Straße\"; spaces inside names "
                "then become hyphens, as German spelling requires) over first_names.txt × "
                "last_names.txt × `street_suffixes_long`, %d by the hash rule (label "
                "`de_DE/streets/2`)." % (", ".join(short), len(joined), len(hyphenated)))
            add(locale, "street_suffixes", long_types,
                "`providers.address.de_DE` `street_suffixes_long`", long_b)

        elif locale == "fr_FR":
            builder = ListBuilder(locale, "cities")
            cities = builder.clean(
                row[3] for row in faker.get("ssn.fr_FR", "departments_and_municipalities"))
            add(locale, "cities", cities,
                "`providers.ssn.fr_FR` `departments_and_municipalities`, the municipality "
                "(4th field): the prefecture of each of the 101 departments. Faker's fr_FR "
                "address provider has no city list (its `city()` composes names).", builder)
            prefixes = sorted(set(faker.get("address.fr_FR", "street_prefixes")))
            types = [p[:1].upper() + p[1:] for p in prefixes]
            by_surname = compose("fr_FR/streets/1", "{} {}", [types, last], STREETS_CAP // 2)
            by_full_name = compose("fr_FR/streets/2", "{} {} {}", [types, first, last],
                                   STREETS_CAP - len(by_surname))
            add(locale, "streets", by_surname + by_full_name,
                "composed from Faker's fr_FR formats over `providers.address.fr_FR` "
                "`street_prefixes` (%s) with the first letter capitalised, as the name is "
                "written on its own (\"Rue Martin\"; Faker writes it lowercase, as after a "
                "number): (1) `{{street_prefix}} {{last_name}}`, %d by the hash rule (label "
                "`fr_FR/streets/1`); (2) `{{street_prefix}} {{first_name}} {{last_name}}` over "
                "first_names.txt × last_names.txt, %d (label `fr_FR/streets/2`). Faker's "
                "`{{street_prefix}} de {{last_name}}` is not used: \"rue de Martin\" is not "
                "French, and it would need elision (\"d'Arnaud\")."
                % (", ".join(prefixes), len(by_surname), len(by_full_name)))
            add(locale, "street_prefixes", prefixes,
                "`providers.address.fr_FR` `street_prefixes`, as Faker writes them (lowercase)")

        elif locale == "es_ES":
            builder = ListBuilder(locale, "cities")
            cities = builder.clean(faker.get("address.es_ES", "states"))
            add(locale, "cities", cities,
                "`providers.address.es_ES` `states`: the provinces, which Faker's es_ES "
                "`city()` returns. Most are named after their capital; Álava, Asturias, "
                "Baleares, Cantabria, Guipúzcoa, La Rioja, Navarra and Vizcaya are not city "
                "names.", builder)
            prefixes, prefixes_b = words(faker, "address.es_ES", "street_prefixes",
                                         locale, "street_prefixes")
            plain = compose("es_ES/streets/1", "{} {} {}", [prefixes, first, last],
                            STREETS_CAP // 2)
            with_de = compose("es_ES/streets/2", "{} de {} {}", [prefixes, first, last],
                              STREETS_CAP - len(plain))
            add(locale, "streets", plain + with_de,
                "composed from Faker's two es_ES formats over street_prefixes.txt × "
                "first_names.txt × last_names.txt: (1) `{{street_prefix}} {{first_name}} "
                "{{last_name}}`, %d by the hash rule (label `es_ES/streets/1`); (2) "
                "`{{street_prefix}} de {{first_name}} {{last_name}}`, %d (label "
                "`es_ES/streets/2`)." % (len(plain), len(with_de)))
            add(locale, "street_prefixes", prefixes,
                "`providers.address.es_ES` `street_prefixes`", prefixes_b)
    return lists


def find_licence(faker_dir):
    root = pathlib.Path(faker_dir).resolve().parent
    candidates = sorted(root.glob("*.dist-info/licenses/LICENSE.txt")) + \
        sorted(root.glob("*.dist-info/LICENSE.txt")) + [root / "LICENSE.txt"]
    for path in candidates:
        if path.is_file():
            return path.read_bytes()
    sys.exit(f"no Faker LICENSE.txt next to {faker_dir} (unpack the whole wheel)")


def sources_md(lists):
    out = []
    w = out.append
    w("# Locale word lists: sources\n\n")
    w(f"**Dictionary version {DICTIONARY_VERSION}.** Generated by `extract_faker.py` from "
      f"Faker {FAKER_VERSION} (PyPI `{FAKER_WHEEL}`, sha256 `{FAKER_WHEEL_SHA256}`); "
      "this file is generated too.\n\n")
    w("These files must never be edited in place. Anonymized values already produced depend "
      "on every byte of them (a keyed index picks an entry, so adding, removing or reordering "
      "one entry changes the fakes of existing data). A change — a newer Faker, a fixed entry, "
      "another rule — is a new dictionary version in a new directory or file, next to this one. "
      "`python3 data/locales/extract_faker.py FAKER_DIR --check` proves these files are what "
      f"the script builds from Faker {FAKER_VERSION}:\n\n")
    w("```sh\n"
      f"pip download faker=={FAKER_VERSION} --no-deps -d /tmp/faker\n"
      f"python3 -m zipfile -e /tmp/faker/{FAKER_WHEEL} /tmp/faker/unpacked\n"
      "python3 data/locales/extract_faker.py /tmp/faker/unpacked/faker --check\n"
      "```\n\n")
    w("The lists are compiled into the binary (`src/transform/locale_data.h`, where "
      "`tr_TR/first_names.txt` is `LocaleList(\"tr_TR/first_names\")`); nothing reads them at "
      "run time.\n\n")
    w("## Licence\n\n"
      "Faker is MIT-licensed; `LICENSE.faker` is the licence text shipped in the wheel, "
      "copyright line included; a distribution of phony, which embeds the lists, carries it. "
      "The provider modules read here cite their own sources "
      "(e.g. `geo/tr_TR` the Turkish Wikipedia list of provinces); only names are taken from "
      "them. Nothing is taken from Faker's base `geo` provider, whose `land_coords` come from "
      "GeoNames under CC BY 3.0.\n\n")
    w("## Format and rules\n\n"
      "- `<locale>/<list>.txt`: UTF-8 (NFC), one entry per line, LF line ends, no empty lines, "
      "trimmed, unique, sorted by byte order (`LC_ALL=C sort`).\n"
      "- An entry is letters with single spaces, hyphens or apostrophes between them: Faker "
      "entries with anything else (digits, periods of abbreviations such as \"Hans-J.\", "
      "mojibake) are dropped and listed below, as are the data errors named in `EXCLUDED`; "
      "the few typos of common names named in `REPAIRED` are fixed instead.\n"
      "- `first_names.txt` is the union of `first_names_female.txt` and "
      "`first_names_male.txt`.\n"
      "- Composed lists draw from a product of lists (names × street types) by the *hash "
      "rule* when the product is larger than wanted: draw k = 0, 1, 2, … takes from the i-th "
      "list (sorted by byte order) the element at index (big-endian 32-bit word i of "
      "SHA-256(\"<label>#<k>\")) mod its length, and repeats are skipped until enough entries "
      "are distinct (`compose` in the script). Smaller products are taken whole. Composed "
      "entries use the cleaned lists of the same locale.\n"
      "- Faker module paths below are under `faker/providers/` (e.g. `providers.person.tr_TR` "
      "is `faker/providers/person/tr_TR/__init__.py`, class `Provider`).\n\n")
    w("## Counts\n\n")
    names = sorted({name for _, name in lists})
    w("| list | " + " | ".join(LOCALES) + " |\n")
    w("|---|" + "---:|" * len(LOCALES) + "\n")
    for name in names:
        cells = [str(len(lists[(l, name)][0])) if (l, name) in lists else "—" for l in LOCALES]
        w(f"| {name} | " + " | ".join(cells) + " |\n")
    w("\n")
    for locale in LOCALES:
        w(f"## {locale}\n\n")
        w("| list | entries | source and composition |\n|---|---:|---|\n")
        for (l, name), (entries, how, _) in sorted(lists.items()):
            if l == locale:
                w(f"| `{name}.txt` | {len(entries)} | {how} |\n")
        dropped = [(name, e, why) for (l, name), (_, _, d) in sorted(lists.items())
                   if l == locale for e, why in d]
        if dropped:
            w("\nDropped or repaired Faker entries:\n\n")
            for name, entry, why in dropped:
                w(f"- `{name}`: \"{entry}\" — {why}\n")
        w("\n")
    return "".join(out).encode("utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("faker_dir", help="the `faker` package directory of an unpacked wheel")
    parser.add_argument("--out", default=pathlib.Path(__file__).resolve().parent,
                        type=pathlib.Path, help="output directory (default: next to this script)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; fail unless the files under --out are identical")
    args = parser.parse_args()

    faker = Faker(args.faker_dir)
    if faker.version != FAKER_VERSION:
        sys.exit(f"Faker {faker.version}: dictionary version {DICTIONARY_VERSION} is built from "
                 f"Faker {FAKER_VERSION}; another Faker makes a new dictionary version")
    lists = build(faker)
    files = {f"{l}/{name}.txt": "".join(e + "\n" for e in entries).encode("utf-8")
             for (l, name), (entries, _, _) in lists.items()}
    files["SOURCES.md"] = sources_md(lists)
    files["LICENSE.faker"] = find_licence(args.faker_dir)

    differ = []
    for relative, content in sorted(files.items()):
        path = args.out / relative
        current = path.read_bytes() if path.is_file() else None
        if current == content:
            continue
        differ.append(relative)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    stale = sorted(str(p.relative_to(args.out)) for p in args.out.glob("*/*.txt")
                   if str(p.relative_to(args.out)) not in files)
    if args.check:
        if differ or stale:
            sys.exit(f"differ from Faker {FAKER_VERSION}: {differ}; not built by this script: {stale}")
        print(f"{len(files)} files match Faker {FAKER_VERSION}")
    else:
        if stale:
            sys.exit(f"not built by this script, remove them: {stale}")
        print(f"{len(files)} files, {len(differ)} written")


if __name__ == "__main__":
    main()

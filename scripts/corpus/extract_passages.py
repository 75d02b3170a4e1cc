#!/usr/bin/env python3
"""Corpus v2: the same packages as extract_corpus.py (v1), cut into whole passages.

Usage: extract_passages.py PACKAGES_DIR OUTDIR

v1 made one document per paragraph, so a model trained on it learned to stop after a sentence or
two. v2 keeps the structure of each work: a chapter of Austen, a scene of Shakespeare, a book of
the Bible or of Paradise Lost, cut at paragraph boundaries into pieces of at most MAX_CHARS
(~2,000 tokens of the 4,096-token tokenizer, which averages ~3.4 bytes per token) of about equal
size. Collections of short independent items (fortunes, dictionary entries, WordNet examples) are
gathered into pages of the same size, items separated by blank lines, as they stand in their
files. Paragraphs are cleaned exactly as v1 does (extract_corpus.clean) and joined by blank lines.

Writes OUTDIR/train.jsonl and OUTDIR/eval.jsonl ({"text", "source", "work", "part"} per line) and
OUTDIR/MANIFEST.tsv. The held-out split is chosen by a hash of (source, work, part) — the
passage's place, not its text — so it stays put when cleaning changes: ~2 % of passages
(hash byte < 5). v1's output (extract_corpus.py) is unchanged; v1's eval paragraphs are scattered
through v2's train passages and vice versa, so compare v1 and v2 models on v2's eval split (v1
has seen most of it, which favours v1).
"""
import hashlib
import json
import math
import os
import re
import sys

import extract_corpus as v1

MAX_CHARS = 7000
PAGE_SOURCES = ("fortunes", "devils_dictionary", "wordnet_examples")


def cut(paragraphs, limit=MAX_CHARS):
    """Groups consecutive paragraphs into pieces of at most ~limit characters, of about equal size.
    A single paragraph longer than the limit is split at line ends (verse) or sentence ends (prose)."""
    items = []
    for p in paragraphs:
        if len(p) <= limit:
            items.append(p)
            continue
        joiner = "\n" if "\n" in p else " "
        units = p.split("\n") if joiner == "\n" else re.split(r"(?<=[.!?;:])\s+", p)
        chunk = []
        for unit in units:
            if chunk and len(joiner.join(chunk + [unit])) > limit:
                items.append(joiner.join(chunk))
                chunk = []
            chunk.append(unit)
        if chunk:
            items.append(joiner.join(chunk))
    total = sum(len(i) + 2 for i in items)
    target = total / max(1, math.ceil(total / limit))
    pieces, current, size = [], [], 0
    for item in items:
        if current and (size + len(item) > limit or size >= target):
            pieces.append(current)
            current, size = [], 0
        current.append(item)
        size += len(item) + 2
    if current:
        pieces.append(current)
    return ["\n\n".join(piece) for piece in pieces]


def sections(blocks, heading):
    """Splits a work's blocks (paragraphs) at headings (a regex); yields (title, blocks)."""
    title, current = "", []
    for block in blocks:
        first = block.strip().split("\n")[0].strip()
        if re.match(heading, first, re.I) and len(first) < 80:
            if current:
                yield title, current
            title, current = first, []
            continue
        current.append(block)
    if current:
        yield title, current


# Each reader yields (work, section title, [raw paragraphs]).

def passages_austen():
    books = v1.r_lazy_load(v1.package_path("r-cran-janeaustenr", "usr/lib/R/site-library/janeaustenr/data/Rdata"))
    for name in sorted(books):
        lines = books[name]
        if not isinstance(lines, list) or not all(isinstance(x, (str, type(None))) for x in lines):
            continue
        blocks = [v1.prose(b).replace("_", "") for b in v1.paragraphs("\n".join(x or "" for x in lines))]
        for title, body in sections(blocks, r"^(chapter|volume)\b"):
            yield name, title, body


def passages_bible():
    module = v1.package_path("sword-text-web", "usr/share/sword/modules/texts/ztext/engWEB2015eb")
    osis = " ".join(v1.sword_verses(module))
    osis = re.sub(r"<note\b.*?</note>", "", osis, flags=re.S)
    osis = re.sub(r"<title\b.*?</title>", "\n\n", osis, flags=re.S)
    # A book starts at its opening marker; the text before the first book (the preface) is skipped.
    books = re.split(r'<div\b[^>]*osisID="([^"]+)"[^>]*sID="[^"]*"[^>]*type="book"[^>]*/>', osis)
    for i in range(1, len(books) - 1, 2):
        book, text = books[i], books[i + 1]
        text = re.sub(r'<div\b[^>]*type="(x-p|book|bookGroup)"[^>]*/>|<chapter\b[^>]*/>', "\n\n", text)
        text = re.sub(r"<[^>]+>", "", text)
        yield book, "", [v1.prose(b) for b in v1.paragraphs(text)]


def passages_shakespeare():
    folder = v1.package_path("shakespeare", "shksprdata/texts")
    for name in sorted(os.listdir(folder)):
        if not name.endswith("_gut.txt"):
            continue
        text = v1.between_gutenberg_markers(open(os.path.join(folder, name), encoding="latin-1").read())
        blocks = ["\n".join(line.strip() for line in b.split("\n")) for b in v1.paragraphs(text)]
        for title, body in sections(blocks, r"^(act|scene)\b"):
            yield name[:-len("_gut.txt")], title, body


def passages_milton():
    for name in v1.MILTON:
        text = v1.between_gutenberg_markers(
            open(v1.package_path("shakespeare", "miltondata/texts", name), encoding="latin-1").read())
        prose_work = name.startswith("areopagitica")
        blocks = [v1.prose(b) if prose_work else "\n".join(l.strip() for l in b.split("\n") if l.strip())
                  for b in v1.paragraphs(text)]
        for title, body in sections(blocks, r"^(book\b|the \w+ book\b)"):
            yield name[:-len("_gut.txt")], title, body


def paged(source):
    """The items of a collection source, in file order, as one work (cut into pages)."""
    def reader():
        yield source, "", list(v1.SOURCES[source][0]())
    return reader


SOURCES = {
    "austen": passages_austen,
    "bible_web": passages_bible,
    "shakespeare": passages_shakespeare,
    "milton": passages_milton,
    **{name: paged(name) for name in PAGE_SOURCES},
}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    v1.PACKAGES = sys.argv[1]
    out = sys.argv[2]
    versions = {}
    path = os.path.join(v1.PACKAGES, "versions.tsv")
    if os.path.exists(path):
        versions = dict(line.rstrip("\n").split("\t", 1) for line in open(path) if "\t" in line)
    os.makedirs(out, exist_ok=True)
    seen, rows = set(), []
    files = {split: open(os.path.join(out, split + ".jsonl.tmp"), "w", encoding="utf-8") for split in ("train", "eval")}
    for name, reader in SOURCES.items():
        digest, count, size, held = hashlib.sha256(), 0, 0, 0
        for work, title, blocks in reader():
            kept = []
            for block in blocks:
                block = v1.clean(block)
                if v1.looks_like_text(block) and block not in seen:
                    seen.add(block)
                    kept.append(block)
            for part, text in enumerate(cut(kept)):
                key = "%s/%s/%s/%d" % (name, work, title, part)
                split = "eval" if hashlib.sha1(key.encode()).digest()[0] < 5 else "train"
                record = {"text": text, "source": name, "work": work, "part": (title + " " if title else "") + str(part + 1)}
                files[split].write(json.dumps(record, ensure_ascii=False) + "\n")
                digest.update(text.encode() + b"\n\n")
                count += 1
                size += len(text.encode())
                held += split == "eval"
        packages, description = v1.SOURCES[name][1], v1.SOURCES[name][2]
        pinned = " ".join("%s=%s" % (p, versions.get(p.split(":", 1)[1], "?")) for p in packages)
        rows.append((name, count, size, digest.hexdigest(), pinned, description))
        print("  %-18s %6d passages (%d held out) %8.2f MB" % (name, count, held, size / 1e6), flush=True)
    for split, f in files.items():
        f.close()
        os.replace(os.path.join(out, split + ".jsonl.tmp"), os.path.join(out, split + ".jsonl"))
    with open(os.path.join(out, "MANIFEST.tsv.tmp"), "w", encoding="utf-8") as manifest:
        manifest.write("source\tdocuments\ttext_bytes\tsha256_of_texts\tpackages\tcontent_and_licence\n")
        for row in rows:
            manifest.write("%s\t%d\t%d\t%s\t%s\t%s\n" % row)
        for split in ("train", "eval"):
            data = open(os.path.join(out, split + ".jsonl"), "rb").read()
            manifest.write("%s.jsonl\t%d\t%d\t%s\t\tfile sha256; corpus v2 passages (at most %d characters), one JSON object per line\n"
                           % (split, data.count(b"\n"), len(data), hashlib.sha256(data).hexdigest(), MAX_CHARS))
    os.replace(os.path.join(out, "MANIFEST.tsv.tmp"), os.path.join(out, "MANIFEST.tsv"))


if __name__ == "__main__":
    main()

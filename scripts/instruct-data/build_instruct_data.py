#!/usr/bin/env python3
"""Builds doge-tiny-instruct's instruction data from local, licensed sources (no network).

Usage: build_instruct_data.py WORDNET_DIR CORPUS_DIR OUTDIR [--seed N] [--scale F]
    WORDNET_DIR  the unpacked wordnet-base package's usr/share/wordnet (index.*, data.*)
    CORPUS_DIR   corpus v2 (scripts/corpus/build_corpus.sh --passages): train.jsonl, eval.jsonl
    --scale F    multiplies the number of generated items (default 1.0)

Writes (TRL's dataset formats, see the README):
    OUTDIR/sft/{train,heldout}.jsonl    {"messages": [...], "kind": ...}
    OUTDIR/dpo/{train,heldout}.jsonl    {"prompt": [user], "chosen": [assistant], "rejected": [assistant], "kind"}
    OUTDIR/grpo/{train,heldout}.jsonl   {"prompt": [user], "solution": "...", "kind"}
    OUTDIR/eval/<task>/test.jsonl       held-out documents for the lm-eval task YAMLs (Models/doge-tiny-instruct/tasks)
    OUTDIR/MANIFEST.tsv                 per file: rows, sha256; per kind: rows; sources and licences

Held-out split: every item has a key (the word's WordNet synset, the arithmetic problem, the
passage) and ~10 % of keys, chosen by a hash of the key, are held out of *every* training file: a
held-out word (and every word sharing its synset, hence its definition) is never defined, used,
spelled or asked about in SFT, DPO or GRPO training rows; it can still appear as the answer to
another word's antonym question, and in the pre-training corpus. Deterministic: the same
inputs and seed give byte-identical files. Standard library only.
"""
import argparse
import hashlib
import json
import os
import random
import re

HELD_OUT_PERCENT = 10


def held_out(key):
    return int.from_bytes(hashlib.sha1(("heldout/" + key).encode()).digest()[:2], "big") % 100 < HELD_OUT_PERCENT


def user(text):
    return {"role": "user", "content": text}


def assistant(text):
    return {"role": "assistant", "content": text}


# ----------------------------------------------------------------------------- WordNet

POS_NAME = {"n": "noun", "v": "verb", "a": "adjective", "s": "adjective", "r": "adverb"}
FILES = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}


class Synset:
    __slots__ = ("pos", "words", "definition", "examples", "antonyms")

    def __init__(self, pos, words, definition, examples, antonyms):
        self.pos, self.words, self.definition, self.examples, self.antonyms = pos, words, definition, examples, antonyms


def read_wordnet(folder):
    """synsets[(pos, offset)] and, per plain lowercase single word, its most frequent sense with its
    tagged-sense count (WordNet's measure of how common the word is in its tagged corpus)."""
    synsets = {}
    for name, pos in FILES.items():
        for line in open(os.path.join(folder, "data." + name), encoding="latin-1"):
            if line.startswith("  "):
                continue
            head, _, gloss = line.partition(" | ")
            fields = head.split()
            offset, ss_type, count = fields[0], fields[2], int(fields[3], 16)
            words = [fields[4 + 2 * i].split("(")[0] for i in range(count)]
            at = 4 + 2 * count
            pointers = int(fields[at])
            antonyms = []
            for i in range(pointers):
                symbol, target, target_pos, st = fields[at + 1 + 4 * i: at + 5 + 4 * i]
                if symbol == "!":
                    antonyms.append((int(st[:2], 16), target_pos, target, int(st[2:], 16)))
            examples = [e.strip(" ;") for e in re.findall(r'"([^"]+)"', gloss)]
            definition = gloss.split('"')[0].strip().rstrip(";").strip()
            synsets[(pos, offset)] = Synset(ss_type, words, definition, examples, antonyms)
    senses = {}
    for name, pos in FILES.items():
        for line in open(os.path.join(folder, "index." + name), encoding="latin-1"):
            if line.startswith("  "):
                continue
            fields = line.split()
            lemma, pointer_count = fields[0], int(fields[3])
            tagged = int(fields[5 + pointer_count])
            first = fields[6 + pointer_count]
            if not re.fullmatch(r"[a-z]{3,12}", lemma) or tagged < 2:
                continue
            best = senses.get(lemma)
            if best is None or tagged > best[0]:
                senses[lemma] = (tagged, (pos, first))
    return synsets, senses


def antonym_of(synsets, lemma, key):
    synset = synsets[key]
    index = synset.words.index(lemma) + 1 if lemma in synset.words else None
    for source, pos, target, target_word in synset.antonyms:
        if source in (0, index):
            other = synsets.get(("a" if pos == "s" else pos, target))
            if other and target_word and other.words[target_word - 1].isalpha():
                return other.words[target_word - 1].replace("_", " ")
    return None


def article(word):
    return "an" if word[0] in "aeiou" else "a"


def word_items(synsets, senses, rng, limit):
    """Per common word: its entry (definition, example, synonym, antonym), the key being the word."""
    common = sorted(senses, key=lambda w: (-senses[w][0], w))[:limit]
    entries = []
    for word in sorted(common):
        key = senses[word][1]
        synset = synsets.get(key)
        if not synset or len(synset.definition) < 8:
            continue
        synonyms = [w.replace("_", " ") for w in synset.words if w.lower() != word and "_" not in w and w.isalpha()]
        examples = [e for e in synset.examples if re.search(r"\b%s" % re.escape(word[:4]), e, re.I)]
        entries.append({"word": word, "key": "synset/%s%s" % key, "pos": POS_NAME[synset.pos], "definition": synset.definition,
                        "example": examples[0] if examples else None,
                        "synonym": synonyms[0] if synonyms else None,
                        "antonym": antonym_of(synsets, word, key)})
    rng.shuffle(entries)
    return entries


# ----------------------------------------------------------------------------- generators

def words_kinds(entries, rng):
    """Yields (kind, key, sft messages, dpo (prompt, chosen, rejected) or None, grpo (prompt, solution) or None)."""
    definitions = [e["definition"] for e in entries]
    for e in entries:
        w, key = e["word"], e["key"]
        wrong = rng.choice([d for d in rng.sample(definitions, 4) if d != e["definition"]])
        ask = rng.choice(["What does the word \"%s\" mean?", "Define \"%s\".", "What is the meaning of \"%s\"?"]) % w
        answer = "\"%s\" is %s %s: %s." % (w, article(e["pos"]), e["pos"], e["definition"])
        yield "definition", key, [user(ask), assistant(answer)], (ask, answer, "\"%s\" is %s %s: %s." % (w, article(e["pos"]), e["pos"], wrong)), None
        if e["example"]:
            ask = "Use the word \"%s\" in a sentence." % w
            sentence = e["example"][0].upper() + e["example"][1:]
            sentence += "" if sentence[-1] in ".!?" else "."
            yield "usage", key, [user(ask), assistant(sentence)], None, None
            yield "multi_turn", key, [user("What does \"%s\" mean?" % w), assistant(answer),
                                      user("Can you use it in a sentence?"), assistant(sentence)], None, None
        if e["synonym"]:
            ask = "Give a word that means the same as \"%s\"." % w
            yield "synonym", key, [user(ask), assistant("\"%s\" means about the same as \"%s\"." % (e["synonym"], w))], None, None
        if e["antonym"]:
            ask = "What is the opposite of \"%s\"? Answer with one word." % w
            rejected = e["synonym"] or w
            yield "antonym", key, [user(ask), assistant(e["antonym"])], (ask, e["antonym"], rejected), (ask, e["antonym"])
        # Counting and spelling.
        ask = "How many letters are in the word \"%s\"? Answer with the number only." % w
        yield "count_letters", key, [user(ask), assistant(str(len(w)))], (ask, str(len(w)), str(len(w) + rng.choice([-1, 1]))), (ask, str(len(w)))
        ask = "Spell \"%s\" letter by letter." % w
        spelled = "-".join(w)
        swapped = list(w)
        i = rng.randrange(len(w) - 1)
        swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
        rejected = "-".join(swapped) if swapped != list(w) else "-".join(w[:-1])
        yield "spelling", key, [user(ask), assistant(spelled)], (ask, spelled, rejected), None
        ask = "What is the first letter of \"%s\"? Answer with one letter." % w
        yield "first_letter", key, [user(ask), assistant(w[0])], None, (ask, w[0])


def number_words(n):
    return str(n)


def arithmetic_kinds(rng, count):
    seen = set()
    while len(seen) < count:
        op = rng.choice("+-*")
        if op == "*":
            a, b = rng.randint(2, 12), rng.randint(2, 12)
        else:
            a, b = rng.randint(2, 99), rng.randint(2, 99)
            if op == "-" and b > a:
                a, b = b, a
        key = "arith/%d%s%d" % (a, op, b)
        if key in seen:
            continue
        seen.add(key)
        value = a + b if op == "+" else a - b if op == "-" else a * b
        verb = {"+": "plus", "-": "minus", "*": "times"}[op]
        sign = {"+": "+", "-": "-", "*": "x"}[op]
        if op == "+" and a >= 10 and b >= 10:
            work = "%d + %d = %d, and %d + %d = %d, so %d + %d = %d." % (
                a - a % 10, b - b % 10, a - a % 10 + b - b % 10, a % 10, b % 10, a % 10 + b % 10, a, b, value)
        elif op == "-" and b >= 10:
            work = "%d - %d = %d, then %d - %d = %d, so %d - %d = %d." % (a, b - b % 10, a - (b - b % 10), a - (b - b % 10), b % 10, value, a, b, value)
        else:
            work = "%d %s %d = %d." % (a, sign, b, value)
        ask = "What is %d %s %d?" % (a, verb, b)
        wrong = value + rng.choice([-10, -1, 1, 10]) if value > 10 else value + 1
        yield "arithmetic", key, [user(ask), assistant(work)], (ask, work, work.replace("= %d." % value, "= %d." % wrong)), None
        strict = ask + " Answer with the number only."
        yield "arithmetic_number", key, [user(strict), assistant(str(value))], (strict, str(value), "The answer is %d." % value), (strict, str(value))


AUTHORS = {"austen": "Jane Austen", "shakespeare": "William Shakespeare", "milton": "John Milton"}
TITLES = {"emma": "Emma", "mansfieldpark": "Mansfield Park", "northangerabbey": "Northanger Abbey", "persuasion": "Persuasion",
          "prideprejudice": "Pride and Prejudice", "sensesensibility": "Sense and Sensibility",
          "paradise_lost_(no_introduction)": "Paradise Lost", "paradise_regained": "Paradise Regained"}


def title_of(work):
    if work in TITLES:
        return TITLES[work]
    words = [w.upper() if re.fullmatch(r"[ivx]+", w) else w if w in ("of", "and", "the", "that") else w.capitalize()
             for w in work.split("_")]
    return " ".join(words).replace("Tragedy of ", "")


def sentences(text):
    return [s for s in re.split(r"(?<=[.!?])\s+", text.replace("\n", " ")) if len(s.split()) >= 4]


def corpus_kinds(passages, rng):
    """Questions about the corpus's own works: who wrote it, what comes next in a passage."""
    works = sorted({(p["source"], p["work"]) for p in passages if p["source"] in AUTHORS})
    for source, work in works:
        title = title_of(work)
        key = "work/" + work
        ask = rng.choice(["Who wrote %s?", "Who is the author of %s?"]) % title
        wrong = rng.choice([a for a in AUTHORS.values() if a != AUTHORS[source]])
        yield "author", key, [user(ask), assistant("%s was written by %s." % (title, AUTHORS[source]))], \
            (ask, "%s was written by %s." % (title, AUTHORS[source]), "%s was written by %s." % (title, wrong)), None
    for p in passages:
        if p["source"] not in ("austen", "bible_web", "shakespeare", "milton"):
            continue
        s = sentences(p["text"])
        if len(s) < 3:
            continue
        i = rng.randrange(len(s) - 2)
        start, following = " ".join(s[i:i + 2]), s[i + 2]
        if len(start) > 400 or len(following) > 300:
            continue
        key = "passage/%s/%s/%s" % (p["source"], p["work"], p["part"])
        ask = "Continue this passage with one sentence:\n\n%s" % start
        other = rng.choice(passages)
        yield "continue", key, [user(ask), assistant(following)], None, None
        where = "the Bible" if p["source"] == "bible_web" else title_of(p["work"])
        if p["source"] == "bible_web":
            where = "the book of %s in the Bible" % p["work"]
        yield "source_of_passage", key, [user("Where is this passage from?\n\n%s" % start), assistant("It is from %s." % where)], None, None


FORMAT_RULES = [
    ("Answer in capital letters.", str.upper),
    ("Answer in lowercase letters.", str.lower),
    ("Put the answer in quotation marks.", lambda a: "\"%s\"" % a),
    ("Answer with one word, then a full stop.", lambda a: a + "."),
]


def format_kinds(entries, rng):
    """Answer-format following: a one-word (or one-letter) answer written as the instruction asks."""
    for e in entries:
        rule, apply = rng.choice(FORMAT_RULES)
        if e["antonym"]:
            ask, answer = "What is the opposite of \"%s\"? %s" % (e["word"], rule), e["antonym"]
        elif rule.startswith("Answer with one word"):
            continue
        else:  # a question with one right answer, so that exact match checks the format alone
            ask, answer = "What is the first letter of \"%s\"? %s" % (e["word"], rule), e["word"][0]
        right = apply(answer)
        wrong = answer if right != answer else "The answer is %s." % answer
        yield "format", e["key"], [user(ask), assistant(right)], (ask, right, wrong), (ask, right)


# ----------------------------------------------------------------------------- eval documents

def eval_documents(entries, arithmetic_rows, format_rows, rng):
    """Documents of the three held-out tasks (Tasks drafts read OUTDIR/eval/<task>/test.jsonl)."""
    trained = {e["definition"] for e in entries if not held_out(e["key"])}
    held = [e for e in entries if held_out(e["key"]) and e["definition"] not in trained]  # identical glosses exist
    definitions = [e["definition"] for e in entries]
    define = []
    for e in held:
        wrong = [d for d in rng.sample(definitions, 6) if d != e["definition"]][:3]
        choices = wrong + [e["definition"]]
        rng.shuffle(choices)
        # answers: each choice phrased as SFT's definition answers are, for scoring chat models
        define.append({"word": e["word"], "question": "What does the word \"%s\" mean?" % e["word"],
                       "choices": choices, "answers": ["\"%s\" is %s %s: %s." % (e["word"], article(e["pos"]), e["pos"], c) for c in choices],
                       "answer": choices.index(e["definition"])})
    arith = [{"question": r[0], "answer": r[1]} for r in arithmetic_rows]
    formats = [{"question": r[0], "answer": r[1]} for r in format_rows]
    return {"doge_define_mc": define, "doge_arithmetic": arith, "doge_format": formats}


# ----------------------------------------------------------------------------- main

def write_jsonl(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n")
    os.replace(path + ".tmp", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wordnet")
    parser.add_argument("corpus")
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=233)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    synsets, senses = read_wordnet(args.wordnet)
    entries = word_items(synsets, senses, rng, int(3000 * args.scale))
    passages = [json.loads(line) for line in open(os.path.join(args.corpus, "train.jsonl"), encoding="utf-8")]
    passages += [json.loads(line) for line in open(os.path.join(args.corpus, "eval.jsonl"), encoding="utf-8")]
    passages = rng.sample(passages, min(len(passages), int(1500 * args.scale))) + [p for p in passages if p["source"] in AUTHORS and p["part"].endswith(" 1")]

    out = {(fmt, split): [] for fmt in ("sft", "dpo", "grpo") for split in ("train", "heldout")}
    kinds = {}
    held_arith, held_format = [], []
    generators = [words_kinds(entries, rng), arithmetic_kinds(rng, int(2500 * args.scale)),
                  corpus_kinds(passages, rng), format_kinds(entries, rng)]
    seen_prompts = set()
    for generator in generators:
        for kind, key, messages, dpo, grpo in generator:
            if messages[0]["content"] in seen_prompts and kind not in ("multi_turn",):
                continue
            seen_prompts.add(messages[0]["content"])
            split = "heldout" if held_out(key) else "train"
            kinds.setdefault((kind, split), 0)
            kinds[(kind, split)] += 1
            out[("sft", split)].append({"messages": messages, "kind": kind})
            if dpo:
                out[("dpo", split)].append({"prompt": [user(dpo[0])], "chosen": [assistant(dpo[1])],
                                            "rejected": [assistant(dpo[2])], "kind": kind})
            if grpo:
                out[("grpo", split)].append({"prompt": [user(grpo[0])], "solution": grpo[1], "kind": kind})
                if split == "heldout" and kind == "arithmetic_number":
                    held_arith.append(grpo)
                if split == "heldout" and kind == "format":
                    held_format.append(grpo)
    for rows in out.values():
        rng.shuffle(rows)
    manifest = ["file\trows\tsha256"]
    for (fmt, split), rows in sorted(out.items()):
        path = os.path.join(args.out, fmt, split + ".jsonl")
        write_jsonl(path, rows)
        manifest.append("%s/%s.jsonl\t%d\t%s" % (fmt, split, len(rows), hashlib.sha256(open(path, "rb").read()).hexdigest()))
    tasks = eval_documents(entries, held_arith, held_format, rng)
    # GRPO's held-out prompts of every kind, scored as its accuracy reward scores them
    tasks["doge_verifiable"] = [{"question": r["prompt"][0]["content"], "answer": r["solution"], "kind": r["kind"]}
                                for r in out[("grpo", "heldout")]]
    for task, docs in tasks.items():
        path = os.path.join(args.out, "eval", task, "test.jsonl")
        write_jsonl(path, docs)
        manifest.append("eval/%s/test.jsonl\t%d\t%s" % (task, len(docs), hashlib.sha256(open(path, "rb").read()).hexdigest()))
    manifest.append("")
    manifest.append("kind\ttrain_sft_rows\theldout_sft_rows")
    for kind in sorted({k for k, _ in kinds}):
        manifest.append("%s\t%d\t%d" % (kind, kinds.get((kind, "train"), 0), kinds.get((kind, "heldout"), 0)))
    manifest.append("")
    manifest.append("source\tlicence")
    manifest.append("WordNet 3.0 (Debian wordnet-base): definitions, examples, synonyms, antonyms, tagged-sense counts\t"
                    "WordNet 3.0 licence (Princeton University, BSD-like: use, copy, modify and distribute with the notice)")
    manifest.append("corpus v2 passages (scripts/corpus/build_corpus.sh --passages; see its MANIFEST.tsv)\t"
                    "public domain texts (Austen, World English Bible, Shakespeare, Milton)")
    manifest.append("arithmetic, counting, spelling and answer-format items\tgenerated by this script (seed %d)" % args.seed)
    with open(os.path.join(args.out, "MANIFEST.tsv.tmp"), "w", encoding="utf-8") as f:
        f.write("\n".join(manifest) + "\n")
    os.replace(os.path.join(args.out, "MANIFEST.tsv.tmp"), os.path.join(args.out, "MANIFEST.tsv"))
    print("\n".join(manifest))


if __name__ == "__main__":
    main()

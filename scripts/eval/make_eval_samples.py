"""Writes the hand-written evaluation samples (Tests/DogeEvalTests/Fixtures/data/<task>/<split>.jsonl):
small documents in each benchmark's own columns, composed here from invented sentences (no dataset
rows), with the edge cases the scorers must get right: trailing spaces, non-ASCII text, ARC's
numeric labels and 3-5 choices, HellaSwag's [title]/[step] brackets and double spaces, Winogrande
blanks before a period, a few-shot pool holding the evaluated document, TriviaQA aliases."""
import argparse, json, os, random

parser = argparse.ArgumentParser()
parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "DogeEvalTests", "Fixtures", "data"))
parser.add_argument("--scale", type=int, default=1, help="multiply the number of evaluated documents (benchmarks)")
args = parser.parse_args()
OUT = args.out
S = args.scale
rng = random.Random(7)

THINGS = ["a river", "the moon", "a candle", "an oak tree", "a copper wire", "the wind", "a glacier", "a honeybee",
          "a violin", "a snowflake", "the tide", "a volcano", "a lantern", "a sparrow", "salt water", "a magnet",
          "the café roof", "a seed", "a mirror", "a kettle", "an island", "a comet", "a shadow", "a spider web",
          "a clay pot", "the harbour", "a feather", "a bell", "a meadow", "the naïve fox"]
VERBS = ["grows", "shines", "melts", "moves", "sings", "cools", "breaks", "floats", "falls", "burns", "turns", "rings"]
ANSWERS = ["heat", "light", "water", "gravity", "sound", "iron", "air", "sugar", "ice", "stone", "wood", "salt",
           "energy", "rain", "a spring", "the sun", "motion", "friction", "pressure", "glass"]

def write(task, split, rows):
    d = os.path.join(OUT, task)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, split + ".jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

def arc(n, prefix):
    rows = []
    for i in range(n):
        k = [3, 4, 4, 5][i % 4]
        labels = ["1", "2", "3", "4", "5"][:k] if i % 5 == 2 else ["A", "B", "C", "D", "E"][:k]
        texts = rng.sample(ANSWERS, k)
        thing = THINGS[(i * 7) % len(THINGS)]
        q = f"Why does {thing} {rng.choice(VERBS)[:-1]} when it meets {rng.choice(ANSWERS)}?"
        if i % 6 == 3:
            q = f"Which of these is most like {thing}?  Pick one."
        rows.append({"id": f"{prefix}_{i}", "question": q, "choices": {"text": texts, "label": labels},
                     "answerKey": labels[rng.randrange(k)]})
    return rows

write("arc_easy", "test", arc(12 * S, "ae"))
write("arc_easy", "train", arc(25, "aet"))
write("arc_challenge", "test", arc(8, "ac"))
write("arc_challenge", "train", arc(9, "act"))

def piqa(n):
    rows = []
    for i in range(n):
        thing = THINGS[(i * 5 + 1) % len(THINGS)]
        goal = f"How do you keep {thing} from {rng.choice(['drying out', 'falling', 'getting cold', 'fading'])}"
        if i % 4 == 1:
            goal += "?"
        s1 = f"Wrap it in {rng.choice(ANSWERS)} and leave it {rng.choice(['overnight', 'in the shade', 'by the door'])}."
        s2 = f"Put it near {rng.choice(ANSWERS)} for {rng.randint(2, 9)} minutes."
        rows.append({"goal": goal, "sol1": s1, "sol2": s2, "label": rng.randrange(2)})
    return rows

piqa_val = piqa(10 * S)
piqa_train = piqa(9)
piqa_train.insert(4, dict(piqa_val[1]))   # the few-shot pool holds an evaluated document
write("piqa", "validation", piqa_val)
write("piqa", "train", piqa_train)

def hellaswag(n):
    rows = []
    for i in range(n):
        label = ["Making tea", "Sharpening a knife", "Home and Garden", "Walking the dog", "Painting a fence"][i % 5]
        ctx_a = f"A person picks up {THINGS[i % len(THINGS)]} and looks at it."
        ctx_b = ["then", "they", "The person", "[header] How to start", "she"][i % 5]
        if i % 3 == 0:
            ctx_a = f"[title] How to tidy {THINGS[(i + 3) % len(THINGS)]} [step] Clear the shelf.  Start  small."
        endings = []
        for j in range(4):
            e = f"{rng.choice(['puts', 'turns', 'drops', 'holds'])} it {rng.choice(['down', 'over', 'away', 'up'])} [step] and {rng.choice(VERBS)}."
            if (i + j) % 4 == 0:
                e = f"[title] Wait {rng.randint(1, 5)} minutes. [step]   Then rinse."
            if (i + j) % 5 == 1:
                e = f"smiles at the {rng.choice(['camera', 'crowd', 'dog'])}  and waves."
            endings.append(e)
        rows.append({"ind": i, "activity_label": label, "ctx_a": ctx_a, "ctx_b": ctx_b, "ctx": ctx_a + " " + ctx_b,
                     "endings": endings, "source_id": f"src~{i}", "split": "val", "split_type": "indomain",
                     "label": str(rng.randrange(4))})
    return rows

write("hellaswag", "validation", hellaswag(10 * S))
write("hellaswag", "train", hellaswag(8))

def obqa(n, prefix):
    rows = []
    for i in range(n):
        texts = rng.sample(ANSWERS, 4)
        stem = f"{THINGS[(i * 3) % len(THINGS)].capitalize()} needs"
        if i % 3 == 1:
            stem = f"When it is cold, {THINGS[(i * 3) % len(THINGS)]} "   # trailing space, as some OBQA stems
        rows.append({"id": f"{prefix}-{i}", "question_stem": stem,
                     "choices": {"text": texts, "label": ["A", "B", "C", "D"]}, "answerKey": "ABCD"[rng.randrange(4)]})
    return rows

write("openbookqa", "test", obqa(10 * S, "ob"))
write("openbookqa", "train", obqa(8, "obt"))

def wino(n):
    rows = []
    names = ["Maria", "Kenji", "Aisha", "Tomás", "Olek", "Priya"]
    for i in range(n):
        a, b = rng.sample(names, 2)
        if i % 3 == 0:
            s = f"{a} lent the book to {b} because _ had finished reading it."
        elif i % 3 == 1:
            s = f"The cup did not fit in the bag because the _ was too big"
        else:
            s = f"{a} was colder than {b}, so the blanket went to _."
        o1, o2 = (a, b) if i % 3 != 1 else ("cup", "bag")
        rows.append({"sentence": s, "option1": o1, "option2": o2, "answer": rng.choice(["1", "2"])})
    return rows

write("winogrande", "validation", wino(10 * S))
write("winogrande", "train", wino(8))

def mmlu(n, subject):
    rows = []
    for i in range(n):
        rows.append({"question": f"  Which statement about {THINGS[(i * 11) % len(THINGS)]} is true?\n",
                     "subject": subject, "choices": [f"It {v}." for v in rng.sample(VERBS, 4)], "answer": rng.randrange(4)})
    return rows

for subject in ["astronomy", "high_school_physics"]:
    write("mmlu_" + subject, "test", mmlu(6 * S, subject))
    write("mmlu_" + subject, "dev", mmlu(5, subject))

def trivia(n):
    rows = []
    for i in range(n):
        ans = rng.choice(ANSWERS)
        rows.append({"question": f"What does {THINGS[(i * 7 + 2) % len(THINGS)]} need most", "question_id": f"tq_{i}",
                     "question_source": "invented", "entity_pages": {"doc_source": [], "filename": [], "title": [], "wiki_context": []},
                     "search_results": {"description": [], "filename": [], "rank": [], "title": [], "url": [], "search_context": []},
                     "answer": {"aliases": [ans, ans.upper(), ans + "."], "normalized_aliases": [ans], "matched_wiki_entity_name": "",
                                "normalized_matched_wiki_entity_name": "", "normalized_value": ans, "type": "FreeForm", "value": ans}})
    return rows

write("triviaqa", "validation", trivia(6))
write("triviaqa", "train", trivia(7))

lambada = []
for i in range(8):
    t = THINGS[(i * 5) % len(THINGS)]
    lambada.append({"text": f"She walked to {t} every morning and said that {t} was her favourite place. When the storm came she ran back to {t.split()[-1]}"})
write("lambada_openai", "test", lambada)

pages = [
    " = The River Town = \n \n The river town was built in 1 @,@ 200 and grew to 3 @.@ 5 km . It has a bridge ( old ) and a \" new \" mill . \n",
    " = = Weather = = \n \n Winters are cold ; summers are warm , with 20 ° C days . The people 's market opens at noon ! \n",
]
write("wikitext", "test", [{"page": p} for p in pages])
write("wikitext", "train", [{"page": " = Notes = \n \n A short page . \n"}])
write("wikitext", "validation", [{"page": " = More notes = \n \n Another short page . \n"}])
# Splits only lighteval's task definitions read (small-doge's OBQA evaluates validation; its cloze
# MMLU takes few-shot examples from validation); drawn last so the files above stay as they were.
write("openbookqa", "validation", obqa(6 * S, "obv"))
for subject in ["astronomy", "high_school_physics"]:
    write("mmlu_" + subject, "validation", mmlu(5, subject))
print("wrote samples to", os.path.normpath(OUT))

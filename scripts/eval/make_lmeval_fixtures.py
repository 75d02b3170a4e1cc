"""Runs lm-evaluation-harness (HF backend, float32, batch size 1, CPU) on the bundled model over the
hand-written samples (scripts/eval/make_eval_samples.py) with the official task YAMLs of the
installed lm_eval, changed only to read the local JSON files, and writes what it computed per
document (contexts, continuations, per-choice log-likelihoods, greedy flags, responses) and per task
(metrics, stderrs) to Tests/DogeEvalTests/Fixtures/lmeval_<N>shot.json.

    pip install lm_eval torch transformers datasets
    python3 scripts/eval/make_lmeval_fixtures.py            # 0-shot and 5-shot
"""
import json, os, platform, re, shutil, sys, tempfile

import datasets, lm_eval, torch, transformers
from lm_eval import simple_evaluate
from lm_eval.models.huggingface import HFLM
from lm_eval.tasks import TaskManager

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "Tests", "DogeEvalTests", "Fixtures", "data")
OUT = os.path.join(ROOT, "Tests", "DogeEvalTests", "Fixtures")
MODEL = os.path.join(ROOT, "Models", "doge-tiny")
TASKS = os.path.join(os.path.dirname(lm_eval.__file__), "tasks")

OFFICIAL = {
    "arc_easy": "arc/arc_easy.yaml", "arc_challenge": "arc/arc_easy.yaml", "piqa": "piqa/piqa.yaml",
    "hellaswag": "hellaswag/hellaswag.yaml", "openbookqa": "openbookqa/openbookqa.yaml",
    "winogrande": "winogrande/default.yaml", "triviaqa": "triviaqa/default.yaml",
    "lambada_openai": "lambada/lambada_openai.yaml", "wikitext": "wikitext/wikitext.yaml",
    "mmlu_astronomy": "mmlu/default/mmlu_astronomy.yaml", "mmlu_high_school_physics": "mmlu/default/mmlu_high_school_physics.yaml",
}


def local_yaml(name, tmp, data=DATA):
    """The official YAML text with only the data source changed (and the task renamed fx_<name>)."""
    src = os.path.join(TASKS, OFFICIAL[name])
    text = open(src).read()
    if name.startswith("mmlu_"):   # flatten the include: the template, then the subject's keys
        template = open(os.path.join(os.path.dirname(src), "_default_template_yaml")).read()
        text = template + "\n" + "\n".join(l for l in text.splitlines() if not l.startswith('"include"'))
    if name == "arc_challenge":
        text = text.replace("dataset_name: ARC-Easy", "dataset_name: ARC-Challenge").replace("task: arc_easy", "task: arc_challenge")
    for py in ("utils.py", "preprocess_winogrande.py", "preprocess_wikitext.py"):
        p = os.path.join(os.path.dirname(src), py)
        if os.path.exists(p):
            shutil.copy(p, tmp)
    lines = []
    for line in text.splitlines():
        key = line.split(":")[0].strip().strip('"')
        if key in ("dataset_path", "dataset_name", "task", "tag") or line.startswith("  - ai2_arc") or line.startswith("  - multiple_choice") or line.startswith("  - lambada"):
            continue
        lines.append(line)
    splits = {os.path.splitext(f)[0]: os.path.join(data, name, f) for f in os.listdir(os.path.join(data, name))}
    lines = [f"task: fx_{name}", "dataset_path: json", "dataset_kwargs:", "  data_files:"] + \
            [f"    {s}: {p}" for s, p in sorted(splits.items())] + lines
    open(os.path.join(tmp, f"fx_{name}.yaml"), "w").write("\n".join(lines) + "\n")


def main():
    torch.manual_seed(0)
    tmp = tempfile.mkdtemp()
    for name in OFFICIAL:
        local_yaml(name, tmp)
    manager = TaskManager(include_path=tmp, include_defaults=False)
    lm = HFLM(pretrained=MODEL, dtype="float32", batch_size=1, device="cpu")
    versions = {"lm_eval": lm_eval.__version__, "torch": torch.__version__, "transformers": transformers.__version__,
                "datasets": datasets.__version__, "python": platform.python_version()}
    for shots in (0, 5):
        names = [n for n in OFFICIAL if not (shots and n == "wikitext")]
        out = simple_evaluate(model=lm, tasks=[f"fx_{n}" for n in names], num_fewshot=shots, log_samples=True,
                              task_manager=manager, random_seed=0, numpy_random_seed=1234, torch_random_seed=1234,
                              fewshot_random_seed=1234)
        fixture = {"versions": versions, "num_fewshot": shots, "model": "Models/doge-tiny", "tasks": {}}
        for n in names:
            res = out["results"][f"fx_{n}"]
            metrics = {}
            for k, v in res.items():
                if "," not in k:
                    continue
                m, _, f = k.partition(",")
                metrics[m] = v if v != "N/A" else None
            samples = []
            for s in out["samples"][f"fx_{n}"]:
                entry = {"doc_id": s["doc_id"], "arguments": [[a for a in arg if isinstance(a, str)] for arg in s["arguments"]]}
                fr = s["filtered_resps"]
                if fr and isinstance(fr[0], (list, tuple)):
                    entry["loglikelihoods"] = [float(r[0]) for r in fr]
                    entry["is_greedy"] = [bool(r[1]) for r in fr]
                elif fr and isinstance(fr[0], float):
                    entry["loglikelihoods"] = [float(fr[0])]
                else:
                    entry["response"] = fr[0] if isinstance(fr, list) else fr
                for m in metrics:
                    if m.endswith("_stderr"):
                        continue
                    if m in s and isinstance(s[m], (int, float)):
                        entry[m] = s[m]
                samples.append(entry)
            fixture["tasks"][n] = {"metrics": metrics, "samples": samples}
        path = os.path.join(OUT, f"lmeval_{shots}shot.json")
        json.dump(fixture, open(path, "w"), indent=1, ensure_ascii=False)
        print("wrote", path)


if __name__ == "__main__":
    main()

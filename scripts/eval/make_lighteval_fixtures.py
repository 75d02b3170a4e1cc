"""Runs lighteval 0.8.1 (the version small-doge's evaluation pinned) with small-doge's task
definitions on the bundled model over the hand-written samples, and writes what it computed per
document (context, continuations, per-choice log-likelihoods, generated answers, per-document
scores) and per task (metric means) to Tests/DogeEvalTests/Fixtures/lighteval_<N>shot.json.

What runs is lighteval's own code: its TransformersModel (float32, CPU, batch size 1,
max_length 2048: small-doge's settings less bf16), its prompt functions, few-shot manager and
`create_requests_from_tasks` (document shuffle, samplers), its metrics (`apply_multichoice_metric`,
`apply_generative_metric`). The task configurations are the real ones: small-doge's
evaluation/base/tasks.py (custom|arc, custom|mmlu, custom|openbook_qa, custom|trivia_qa) and
lighteval's default_tasks (leaderboard|hellaswag, leaderboard|winogrande, lighteval|piqa). Only the
data source is replaced (lighteval's hub download → the local JSON Lines files); the Pipeline
class that glues these calls together is not used. Fixtures committed were made with lighteval 0.8.1,
transformers 5.24.0, torch 2.15.0, datasets 5.2.0 (recorded in each file) and small-doge at commit
0e305a7 (evaluation/base/tasks.py as of 5f08588, 2025-03-26).

    python3 -m venv --system-site-packages /tmp/le && /tmp/le/bin/pip install --no-deps lighteval==0.8.1 \
        && /tmp/le/bin/pip install pycountry aenum termcolor==2.3.0 colorlog latex2sympy2_extended
    git -C small-doge show HEAD:evaluation/base/tasks.py > /tmp/small_doge_tasks.py
    /tmp/le/bin/python scripts/eval/make_lighteval_fixtures.py --small-doge-tasks /tmp/small_doge_tasks.py
"""
import argparse, dataclasses, importlib.util, json, os, platform, random, sys
from collections import defaultdict

import datasets, torch, transformers
import lighteval
import lighteval.tasks.lighteval_task as lt
from lighteval.metrics import apply_generative_metric, apply_multichoice_metric
from lighteval.metrics.utils.metric_utils import MetricCategory
from lighteval.models.transformers.transformers_model import TransformersModel, TransformersModelConfig
from lighteval.tasks import default_tasks
from lighteval.tasks.requests import RequestType, SampleUid
from lighteval.utils.utils import EnvConfig

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(ROOT, "Tests", "DogeEvalTests", "Fixtures", "data")
OUT = os.path.join(ROOT, "Tests", "DogeEvalTests", "Fixtures")
MODEL = os.path.join(ROOT, "Models", "doge-tiny")


def local_loader(dataset_path, dataset_config_name, trust_dataset, dataset_filter=None, revision=None):
    """lighteval's download_dataset_worker, reading DATA/<task>/<split>.jsonl instead of the hub."""
    files = {os.path.splitext(f)[0]: os.path.join(dataset_path, f) for f in sorted(os.listdir(dataset_path))}
    ds = datasets.load_dataset("json", data_files=files)
    return ds.filter(dataset_filter) if dataset_filter is not None else ds


class Tracker:
    """The two loggers create_requests_from_tasks writes to."""
    class _Log:
        def log_num_docs(self, *a): pass
        def log(self, *a): pass
    task_config_logger = _Log()
    versions_logger = _Log()


def configs(small_doge_tasks):
    spec = importlib.util.spec_from_file_location("small_doge_tasks", small_doge_tasks)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    custom = {c.name: c for c in mod.TASKS_TABLE}
    # small-doge's evaluation/base/doge_base.txt: which suite each of its task lines reads.
    return {
        "arc_easy": custom["arc:easy"], "arc_challenge": custom["arc:challenge"],
        "piqa": default_tasks.piqa_lighteval, "hellaswag": default_tasks.hellaswag_leaderboard,
        "winogrande": default_tasks.winogrande_leaderboard, "openbookqa": custom["openbook_qa"],
        "triviaqa": custom["trivia_qa"],
        "mmlu_astronomy": custom["mmlu:astronomy"], "mmlu_high_school_physics": custom["mmlu:high_school_physics"],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small-doge-tasks", required=True, help="small-doge's evaluation/base/tasks.py")
    ap.add_argument("--shots", type=int, nargs="+", default=[0, 5])
    a = ap.parse_args()
    lt.download_dataset_worker = local_loader
    torch.manual_seed(0)
    lm = TransformersModel(EnvConfig(), TransformersModelConfig(pretrained=MODEL, dtype="float32", device="cpu",
                                                                max_length=2048, batch_size=1))
    versions = {"lighteval": lighteval.__version__ if hasattr(lighteval, "__version__") else "0.8.1",
                "torch": torch.__version__, "transformers": transformers.__version__, "datasets": datasets.__version__,
                "python": platform.python_version()}
    cfgs = configs(a.small_doge_tasks)
    for shots in a.shots:
        fixture = {"versions": versions, "num_fewshot": shots, "model": "Models/doge-tiny", "tasks": {}}
        for name, cfg in cfgs.items():
            cfg = dataclasses.replace(cfg, hf_repo=os.path.join(DATA, name))
            task = lt.LightevalTask(name, cfg)
            requests, docs = lt.create_requests_from_tasks({name: task}, {name: [(shots, False)]}, 1, lm, None, Tracker(), False, None)
            n = len(task.eval_docs())
            order = list(range(n))
            rnd = random.Random()
            rnd.seed(42)
            rnd.shuffle(order)   # the permutation create_requests_from_tasks applied: position → row
            responses = defaultdict(dict)
            for kind, reqs in requests.items():
                if kind == RequestType.LOGLIKELIHOOD:
                    outs = lm.loglikelihood(reqs, override_bs=1)   # small-doge: --override-batch-size 1
                elif kind == RequestType.GREEDY_UNTIL:
                    outs = lm.greedy_until(reqs, override_bs=1)
                else:
                    raise SystemExit(f"{name}: request type {kind} not handled")
                for r, o in zip(reqs, outs):
                    responses[r.sample_index][r.request_index] = (r, o)
            samples, sums = [], defaultdict(float)
            for position in range(n):
                uid = f"{position}_0"
                doc = docs[SampleUid(f"{name}|{shots}", uid)]
                got = [responses[uid][i] for i in sorted(responses[uid])]
                entry = {"doc_id": order[position], "position": position, "context": doc.ctx}
                if task.has_metric_category[MetricCategory.GENERATIVE]:
                    scores = apply_generative_metric([uid], [[o for _, o in got]], [doc], task.metrics)[0]
                    entry["response"] = got[0][1].result[0]
                    entry["golds"] = doc.get_golds()
                else:
                    scores = apply_multichoice_metric([uid], [[o for _, o in got]], [doc], task.metrics)[0]
                    entry["continuations"] = [r.choice for r, _ in got]
                    entry["loglikelihoods"] = [float(o.result[0]) for _, o in got]
                    entry["is_greedy"] = [bool(o.result[1]) for _, o in got]
                    entry["gold"] = doc.gold_index
                entry["scores"] = {k: float(v) for k, v in scores.items()}
                for k, v in scores.items():
                    sums[k] += float(v)
                samples.append(entry)
            fixture["tasks"][name] = {"metrics": {k: v / n for k, v in sums.items()},
                                      "metric_kinds": [m.sample_level_fn.__self__.__class__.__name__ + (
                                          "(nospace)" if getattr(getattr(m.sample_level_fn.__self__, "logprob_normalization", None), "ignore_first_space", False) else "")
                                          for m in task.metrics],
                                      "samples": samples}
            print(f"{shots}-shot {name}: {fixture['tasks'][name]['metrics']}", flush=True)
        path = os.path.join(OUT, f"lighteval_{shots}shot.json")
        json.dump(fixture, open(path, "w"), indent=1, ensure_ascii=False)
        print("wrote", path)


if __name__ == "__main__":
    main()

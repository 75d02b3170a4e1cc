"""Documents per second of `doge eval` and lm-evaluation-harness's HF backend (float32, batch size
1, CPU) on the same tasks, model and machine, runs alternating (doge, lm-eval, doge, lm-eval).
Data: the hand-written sample generator at --scale (invented documents in each task's columns).

    swift build -c release --product doge
    python3 scripts/eval/bench_vs_lmeval.py --scale 8 --shots 0 5
"""
import argparse, os, platform, re, resource, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(__file__))
import make_lmeval_fixtures as fx  # noqa: E402

ROOT = fx.ROOT
TASKS = ["arc_easy", "piqa", "hellaswag", "openbookqa", "winogrande", "mmlu_astronomy", "mmlu_high_school_physics"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=int, default=8)
    ap.add_argument("--shots", type=int, nargs="+", default=[0, 5])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--doge", default=os.path.join(ROOT, ".build", "release", "doge"))
    ap.add_argument("--threads", type=int, default=0, help="threads for both (torch.set_num_threads, DOGE_THREADS); 0 = their defaults")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    data = os.path.join(tmp, "data")
    subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "make_eval_samples.py"), "--out", data, "--scale", str(a.scale)], check=True)
    yamls = os.path.join(tmp, "yaml")
    os.makedirs(yamls)
    for t in TASKS:
        fx.local_yaml(t, yamls, data)
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    manager = TaskManager(include_path=yamls, include_defaults=False)
    if a.threads:
        fx.torch.set_num_threads(a.threads)
        os.environ["DOGE_THREADS"] = str(a.threads)
    lm = HFLM(pretrained=fx.MODEL, dtype="float32", batch_size=1, device="cpu")
    cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines() if l.startswith("Model name")), platform.processor())
    print(f"CPU: {cpu}; lm_eval {fx.lm_eval.__version__}, torch {fx.torch.__version__} ({fx.torch.get_num_threads()} threads)")
    def doge(shots, r):
        load = os.getloadavg()[0]
        c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        p = subprocess.run([a.doge, "eval", "--model", fx.MODEL, "--tasks", ",".join(TASKS), "--data-dir", data,
                            "--num-fewshot", str(shots), "--bootstrap-iters", "0"], capture_output=True, text=True, check=True)
        c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime)   # whole process, model load included
        m = re.search(r"(\d+) documents in ([\d.]+) s \(([\d.]+) docs/s\)", p.stderr)
        n = int(m.group(1))
        print(f"{shots}-shot round {r + 1}: doge    {n} docs in {float(m.group(2)):7.1f} s = {float(m.group(3)):7.1f} docs/s; "
              f"CPU {cpu:6.1f} s = {n / cpu:6.1f} docs per CPU-second (load avg {load:.1f})", flush=True)

    for shots in a.shots:
        for r in range(a.rounds):
            doge(shots, r)
            load = os.getloadavg()[0]
            t0, c0 = time.time(), time.process_time()
            out = simple_evaluate(model=lm, tasks=[f"fx_{t}" for t in TASKS], num_fewshot=shots, task_manager=manager,
                                  bootstrap_iters=0, random_seed=0, numpy_random_seed=1234, torch_random_seed=1234, fewshot_random_seed=1234)
            dt, cpu = time.time() - t0, time.process_time() - c0
            n = sum(v["effective"] for v in out["n-samples"].values())
            print(f"{shots}-shot round {r + 1}: lm-eval {n} docs in {dt:7.1f} s = {n / dt:7.1f} docs/s; "
                  f"CPU {cpu:6.1f} s = {n / cpu:6.1f} docs per CPU-second (load avg {load:.1f})", flush=True)
        doge(shots, a.rounds)   # ours, theirs, …, ours


if __name__ == "__main__":
    main()

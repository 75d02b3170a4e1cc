"""Writes Tasks/mmlu/: one task file per MMLU subject plus the groups, with the subjects,
categories and descriptions lm-eval uses (read from the installed lm_eval package)."""
import glob, json, os, yaml, lm_eval

src = os.path.join(os.path.dirname(lm_eval.__file__), "tasks", "mmlu", "default")
out = os.path.join(os.path.dirname(__file__), "..", "..", "Tasks", "mmlu")
os.makedirs(out, exist_ok=True)

template = """# lm-eval's MMLU prompt (cais/mmlu): the subject line, the question, A-D, "Answer:"; choices
# scored as " A".." D"; the first 5 dev questions as few-shot examples.
dataset_path: cais/mmlu
test_split: test
fewshot_split: dev
fewshot_config:
  sampler: first_n
output_type: multiple_choice
doc_to_text: "{{question.strip()}}\\nA. {{choices[0]}}\\nB. {{choices[1]}}\\nC. {{choices[2]}}\\nD. {{choices[3]}}\\nAnswer:"
doc_to_choice: ["A", "B", "C", "D"]
doc_to_target: answer
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""
open(os.path.join(out, "_default_template_yaml"), "w").write(template)
for path in sorted(glob.glob(os.path.join(src, "mmlu_*.yaml"))):
    cfg = yaml.safe_load(open(path))
    subject = cfg["dataset_name"]
    with open(os.path.join(out, os.path.basename(path)), "w") as f:
        f.write(f'include: _default_template_yaml\ntask: {cfg["task"]}\ntask_alias: {cfg["task_alias"]}\n'
                f'dataset_name: {subject}\ntag: {cfg["tag"]}\ndescription: {json.dumps(cfg["description"])}\n')
for path in sorted(glob.glob(os.path.join(src, "_mmlu*.yaml"))):
    cfg = yaml.safe_load(open(path))
    lines = [f'group: {cfg["group"]}']
    if "group_alias" in cfg:
        lines.append(f'group_alias: {cfg["group_alias"]}')
    lines.append("task:")
    lines += [f"  - {t}" for t in cfg["task"]]
    lines.append("aggregate_metric_list:\n  - metric: acc\n    weight_by_size: true")
    lines.append(f'metadata:\n  version: {cfg["metadata"]["version"]}')
    open(os.path.join(out, os.path.basename(path)), "w").write("\n".join(lines) + "\n")
print("wrote", len(os.listdir(out)), "files to", out)

# lighteval's cloze MMLU as small-doge evaluates it (custom|mmlu:<subject>, evaluation/base/tasks.py):
# the subject line of the row, "Question: {question}\nAnswer:", the answer texts as choices, the
# first 5 validation questions as few-shot examples; acc_norm_nospace; the group is lighteval's
# `mmlu:_average`, the plain mean over subjects.
light = os.path.join(os.path.dirname(__file__), "..", "..", "Tasks", "lighteval", "mmlu")
os.makedirs(light, exist_ok=True)
open(os.path.join(light, "_lighteval_template_yaml"), "w").write("""# small-doge's cloze MMLU prompt (mmlu_cloze_prompt): "The following are questions about {subject}.\\n"
# then "Question: {question}\\nAnswer:"; choices " {answer text}"; few-shot examples: lighteval's
# "random" selection with variance seed 0, i.e. the validation split in order, the evaluated
# question left out.
style: lighteval
dataset_path: cais/mmlu
test_split: test
fewshot_split: validation
fewshot_config:
  sampler: random
num_fewshot: 5
output_type: multiple_choice
description: "The following are questions about {{subject.replace('_', ' ')}}.\\n"
doc_to_text: "Question: {{question}}\\nAnswer:"
doc_to_choice: "[{% for c in choices %}{{ (' ' ~ c) | tojson }}{% if not loop.last %}, {% endif %}{% endfor %}]"
doc_to_target: answer
target_delimiter: ""
metric_list:
  - metric: acc_norm_nospace
metadata:
  version: 0
""")
subjects = []
for path in sorted(glob.glob(os.path.join(src, "mmlu_*.yaml"))):
    cfg = yaml.safe_load(open(path))
    subjects.append(cfg["task"])
    with open(os.path.join(light, os.path.basename(path)), "w") as f:
        f.write(f'include: _lighteval_template_yaml\ntask: {cfg["task"]}\ndataset_name: {cfg["dataset_name"]}\n')
open(os.path.join(light, "_mmlu.yaml"), "w").write(
    "# lighteval's custom|mmlu:_average: the unweighted mean of the subjects' scores.\nstyle: lighteval\ngroup: mmlu\ntask:\n"
    + "".join(f"  - {t}\n" for t in subjects)
    + "aggregate_metric_list:\n  - metric: acc_norm_nospace\n    weight_by_size: false\nmetadata:\n  version: 0\n")
print("wrote", len(os.listdir(light)), "files to", light)

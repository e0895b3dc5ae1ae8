"""Training throughput and peak memory: germinate's LoRA batching vs the plain padded baseline.

    python bench/training_throughput.py [--examples 48] [--max-length 256]

Both runs fine-tune the embedded SmolLM2-135M with the same LoRA (rank 64, alpha 64, q_proj and
v_proj), batch size 8, one epoch, on the same fixed variable-length chat examples (TREC, banking77
and e-commerce inputs from the shared datasets), each in a fresh process so peak memory is its own:

* ours: length-grouped batches, each padded only to its own longest sequence, loss on the
  assistant's tokens with the LM head run at those positions only (germinate's trainer);
* baseline: transformers Trainer, every batch padded to the longest sequence in the dataset,
  loss on all tokens.

Useful tokens/s counts non-padding tokens only. Peak memory is the process's resident high-water
mark during training (reset just before it starts), so model loading does not mask it. Prints
both, and ours / baseline.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def examples(n: int) -> list[list[dict]]:
    from _data import rows

    pool = []
    for name in ("trec", "banking77", "ecommerce"):
        pool += [r for r in rows(name, "test")[: n // 3 + 1]]
    return [
        [
            {"role": "system", "content": "Classify the text."},
            {"role": "user", "content": r["input"]},
            {"role": "assistant", "content": r["output"]},
        ]
        for r in pool[:n]
    ]


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb() -> float:
    return _status("VmRSS")


def _peak_mb() -> float:
    return _status("VmHWM")


def run(mode: str, n: int, max_length: int) -> dict:
    from peft import LoraConfig, get_peft_model
    from transformers import Trainer, TrainingArguments, set_seed

    from germinate.student.load import hf_folder, load_model, load_tokenizer
    from germinate.student.train import IGNORE, AssistantLossTrainer, Collator, _Dataset, encode

    set_seed(0)
    folder = hf_folder("smollm2-135m")
    tokenizer = load_tokenizer(folder)
    items = [e for e in (encode(tokenizer, m, max_length) for m in examples(n)) if e is not None]
    useful = sum(len(i["input_ids"]) for i in items)
    if mode == "baseline":
        width = max(len(i["input_ids"]) for i in items)
        pad = tokenizer.pad_token_id
        items = [
            {
                "input_ids": i["input_ids"] + [pad] * (width - len(i["input_ids"])),
                "labels": i["input_ids"] + [IGNORE] * (width - len(i["input_ids"])),
            }
            for i in items
        ]
        sampling = "random"
    else:
        sampling = "group_by_length"
    model = get_peft_model(
        load_model(folder), LoraConfig(r=64, lora_alpha=64, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM")
    )
    args = TrainingArguments(
        output_dir="/tmp/germinate-bench-train",
        num_train_epochs=1,
        per_device_train_batch_size=8,
        learning_rate=5e-5,
        train_sampling_strategy=sampling,
        report_to=[],
        save_strategy="no",
        disable_tqdm=True,
        remove_unused_columns=False,
        use_cpu=True,
        logging_strategy="no",
    )
    make = Trainer if mode == "baseline" else AssistantLossTrainer
    trainer = make(
        model=model, args=args, train_dataset=_Dataset(items), data_collator=Collator(tokenizer.pad_token_id)
    )
    before = _rss_mb()
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak so it measures training alone
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    processed = sum(len(i["input_ids"]) for i in items) if mode == "baseline" else None
    return {
        "mode": mode,
        "examples": len(items),
        "useful_tokens": useful,
        "seconds": round(seconds, 2),
        "useful_tokens_per_s": round(useful / seconds, 1),
        "rss_before_training_mb": round(before, 1),
        "peak_rss_training_mb": round(_peak_mb(), 1),
        "peak_growth_mb": round(_peak_mb() - before, 1),
        "padded_tokens_processed": processed,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=48)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--mode", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "training_throughput.json")
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(run(args.mode, args.examples, args.max_length)))
        return
    results = {}
    for mode in ("baseline", "ours"):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--mode",
                mode,
                "--examples",
                str(args.examples),
                "--max-length",
                str(args.max_length),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        results[mode] = json.loads(out.stdout.strip().splitlines()[-1])
    ours, base = results["ours"], results["baseline"]
    results["speedup_useful_tokens_per_s"] = round(ours["useful_tokens_per_s"] / base["useful_tokens_per_s"], 2)
    results["peak_memory_ratio"] = round(ours["peak_rss_training_mb"] / base["peak_rss_training_mb"], 3)
    results["peak_growth_ratio"] = round(ours["peak_growth_mb"] / base["peak_growth_mb"], 3)
    print(f"LoRA training, SmolLM2-135M, {ours['examples']} variable-length examples, batch 8, 1 epoch")
    for row in (base, ours):
        print(
            f"  {row['mode']:8s} {row['useful_tokens_per_s']:8.1f} useful tok/s  {row['seconds']:7.1f} s  "
            f"peak RSS while training {row['peak_rss_training_mb']:.0f} MB (+{row['peak_growth_mb']:.0f} MB over the loaded model)"
        )
    print(
        f"  ours / baseline: {results['speedup_useful_tokens_per_s']}x useful tokens/s, "
        f"{results['peak_memory_ratio']}x peak memory ({results['peak_growth_ratio']}x the growth)"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

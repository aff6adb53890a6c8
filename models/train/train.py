"""Fine-tune a BERT encoder for biomedical NER (Chemical, Disease) on token<TAB>BIO files.

Labels are assigned per BERT *word* (the basic tokenizer's whitespace/punctuation split), which is
the unit the runtime's `first` aggregation predicts: the first word of a data token gets the
token's tag, later words of the same token get I-<type> (or O), and only the first sub-token of
each word carries a label (-100 on the rest).

Model selection uses the dev splits only (micro-F1 on BC5CDR dev, strict entity match at the
data-token level). Writes the best checkpoint (state_dict + metadata) to --out.

  /usr/bin/python3 models/train/train.py --encoder-onnx X.onnx --vocab vocab.txt \
      --train a/train.tsv b/train.tsv --dev a/devel.tsv --out ckpt.pt
  /usr/bin/python3 models/train/train.py --smoke     # a few steps on a tiny random encoder
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from medner_bert import (  # noqa: E402
    LABELS, PAD_ID, BertConfig, BertForTokenClassification, basic_tokenize, config_from_onnx, init_random,
    load_encoder_onnx, load_vocab, wordpiece,
)

LABEL_ID = {l: i for i, l in enumerate(LABELS)}


def set_labels(types: list[str]) -> None:
    """Replace the BIO label set (default: medner_bert.LABELS, BC5CDR's Chemical and Disease) by
    O + B-/I- of each entity type, in the given order (--labels)."""
    global LABELS, LABEL_ID
    LABELS = ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]
    LABEL_ID = {l: i for i, l in enumerate(LABELS)}


def read_bio(path: str) -> list[list[tuple[str, str]]]:
    """token<TAB>tag lines, blank line between sentences."""
    sents, cur = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                if cur:
                    sents.append(cur)
                cur = []
                continue
            tok, tag = line.split("\t")[:2]
            cur.append((tok, tag))
    if cur:
        sents.append(cur)
    return sents


def encode(sent, vocab, lower=True, max_len=128):
    """-> (input_ids, labels, first_piece_index_of_each_data_token or -1 when truncated)."""
    ids, labels, token_first = [vocab["[CLS]"]], [-100], []
    for tok, tag in sent:
        words = basic_tokenize(tok, lower) or []
        first_idx = -1
        for wi, w in enumerate(words):
            if wi == 0:
                wtag = tag
            else:
                wtag = "I-" + tag[2:] if tag != "O" else "O"
            for pi, p in enumerate(wordpiece(w, vocab)):
                if len(ids) >= max_len - 1:
                    break
                if wi == 0 and pi == 0:
                    first_idx = len(ids)
                ids.append(vocab[p])
                labels.append(LABEL_ID[wtag] if pi == 0 else -100)
        token_first.append(first_idx)
    ids.append(vocab["[SEP]"])
    labels.append(-100)
    return ids, labels, token_first


def spans(tags: list[str]) -> set[tuple[int, int, str]]:
    """Strict BIO spans (start, end_exclusive, type); an I- after O or another type starts a span."""
    out, start, typ = set(), None, None
    for i, t in enumerate(tags + ["O"]):
        if t == "O" or t.startswith("B-") or (t.startswith("I-") and t[2:] != typ):
            if start is not None:
                out.add((start, i, typ))
            start, typ = (i, t[2:]) if t != "O" else (None, None)
    return out


def batches(examples, batch_size, shuffle, rng):
    """Length-bucketed batches: sort by length, chunk, shuffle chunk order."""
    order = sorted(range(len(examples)), key=lambda i: len(examples[i][0]))
    chunks = [order[i: i + batch_size] for i in range(0, len(order), batch_size)]
    if shuffle:
        rng.shuffle(chunks)
    return chunks


def collate(examples, idx):
    n = max(len(examples[i][0]) for i in idx)
    ids = torch.full((len(idx), n), PAD_ID, dtype=torch.long)
    lab = torch.full((len(idx), n), -100, dtype=torch.long)
    mask = torch.zeros((len(idx), n), dtype=torch.long)
    for r, i in enumerate(idx):
        e_ids, e_lab = examples[i][0], examples[i][1]
        ids[r, : len(e_ids)] = torch.tensor(e_ids)
        lab[r, : len(e_lab)] = torch.tensor(e_lab)
        mask[r, : len(e_ids)] = 1
    return ids, mask, lab


def evaluate(model, sents, examples, batch_size=64):
    """Strict entity P/R/F1 per type + micro, at the data-token level (first word's first piece)."""
    model.eval()
    tp, fp, fn = {}, {}, {}
    with torch.no_grad():
        for idx in batches(examples, batch_size, False, None):
            ids, mask, _ = collate(examples, idx)
            pred = model(ids, mask, torch.zeros_like(ids)).argmax(-1)
            for r, i in enumerate(idx):
                gold_tags = [t for _, t in sents[i]]
                pred_tags = [LABELS[pred[r, j]] if j >= 0 else "O" for j in examples[i][2]]
                g, p = spans(gold_tags), spans(pred_tags)
                for s in p:
                    (tp if s in g else fp)[s[2]] = (tp if s in g else fp).get(s[2], 0) + 1
                for s in g - p:
                    fn[s[2]] = fn.get(s[2], 0) + 1
    model.train()

    def prf(a, b, c):
        p = a / (a + b) if a + b else 0.0
        r = a / (a + c) if a + c else 0.0
        return {"p": p, "r": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "tp": a, "fp": b, "fn": c}

    types = sorted(set(tp) | set(fp) | set(fn))
    res = {t: prf(tp.get(t, 0), fp.get(t, 0), fn.get(t, 0)) for t in types}
    res["micro"] = prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return res


def mask_unannotated_chemicals(train_ex, train_by_file, mask_files, checkpoint, config):
    """Corpora without Chemical annotations (NCBI-disease) label their chemicals O, which teaches
    the model that chemicals are O. Where a reference model (an earlier checkpoint trained on
    BC5CDR) predicts B-/I-Chemical on a gold-O word of such a corpus, drop that word's loss."""
    if not checkpoint:
        raise SystemExit("--mask-o-files needs --mask-o-checkpoint")
    ref = BertForTokenClassification(config)
    ref.load_state_dict(torch.load(checkpoint)["state_dict"])
    ref.eval()
    chem = {LABEL_ID["B-Chemical"], LABEL_ID["I-Chemical"]}
    o = LABEL_ID["O"]
    start, spans_by_file = 0, []
    for path, sents in train_by_file:
        spans_by_file.append((path, start, start + len(sents)))
        start += len(sents)
    wanted = {os.path.abspath(p) for p in mask_files}
    masked = words = 0
    with torch.no_grad():
        for path, lo, hi in spans_by_file:
            if os.path.abspath(path) not in wanted:
                continue
            sub = train_ex[lo:hi]
            for idx in batches(sub, 64, False, None):
                ids, mask, _ = collate(sub, idx)
                pred = ref(ids, mask, torch.zeros_like(ids)).argmax(-1)
                for r, i in enumerate(idx):
                    lab = sub[i][1]
                    for j, l in enumerate(lab):
                        if l == o:
                            words += 1
                            if int(pred[r, j]) in chem:
                                lab[j] = -100
                                masked += 1
    print(f"masked {masked} of {words} gold-O words predicted Chemical by {os.path.basename(checkpoint)} "
          f"in {len(wanted)} file(s)", flush=True)


def smoke_data():
    s = [
        [("Cisplatin", "B-Chemical"), ("caused", "O"), ("acute", "B-Disease"), ("renal", "I-Disease"), ("failure", "I-Disease"), (".", "O")],
        [("Aspirin", "B-Chemical"), ("reduced", "O"), ("headache", "B-Disease"), ("in", "O"), ("patients", "O"), (".", "O")],
        [("No", "O"), ("hepatitis", "B-Disease"), ("after", "O"), ("Na+", "B-Chemical"), ("infusion", "O"), (".", "O")],
        [("Lithium", "B-Chemical"), ("-", "O"), ("induced", "O"), ("tremor", "B-Disease"), ("was", "O"), ("seen", "O"), (".", "O")],
    ]
    words = sorted({w for sent in s for tok, _ in sent for w in basic_tokenize(tok)})
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words)}
    return s, vocab


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoder-onnx", help="all-MiniLM-L6-v2 ONNX to initialise from (omit: random init)")
    ap.add_argument("--vocab")
    ap.add_argument("--init-checkpoint", help="continue from a train.py checkpoint (a second, shorter schedule)")
    ap.add_argument("--train", nargs="+", default=[])
    ap.add_argument("--dev", nargs="+", default=[], help="dev files; the FIRST one drives model selection")
    ap.add_argument("--out", default="checkpoint.pt")
    ap.add_argument("--epochs", type=float, default=4.0)
    ap.add_argument("--total-steps", type=int, default=0, help="schedule length in steps (overrides --epochs)")
    ap.add_argument("--stop-step", type=int, default=0, help="stop after this step, keeping the schedule (reproduces a run cut short)")
    ap.add_argument("--max-minutes", type=float, default=0, help="cap the schedule so training ends in this many minutes (0 = no cap)")
    ap.add_argument("--cap-can-grow", action="store_true",
                    help="with --max-minutes: let the schedule grow back (up to the planned steps) when steps get faster "
                         "(a shared machine's load drops); default: it only ever shrinks")
    ap.add_argument("--cap-window", type=int, default=20, help="with --max-minutes: re-estimate the step time every this many steps")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--warmup", type=float, default=0.06)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=0, help="steps between dev checks (0: twice per epoch)")
    ap.add_argument("--eval-subset", type=int, default=1500, help="dev sentences used during training (0: all)")
    ap.add_argument("--mask-o-files", nargs="*", default=[],
                    help="train files without Chemical annotations (NCBI-disease): their O labels where "
                         "--mask-o-checkpoint predicts Chemical become -100 (no loss) instead of O")
    ap.add_argument("--mask-o-checkpoint", help="train.py checkpoint that finds unannotated chemicals in --mask-o-files")
    ap.add_argument("--labels", default="",
                    help="comma-separated entity types (default: Chemical,Disease); the BIO labels are O, then B-/I- per type in this order")
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--skip-final-eval", action="store_true",
                    help="do not re-score the best checkpoint on the full dev files at the end (time-boxed runs; medner eval scores the export)")
    ap.add_argument("--smoke", action="store_true", help="tiny random encoder, built-in sentences, 2 steps")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    if args.labels:
        set_labels([t for t in args.labels.split(",") if t])
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    if args.smoke:
        train_sents, vocab = smoke_data()
        dev_sents = [train_sents]
        config = BertConfig(vocab_size=len(vocab), hidden=32, layers=2, heads=2, intermediate=64, max_position=64)
        args.batch_size, args.epochs, args.eval_subset = 2, 1.0, 0
    else:
        vocab = load_vocab(args.vocab)
        train_by_file = [(p, read_bio(p)) for p in args.train]
        train_sents = [s for _, ss in train_by_file for s in ss]
        dev_sents = [read_bio(p) for p in args.dev]
        if args.init_checkpoint:
            config = BertConfig(**torch.load(args.init_checkpoint)["config"])
        elif args.encoder_onnx:
            config = config_from_onnx(args.encoder_onnx)
        else:
            config = BertConfig(vocab_size=len(vocab))
        if config.vocab_size != len(vocab):
            raise SystemExit(f"vocabulary has {len(vocab)} entries but the encoder has {config.vocab_size}")

    model = BertForTokenClassification(config, len(LABELS))
    if args.encoder_onnx and not args.smoke:
        init_random(model.classifier)
        load_encoder_onnx(model.bert, args.encoder_onnx)
        print(f"encoder initialised from {os.path.basename(args.encoder_onnx)}", flush=True)
    else:
        init_random(model)
        if not args.init_checkpoint:
            print("encoder randomly initialised", flush=True)

    if args.init_checkpoint and not args.smoke:
        init = torch.load(args.init_checkpoint)
        if init["labels"] != LABELS:
            raise SystemExit(f"--init-checkpoint has labels {init['labels']}, this run {LABELS}")
        model.load_state_dict(init["state_dict"])
        print(f"continuing from {os.path.basename(args.init_checkpoint)}", flush=True)
    train_ex = [encode(s, vocab, True, args.max_length) for s in train_sents]
    if args.mask_o_files and not args.smoke:
        mask_unannotated_chemicals(train_ex, train_by_file, args.mask_o_files, args.mask_o_checkpoint, config)
    dev_sel = dev_sents[0]
    if args.eval_subset and len(dev_sel) > args.eval_subset:
        dev_sel = random.Random(0).sample(dev_sel, args.eval_subset)
    dev_sel_ex = [encode(s, vocab, True, 512) for s in dev_sel]
    steps_per_epoch = math.ceil(len(train_ex) / args.batch_size)
    total = args.total_steps or max(1, int(args.epochs * steps_per_epoch))
    if args.smoke:
        total = 2
    eval_every = args.eval_every or max(1, steps_per_epoch // 2)
    print(f"train sentences={len(train_ex)} steps/epoch={steps_per_epoch} planned steps={total}", flush=True)

    no_decay = ("bias", "LayerNorm.weight")
    params = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(params, lr=args.lr)
    sched_total = [total]  # mutable: may shrink once the step time is known

    def lr_lambda(step):
        warm = max(1, int(args.warmup * sched_total[0]))
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (sched_total[0] - step) / max(1, sched_total[0] - warm))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100, label_smoothing=args.label_smoothing)
    model.train()
    best_f1, best_step, history = -1.0, 0, []
    t0 = t_window = time.time()
    step = 0
    while step < sched_total[0] and not (args.stop_step and step >= args.stop_step):
        for idx in batches(train_ex, args.batch_size, True, rng):
            if step >= sched_total[0] or (args.stop_step and step >= args.stop_step):
                break
            ids, mask, lab = collate(train_ex, idx)
            logits = model(ids, mask, torch.zeros_like(ids))
            loss = loss_fn(logits.view(-1, logits.shape[-1]), lab.view(-1))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            w = args.cap_window
            if args.max_minutes and step >= w and step % w == 0:
                # Fit the schedule to the time budget (the machine is shared, so the step time
                # drifts): re-estimate from the last 20 steps and only ever shrink the plan.
                # ~12% of the budget is left for dev checks.
                per_step = (time.time() - t_window) / w
                remaining = args.max_minutes * 60 * 0.88 - (time.time() - t0)
                cap = min(total, step + max(1, int(remaining / per_step)))
                if cap != sched_total[0] and (cap < sched_total[0] or args.cap_can_grow):
                    first = sched_total[0] == total
                    sched_total[0] = cap
                    if first:
                        eval_every = args.eval_every or max(1, cap // 6)
                    print(f"step time {per_step:.2f}s -> scheduled steps {sched_total[0]} (eval every {eval_every})", flush=True)
            if step % args.cap_window == 0:
                t_window = time.time()
            if step % 50 == 0 or args.smoke:
                print(f"step {step}/{sched_total[0]} loss {loss.item():.4f} lr {sched.get_last_lr()[0]:.2e} {time.time() - t0:.0f}s", flush=True)
            if step % eval_every == 0 or step == sched_total[0] or step == args.stop_step:
                res = evaluate(model, dev_sel, dev_sel_ex)
                f1 = res["micro"]["f1"]
                history.append({"step": step, "dev_micro_f1": f1, "elapsed_s": round(time.time() - t0)})
                print(f"dev(sel) step {step}: micro-F1 {f1 * 100:.2f} " + " ".join(f"{k} {v['f1'] * 100:.2f}" for k, v in res.items() if k != "micro"), flush=True)
                if f1 > best_f1:
                    best_f1, best_step = f1, step
                    torch.save({"state_dict": model.state_dict(), "config": config.__dict__, "labels": LABELS}, args.out)
    train_s = time.time() - t0

    ckpt = torch.load(args.out)
    model.load_state_dict(ckpt["state_dict"])
    final = {}
    for path, sents in zip(args.dev or ["smoke"], dev_sents if not args.skip_final_eval else []):
        final[os.path.basename(os.path.dirname(path)) or path] = evaluate(model, sents, [encode(s, vocab, True, 512) for s in sents])
    meta = {
        "seed": args.seed, "lr": args.lr, "labels": LABELS, "label_smoothing": args.label_smoothing, "batch_size": args.batch_size, "max_length": args.max_length,
        "steps": step, "best_step": best_step, "steps_per_epoch": steps_per_epoch, "train_seconds": round(train_s),
        "train_files": args.train, "dev_files": args.dev,
        "mask_o_files": args.mask_o_files, "mask_o_checkpoint": args.mask_o_checkpoint, "history": history, "dev_full": final,
        "init": ("continued from " + os.path.basename(args.init_checkpoint)) if args.init_checkpoint and not args.smoke
        else os.path.basename(args.encoder_onnx) if args.encoder_onnx and not args.smoke else "random",
    }
    ckpt["meta"] = meta
    torch.save(ckpt, args.out)
    with open(os.path.splitext(args.out)[0] + ".metrics.json", "w") as f:
        json.dump(meta, f, indent=2)
    for name, res in final.items():
        print(f"FINAL dev {name}: micro-F1 {res['micro']['f1'] * 100:.2f} " + " ".join(f"{k} {v['f1'] * 100:.2f}" for k, v in res.items() if k != "micro"), flush=True)
    print(f"trained {step} steps in {train_s:.0f}s, best step {best_step}", flush=True)


if __name__ == "__main__":
    main()

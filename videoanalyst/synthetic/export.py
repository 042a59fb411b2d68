"""Write synthetic scenes as GOT-10k, VOT (2018) or MOT17 sequence folders, and keep a built-in clip of each
layout in the cache, so every data-set source runs without data.

Single-object layouts (GOT-10k, VOT) follow the scene's `TargetView` default target: the object most visible in
frame 0.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from videoanalyst.core.boxes import xyxy_to_xywh
from videoanalyst.core.stage import StreamInfo
from videoanalyst.detectors.oracle_detector import OracleDetector
from videoanalyst.errors import InputError
from videoanalyst.formats.got10k import cover_level, format_got10k_boxes, format_got10k_meta
from videoanalyst.formats.mot17 import MotSeqInfo, format_mot_seqinfo
from videoanalyst.formats.mot_rows import detections_to_mot_rows, format_mot_gt_rows, format_mot_rows
from videoanalyst.formats.number_rows import format_label_rows
from videoanalyst.formats.vot import format_vot_regions, format_vot_sequence_file, xyxy_to_vot_polygon
from videoanalyst.synthetic.scene import Scene, SceneConfig, TargetView, numbered_scenes

Layout = Literal["got10k", "vot", "mot17"]

#: The built-in clip: the default scene with seed 2, the first seed whose single-object target (the object most in
#: view in frame 0) stays fully in view for all 100 frames while it grows from 27x45 to 45x76 px, so a tracker can
#: be judged on every frame. (Seed 0's target leaves the image at the top after frame 60.)
BUILTIN_SCENE = SceneConfig(seed=2)
#: Part of the built-in clips' cache key: raise it when what the writers put on disk changes.
EXPORT_VERSION = 3
#: Pillow JPEG settings: high quality, no chroma subsampling, so read-back frames stay close to the rendered ones.
JPEG_OPTIONS = {"quality": 95, "subsampling": 0}


def write_got10k_sequence(scene: Scene, folder: Path) -> None:
    """A GOT-10k sequence folder: ``00000001.jpg``..., ``groundtruth.txt`` (the target's full box x,y,w,h on every
    frame, also where it is absent), ``absence.label``, ``cover.label``, ``cut_by_image.label``, ``meta_info.ini``."""
    k = TargetView(scene).object_id - 1
    _write_frames(scene, folder, "{:08d}.jpg")
    states = [scene.objects(i) for i in range(len(scene))]
    visibility = np.array([s.visibility[k] for s in states])
    (folder / "groundtruth.txt").write_text(format_got10k_boxes(xyxy_to_xywh(np.stack([s.xyxy[k] for s in states]))))
    (folder / "absence.label").write_text(format_label_rows(visibility <= 0))
    (folder / "cover.label").write_text(format_label_rows(cover_level(visibility)))
    (folder / "cut_by_image.label").write_text(format_label_rows([s.inside[k] < 1 for s in states]))
    config = scene.config
    meta = {"url": f"synthetic:seed={config.seed}", "object_class": "ellipse" if scene.is_ellipse[k] else "rectangle",
            "target_id": str(k + 1), "anno_fps": f"{config.fps:g}Hz",
            "resolution": f"({config.width}, {config.height})"}
    (folder / "meta_info.ini").write_text(format_got10k_meta(meta))


def write_vot_sequence(scene: Scene, folder: Path) -> None:
    """A VOT2018 sequence folder: ``sequence``, ``color/00000001.jpg``..., ``groundtruth.txt`` (the target's full
    box as an 8-value polygon on every frame, also where it is hidden, as VOT short-term ground truth always has a
    region) and the tags ``occlusion`` (something in front covers part of it) and ``camera_motion`` (the camera
    moved since the previous frame)."""
    k = TargetView(scene).object_id - 1
    _write_frames(scene, folder / "color", "{:08d}.jpg")
    states = [scene.objects(i) for i in range(len(scene))]
    polygons = np.stack([xyxy_to_vot_polygon(s.xyxy[k]) for s in states])
    (folder / "groundtruth.txt").write_text(format_vot_regions(polygons))
    occluded = [s.visibility[k] < s.inside[k] - 1e-9 for s in states]
    cameras = np.stack([scene.camera(i) for i in range(len(scene))])
    moved = np.r_[False, (np.diff(cameras, axis=0) != 0).any(axis=1)]
    (folder / "occlusion.tag").write_text(format_label_rows(occluded))
    (folder / "camera_motion.tag").write_text(format_label_rows(moved))
    description = {"channels.color": "color/%08d.jpg", "format": "default", "fps": f"{scene.config.fps:g}",
                   "name": folder.name}
    (folder / "sequence").write_text(format_vot_sequence_file(description))


def write_mot17_sequence(scene: Scene, folder: Path) -> None:
    """A MOT17 sequence folder: ``seqinfo.ini``, ``img1/000001.jpg``..., ``gt/gt.txt`` (every at least partly
    visible object: consider 1, class 1, its visibility), and public detections ``det/det.txt`` (the ground truth
    degraded by `OracleDetector` with its defaults: jitter, misses, false positives; ids -1)."""
    config = scene.config
    _write_frames(scene, folder / "img1", "{:06d}.jpg")
    info = MotSeqInfo(name=folder.name, im_dir="img1", frame_rate=config.fps, seq_length=len(scene),
                      im_width=config.width, im_height=config.height, im_ext=".jpg")
    (folder / "seqinfo.ini").write_text(format_mot_seqinfo(info))
    (folder / "gt").mkdir()
    (folder / "gt" / "gt.txt").write_text("".join(format_mot_gt_rows(i + 1, scene.ground_truth(i))
                                                  for i in range(len(scene))))
    detector = OracleDetector()
    detector.reset(StreamInfo(folder.name, config.width, config.height))
    (folder / "det").mkdir()
    (folder / "det" / "det.txt").write_text("".join(
        format_mot_rows(detections_to_mot_rows(i + 1, detector.detect(scene.ground_truth(i), config.width,
                                                                        config.height)))
        for i in range(len(scene))))


WRITERS: dict[str, Callable[[Scene, Path], None]] = {
    "got10k": write_got10k_sequence, "vot": write_vot_sequence, "mot17": write_mot17_sequence}


def export_dataset(layout: Layout, out: Path, config: SceneConfig, num_sequences: int = 1) -> list[Path]:
    """Write `num_sequences` scenes (`numbered_scenes`: ``synthetic-000``... with seeds ``config.seed + k``) as
    sequence folders in `out`, the folder a data-set source reads (GOT-10k split folder, VOT ``sequences`` folder,
    MOT17 split folder), plus ``list.txt`` for GOT-10k and VOT. Returns the sequence folders."""
    if layout not in WRITERS:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join(WRITERS)}")
    out.mkdir(parents=True, exist_ok=True)
    folders = []
    for name, scene_config in numbered_scenes(config, num_sequences):
        folder = out / name
        if folder.exists():
            raise InputError(f"{folder}: already exists; export into a new folder or remove it first")
        folder.mkdir()
        WRITERS[layout](Scene(scene_config), folder)
        folders.append(folder)
    if layout != "mot17":
        (out / "list.txt").write_text("".join(f"{folder.name}\n" for folder in folders))
    return folders


def builtin_clip(layout: Layout) -> Path:
    """The sequence folder of the built-in clip (`BUILTIN_SCENE`) in `layout`, exported on first use into
    ``$XDG_CACHE_HOME`` (else ``~/.cache``) ``/videoanalyst/synthetic/<layout>-<hash>`` and reused after.

    The export goes to a temporary folder renamed into place when complete, so a crash or a concurrent run never
    leaves a half-written clip behind.
    """
    if layout not in WRITERS:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join(WRITERS)}")
    key = hashlib.sha1(f"{EXPORT_VERSION} {layout} {BUILTIN_SCENE!r}".encode()).hexdigest()[:12]
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "videoanalyst" / "synthetic"
    clip = root / f"{layout}-{key}"
    if not clip.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{clip.name}-", dir=root))
        try:
            export_dataset(layout, staging, BUILTIN_SCENE)
            staging.rename(clip)
        except OSError:
            if not clip.is_dir():  # a concurrent run that renamed its copy first is fine
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return clip / numbered_scenes(BUILTIN_SCENE, 1)[0][0]


def _write_frames(scene: Scene, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(len(scene)):
        Image.fromarray(scene.frame(index)).save(folder / name.format(index + 1), **JPEG_OPTIONS)

import numpy as np
import pytest

from videoanalyst.core.stage import StreamInfo
from videoanalyst.detectors.oracle_detector import OracleDetector
from videoanalyst.formats.got10k import cover_level
from videoanalyst.synthetic import __main__ as cli
from videoanalyst.synthetic import export
from videoanalyst.synthetic.export import builtin_clip, export_dataset
from videoanalyst.synthetic.scene import Scene, SceneConfig, TargetView

CONFIG = SceneConfig(width=96, height=72, num_frames=24, num_objects=6, speed=0.08)


def _numbers(path):
    return np.loadtxt(path, delimiter=",", ndmin=2)


def _labels(path):
    return np.loadtxt(path, dtype=np.int64, ndmin=1)


def test_got10k_layout_files_and_labels(tmp_path):
    folders = export_dataset("got10k", tmp_path, CONFIG, num_sequences=2)
    assert (tmp_path / "list.txt").read_text().split() == ["synthetic-000", "synthetic-001"]
    folder = folders[0]
    assert sorted(p.name for p in folder.glob("*.jpg"))[:2] == ["00000001.jpg", "00000002.jpg"]
    assert len(list(folder.glob("*.jpg"))) == 24
    scene = Scene(CONFIG)
    target = TargetView(scene)
    boxes = _numbers(folder / "groundtruth.txt")
    assert boxes.shape == (24, 4)
    np.testing.assert_allclose(boxes[:, :2], [target.box(i)[:2] for i in range(24)], atol=1e-3)
    np.testing.assert_allclose(boxes[:, 2:], [target.box(i)[2:] - target.box(i)[:2] for i in range(24)], atol=1e-3)
    visibility = np.array([target.visibility(i) for i in range(24)])
    absence, cover = _labels(folder / "absence.label"), _labels(folder / "cover.label")
    np.testing.assert_array_equal(absence, visibility == 0)
    np.testing.assert_array_equal(cover, cover_level(visibility))
    assert np.all((cover == 0) == (absence == 1))
    assert absence.any() and not absence.all()  # the target leaves the view at times in this scene
    inside = np.array([scene.objects(i).inside[target.object_id - 1] for i in range(24)])
    np.testing.assert_array_equal(_labels(folder / "cut_by_image.label"), inside < 1)
    meta = (folder / "meta_info.ini").read_text().splitlines()
    assert meta[0] == "[METAINFO]" and "anno_fps: 25Hz" in meta and "resolution: (96, 72)" in meta


@pytest.mark.parametrize("visibility, level", [(0.0, 0), (0.01, 1), (0.15, 1), (0.16, 2), (0.5, 4), (0.9, 6),
                                               (0.95, 7), (0.999, 7), (1.0, 8)])
def test_cover_levels(visibility, level):
    assert cover_level(np.array([visibility])).tolist() == [level]


def test_vot_layout_writes_rectangles_as_polygons(tmp_path):
    folder = export_dataset("vot", tmp_path, CONFIG)[0]
    assert (tmp_path / "list.txt").read_text().split() == ["synthetic-000"]
    assert len(list((folder / "color").glob("*.jpg"))) == 24
    assert (folder / "color" / "00000001.jpg").is_file()
    description = dict(line.split("=", 1) for line in (folder / "sequence").read_text().splitlines())
    assert description == {"channels.color": "color/%08d.jpg", "format": "default", "fps": "25",
                           "name": "synthetic-000"}
    polygons = _numbers(folder / "groundtruth.txt")
    assert polygons.shape == (24, 8)
    target = TargetView(Scene(CONFIG))
    assert any(target.visibility(index) == 0 for index in range(24))  # hidden frames still have a region
    for index, row in enumerate(polygons):
        x1, y1, x2, y2 = target.box(index)
        np.testing.assert_allclose(row, [x1, y1, x2, y1, x2, y2, x1, y2], atol=1e-3)
    for tag in ("occlusion", "camera_motion"):
        assert len(_labels(folder / f"{tag}.tag")) == 24


def test_vot_camera_motion_tag_follows_the_pan(tmp_path):
    folder = export_dataset("vot", tmp_path, SceneConfig(width=96, height=72, num_frames=12, camera_pan=True,
                                                         pan_speed=0.03))[0]
    moved = _labels(folder / "camera_motion.tag")
    assert moved[0] == 0 and moved[1:].all()


def test_mot17_layout_gt_fields(tmp_path):
    folder = export_dataset("mot17", tmp_path, CONFIG)[0]
    assert not (tmp_path / "list.txt").exists()
    assert (folder / "img1" / "000001.jpg").is_file() and len(list((folder / "img1").glob("*.jpg"))) == 24
    seqinfo = (folder / "seqinfo.ini").read_text().splitlines()
    assert seqinfo[0] == "[Sequence]"
    assert {"name=synthetic-000", "imDir=img1", "frameRate=25", "seqLength=24", "imWidth=96", "imHeight=72",
            "imExt=.jpg"} <= set(seqinfo)
    rows = _numbers(folder / "gt" / "gt.txt")
    assert rows.shape[1] == 9
    scene = Scene(CONFIG)
    for frame in range(1, 25):
        truth = scene.ground_truth(frame - 1)
        mine = rows[rows[:, 0] == frame]
        assert mine[:, 1].tolist() == truth.track_ids.tolist()
        np.testing.assert_allclose(mine[:, 2:4], truth.xyxy[:, :2], atol=1e-3)
        np.testing.assert_allclose(mine[:, 4:6], truth.xyxy[:, 2:] - truth.xyxy[:, :2], atol=1e-3)
        assert set(mine[:, 6]) <= {1} and set(mine[:, 7]) <= {1}  # consider, class pedestrian
        np.testing.assert_allclose(mine[:, 8], truth.extra["visibility"], atol=1e-6)


def test_mot17_layout_public_detections_are_the_oracle_detectors_boxes(tmp_path):
    folder = export_dataset("mot17", tmp_path, CONFIG)[0]
    rows = _numbers(folder / "det" / "det.txt")
    assert rows.shape[1] == 10 and set(rows[:, 1]) == {-1}
    detector = OracleDetector()
    detector.reset(StreamInfo(folder.name, CONFIG.width, CONFIG.height))
    scene = Scene(CONFIG)
    for frame in range(1, 25):
        expected = detector.detect(scene.ground_truth(frame - 1), CONFIG.width, CONFIG.height)
        mine = rows[rows[:, 0] == frame]
        np.testing.assert_allclose(mine[:, 2:4], expected.xyxy[:, :2], atol=1e-3)
        np.testing.assert_allclose(mine[:, 4:6], expected.xyxy[:, 2:] - expected.xyxy[:, :2], atol=2e-3)
        np.testing.assert_allclose(mine[:, 6], expected.scores, rtol=1e-5)


def test_unknown_layout_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown layout"):
        export_dataset("lasot", tmp_path, CONFIG)


def test_builtin_clip_is_exported_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    small = SceneConfig(width=64, height=48, num_frames=5)
    monkeypatch.setattr(export, "BUILTIN_SCENE", small)
    folder = builtin_clip("mot17")
    assert folder.name == "synthetic-000" and folder.is_dir()
    assert folder.parent.parent == tmp_path / "videoanalyst" / "synthetic"
    assert folder.parent.name.startswith("mot17-")
    assert (folder / "gt" / "gt.txt").is_file()
    assert [p.name for p in folder.parent.parent.iterdir()] == [folder.parent.name]  # no staging folder left

    def no_export(*args, **kwargs):
        raise AssertionError("exported again")

    monkeypatch.setattr(export, "export_dataset", no_export)
    assert builtin_clip("mot17") == folder
    # another scene is another cache entry
    monkeypatch.setattr(export, "BUILTIN_SCENE", SceneConfig(width=64, height=48, num_frames=6))
    with pytest.raises(AssertionError, match="exported again"):
        builtin_clip("mot17")
    assert len(list(folder.parent.parent.iterdir())) == 1  # the failed export left nothing behind


def test_command_line_writes_a_data_set(tmp_path, capsys):
    assert 0 == cli.main(["--layout", "got10k", "--out", str(tmp_path), "--sequences", "2", "--frames", "5",
              "--objects", "3", "--size", "64x48", "--seed", "4", "--camera-pan"])
    assert capsys.readouterr().out.split() == [str(tmp_path / "synthetic-000"), str(tmp_path / "synthetic-001")]
    assert len(list((tmp_path / "synthetic-001").glob("*.jpg"))) == 5
    assert "url: synthetic:seed=5" in (tmp_path / "synthetic-001" / "meta_info.ini").read_text()
    with pytest.raises(SystemExit):
        cli.main(["--layout", "got10k", "--out", str(tmp_path), "--size", "64by48"])
    assert cli.main(["--layout", "got10k", "--out", str(tmp_path), "--frames", "5"]) == 2  # never overwrites
    assert "synthetic-000: already exists" in capsys.readouterr().err

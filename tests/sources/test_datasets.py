"""The data-set sources read back what the synthetic exporter writes, and report bad input naming the file."""

import threading

import numpy as np
import pytest
from PIL import Image

from videoanalyst.core import GROUND_TRUTH, Detections, TargetState
from videoanalyst.errors import InputError
from videoanalyst.pipeline.config import load_pipeline
from videoanalyst.sources import image_sequences
from videoanalyst.sources.got10k import Got10kSource
from videoanalyst.sources.image_folder import ImageFolderSource
from videoanalyst.sources.mot17 import Mot17Source
from videoanalyst.sources.synthetic import SyntheticSource
from videoanalyst.sources.vot import VotSource
from videoanalyst.synthetic import export
from videoanalyst.synthetic.export import export_dataset
from videoanalyst.synthetic.scene import Scene, SceneConfig, TargetView, numbered_scenes

CONFIG = SceneConfig(width=96, height=72, num_frames=24, num_objects=6, speed=0.08)
SOURCES = {"got10k": Got10kSource, "vot": VotSource, "mot17": Mot17Source}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """{layout: folder of two exported sequences}."""
    root = tmp_path_factory.mktemp("exported")
    for layout in SOURCES:
        export_dataset(layout, root / layout, CONFIG, num_sequences=2)
    return {layout: root / layout for layout in SOURCES}


def _read(source):
    """{stream id: (info, [packets])}, closing each stream."""
    streams = {}
    for stream in source.streams():
        streams[stream.info.stream_id] = (stream.info, list(stream))
        stream.close()
    return streams


def _assert_same_target(read, expected):
    assert isinstance(read, TargetState)
    assert read.present == expected.present
    if expected.present:
        np.testing.assert_allclose(read.xyxy, expected.xyxy, atol=1e-3)
    else:
        assert np.isnan(read.xyxy).all()


def _assert_close_frames(read, rendered):
    difference = np.abs(read.astype(np.int16) - rendered.astype(np.int16))
    assert difference.mean() < 2.0  # JPEG at quality 95 without chroma subsampling


@pytest.mark.parametrize("layout", ["got10k", "vot"])
def test_single_target_layouts_read_back_the_scene(exported, layout):
    streams = _read(SOURCES[layout](str(exported[layout])))
    assert list(streams) == ["synthetic-000", "synthetic-001"]
    for name, config in numbered_scenes(CONFIG, 2):
        info, packets = streams[name]
        assert (info.width, info.height, info.fps, info.num_frames) == (96, 72, 25.0, 24)
        scene = Scene(config)
        target = TargetView(scene)
        assert [p.frame_index for p in packets] == list(range(24))
        for packet in packets:
            _assert_close_frames(packet.image, scene.frame(packet.frame_index))
            # GOT-10k marks hidden frames absent; VOT short-term ground truth has the full box on every frame
            expected = (target.state(packet.frame_index) if layout == "got10k"
                        else TargetState(target.box(packet.frame_index)))
            _assert_same_target(packet.outputs[GROUND_TRUTH], expected)
            assert packet.timestamp == pytest.approx(packet.frame_index / 25)
    presence = [p.outputs[GROUND_TRUTH].present for p in streams["synthetic-000"][1]]
    assert not all(presence) if layout == "got10k" else all(presence)


def test_vot_ground_truth_keeps_the_polygon(exported):
    stream = next(VotSource(str(exported["vot"] / "synthetic-000")).streams())
    packet = next(stream)
    stream.close()
    x1, y1, x2, y2 = packet.outputs[GROUND_TRUTH].xyxy
    np.testing.assert_allclose(packet.outputs[GROUND_TRUTH].polygon, [[x1, y1], [x2, y1], [x2, y2], [x1, y2]])


def test_mot17_reads_back_the_scene(exported):
    streams = _read(Mot17Source(str(exported["mot17"])))
    assert list(streams) == ["synthetic-000", "synthetic-001"]
    for name, config in numbered_scenes(CONFIG, 2):
        info, packets = streams[name]
        assert (info.width, info.height, info.fps, info.num_frames) == (96, 72, 25.0, 24)
        scene = Scene(config)
        for packet in packets:
            _assert_close_frames(packet.image, scene.frame(packet.frame_index))
            truth, expected = packet.outputs[GROUND_TRUTH], scene.ground_truth(packet.frame_index)
            assert isinstance(truth, Detections)
            assert truth.track_ids.tolist() == expected.track_ids.tolist()
            assert truth.class_ids.tolist() == expected.class_ids.tolist()
            np.testing.assert_allclose(truth.xyxy, expected.xyxy, atol=1e-3)
            np.testing.assert_allclose(truth.extra["visibility"], expected.extra["visibility"], atol=1e-6)
            assert truth.extra["consider"].tolist() == [1] * len(expected)


def test_synthetic_source_streams_the_scenes_in_memory():
    source = SyntheticSource(width=96, height=72, num_frames=10, num_objects=4, seed=3, num_streams=2)
    streams = _read(source)
    assert list(streams) == ["synthetic-000", "synthetic-001"]
    for name, config in numbered_scenes(SceneConfig(width=96, height=72, num_frames=10, num_objects=4, seed=3), 2):
        info, packets = streams[name]
        assert (info.width, info.height, info.fps, info.num_frames) == (96, 72, 25.0, 10)
        scene = Scene(config)
        for index, packet in enumerate(packets):
            assert packet.frame_index == index
            np.testing.assert_array_equal(packet.image, scene.frame(index))
            np.testing.assert_array_equal(packet.outputs[GROUND_TRUTH].track_ids, scene.ground_truth(index).track_ids)
            np.testing.assert_array_equal(packet.outputs[GROUND_TRUTH].extra["visibility"],
                                          scene.ground_truth(index).extra["visibility"])


@pytest.mark.parametrize("layout", list(SOURCES))
def test_one_sequence_folder_picks_and_frame_range(exported, layout):
    one = _read(SOURCES[layout](str(exported[layout] / "synthetic-001")))
    assert list(one) == ["synthetic-001"]
    picked = _read(SOURCES[layout](str(exported[layout]), sequences=["synthetic-001", "synthetic-000"]))
    assert list(picked) == ["synthetic-001", "synthetic-000"]
    ranged = _read(SOURCES[layout](str(exported[layout]), sequences=["synthetic-000"], start=2, stop=11, stride=3))
    info, packets = ranged["synthetic-000"]
    assert info.num_frames == 3
    assert [p.frame_index for p in packets] == [2, 5, 8]
    full = one["synthetic-001"][1]
    np.testing.assert_array_equal(picked["synthetic-001"][1][5].image, full[5].image)


@pytest.mark.parametrize("layout", [*SOURCES, "image_folder"])
def test_total_frames_counts_every_stream_without_decoding(exported, layout, monkeypatch):
    """The runner's progress total: the frames all streams will deliver, within the frame range, known before the
    first stream opens (from the folder listings; no image is decoded)."""
    cls = ImageFolderSource if layout == "image_folder" else SOURCES[layout]
    source = cls(str(exported["got10k" if layout == "image_folder" else layout]), start=1, stop=20, stride=3)

    def refuse(path):
        raise AssertionError(f"total_frames decoded {path}")

    with monkeypatch.context() as patch:
        patch.setattr(image_sequences, "read_image", refuse)
        total = source.total_frames()
    streams = _read(source)
    assert total == 2 * len(range(24)[1:20:3]) == sum(info.num_frames for info, _ in streams.values())
    assert total == sum(len(packets) for _, packets in streams.values())


def test_synthetic_total_frames():
    source = SyntheticSource(width=32, height=24, num_frames=7, num_streams=3)
    assert source.total_frames() == 21 == sum(len(packets) for _, packets in _read(source).values())


@pytest.mark.parametrize("layout", list(SOURCES))
def test_unknown_sequence_names_the_folder(exported, layout):
    with pytest.raises(InputError, match="no sequence 'nope'"):
        SOURCES[layout](str(exported[layout]), sequences=["nope"])


@pytest.mark.parametrize("layout", list(SOURCES))
def test_no_path_uses_the_builtin_clip(tmp_path, monkeypatch, layout):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(export, "BUILTIN_SCENE", SceneConfig(width=64, height=48, num_frames=6))
    streams = _read(SOURCES[layout]())
    info, packets = streams["synthetic-000"]
    assert info.path.startswith(str(tmp_path / "videoanalyst" / "synthetic" / layout))
    assert len(packets) == 6 and all(GROUND_TRUTH in p.outputs for p in packets)


def test_pipeline_files_name_these_sources(exported):
    for layout in SOURCES:
        config = load_pipeline({"source": {"type": layout, "path": str(exported[layout]), "stride": 2,
                                           "sequences": ["synthetic-000"]}})
        assert isinstance(config.source.factory()(), SOURCES[layout])
    config = load_pipeline({"source": {"type": "synthetic", "num_frames": 5, "size_range": [0.1, 0.2],
                                       "num_streams": 2}})
    source = config.source.factory()()
    assert source.size_range == (0.1, 0.2) and source.num_streams == 2


def test_closing_a_stream_stops_its_decoding_thread(exported):
    before = set(threading.enumerate())
    stream = next(Mot17Source(str(exported["mot17"]), queue_size=1).streams())
    next(stream)
    assert len(set(threading.enumerate()) - before) == 1
    stream.close()
    assert not set(threading.enumerate()) - before


# ---- layouts the exporter does not write ----

def _got10k_sequence(folder, frames=3, rows=None):
    folder.mkdir(parents=True)
    for index in range(frames):
        Image.new("RGB", (32, 24), (index * 40, 0, 0)).save(folder / f"{index + 1:08d}.jpg")
    rows = ["1,2,10,8"] * frames if rows is None else rows
    (folder / "groundtruth.txt").write_text("".join(f"{row}\n" for row in rows))
    return folder


def test_got10k_test_split_has_ground_truth_on_the_first_frame_only(tmp_path):
    folder = _got10k_sequence(tmp_path / "GOT-10k_Test_000001", frames=4, rows=["1,2,10,8"])
    (tmp_path / "list.txt").write_text("GOT-10k_Test_000001\n")
    info, packets = _read(Got10kSource(str(tmp_path)))["GOT-10k_Test_000001"]
    assert info.fps is None and info.num_frames == 4 and info.path == str(folder)
    np.testing.assert_allclose(packets[0].outputs[GROUND_TRUTH].xyxy, [1, 2, 11, 10])
    assert [GROUND_TRUTH in p.outputs for p in packets] == [True, False, False, False]
    assert [p.timestamp for p in packets] == [0.0] * 4


def test_vot_older_layout_with_images_in_the_folder_and_rectangle_rows(tmp_path):
    folder = tmp_path / "ball"
    folder.mkdir()
    for index in range(3):
        Image.new("RGB", (32, 24)).save(folder / f"{index + 1:08d}.jpg")
    (folder / "groundtruth.txt").write_text("1,2,10,8\n2,2,10,8\nnan,nan,nan,nan\n")
    info, packets = _read(VotSource(str(folder)))["ball"]
    assert info.fps is None and info.num_frames == 3
    np.testing.assert_allclose(packets[1].outputs[GROUND_TRUTH].xyxy, [2, 2, 12, 10])
    assert packets[1].outputs[GROUND_TRUTH].polygon.shape == (4, 2)
    assert not packets[2].outputs[GROUND_TRUTH].present


def test_mot17_test_split_has_no_ground_truth(exported, tmp_path):
    folder = tmp_path / "synthetic-000"
    (folder / "img1").mkdir(parents=True)
    source_folder = exported["mot17"] / "synthetic-000"
    for image in sorted((source_folder / "img1").glob("*.jpg"))[:24]:
        (folder / "img1" / image.name).write_bytes(image.read_bytes())
    (folder / "seqinfo.ini").write_text((source_folder / "seqinfo.ini").read_text())
    _, packets = _read(Mot17Source(str(folder)))["synthetic-000"]
    assert len(packets) == 24 and not any(GROUND_TRUTH in p.outputs for p in packets)


# ---- errors: each an InputError naming the file ----

@pytest.mark.parametrize("layout", list(SOURCES))
def test_missing_folder_fails_in_the_constructor(tmp_path, layout):
    with pytest.raises(InputError, match="no-such-folder"):
        SOURCES[layout](str(tmp_path / "no-such-folder"))


def test_folder_without_sequences(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="neither a mot17 sequence folder nor a folder of them"):
        Mot17Source(str(tmp_path))


def test_list_naming_a_missing_sequence(tmp_path):
    _got10k_sequence(tmp_path / "a")
    (tmp_path / "list.txt").write_text("a\nb\n")
    with pytest.raises(InputError, match="list.txt: names sequence folders that do not exist"):
        Got10kSource(str(tmp_path))


def test_sequence_folder_without_images(tmp_path):
    folder = tmp_path / "seq"
    folder.mkdir()
    (folder / "groundtruth.txt").write_text("1,2,3,4\n")
    with pytest.raises(InputError, match=r"seq: no \.jpg images"):
        next(Got10kSource(str(folder)).streams())


@pytest.mark.parametrize("rows, message", [
    (["1,2,10,8", "1,2,10", "1,2,10,8"], r"groundtruth.txt:2: expected 4 values a row, got 3"),
    (["1,2,10,8", "1,2,nan,8", "1,2,10,8"], r"groundtruth.txt:2: NaN"),
    (["1,2,10,8", "1,2,10,8", "1,two,10,8"], r"groundtruth.txt:3: non-numeric value"),
    (["1,2,10,8", "1,2,10,8"], r"groundtruth.txt: expected one x,y,w,h row a frame \(3 rows\)"),
])
def test_bad_got10k_groundtruth(tmp_path, rows, message):
    folder = _got10k_sequence(tmp_path / "seq", frames=3, rows=rows)
    with pytest.raises(InputError, match=message):
        next(Got10kSource(str(folder)).streams())


def test_bad_got10k_label(tmp_path):
    folder = _got10k_sequence(tmp_path / "seq")
    (folder / "cover.label").write_text("8\n9\n8\n")
    with pytest.raises(InputError, match=r"cover.label:2: expected an integer from 0 to 8, got 9"):
        next(Got10kSource(str(folder)).streams())


@pytest.mark.parametrize("text, message", [
    ("1,2,3,4,5,6\n" * 3, r"groundtruth.txt:1: expected 4 or 8 values a row, got 6"),
    ("1,2,3,4\n1,2,nan,4\n1,2,3,4\n", r"groundtruth.txt:2: NaN"),
    ("1,2,3,4\n" * 2, r"groundtruth.txt: expected one region a frame \(3 rows\), got 2"),
])
def test_bad_vot_groundtruth(exported, tmp_path, text, message):
    folder = tmp_path / "seq"
    folder.mkdir()
    for index in range(3):
        Image.new("RGB", (32, 24)).save(folder / f"{index + 1:08d}.jpg")
    (folder / "groundtruth.txt").write_text(text)
    with pytest.raises(InputError, match=message):
        next(VotSource(str(folder)).streams())


def test_bad_mot17_files(exported, tmp_path):
    folder = tmp_path / "seq"
    (folder / "img1").mkdir(parents=True)
    (folder / "gt").mkdir()
    Image.new("RGB", (32, 24)).save(folder / "img1" / "000001.jpg")
    (folder / "seqinfo.ini").write_text("[Sequence]\nname=seq\nimDir=img1\nframeRate=25\nseqLength=1\n")
    with pytest.raises(InputError, match=r"seqinfo.ini: \[Sequence\] has no key 'imWidth'"):
        next(Mot17Source(str(folder)).streams())
    (folder / "seqinfo.ini").write_text("[Sequence]\nname=seq\nimDir=img1\nframeRate=25\nseqLength=2\n"
                                        "imWidth=32\nimHeight=24\nimExt=.jpg\n")
    with pytest.raises(InputError, match=r"seqinfo.ini: seqLength is 2 but .*img1 holds 1 .jpg images"):
        next(Mot17Source(str(folder)).streams())
    (folder / "seqinfo.ini").write_text((folder / "seqinfo.ini").read_text().replace("seqLength=2", "seqLength=1"))
    (folder / "gt" / "gt.txt").write_text("1,1,1,2,3,4,1,1\n")
    with pytest.raises(InputError, match=r"gt.txt:1: expected 9 comma-separated columns \(.*\), got 8"):
        next(Mot17Source(str(folder)).streams())
    (folder / "gt" / "gt.txt").write_text("2,1,1,2,3,4,1,1,1\n")
    with pytest.raises(InputError, match=r"gt.txt: frame 2 is past the sequence's 1 frames"):
        next(Mot17Source(str(folder)).streams())


def test_corrupt_image_is_named(tmp_path):
    folder = _got10k_sequence(tmp_path / "seq", frames=3)
    data = (folder / "00000002.jpg").read_bytes()
    (folder / "00000002.jpg").write_bytes(data[: len(data) // 3])
    stream = next(Got10kSource(str(folder)).streams())
    next(stream)
    with pytest.raises(InputError, match=r"00000002.jpg: cannot read the image"):
        next(stream)
    stream.close()
    (folder / "00000001.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(InputError, match=r"00000001.jpg: cannot read the image"):
        next(Got10kSource(str(folder)).streams())


def test_image_of_another_size_is_named(tmp_path):
    folder = _got10k_sequence(tmp_path / "seq", frames=2)
    Image.new("RGB", (40, 24)).save(folder / "00000002.jpg")
    stream = next(Got10kSource(str(folder)).streams())
    with pytest.raises(InputError, match=r"00000002.jpg: expected a 32x24 image"):
        list(stream)


@pytest.mark.parametrize("kwargs", [dict(queue_size=0), dict(start=-1), dict(stride=0)])
def test_bad_frame_range(exported, kwargs):
    with pytest.raises(ValueError):
        Mot17Source(str(exported["mot17"]), **kwargs)

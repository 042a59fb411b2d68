"""VideoSource: frames, timestamps, colour, frame ranges, read-ahead bound and input errors, on clips made here."""

from __future__ import annotations

import subprocess
import threading
import time
import warnings
import wave
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np
import pytest

from videoanalyst.core import FramePacket
from videoanalyst.errors import InputError
from videoanalyst.sources import video as video_module
from videoanalyst.sources.video import VideoSource, mp4_boxes

FPS = 25


def gradient_frames(count: int, width: int = 96, height: int = 64) -> list[np.ndarray]:
    """Smooth frames (codec friendly) that differ from frame to frame: a moving colour gradient."""
    y, x = np.mgrid[0:height, 0:width]
    return [np.stack([(x * 2 + 5 * i) % 256, (y * 3 + 20) % 256, np.full_like(x, (40 + 7 * i) % 256)], axis=-1)
            .astype(np.uint8) for i in range(count)]


def write_clip(path: Path, frames: list[np.ndarray], codec: str = "libx264", pix_fmt: str = "yuv420p",
               options: dict[str, str] | None = None, container_options: dict[str, str] | None = None) -> Path:
    with av.open(str(path), "w", options=container_options or {}) as container:
        stream = container.add_stream(codec, rate=FPS, options=options or {})
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = pix_fmt
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode(None))
    return path


def read_all(path: Path, **kwargs) -> tuple[VideoSource, list[FramePacket]]:
    source = VideoSource(str(path), **kwargs)
    (stream,) = list(source.streams())
    packets = list(stream)
    stream.close()
    return stream, packets


def test_reads_every_frame_with_index_timestamp_and_info(tmp_path):
    clip = write_clip(tmp_path / "walk.mp4", gradient_frames(30))
    stream, packets = read_all(clip)
    assert stream.info.stream_id == "walk"
    assert (stream.info.width, stream.info.height, stream.info.fps, stream.info.num_frames) == (96, 64, 25.0, 30)
    assert stream.info.path == str(clip)
    assert [p.frame_index for p in packets] == list(range(30))
    assert [p.timestamp for p in packets] == pytest.approx([i / FPS for i in range(30)])
    assert all(p.stream_id == "walk" and p.image.shape == (64, 96, 3) and p.image.dtype == np.uint8 for p in packets)


def test_lossless_rgb_clip_reads_back_exactly(tmp_path):
    """libx264rgb at qp 0 keeps RGB exactly; an odd row length (50 * 3 bytes) checks the padded-line handling."""
    frames = [np.random.default_rng(i).integers(0, 256, (30, 50, 3), np.uint8) for i in range(5)]
    clip = write_clip(tmp_path / "exact.mkv", frames, codec="libx264rgb", pix_fmt="rgb24", options={"qp": "0"})
    _, packets = read_all(clip)
    assert len(packets) == 5
    for packet, image in zip(packets, frames):
        assert packet.image.flags.c_contiguous
        np.testing.assert_array_equal(packet.image, image)


def test_yuv420p_clip_reads_back_within_codec_loss(tmp_path):
    frames = gradient_frames(10)
    _, packets = read_all(write_clip(tmp_path / "lossy.mp4", frames, options={"crf": "12"}))
    for packet, image in zip(packets, frames):
        error = np.abs(packet.image.astype(int) - image)
        assert error.mean() < 3 and np.percentile(error, 99) < 16


@pytest.mark.parametrize("tags", [
    [],                                                                           # untagged: BT.601, limited range
    ["-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709"],  # HD tagging
    ["-pix_fmt", "yuvj420p"],                                                     # full range (JPEG)
    ["-color_range", "pc", "-colorspace", "bt709"],                               # full range, BT.709, yuv420p
])
def test_colour_matches_ffmpeg_rgb24(tmp_path, tags):
    """Reference: the ffmpeg command line's own rgb24 conversion (the static build the test extra installs)."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    clip = tmp_path / "tagged.mp4"
    subprocess.run([ffmpeg, "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=128x96:rate=25",
                    "-frames:v", "3", "-c:v", "libx264", "-pix_fmt", "yuv420p", *tags, str(clip)], check=True)
    reference = subprocess.run([ffmpeg, "-nostdin", "-loglevel", "error", "-i", str(clip), "-frames:v", "1",
                                "-pix_fmt", "rgb24", "-f", "rawvideo", "-"], check=True, capture_output=True).stdout
    _, packets = read_all(clip)
    expected = np.frombuffer(reference, np.uint8).reshape(96, 128, 3)
    assert np.abs(packets[0].image.astype(int) - expected).max() <= 1


@pytest.mark.parametrize(("start", "stop", "stride", "indices"), [
    (0, None, 1, list(range(25))),
    (3, 17, 4, [3, 7, 11, 15]),
    (20, None, 3, [20, 23]),
    (10, 100, 5, [10, 15, 20]),
    (0, 1, 1, [0]),
])
def test_frame_range_keeps_original_indices_and_timestamps(tmp_path, start, stop, stride, indices):
    clip = write_clip(tmp_path / "range.mp4", gradient_frames(25))
    _, every = read_all(clip)
    stream, packets = read_all(clip, start=start, stop=stop, stride=stride)
    assert (stream.info.num_frames, stream.info.fps) == (len(indices), FPS / stride)
    assert [p.frame_index for p in packets] == indices
    assert [p.timestamp for p in packets] == pytest.approx([i / FPS for i in indices])
    for packet in packets:
        np.testing.assert_array_equal(packet.image, every[packet.frame_index].image)


@pytest.mark.parametrize(("start", "stop", "stride"), [(0, None, 0), (5, 5, 1), (5, 3, 1), (-1, None, 1)])
def test_invalid_range_is_an_input_error_naming_the_file(tmp_path, start, stop, stride):
    clip = write_clip(tmp_path / "range.mp4", gradient_frames(3))
    with pytest.raises(InputError, match="range.mp4.*expected 0 <= start < stop and stride >= 1"):
        VideoSource(str(clip), start=start, stop=stop, stride=stride)


def test_start_past_the_end_is_an_input_error(tmp_path):
    clip = write_clip(tmp_path / "short.mp4", gradient_frames(5))
    with pytest.raises(InputError, match=r"short.mp4: start=9 is past the last frame; expected start < 5"):
        list(VideoSource(str(clip), start=9).streams())


def test_missing_file_fails_in_the_constructor(tmp_path):
    with pytest.raises(InputError, match="nothere.mp4: no such file"):
        VideoSource(str(tmp_path / "nothere.mp4"))


def test_network_url_is_not_checked_and_gets_rtsp_defaults():
    source = VideoSource("rtsp://camera.invalid:554/lobby", options={"timeout": "5000000"})
    assert source.stream_id == "lobby"
    assert source.options == {"rtsp_transport": "tcp", "timeout": "5000000"}
    assert VideoSource("https://example.invalid/clips/a.mp4").options == {}


def test_file_that_is_not_a_video_is_an_input_error(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("these are not the frames you are looking for\n" * 50)
    with pytest.raises(InputError, match="notes.mp4: cannot be opened as a video"):
        list(VideoSource(str(text)).streams())


def test_audio_only_file_is_an_input_error(tmp_path):
    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(np.zeros(8000, np.int16).tobytes())
    with pytest.raises(InputError, match="tone.wav: has no video stream"):
        list(VideoSource(str(path)).streams())


def test_corrupt_frame_mid_stream_is_an_input_error_after_the_frames_before_it(tmp_path):
    clip = write_clip(tmp_path / "broken.avi", gradient_frames(20), codec="mjpeg", pix_fmt="yuvj420p")
    with av.open(str(clip)) as container:
        position, size = [(p.pos, p.size) for p in container.demux(video=0) if p.size][10]
    data = bytearray(clip.read_bytes())
    data[position + 4:position + size] = np.random.default_rng(0).integers(0, 256, size - 4, np.uint8).tobytes()
    clip.write_bytes(bytes(data))

    (stream,) = list(VideoSource(str(clip)).streams())
    delivered = []
    with pytest.raises(InputError, match=r"broken.avi: frame 10 cannot be decoded"):
        for packet in stream:
            delivered.append(packet.frame_index)
    assert delivered == list(range(10))


def test_truncated_file_delivers_what_decodes_and_warns_once(tmp_path):
    clip = write_clip(tmp_path / "cut.mp4", gradient_frames(30), container_options={"movflags": "faststart"})
    data = clip.read_bytes()
    clip.write_bytes(data[:len(data) * 6 // 10])
    with pytest.warns(UserWarning, match=r"cut.mp4: the video ended after \d+ of the 30 frames") as record:
        _, packets = read_all(clip)
    assert len(record) == 1
    assert 0 < len(packets) < 30
    assert [p.frame_index for p in packets] == list(range(len(packets)))


def noise_frames(count: int) -> list[np.ndarray]:
    """Fresh noise every frame: no frame predicts another, so each costs about the same bytes in the file."""
    return [np.random.default_rng(i).integers(0, 256, (48, 64, 3), np.uint8) for i in range(count)]


def fragmented_clip(path: Path, count: int = 50) -> Path:
    """A fragmented mp4 as ``ffmpeg -movflags frag_keyframe+empty_moov`` writes one: a fragment per 10-frame GOP."""
    return write_clip(path, noise_frames(count), options={"g": "10", "x264-params": "scenecut=0"},
                      container_options={"movflags": "frag_keyframe+empty_moov+default_base_moof"})


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_fragmented_mp4_cut_anywhere_delivers_what_decodes_and_warns_once(tmp_path, fraction):
    clip = fragmented_clip(tmp_path / "frag.mp4")
    _, complete = read_all(clip)
    data = clip.read_bytes()
    clip.write_bytes(data[:round(len(data) * fraction)])
    with pytest.warns(UserWarning, match=r"frag.mp4: the video ended after \d+ frames, inside an mp4 box cut short "
                                         r"\(truncated file\?\)$") as record:
        stream, packets = read_all(clip)
    assert len(record) == 1 and stream.info.num_frames is None  # a fragmented mp4's header does not count frames
    assert fraction * 50 - 6 <= len(packets) <= fraction * 50  # frames cost about the same bytes each
    times = [p.timestamp for p in packets]
    assert times == sorted(set(times))
    by_time = {p.timestamp: p.image for p in complete}
    for packet in packets:  # the frames of the complete file, decoded alike; B-frames cut from their reference are not
        np.testing.assert_array_equal(packet.image, by_time[packet.timestamp])


def test_fragmented_mp4_cut_between_fragments_is_a_shorter_video(tmp_path):
    """A run killed while writing a fragmented mp4 leaves whole fragments: a valid video, nothing to warn about."""
    clip = fragmented_clip(tmp_path / "frag.mp4")
    _, complete = read_all(clip)
    second_fragment_end = [end for kind, end in mp4_boxes(str(clip)) if kind == b"mdat"][1]
    clip.write_bytes(clip.read_bytes()[:second_fragment_end])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, packets = read_all(clip)
    assert len(packets) == 20
    for packet, whole in zip(packets, complete):
        assert (packet.frame_index, packet.timestamp) == (whole.frame_index, whole.timestamp)
        np.testing.assert_array_equal(packet.image, whole.image)


def test_fragmented_mp4_cut_after_its_header_warns_of_zero_frames(tmp_path):
    clip = fragmented_clip(tmp_path / "frag.mp4")
    clip.write_bytes(clip.read_bytes()[:dict(mp4_boxes(str(clip)))[b"moov"]])
    with pytest.warns(UserWarning, match=r"frag.mp4: the video ended after 0 frames \(truncated file\?\)"):
        _, packets = read_all(clip)
    assert packets == []


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_classic_mp4_cut_before_its_index_is_one_clear_error(tmp_path, fraction):
    clip = write_clip(tmp_path / "cut.mp4", noise_frames(30))  # classic: the index (moov) after the frames
    data = clip.read_bytes()
    clip.write_bytes(data[:round(len(data) * fraction)])
    with pytest.raises(InputError) as error:
        list(VideoSource(str(clip)).streams())
    assert str(error.value) == (f"{clip}: the mp4 was cut before it was finished (e.g. the run writing it was "
                                f"killed): its index (moov box) is missing or cut short, and nothing in it can be "
                                f"decoded")


def test_empty_file_is_an_input_error_saying_so(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(InputError, match=r"empty.mp4: is empty \(0 bytes\); expected a video file"):
        list(VideoSource(str(tmp_path / "empty.mp4")).streams())


def test_read_ahead_stays_within_queue_size(tmp_path, monkeypatch):
    made = []

    class CountedPacket(FramePacket):
        __slots__ = ()

        def __init__(self, *args) -> None:
            super().__init__(*args)
            made.append(self.frame_index)

    monkeypatch.setattr(video_module, "FramePacket", CountedPacket)
    clip = write_clip(tmp_path / "long.mp4", gradient_frames(40))
    (stream,) = list(VideoSource(str(clip), queue_size=3).streams())
    next(stream)
    deadline = time.monotonic() + 10
    while len(made) < 1 + 3 + 1 and time.monotonic() < deadline:  # taken + queued + one waiting to be queued
        time.sleep(0.01)
    time.sleep(0.3)  # give a decoder that ignored the bound time to run further
    assert len(made) == 1 + 3 + 1
    stream.close()


def test_closing_a_stream_early_stops_its_thread(tmp_path):
    clip = write_clip(tmp_path / "early.mp4", gradient_frames(40))
    (stream,) = list(VideoSource(str(clip), queue_size=2).streams())
    next(stream)
    assert any(thread.name == "decode early" for thread in threading.enumerate())
    stream.close()
    assert not any(thread.name == "decode early" for thread in threading.enumerate())
    assert list(stream) == []


def test_http_stream_delivers_the_same_frames_as_the_file(tmp_path):
    """A network stream, served from this machine's loopback only, reads exactly like the file behind it."""
    import functools
    import http.server

    clip = write_clip(tmp_path / "served.mp4", gradient_frames(20))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/served.mp4"
        stream, packets = read_all(url)
    finally:
        server.shutdown()
        server.server_close()
    _, local = read_all(clip)
    assert stream.info.stream_id == "served" and len(packets) == 20
    for remote, here in zip(packets, local):
        assert remote.timestamp == here.timestamp
        np.testing.assert_array_equal(remote.image, here.image)

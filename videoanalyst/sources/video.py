"""`VideoSource`: a video file, network stream or capture device, decoded to RGB by PyAV on a background thread."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from videoanalyst.core.packet import FramePacket
from videoanalyst.core.stage import Source, Stream, StreamInfo
from videoanalyst.errors import InputError
from videoanalyst.sources.prefetch import Prefetcher

#: Demuxer options for RTSP unless the caller sets them: TCP (no lost UDP packets) and a 10 s socket timeout in µs.
RTSP_OPTIONS = {"rtsp_transport": "tcp", "timeout": "10000000"}
#: Box types an mp4 / mov file (ISO base media format, QuickTime) can start with.
MP4_FIRST_BOXES = frozenset({b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide"})


class VideoSource(Source):
    """Decodes one video to RGB uint8 frames on a background thread, `queue_size` frames ahead of the pipeline.

    The stream's `fps` is the rate of the frames delivered (the video's rate / `stride`), its `num_frames` the
    count in the range (None where the container does not say, e.g. live streams and fragmented mp4).

    A truncated file delivers every frame that decodes, then warns once: where the header announced more frames
    or, where it does not count them, when no frame decodes or an mp4 ends inside a box (a fragmented mp4 cut
    between two fragments is a valid shorter video). An mp4 cut before its index (moov) was written, as a classic
    mp4 is by a run killed while writing it, is an `InputError` that says so: nothing in it can be decoded.

    Decoding uses FFmpeg's frame threads; colour conversion reuses one swscale context (the frame's colour
    matrix and range as tagged, BT.601 limited range when untagged), so pixels match ``ffmpeg -pix_fmt rgb24``.

    Args:
        path: a video file, an rtsp/http(s) URL, or a capture device such as ``/dev/video0``.
        start: index of the first decoded frame to deliver.
        stop: index after the last decoded frame to deliver; None runs to the end of the video.
        stride: deliver every `stride`-th frame from `start`; indices always count every decoded frame.
        queue_size: frames decoded ahead of the pipeline; more smooths decoding hiccups, at one frame of memory each.
        input_format: FFmpeg demuxer to force (e.g. "v4l2"); None guesses it ("v4l2" for ``/dev/video*``).
        options: FFmpeg demuxer options (e.g. ``rtsp_transport: tcp``), set over `RTSP_OPTIONS` for rtsp URLs.
        stream_id: name of the stream in outputs; None takes the file stem.
    """

    def __init__(self, path: str, start: int = 0, stop: int | None = None, stride: int = 1, queue_size: int = 8,
                 input_format: str | None = None, options: dict[str, str] | None = None,
                 stream_id: str | None = None) -> None:
        is_url = "://" in path
        if not is_url and not Path(path).exists():
            raise InputError(f"{path}: no such file; expected a video file, an rtsp/http(s) URL or a capture device")
        if start < 0 or stride < 1 or (stop is not None and stop <= start):
            raise InputError(f"{path}: invalid frame range start={start}, stop={stop}, stride={stride}; "
                             f"expected 0 <= start < stop and stride >= 1")
        if queue_size < 1:
            raise InputError(f"{path}: queue_size must be >= 1, got {queue_size}")
        self.path = path
        self.start = start
        self.stop = stop
        self.stride = stride
        self.queue_size = queue_size
        self.input_format = input_format or ("v4l2" if path.startswith("/dev/video") else None)
        self.options = {**(RTSP_OPTIONS if path.startswith("rtsp://") else {}), **(options or {})}
        self.stream_id = stream_id or Path(urlsplit(path).path if is_url else path).stem or "stream"

    def streams(self) -> Iterator[Stream]:
        container = self._open()
        try:
            info = self._info(container.streams.video[0])
        except BaseException:
            container.close()
            raise
        prefetcher = Prefetcher(self._packets(container), depth=self.queue_size, name=f"decode {self.stream_id}")
        packets = self._counted(prefetcher, info.num_frames)

        def close() -> None:
            packets.close()
            prefetcher.close()

        yield Stream(info, packets, close=close)

    def _open(self) -> av.container.InputContainer:
        try:
            container = av.open(self.path, format=self.input_format, options=self.options)
        except av.FFmpegError as error:
            self._check_not_cut()
            raise InputError(f"{self.path}: cannot be opened as a video ({error}); "
                             f"expected a video file, an rtsp/http(s) URL or a capture device") from None
        if not container.streams.video or container.streams.video[0].codec_context is None:
            container.close()
            self._check_not_cut()
            raise InputError(f"{self.path}: has no video stream that this FFmpeg build decodes; "
                             f"expected a file with at least one video stream")
        return container

    def _check_not_cut(self) -> None:
        """For a file FFmpeg cannot read: raises the error that says why, where it is empty or an mp4 cut short."""
        if os.path.isfile(self.path) and os.path.getsize(self.path) == 0:
            raise InputError(f"{self.path}: is empty (0 bytes); expected a video file (a run killed before it "
                             f"wrote its first frames leaves an empty one)")
        ending = _mp4_ending(self.path)
        if ending is not None and (not ending.has_index or ending.cut_short):
            reason = "it ends inside a box" if ending.has_index else "its index (moov box) is missing or cut short"
            raise InputError(f"{self.path}: the mp4 was cut before it was finished (e.g. the run writing it was "
                             f"killed): {reason}, and nothing in it can be decoded")

    def _info(self, stream: av.video.stream.VideoStream) -> StreamInfo:
        rate = stream.average_rate or stream.guessed_rate
        total = stream.frames or None  # 0 where the container does not say (live streams, some formats)
        num_frames = None
        if total is not None:
            if self.start >= total:
                raise InputError(f"{self.path}: start={self.start} is past the last frame; "
                                 f"expected start < {total} (the video's frame count)")
            end = total if self.stop is None else min(self.stop, total)
            num_frames = len(range(self.start, end, self.stride))
        return StreamInfo(self.stream_id, stream.codec_context.width, stream.codec_context.height,
                          fps=float(rate) / self.stride if rate else None, num_frames=num_frames, path=self.path)

    def _packets(self, container: av.container.InputContainer) -> Iterator[FramePacket]:
        """Decodes and converts the frames in the range; runs on the prefetch thread and closes the container."""
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame threads: the decoder keeps every core busy while we convert
        rate = stream.average_rate or stream.guessed_rate
        reformatter = VideoReformatter()  # one swscale context for the whole stream, not one per frame
        index = -1
        try:
            for frame in _decoded_frames(container, stream):
                index += 1
                if self.stop is not None and index >= self.stop:
                    return
                if index < self.start or (index - self.start) % self.stride:
                    continue
                # One swscale thread: the decoder's frame threads already keep the cores busy (fastest measured).
                rgb = reformatter.reformat(frame, format="rgb24", threads=1).to_ndarray()
                timestamp = frame.time if frame.time is not None else index / float(rate or 1)
                # A view of the converted frame; copied only where rows are padded (width * 3 not a multiple of 16).
                yield FramePacket(self.stream_id, index, timestamp, np.ascontiguousarray(rgb))
        except av.FFmpegError as error:
            raise InputError(f"{self.path}: frame {index + 1} cannot be decoded ({error}); expected a valid "
                             f"frame (the frames before it were delivered)") from None
        finally:
            container.close()

    def _counted(self, packets: Iterator[FramePacket], expected: int | None) -> Iterator[FramePacket]:
        """The packets, then one warning if the video ended early.

        Early means before the frames its header announced or, where the header does not count them (fragmented
        mp4, streams), with no frame at all or inside an mp4 box that runs past the end of the file; those two are
        checked only when decoding ran to the end of the file, not when it stopped at `stop`.
        """
        count = 0
        for packet in packets:
            count += 1
            yield packet
        if expected is not None and count < expected:
            warnings.warn(f"{self.path}: the video ended after {count} of the {expected} frames its header "
                          f"announces (truncated file?)", stacklevel=2)
        elif expected is None and (self.stop is None or count < len(range(self.start, self.stop, self.stride))):
            ending = _mp4_ending(self.path)
            cut_short = ending is not None and ending.cut_short
            if count == 0 or cut_short:
                warnings.warn(f"{self.path}: the video ended after {count} frames"
                              f"{', inside an mp4 box cut short' if cut_short else ''} (truncated file?)", stacklevel=2)


class _Mp4Ending(NamedTuple):
    """How an mp4 / mov file ends, as its top-level boxes tell."""

    #: A complete moov box: the index the demuxer needs before it can find any frame.
    has_index: bool
    #: The last box (or box header) runs past the end of the file: the file was cut while or after being written.
    cut_short: bool


def _mp4_ending(path: str) -> _Mp4Ending | None:
    """How the mp4 / mov file `path` ends; None where it is not a local mp4 / mov file."""
    boxes = mp4_boxes(path)
    if boxes is None:
        return None
    size = os.path.getsize(path)
    return _Mp4Ending(has_index=any(kind == b"moov" and end <= size for kind, end in boxes),
                      cut_short=bool(boxes) and boxes[-1][1] > size)


def mp4_boxes(path: str) -> list[tuple[bytes, int]] | None:
    """Type and end offset of each top-level box of a local mp4 / mov file, in file order; None where it is not one.

    Reads 16 bytes a box, whatever the file size. A box of size 0 runs to the end of the file: that is how a
    classic mp4 muxer leaves its mdat until `close()` writes the index after it. The last box of a file cut short
    ends past the end of the file (a box header cut in two counts as 8 bytes); the walk stops at bytes that are
    not a box header.
    """
    size = os.path.getsize(path) if os.path.isfile(path) else 0
    if size < 8:
        return None
    boxes: list[tuple[bytes, int]] = []
    position = 0
    with open(path, "rb") as file:
        while position < size:
            file.seek(position)
            header = file.read(16)
            kind = header[4:8]
            if position == 0 and kind not in MP4_FIRST_BOXES:
                return None
            length = int.from_bytes(header[:4], "big") if len(header) >= 8 else 8
            if length == 1:  # a 64-bit size follows the type
                length = int.from_bytes(header[8:16], "big") if len(header) == 16 else 16
            elif length == 0:
                length = size - position
            if length < 8:
                break
            position += length
            boxes.append((kind, position))
    return boxes


def _decoded_frames(container: av.container.InputContainer,
                    stream: av.video.stream.VideoStream) -> Iterator[av.VideoFrame]:
    """Every frame of `stream` in presentation order, skipping packets the demuxer flags as cut short.

    A packet cut short by the end of a truncated file (or lost on a network stream) is flagged corrupt; feeding
    it to the decoder would fail on data that is merely missing, so it is left out and the frames decoded so far
    are kept. Damaged data in a complete packet still fails in the decoder.
    """
    for packet in container.demux(stream):
        if not packet.is_corrupt:
            yield from packet.decode()

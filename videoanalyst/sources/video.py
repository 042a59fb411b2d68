"""`VideoSource`: a video file, network stream or capture device, decoded to RGB by PyAV on a background thread."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
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


class VideoSource(Source):
    """Decodes one video to RGB uint8 frames on a background thread, `queue_size` frames ahead of the pipeline.

    The stream's `fps` is the rate of the frames delivered (the video's rate / `stride`), its `num_frames` the
    count in the range (None where the container does not say, e.g. live streams).

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
            raise InputError(f"{self.path}: cannot be opened as a video ({error}); "
                             f"expected a video file, an rtsp/http(s) URL or a capture device") from None
        if not container.streams.video:
            container.close()
            raise InputError(f"{self.path}: has no video stream; expected a file with at least one video stream")
        return container

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
        """The packets, then one warning if the video ended before the frames its header announced."""
        count = 0
        for packet in packets:
            count += 1
            yield packet
        if expected is not None and count < expected:
            warnings.warn(f"{self.path}: the video ended after {count} of the {expected} frames its header "
                          f"announces (truncated file?)", stacklevel=2)


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

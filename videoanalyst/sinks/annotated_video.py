"""Write each stream as ``<output_dir>/<stream_id>.mp4`` with its detections, target and track trails drawn on."""

from __future__ import annotations

from collections import deque
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc, VideoReformatter

from videoanalyst.core.detections import Detections
from videoanalyst.core.packet import DETECTIONS, GROUND_TRUTH, TARGET, FramePacket
from videoanalyst.core.stage import Sink, StreamInfo
from videoanalyst.errors import ConfigError
from videoanalyst.sinks.drawing import annotate

#: Time base of the written timestamps: 1/60000 s holds milliseconds and the usual rates (24, 25, 30000/1001, 60)
#: exactly, and stays within what every encoder accepts (MPEG-4 part 2 allows at most 65535 ticks a second).
TIME_BASE = Fraction(1, 60000)
#: mp4 flags of the fragmented layout: the index (moov) goes out with the first fragment, once the first timestamp
#: is known (`empty_moov` would write it before and shift every timestamp to start at 0, B-frame delay included),
#: and each fragment addresses its samples from its own start (`default_base_moof`), so it reads on its own.
FRAGMENT_MOVFLAGS = "delay_moov+default_base_moof"


class AnnotatedVideoSink(Sink):
    """Draws what the stages attached on each frame and encodes the stream to an mp4 file, yuv420p, BT.709.

    Frames keep their timestamps (a source that reads the file back gets the same times). Odd frame sizes are
    padded by one edge row / column, since yuv420p needs even sizes. The file is complete after `close()`,
    also when a run stops halfway; a stream that delivered no frames writes no file. By default the mp4 is
    fragmented, so a run that ends without `close()` (SIGKILL, a crash, a power cut) still leaves a playable file.

    Args:
        output_dir: the run's output folder.
        codec: FFmpeg video encoder, e.g. "libx264", "libx265", "libvpx-vp9", "mpeg4".
        crf: constant quality for encoders that have it (x264, x265, vpx): lower is better and larger; 23 looks clean.
        bit_rate: bits per second for encoders without `crf` (e.g. mpeg4); unused by the others.
        preset: speed preset for encoders that have one (x264, x265); slower presets make smaller files.
        fps: nominal frame rate written in the file; None takes the stream's, else 30.
        trail_length: frames of box centres drawn behind each track; a track unseen that long is forgotten.
        show_scores: write the score next to each box.
        draw_ground_truth: draw `packet.outputs["ground_truth"]` under the predictions, in thin white lines.
        fragment_seconds: write the mp4 as fragments of this duration, each handed to the OS as soon as it is
            complete: a run killed before `close()` leaves a file that plays up to the last complete fragment,
            losing at most this duration plus the frames still in the encoder (11 with x264's veryfast preset, 41
            with medium); about a second at 25 fps with the defaults. Shorter fragments lose less and add about
            100 bytes each. None writes a classic mp4 instead, whose index `close()` writes at the end: for old
            players that cannot read fragmented mp4, but a killed run leaves a file from which nothing decodes.
    """

    def __init__(self, output_dir: str, codec: str = "libx264", crf: int = 23, bit_rate: int = 8_000_000,
                 preset: str = "veryfast", fps: float | None = None, trail_length: int = 20,
                 show_scores: bool = True, draw_ground_truth: bool = False,
                 fragment_seconds: float | None = 0.5) -> None:
        try:
            context = av.CodecContext.create(codec, "w")
        except av.codec.codec.UnknownCodecError:
            raise ConfigError(f"annotated_video: codec {codec!r} is not an encoder in this FFmpeg build; "
                              f"expected e.g. 'libx264' or 'mpeg4'") from None
        if context.type != "video":
            raise ConfigError(f"annotated_video: codec {codec!r} is a {context.type} encoder; expected a video one")
        if trail_length < 0:
            raise ConfigError(f"annotated_video: trail_length must be >= 0, got {trail_length}")
        if fragment_seconds is not None and not fragment_seconds > 0:
            raise ConfigError(f"annotated_video: fragment_seconds must be > 0 (or null for a classic mp4), "
                              f"got {fragment_seconds}")
        private = {option.name for option in context.supported_options.private}
        self.output_dir = Path(output_dir)
        self.codec = codec
        self.options = {name: str(value) for name, value in (("crf", crf), ("preset", preset)) if name in private}
        self.bit_rate = 0 if "crf" in private else bit_rate  # 0: the encoder's own rate control, driven by crf
        self.fps = fps
        self.trail_length = trail_length
        self.show_scores = show_scores
        self.draw_ground_truth = draw_ground_truth
        self.fragment_seconds = fragment_seconds
        self.stream_info: StreamInfo | None = None
        self.container: av.container.OutputContainer | None = None
        self.video: av.video.stream.VideoStream | None = None
        self.reformatter = VideoReformatter()
        self.trails = Trails(trail_length)
        self.last_pts = -1

    def reset(self, stream: StreamInfo) -> None:
        self.close()
        self.stream_info = stream
        self.trails = Trails(self.trail_length)
        self.last_pts = -1

    def process(self, packet: FramePacket) -> None:
        if self.container is None:
            self._open(packet.width, packet.height)
        detections = packet.outputs.get(DETECTIONS, Detections.empty())
        self.trails.update(detections)
        image = annotate(packet.image, detections=detections, target=packet.outputs.get(TARGET),
                         ground_truth=packet.outputs.get(GROUND_TRUTH) if self.draw_ground_truth else None,
                         trails=self.trails.points, show_scores=self.show_scores)
        image = np.pad(image, ((0, image.shape[0] % 2), (0, image.shape[1] % 2), (0, 0)), mode="edge")
        frame = self.reformatter.reformat(av.VideoFrame.from_ndarray(image, format="rgb24"), format="yuv420p",
                                          width=self.video.width, height=self.video.height,
                                          dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG)
        # Strictly increasing, as encoders require, even where the source repeats a timestamp.
        frame.pts = self.last_pts = max(round(packet.timestamp / TIME_BASE), self.last_pts + 1)
        frame.time_base = TIME_BASE
        self.container.mux(self.video.encode(frame))

    def close(self) -> None:
        """Flush the encoder and close the file, leaving a playable video of every frame written."""
        if self.container is None:
            return
        container, video = self.container, self.video
        self.container = self.video = None
        try:
            container.mux(video.encode(None))
        finally:
            container.close()

    def _open(self, width: int, height: int) -> None:
        info = self.stream_info
        self.output_dir.mkdir(parents=True, exist_ok=True)
        rate = Fraction(self.fps or info.fps or 30).limit_denominator(1001)
        self.container = av.open(str(self.output_dir / f"{info.stream_id}.mp4"), "w",
                                 container_options=self._container_options())
        self.video = self.container.add_stream(self.codec, rate=rate, time_base=TIME_BASE, options=self.options)
        self.video.time_base = TIME_BASE
        self.video.width, self.video.height = width + width % 2, height + height % 2
        self.video.pix_fmt = "yuv420p"
        context = self.video.codec_context
        context.bit_rate = self.bit_rate
        context.colorspace, context.color_range = Colorspace.ITU709, ColorRange.MPEG
        context.color_primaries, context.color_trc = ColorPrimaries.BT709, ColorTrc.BT709

    def _container_options(self) -> dict[str, str]:
        """The mp4 muxer's options: none for a classic mp4; fragments of `fragment_seconds`, flushed one by one.

        A fragment ends at the first frame `fragment_seconds` after its start, whatever the frame type: tying
        fragments to keyframes would need a keyframe a second, which made our 640x480 clips 30-50 % larger.
        `flush_packets` writes each fragment out when it is complete; FFmpeg's default holds up to 256 KiB in its
        output buffer, seconds of video that a kill would lose.
        """
        if self.fragment_seconds is None:
            return {}
        return {"movflags": FRAGMENT_MOVFLAGS, "frag_duration": str(round(self.fragment_seconds * 1_000_000)),
                "flush_packets": "1"}


class Trails:
    """The last `length` box centres of each track id; an id unseen for `length` frames is forgotten.

    Memory stays bounded by the tracks of the last `length` frames, however long the stream runs.
    """

    def __init__(self, length: int) -> None:
        self.length = length
        #: Track id -> centres (x, y), oldest first.
        self.points: dict[int, deque[tuple[float, float]]] = {}
        self.last_seen: dict[int, int] = {}
        self.frame = 0

    def update(self, detections: Detections) -> None:
        """Add the centres of this frame's tracked boxes and forget the tracks unseen for `length` frames."""
        self.frame += 1
        for track_id, (x1, y1, x2, y2) in zip(detections.track_ids.tolist(), detections.xyxy.tolist()):
            if track_id >= 0:
                self.points.setdefault(track_id, deque(maxlen=self.length)).append(((x1 + x2) / 2, (y1 + y2) / 2))
                self.last_seen[track_id] = self.frame
        for track_id in [i for i, seen in self.last_seen.items() if self.frame - seen >= self.length]:
            del self.points[track_id], self.last_seen[track_id]

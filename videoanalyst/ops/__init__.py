"""Tensor operations shared by trackers: square-window crops equal to video_analyst's."""

from videoanalyst.ops.crop import channel_means, crop_square_windows, window_sides

__all__ = ["channel_means", "crop_square_windows", "window_sides"]
